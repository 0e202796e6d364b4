"""SMS through the real Twilio SDK against a fake Twilio on 127.0.0.1."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from telecollect.contacts.models import Channel, Consent, ConsentState
from telecollect.extensions import db as _db
from telecollect.messaging.dispatch import CLAIM_FOR, claim_batch, dispatch_due
from telecollect.messaging.gateways import OutboxGateway, TwilioGateway
from telecollect.messaging.models import InboundSms, SmsKind, SmsMessage, SmsStatus
from telecollect.messaging.outbox import queue_sms
from telecollect.messaging.reminders import plan_reminders
from telecollect.participants.models import Participant
from telecollect.policy.rules import ContactRules
from tests.fake_twilio import FakeTwilio
from tests.helpers import csv_bytes, row, run_import

RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # Tuesday 10:00 WIB
PUBLIC = "https://telecollect.example.id"


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def gateway(fake):
    return TwilioGateway({**fake.config(), "PUBLIC_BASE_URL": PUBLIC})


def members(db, count=1):
    run_import(
        db,
        csv_bytes([row(card_no=f"{n:013d}", name=f"Peserta {n}", phone=f"0812{n:08d}") for n in range(1, count + 1)]),
    )
    return db.session.scalars(select(Participant).order_by(Participant.card_no)).all()


def queue(db, member, key, when=NOW):
    message_id = queue_sms(
        db.session,
        kind=SmsKind.due_reminder,
        key=key,
        to_phone=member.phone,
        members=[member],
        timezone="WIB",
        scheduled_at=when,
        jatuh_tempo=when.date(),
    )
    db.session.commit()
    return message_id


def message(db, message_id):
    db.session.expire_all()
    return db.session.get(SmsMessage, message_id)


def test_send_through_the_sdk(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    result = dispatch_due(db.session, gateway, RULES, now=NOW)
    assert result.counts["sent"] == 1
    sent = message(db, message_id)
    assert sent.status == SmsStatus.accepted and sent.twilio_sid.startswith("SM")
    request = fake.requests[0]
    assert request["To"] == "+6281200000001" and "Peserta 1" in request["Body"]
    # The attempt's reference rides in the callback URL: a callback can name the message without its SID.
    assert request["StatusCallback"] == f"{PUBLIC}/twilio/sms/status?ref={sent.attempt_ref}"
    assert len(sent.attempt_ref) == 32 and sent.attempt_at is None and sent.attempts == 1
    assert "NIK" not in request["Body"] and "3172" not in request["Body"]


def test_queueing_the_same_reminder_twice_keeps_one(db):
    [siti] = members(db)
    assert queue(db, siti, "due:1") is not None
    assert queue(db, siti, "due:1") is None
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 1


def test_batches(db, fake, gateway):
    people = members(db, 25)
    for person in people:
        queue(db, person, f"due:{person.id}")
    result = dispatch_due(db.session, gateway, RULES, now=NOW, batch_size=10)
    assert result.counts["sent"] == 25 and len(fake.requests) == 25


def test_429_then_success(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    fake.script.append((429, 20429))
    first = dispatch_due(db.session, gateway, RULES, now=NOW, jitter=lambda: 0.5)
    waiting = message(db, message_id)
    assert first.counts["retry"] == 1 and waiting.status == SmsStatus.queued and waiting.error_code == 20429
    assert waiting.next_attempt_at == NOW + timedelta(minutes=1)
    assert dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(seconds=30)).counts["sent"] == 0  # not yet
    assert dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(minutes=2)).counts["sent"] == 1
    assert message(db, message_id).status == SmsStatus.accepted and len(fake.requests) == 2


def test_5xx_is_retried_with_backoff(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    fake.script.extend([(500, None), (503, None)])
    dispatch_due(db.session, gateway, RULES, now=NOW, jitter=lambda: 0.5)
    dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(minutes=1), jitter=lambda: 0.5)
    second_wait = message(db, message_id).next_attempt_at - (NOW + timedelta(minutes=1))
    assert second_wait == timedelta(minutes=2)  # doubled
    dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(minutes=4))
    assert message(db, message_id).status == SmsStatus.accepted


def test_21610_opts_the_number_out_and_is_never_retried(db, fake, gateway):
    [siti] = members(db)
    fake.number_errors[siti.phone] = 21610
    message_id = queue(db, siti, "due:1")
    assert dispatch_due(db.session, gateway, RULES, now=NOW).counts["failed"] == 1
    failed = message(db, message_id)
    assert (failed.status, failed.error_code) == (SmsStatus.failed, 21610)
    assert db.session.scalar(select(Consent.channel).where(Consent.phone == siti.phone)).value == Channel.sms.value
    later = queue(db, siti, "due:2", when=NOW + timedelta(days=1))
    dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(days=1))
    assert message(db, later).status == SmsStatus.canceled and len(fake.requests) == 1


@pytest.mark.parametrize("code", [21211, 21614])
def test_invalid_numbers_are_marked(db, fake, gateway, code):
    [siti] = members(db)
    fake.number_errors[siti.phone] = code
    message_id = queue(db, siti, "due:1")
    dispatch_due(db.session, gateway, RULES, now=NOW)
    assert message(db, message_id).status == SmsStatus.failed
    db.session.refresh(siti)
    assert siti.is_phone_invalid


def test_other_4xx_fails_with_the_code(db, fake, gateway):
    [siti] = members(db)
    fake.script.append((400, 30001))
    message_id = queue(db, siti, "due:1")
    dispatch_due(db.session, gateway, RULES, now=NOW)
    failed = message(db, message_id)
    assert (failed.status, failed.error_code) == (SmsStatus.failed, 30001)


def test_planned_outside_sms_hours_waits_until_they_open(db, fake, gateway):
    [siti] = members(db)
    evening = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 21:30 WIB
    message_id = queue(db, siti, "due:1", when=evening)
    assert dispatch_due(db.session, gateway, RULES, now=evening).counts["deferred"] == 1
    waiting = message(db, message_id)
    assert waiting.status == SmsStatus.queued and waiting.next_attempt_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert dispatch_due(db.session, gateway, RULES, now=evening + timedelta(hours=2)).counts["sent"] == 0
    assert dispatch_due(db.session, gateway, RULES, now=datetime(2026, 11, 25, 1, 0, tzinfo=UTC)).counts["sent"] == 1
    assert len(fake.requests) == 1


@pytest.mark.committing
def test_two_dispatchers_at_once_never_send_twice(app, db, fake, gateway):
    people = members(db, 60)
    for person in people:
        queue(db, person, f"due:{person.id}")
    from tests.queues.test_concurrency import run_together

    def dispatcher():
        return dispatch_due(_db.session, gateway, RULES, now=NOW, batch_size=7).counts["sent"]

    sent = run_together(app, [dispatcher, dispatcher, dispatcher])
    assert sum(sent) == 60
    assert sorted(r["To"] for r in fake.requests) == sorted(p.phone for p in people)  # each exactly once


def test_outbox_backend_holds_messages(db):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    assert dispatch_due(db.session, OutboxGateway(), RULES, now=NOW).counts["held"] == 1
    assert message(db, message_id).status == SmsStatus.held


def signed_post(client, app, path, form, token, *, signature=None):
    url = app.config["PUBLIC_BASE_URL"] + path
    headers = (
        {}
        if signature == ""
        else {"X-Twilio-Signature": signature or RequestValidator(token).compute_signature(url, form)}
    )
    return client.post(path, data=form, headers=headers)


@pytest.fixture
def twilio_app(app, fake):
    saved = {k: app.config.get(k) for k in ("TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL")}
    app.config.update(TWILIO_AUTH_TOKEN=fake.auth_token, PUBLIC_BASE_URL=PUBLIC)
    yield app
    app.config.update(saved)


def test_status_callbacks_only_move_forward(db, client, twilio_app, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    dispatch_due(db.session, gateway, RULES, now=NOW)
    sid = message(db, message_id).twilio_sid
    for status in ("delivered", "sent", "delivered", "queued"):  # out of order and repeated
        answer = signed_post(
            client, twilio_app, "/twilio/sms/status", {"MessageSid": sid, "MessageStatus": status}, fake.auth_token
        )
        assert answer.status_code == 204
    final = message(db, message_id)
    assert final.status == SmsStatus.delivered
    assert [e.status for e in final.events] == ["queued", "sending", "accepted", "delivered"]


def test_webhooks_refuse_missing_or_wrong_signatures(db, client, twilio_app, fake):
    form = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    assert signed_post(client, twilio_app, "/twilio/sms/status", form, fake.auth_token, signature="").status_code == 403
    assert signed_post(client, twilio_app, "/twilio/sms/status", form, "wrong-token").status_code == 403
    inbound = {"MessageSid": "SMin", "From": "+6281200000001", "Body": "STOP"}
    assert signed_post(client, twilio_app, "/twilio/sms/inbound", inbound, "wrong-token").status_code == 403
    # Signed for another host (no proxy awareness) is refused too.
    other = RequestValidator(fake.auth_token).compute_signature("http://localhost/twilio/sms/inbound", inbound)
    assert client.post("/twilio/sms/inbound", data=inbound, headers={"X-Twilio-Signature": other}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 0


def test_stop_then_no_further_reminders_and_mulai_opts_back_in(db, client, twilio_app, fake, gateway):
    [siti] = members(db)
    answer = signed_post(
        client,
        twilio_app,
        "/twilio/sms/inbound",
        {"MessageSid": "SMin1", "From": siti.phone, "Body": "berhenti"},
        fake.auth_token,
    )
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert db.session.scalar(select(Consent.reason).where(Consent.phone == siti.phone)) == "replied BERHENTI"
    seventh = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # three days before the 10th
    assert plan_reminders(db.session, RULES, seventh, "WIB", due_day=10)["due_reminder"] == 0
    signed_post(
        client,
        twilio_app,
        "/twilio/sms/inbound",
        {"MessageSid": "SMin2", "From": siti.phone, "Body": "MULAI"},
        fake.auth_token,
    )
    assert not db.session.scalar(select(func.count()).where(Consent.state == ConsentState.opted_out))
    assert plan_reminders(db.session, RULES, seventh, "WIB", due_day=10)["due_reminder"] == 1
    assert (
        plan_reminders(db.session, RULES, seventh, "WIB", due_day=10)["due_reminder"] == 0
    )  # planned once, however often it runs


def test_info_answers_only_registered_numbers(db, client, twilio_app, fake):
    [siti] = members(db)
    signed_post(
        client,
        twilio_app,
        "/twilio/sms/inbound",
        {"MessageSid": "SMa", "From": siti.phone, "Body": "cek"},
        fake.auth_token,
    )
    signed_post(
        client,
        twilio_app,
        "/twilio/sms/inbound",
        {"MessageSid": "SMb", "From": "+6285799999999", "Body": "INFO"},
        fake.auth_token,
    )
    signed_post(
        client,
        twilio_app,
        "/twilio/sms/inbound",
        {"MessageSid": "SMc", "From": siti.phone, "Body": "Saya sudah bayar"},
        fake.auth_token,
    )
    replies = db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.info_reply)).all()
    assert [r.to_phone for r in replies] == [siti.phone]
    assert "Rp210.000" in replies[0].body and "Mobile JKN" in replies[0].body
    actions = dict(db.session.execute(select(InboundSms.twilio_sid, InboundSms.action)).all())
    assert actions == {"SMa": "info", "SMb": "info", "SMc": "other"}


def test_only_the_webhooks_are_exempt_from_csrf(app):
    from telecollect.extensions import csrf

    assert {
        "telecollect.messaging.webhooks.status",
        "telecollect.messaging.webhooks.inbound",
        "telecollect.messaging.webhooks.whatsapp_inbound",
    } <= csrf._exempt_views
    # Twilio's other webhooks (the self-service line, issue 15) are exempt too, and nothing outside a webhooks module.
    assert {v for v in csrf._exempt_views if not v.rsplit(".", 1)[0].endswith(".webhooks")} == set()
    assert {
        "telecollect.selfservice.webhooks.inbound",
        "telecollect.selfservice.webhooks.choice",
        "telecollect.selfservice.webhooks.verify",
    } <= csrf._exempt_views
    assert not csrf._exempt_blueprints


@pytest.mark.committing
def test_two_opt_outs_of_one_number_at_once_record_it_once(app, db):
    """The STOP webhook and a supervisor on the opt-out page at the same moment: one record, no error."""

    from sqlalchemy import func, select

    from telecollect.contacts.models import Channel, Consent
    from telecollect.policy.optouts import opt_out

    answers, errors = [], []
    barrier = threading.Barrier(2)

    def work(reason):
        try:
            with app.app_context():
                barrier.wait()
                answers.append(opt_out(db.session, "+6281234567890", Channel.sms, reason))
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(reason,)) for reason in ("replied STOP", "by kabid")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sorted(answers) == [False, True]
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 1


def test_a_replayed_inbound_webhook_keeps_one_reply_and_sends_one_answer(clock, db, client, twilio_app, fake, gateway):
    """Twilio posts a webhook again when our answer was slow or lost: the same MessageSid is one reply,
    answered once, and a replayed STOP does not undo the START the participant sent after it."""
    [siti] = members(db)
    cek = {"MessageSid": "SMcek", "From": siti.phone, "Body": "CEK"}
    answers = [signed_post(client, twilio_app, "/twilio/sms/inbound", cek, fake.auth_token) for _ in range(2)]
    assert [(a.status_code, a.text) for a in answers] == [(200, answers[0].text)] * 2
    assert answers[0].mimetype == "text/xml"
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 1
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 1
    dispatch_due(db.session, gateway, RULES, now=NOW)
    assert [r["To"] for r in fake.requests] == [siti.phone]  # one answer left for the participant

    stop = {"MessageSid": "SMstop", "From": siti.phone, "Body": "STOP"}
    start = {"MessageSid": "SMstart", "From": siti.phone, "Body": "MULAI"}
    for form in (stop, start, stop):  # the STOP's webhook replayed after the START
        assert signed_post(client, twilio_app, "/twilio/sms/inbound", form, fake.auth_token).status_code == 200
    assert not db.session.scalar(select(func.count()).where(Consent.state == ConsentState.opted_out))
    sids = db.session.scalars(select(InboundSms.twilio_sid).order_by(InboundSms.id)).all()
    assert sids == ["SMcek", "SMstop", "SMstart"]


def test_a_message_claimed_by_a_dispatcher_that_died_before_calling_twilio_is_sent_once(db, fake, gateway):
    """A dispatcher claims a message and dies before it records an attempt: nothing left, so once the claim
    lapses the next dispatcher sends it, and only then (nobody touches it while the claim runs)."""
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    assert claim_batch(db.session, NOW, 10) == [message_id]
    stuck = message(db, message_id)
    assert (stuck.status, stuck.claimed_until, stuck.attempt_at) == (SmsStatus.sending, NOW + CLAIM_FOR, None)

    assert dispatch_due(db.session, gateway, RULES, now=NOW + CLAIM_FOR - timedelta(seconds=1)).counts["sent"] == 0
    assert message(db, message_id).status == SmsStatus.sending and fake.requests == []

    after = NOW + CLAIM_FOR + timedelta(seconds=1)
    assert dispatch_due(db.session, gateway, RULES, now=after).counts["sent"] == 1
    sent = message(db, message_id)
    assert (sent.status, sent.attempts, sent.claimed_until, sent.sent_at) == (SmsStatus.accepted, 1, None, after)
    assert fake.list_requests == []  # no attempt was on record: nothing to reconcile
    assert (
        dispatch_due(db.session, gateway, RULES, now=after + CLAIM_FOR * 2).counts
        == dispatch_due(db.session, gateway, RULES, now=after).counts
    )  # nothing left to do, whenever it runs
    assert [r["To"] for r in fake.requests] == [siti.phone]


def test_a_reclaimed_message_that_twilio_refuses_for_now_is_retried(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    claim_batch(db.session, NOW, 10)  # the dispatcher dies before sending
    fake.script.append((503, None))
    after = NOW + CLAIM_FOR + timedelta(seconds=1)
    assert dispatch_due(db.session, gateway, RULES, now=after, jitter=lambda: 0.5).counts["retry"] == 1
    waiting = message(db, message_id)
    assert (waiting.status, waiting.attempts) == (SmsStatus.queued, 1)  # one call to Twilio
    assert waiting.next_attempt_at == after + timedelta(minutes=1)
    assert dispatch_due(db.session, gateway, RULES, now=after + timedelta(minutes=1)).counts["sent"] == 1
    assert message(db, message_id).status == SmsStatus.accepted
