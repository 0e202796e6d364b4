"""Retention (UU PDP; SECURITY.md): personal data older than its period goes, recent data and opt-outs stay."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import LoginAttempt
from telecollect.contacts.models import Channel, Consent, ContactAttempt
from telecollect.contacts.outcomes import Outcome
from telecollect.imports.models import ImportRun, ImportStatus
from telecollect.messaging.models import (
    Conversation,
    InboundMedia,
    InboundSms,
    MessageChannel,
    SmsEvent,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from telecollect.messaging.outbox import queue_sms
from telecollect.participants.models import Participant
from telecollect.policy.optouts import opt_out
from telecollect.scheduler.housekeeping import RETENTION_JOBS
from telecollect.settings import Retention, Settings, load_config
from telecollect.throttle import ThrottleHit
from telecollect.workflows.retention import purge
from tests.helpers import csv_bytes, row, run_import

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PERIODS = Retention()


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def data(db, make_user):
    """For each kind, one row just past its period and one just inside it."""
    run_import(db, csv_bytes([row(card_no="0000000000001", phone="081200000001")]))
    person = db.session.scalar(select(Participant))
    agent = make_user("telecollector")
    for days, note in ((PERIODS.contact_notes_days + 1, "old note"), (PERIODS.contact_notes_days - 1, "new note")):
        db.session.add(
            ContactAttempt(
                family_id=person.family_id,
                participant_id=person.id,
                user_id=agent.id,
                channel=Channel.phone,
                outcome=Outcome.refused,
                is_reached=True,
                is_right_party=True,
                phone=person.phone,
                note=note,
                at=days_ago(days),
            )
        )
    for n, (days, status) in enumerate(
        (
            (PERIODS.sms_days + 1, SmsStatus.delivered),  # old and finished: goes
            (PERIODS.sms_days + 1, SmsStatus.read),  # old and read on WhatsApp (finished): goes
            (PERIODS.sms_days + 1, SmsStatus.queued),  # old but still waiting: stays
            (PERIODS.sms_days - 1, SmsStatus.delivered),  # recent: stays
        )
    ):
        message_id = queue_sms(
            db.session,
            kind=SmsKind.due_reminder,
            key=f"test:{n}",
            to_phone=person.phone,
            members=[person],
            timezone="WIB",
        )
        message = db.session.get(SmsMessage, message_id)
        message.status, message.created_at = status, days_ago(days)
    for n, days in enumerate((PERIODS.sms_days + 1, PERIODS.sms_days - 1)):
        db.session.add(
            InboundSms(
                twilio_sid=f"SM{n}", from_phone=person.phone, body="STOP", action="stop", received_at=days_ago(days)
            )
        )
    # A WhatsApp message with a photo (a KTP) received inside the replies' period: its link goes after the
    # media's (shorter) period, the message stays; a recent photo stays.
    for n, days in enumerate((PERIODS.whatsapp_media_days + 1, PERIODS.whatsapp_media_days - 1)):
        photo = InboundSms(
            twilio_sid=f"SMwa{n}",
            from_phone=person.phone,
            body="",
            action="other",
            channel=MessageChannel.whatsapp,
            received_at=days_ago(days),
        )
        photo.media.append(
            InboundMedia(
                position=0,
                url=f"https://api.twilio.com/media/ME{n}",
                content_type="image/jpeg",
                received_at=days_ago(days),
            )
        )
        db.session.add(photo)
    for days in (PERIODS.sms_days + 1, PERIODS.sms_days - 1):
        db.session.add(
            Conversation(
                phone=f"+62812999{days:05d}", last_inbound_at=days_ago(days), last_message_at=days_ago(days), unread=1
            )
        )
    opt_out(db.session, person.phone, Channel.sms, "STOP", now=days_ago(3650))
    for days in (PERIODS.import_rejects_days + 1, PERIODS.import_rejects_days - 1):
        db.session.add(
            ImportRun(
                kind="participants",
                filename="rejects.csv",
                status=ImportStatus.committed,
                started_at=days_ago(days),
                rejects_csv="line,nik,errors\n2,3172015708850001,x\n",
            )
        )
    for days in (PERIODS.login_attempts_days + 1, PERIODS.login_attempts_days - 1):
        db.session.add(LoginAttempt(username="siapa", ip="10.0.0.1", is_success=False, at=days_ago(days)))
    for days in (PERIODS.throttle_days + 1, PERIODS.throttle_days - 1):
        db.session.add(ThrottleHit(key=f"login-ip:10.0.0.{days}", window_start=days_ago(days), count=3))
    for days in (PERIODS.audit_days + 1, PERIODS.audit_days - 1):
        detail = "old" if days > PERIODS.audit_days else "recent"
        db.session.add(AuditEvent(action="participant.view", detail=detail, at=days_ago(days)))
    db.session.commit()
    return person


EXPECTED = {
    "contact_notes": 1,
    "sms_messages": 2,
    "sms_replies": 1,
    "whatsapp_media": 1,
    "whatsapp_conversations": 1,
    "import_rejects": 1,
    "login_attempts": 1,
    "throttle_counters": 1,
    "audit_events": 1,
}


def test_old_rows_go_and_recent_ones_stay(db, data):
    assert purge(db.session, PERIODS, now=NOW) == EXPECTED
    db.session.commit()

    notes = [(a.note, a.phone) for a in db.session.scalars(select(ContactAttempt).order_by(ContactAttempt.at))]
    assert notes == [(None, None), ("new note", data.phone)], "the old attempt stays, without its note and number"
    statuses = sorted(m.status.value for m in db.session.scalars(select(SmsMessage)))
    assert statuses == ["delivered", "queued"], "the old delivered message went; the waiting one stays"
    assert count(db, SmsEvent, SmsEvent.message_id.not_in(select(SmsMessage.id))) == 0
    assert count(db, InboundSms) == 3, "the recent reply and both WhatsApp messages stay"
    assert [m.url for m in db.session.scalars(select(InboundMedia))] == ["https://api.twilio.com/media/ME1"]
    assert count(db, Conversation) == 1
    assert count(db, Consent) == 1, "an opt-out protects the person: never purged"
    runs = db.session.scalars(
        select(ImportRun).where(ImportRun.filename == "rejects.csv").order_by(ImportRun.started_at)
    )
    assert [r.rejects_csv is None for r in runs] == [True, False]
    assert count(db, LoginAttempt) == 1
    assert count(db, ThrottleHit) == 1
    events = select(AuditEvent).where(AuditEvent.action.in_(["participant.view", "retention.purge"]))
    assert [e.detail for e in db.session.scalars(events.order_by(AuditEvent.at))] == [
        "recent",
        ", ".join(f"{kind}={n}" for kind, n in EXPECTED.items()),
    ], "the old event went; the run left one event with its counts"

    assert purge(db.session, PERIODS, now=NOW) == dict.fromkeys(EXPECTED, 0), "a second run finds nothing"


def test_a_dry_run_counts_and_changes_nothing(db, data):
    assert purge(db.session, PERIODS, now=NOW, dry_run=True) == EXPECTED
    db.session.commit()
    assert count(db, ContactAttempt, ContactAttempt.note.is_(None)) == 0
    assert count(db, SmsMessage) == 4 and count(db, LoginAttempt) == 2
    assert count(db, AuditEvent, AuditEvent.action == "participant.view") == 2
    assert count(db, AuditEvent, AuditEvent.action == "retention.purge") == 0


def test_periods_are_installation_settings(db, data, monkeypatch):
    monkeypatch.setenv("RETENTION_LOGIN_ATTEMPTS_DAYS", "30")
    periods = Settings.from_config({**_config(), **load_config()}).retention
    assert periods.login_attempts_days == 30 and periods.audit_days == PERIODS.audit_days
    counts = purge(db.session, periods, now=NOW, dry_run=True)
    assert counts["login_attempts"] == 2
    with pytest.raises(ValueError, match="RETENTION_SMS_DAYS"):
        Retention(sms_days=0)


def _config() -> dict:
    return {"BRANCH_TIMEZONE": "WIB", "PROMISE_GRACE_DAYS": 3, "ATTRIBUTION_DAYS": 30, "INSTALLMENT_DUE_DAY": 10}


def test_the_command_prints_counts_and_the_scheduler_runs_it_daily(db, data, runner):
    import time_machine

    with time_machine.travel(NOW, tick=False):
        dry = runner.invoke(args=["retention", "purge", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert [int(n) for n in re.findall(r": (\d+) \(", dry.output)] == list(EXPECTED.values())
        assert count(db, LoginAttempt) == 2

        done = runner.invoke(args=["retention", "purge"])
        assert done.exit_code == 0, done.output
        assert count(db, LoginAttempt) == 1 and count(db, SmsMessage) == 2
        assert count(db, AuditEvent, AuditEvent.action == "retention.purge") == 1

    assert [(job_id, every) for job_id, _job, every in RETENTION_JOBS] == [("purge_personal_data", 86400)]
    with time_machine.travel(NOW, tick=False):
        rounds = runner.invoke(args=["jobs", "run-once", "--now", NOW.isoformat()])
    assert rounds.exit_code == 0, rounds.output
    assert "purge_personal_data: {'contact_notes': 0," in rounds.output
