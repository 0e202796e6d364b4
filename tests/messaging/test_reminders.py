"""Reminder planning, the jobs, and the supervisor pages."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from telecollect.contacts.models import Channel, ConsentEvent, ContactAttempt, Promise
from telecollect.extensions import db as _db
from telecollect.messaging.models import SmsKind, SmsMessage
from telecollect.messaging.reminders import plan_reminders
from telecollect.policy.optouts import is_opted_out
from telecollect.policy.rules import ContactRules
from telecollect.queues.models import QueueName
from tests.conftest import csrf_token
from tests.fake_twilio import FakeTwilio
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import families, queue_up

RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)


def kinds(db):
    return dict(db.session.execute(select(SmsMessage.kind, func.count()).group_by(SmsMessage.kind)).all())


def test_due_reminder_three_days_before_the_tenth_skips_autodebit_and_old_debts(db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", phone="081200000001", months_in_arrears="3"),
                row(card_no="0000000000002", phone="081200000002", months_in_arrears="3", autodebit="ya"),
                row(card_no="0000000000003", phone="081200000003", months_in_arrears="30"),
                row(card_no="0000000000004", phone="", months_in_arrears="3"),
            ]
        ),
    )
    assert (
        plan_reminders(db.session, RULES, datetime(2026, 12, 6, 3, tzinfo=UTC), "WIB", due_day=10)["due_reminder"] == 0
    )
    planned = plan_reminders(db.session, RULES, datetime(2026, 12, 7, 3, tzinfo=UTC), "WIB", due_day=10)
    assert planned["due_reminder"] == 1
    message = db.session.scalar(select(SmsMessage))
    assert message.to_phone == "+6281200000001" and "10-12-2026" in message.body
    assert message.idempotency_key == f"due:{message.family_id}:2026-12"


@pytest.mark.committing
def test_two_planners_at_once_queue_each_reminder_once(app, db):
    families(db, 30)
    from tests.queues.test_concurrency import run_together

    def planner():
        planned = plan_reminders(_db.session, RULES, datetime(2026, 12, 7, 3, tzinfo=UTC), "WIB", due_day=10)[
            "due_reminder"
        ]
        _db.session.commit()
        return planned

    planned = run_together(app, [planner, planner])
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 30
    assert sum(planned) == 30  # each reminder counted by exactly one of them


def test_promise_and_broken_promise_messages(db, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    user = make_user("telecollector")
    from telecollect.participants.models import Family

    family = db.session.scalar(select(Family))
    attempt = ContactAttempt(
        family_id=family.id,
        user_id=user.id,
        channel=Channel.phone,
        outcome="promise_to_pay",
        is_reached=True,
        is_right_party=True,
        at=datetime(2026, 11, 20, 3, tzinfo=UTC),
    )
    db.session.add(attempt)
    db.session.flush()
    db.session.add(
        Promise(
            family_id=family.id,
            attempt_id=attempt.id,
            user_id=user.id,
            made_on=date(2026, 11, 20),
            promised_on=date(2026, 11, 25),
            amount=100_000,
        )
    )
    db.session.commit()
    assert (
        plan_reminders(db.session, RULES, datetime(2026, 11, 24, 3, tzinfo=UTC), "WIB", due_day=10)["promise_reminder"]
        == 1
    )
    from telecollect.settings import Settings
    from telecollect.workflows.settlement import settle

    # The 25th + 3 days' grace has passed, nothing paid.
    settle(db.session, date(2026, 11, 29), now=datetime(2026, 11, 29, 3, tzinfo=UTC), settings=Settings())
    assert (
        plan_reminders(db.session, RULES, datetime(2026, 11, 30, 3, tzinfo=UTC), "WIB", due_day=10)["promise_broken"]
        == 1
    )
    db.session.commit()
    # The promise was a right-party contact this week and the family pays by hand: an autodebit prompt too.
    assert kinds(db) == {SmsKind.promise_reminder: 1, SmsKind.promise_broken: 1, SmsKind.autodebit_prompt: 1}


def test_autodebit_prompt_follows_an_interested_outcome(clock, db, client, login, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}
    work = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]
    client.post(
        f"/api/v1/work-items/{work['id']}/outcome",
        json={"outcome": "interested_autodebit", "channel": "phone"},
        headers=headers,
    )
    message = db.session.scalar(select(SmsMessage))
    assert message.kind == SmsKind.autodebit_prompt and "Mobile JKN" in message.body


def test_jobs_run_once_sends_through_twilio_settings(app, db, runner):
    families(db, 3)
    fake = FakeTwilio().start()
    from telecollect import runtime as settings

    saved = app.extensions[settings._KEY]["sms_gateway"]
    from telecollect.messaging.gateways import TwilioGateway

    app.extensions[settings._KEY]["sms_gateway"] = TwilioGateway({**fake.config(), "PUBLIC_BASE_URL": "https://x.id"})
    try:
        result = runner.invoke(args=["jobs", "run-once", "--now", "2026-12-07T09:00:00+07:00"])
        assert result.exit_code == 0, result.output
        assert "plan_sms: {'due_reminder': 3" in result.output and "'sent': 3" in result.output
        assert len(fake.requests) == 3
        again = runner.invoke(args=["jobs", "run-once", "--now", "2026-12-07T09:30:00+07:00"])
        assert "'due_reminder': 0" in again.output and len(fake.requests) == 3
        night = runner.invoke(args=["jobs", "run-once", "--now", "2026-12-07"])
        assert night.exit_code == 2 and "time zone offset" in night.output
    finally:
        app.extensions[settings._KEY]["sms_gateway"] = saved
        fake.stop()


def test_outbox_page_filters_and_totals(db, client, login, make_user):
    families(db, 2)
    plan_reminders(db.session, RULES, datetime(2026, 12, 7, 3, tzinfo=UTC), "WIB", due_day=10)
    db.session.commit()
    login(make_user("supervisor"))
    page = client.get("/sms/outbox?status=queued&kind=due_reminder").text
    assert 'data-status="queued">' in page and '<span class="count">2<' in page.split('data-testid="totals"')[1]
    assert client.get("/sms/outbox?status=delivered").text.count("due_reminder") == 1  # only in the kind filter list
    first = db.session.scalar(select(SmsMessage.id))
    assert "queued" in client.get(f"/sms/messages/{first}").text


def test_template_editor_warns_about_ucs2(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/sms/templates")
    assert "GSM-7" in page.text
    client.post(
        "/sms/templates",
        data={
            "csrf_token": csrf_token(page.text),
            "key": "sms_due_reminder",
            "body": "Yth. {nama}, iuran jatuh tempo {jatuh_tempo} 🙏",
            "enabled": "1",
            "days_before": "2",
        },
    )
    page = client.get("/sms/templates").text
    block = page.split('data-testid="template-due_reminder"')[1].split("</form>")[0]
    assert "UCS-2" in block and "🙏" in block
    refused = client.post(
        "/sms/templates",
        data={"csrf_token": csrf_token(page), "key": "sms_due_reminder", "body": "NIK {nik}"},
        follow_redirects=True,
    )
    assert "{nik}" in refused.text


def test_manual_opt_out_and_in(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/sms/opt-outs")
    client.post(
        "/sms/opt-outs",
        data={
            "csrf_token": csrf_token(page.text),
            "phone": "0812-1111-2222",
            "channel": "sms",
            "reason": "minta lewat telepon",
            "action": "opt_out",
        },
    )

    def table():
        return client.get("/sms/opt-outs").text.split('data-testid="opt-outs"')[1]

    assert "+6281211112222" in table() and "minta lewat telepon" in table()
    client.post(
        "/sms/opt-outs",
        data={"csrf_token": csrf_token(page.text), "phone": "+62 812 1111 2222", "channel": "sms", "action": "opt_in"},
    )
    # The ledger keeps the number, now agreed, with who lifted the opt-out; nothing stops SMS to it any more.
    assert "minta lewat telepon" not in table()
    assert not is_opted_out(db.session, "+6281211112222", Channel.sms)
    assert [e.source.value for e in db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))] == [
        "supervisor",
        "supervisor",
    ]


def test_a_wita_branch_plans_the_due_reminder_on_its_own_local_day(app, db, runner):
    """00:30 on 7 December in Makassar (WITA) is still the 6th in Jakarta: the branch's day decides."""
    from dataclasses import replace

    families(db, 1)
    built = app.extensions["telecollect.settings"]  # the settings are built once, at app creation
    app.extensions["telecollect.settings"] = replace(built, branch_timezone="WITA")
    # The jobs read each branch's settings from the configuration (the one branch's zone: BRANCH_TIMEZONE).
    app.config["BRANCH_TIMEZONE"] = "WITA"
    try:
        result = runner.invoke(args=["jobs", "run-once", "--now", "2026-12-07T00:30:00+08:00"])
    finally:
        app.extensions["telecollect.settings"] = built
        app.config["BRANCH_TIMEZONE"] = built.branch_timezone
    assert result.exit_code == 0, result.output
    assert "plan_sms: {'due_reminder': 1" in result.output
    message = db.session.scalar(select(SmsMessage))
    assert message.idempotency_key == f"due:{message.family_id}:2026-12" and "10-12-2026" in message.body


@pytest.mark.committing  # another worker's commit must be visible to this test's connection
def test_the_pre_call_switch_saved_by_another_worker_is_seen_on_the_next_claim(app, db):
    from telecollect.messaging.models import ReminderSetting
    from telecollect.messaging.reminders import pre_call_setting

    assert pre_call_setting(db.session) == (False, 0)  # off by default
    with app.app_context():  # another web worker saves the settings page
        _db.session.add(ReminderSetting(kind=SmsKind.pre_call, is_enabled=True, days_before=0))
        _db.session.commit()
    assert pre_call_setting(db.session) == (False, 0)  # this unit of work keeps the value it read
    db.session.rollback()  # its next request
    assert pre_call_setting(db.session) == (True, 0)
