"""WhatsApp through the real Twilio SDK against the fake Twilio: approved templates by Content SID with the
family's virtual account, SMS only where WhatsApp may not go, one SMS (never two) for a failed WhatsApp
message, the 63xxx errors, `read` callbacks, consent at send time, one rate limit for two dispatchers."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from telecollect.contacts.models import Channel, ConsentChannel, ConsentSource
from telecollect.extensions import db as _db
from telecollect.messaging import whatsapp
from telecollect.messaging.dispatch import Pace, dispatch_due
from telecollect.messaging.gateways import TwilioGateway
from telecollect.messaging.models import MessageChannel, SmsKind, SmsMessage, SmsStatus
from telecollect.messaging.outbox import queue_agent_reply, queue_sms, route
from telecollect.policy import optouts
from telecollect.policy import rules as policy
from tests.fake_twilio import FakeTwilio
from tests.messaging.test_sms import NOW, PUBLIC, RULES, members, message, signed_post

SID = "HX" + "a" * 32
SENDER = "whatsapp:+6221500400"


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    server.now = lambda: NOW
    yield server
    server.stop()


@pytest.fixture
def gateway(fake):
    return TwilioGateway({**fake.config(TWILIO_WHATSAPP_FROM=SENDER), "PUBLIC_BASE_URL": PUBLIC})


@pytest.fixture
def wa_app(app, fake):
    saved = {k: app.config.get(k) for k in ("TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "TWILIO_WHATSAPP_FROM")}
    app.config.update(TWILIO_AUTH_TOKEN=fake.auth_token, PUBLIC_BASE_URL=PUBLIC, TWILIO_WHATSAPP_FROM=SENDER)
    yield app
    app.config.update(saved)


def agreed(db, person):
    optouts.opt_in(db.session, person.phone, ConsentChannel.whatsapp, source=ConsentSource.outcome, now=NOW)
    db.session.commit()


def with_content(db, kind=SmsKind.promise_reminder):
    whatsapp.save_content(db.session, kind, SID)
    db.session.commit()


def queue_routed(db, person, key="promise:1", kind=SmsKind.promise_reminder):
    channel, phone = route(db.session, kind, [person])
    message_id = queue_sms(
        db.session,
        kind=kind,
        key=key,
        to_phone=phone,
        members=[person],
        timezone="WIB",
        scheduled_at=NOW,
        channel=channel,
        tanggal_janji=NOW.date(),
    )
    db.session.commit()
    return message_id


def sms_rows(db):
    return db.session.scalars(select(SmsMessage).where(SmsMessage.channel == MessageChannel.sms)).all()


def test_a_promise_reminder_goes_by_whatsapp_template_with_the_familys_virtual_account(db, wa_app, fake, gateway):
    [siti] = members(db)
    agreed(db, siti)
    with_content(db)
    message_id = queue_routed(db, siti)
    queued = message(db, message_id)
    va = "88888" + siti.card_no[-11:]
    assert queued.channel == MessageChannel.whatsapp and queued.content_sid == SID
    assert va in queued.body and "{{" not in queued.body  # the preview: what the participant reads
    assert dispatch_due(db.session, gateway, RULES, now=NOW).counts["sent"] == 1
    [request] = fake.requests
    assert request["To"] == f"whatsapp:{siti.phone}" and request["From"] == SENDER
    assert request["ContentSid"] == SID and "Body" not in request
    variables = json.loads(request["ContentVariables"])
    assert variables == {"1": "Peserta 1", "2": "24-11-2026", "3": va, "4": "bank, ATM, minimarket atau Mobile JKN"}
    assert "NIK" not in request["ContentVariables"]
    assert message(db, message_id).status == SmsStatus.accepted


def test_without_opt_in_or_content_sid_the_reminder_goes_by_sms(db, wa_app, fake, gateway):
    [siti] = members(db)
    with_content(db)
    assert route(db.session, SmsKind.promise_reminder, [siti]) == (MessageChannel.sms, siti.phone)  # no opt-in
    agreed(db, siti)
    assert route(db.session, SmsKind.promise_reminder, [siti])[0] == MessageChannel.whatsapp
    assert route(db.session, SmsKind.due_reminder, [siti])[0] == MessageChannel.sms  # no Content SID
    wa_app.config["TWILIO_WHATSAPP_FROM"] = ""
    assert route(db.session, SmsKind.promise_reminder, [siti])[0] == MessageChannel.sms  # no WhatsApp sender


def test_an_opt_out_before_sending_cancels_the_whatsapp_message_and_sends_one_sms(db, wa_app, fake, gateway):
    """The dispatcher asks the ledger at send time: opted out of WhatsApp since the message was queued."""
    [siti] = members(db)
    agreed(db, siti)
    with_content(db)
    message_id = queue_routed(db, siti)
    optouts.opt_out(db.session, siti.phone, Channel.whatsapp, "replied BERHENTI", now=NOW)
    db.session.commit()
    counts = dispatch_due(db.session, gateway, RULES, now=NOW).counts
    assert (counts["canceled"], counts["sent"]) == (1, 1)
    assert message(db, message_id).status == SmsStatus.canceled
    assert [r["To"] for r in fake.requests] == [siti.phone]  # the SMS, not WhatsApp
    [sms] = sms_rows(db)
    assert sms.fallback_of_id == message_id and "Peserta 1" in sms.body


@pytest.mark.parametrize("code", [63003, 63024, 63049])
def test_a_failed_status_callback_falls_back_to_sms_once(db, client, wa_app, fake, gateway, code, clock):
    clock.move_to(NOW)  # the callback arrives at the business time of the test
    [siti] = members(db)
    agreed(db, siti)
    with_content(db)
    message_id = queue_routed(db, siti)
    dispatch_due(db.session, gateway, RULES, now=NOW)
    sid = message(db, message_id).twilio_sid
    for status in ("failed", "undelivered", "failed"):  # repeated and out of order
        form = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": str(code)}
        assert signed_post(client, wa_app, "/twilio/sms/status", form, fake.auth_token).status_code == 204
    db.session.expire_all()
    [sms] = sms_rows(db)
    assert sms.fallback_of_id == message_id and sms.kind == SmsKind.promise_reminder
    assert sms.scheduled_at <= NOW + timedelta(minutes=1)
    assert dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(minutes=1)).counts["sent"] == 1
    assert [r["To"] for r in fake.requests] == [f"whatsapp:{siti.phone}", siti.phone]
    # The fallback SMS failing in turn does not fall back again.
    sms_sid = message(db, sms.id).twilio_sid
    form = {"MessageSid": sms_sid, "MessageStatus": "failed", "ErrorCode": "30003"}
    signed_post(client, wa_app, "/twilio/sms/status", form, fake.auth_token)
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 2
    assert not optouts.is_opted_out(db.session, siti.phone, Channel.whatsapp)


def test_63014_at_send_opts_the_number_out_of_whatsapp_and_sends_an_sms(db, wa_app, fake, gateway):
    [siti] = members(db)
    agreed(db, siti)
    with_content(db)
    fake.number_errors[f"whatsapp:{siti.phone}"] = 63014
    message_id = queue_routed(db, siti)
    counts = dispatch_due(db.session, gateway, RULES, now=NOW).counts
    assert (counts["failed"], counts["sent"]) == (1, 1)  # the WhatsApp message, then its SMS in the same run
    assert message(db, message_id).error_code == 63014
    assert optouts.is_opted_out(db.session, siti.phone, Channel.whatsapp)
    assert not optouts.is_opted_out(db.session, siti.phone, Channel.sms)
    assert route(db.session, SmsKind.promise_reminder, [siti])[0] == MessageChannel.sms  # from now on
    assert [r["To"] for r in fake.requests] == [f"whatsapp:{siti.phone}", siti.phone]


def test_free_text_outside_the_window_asks_for_a_template_and_never_falls_back(db, wa_app, fake, gateway):
    [siti] = members(db)
    message_id = queue_agent_reply(
        db.session,
        key="reply:1",
        to_phone=siti.phone,
        family_id=siti.family_id,
        timezone="WIB",
        body="Baik Bu, kami cek dulu.",
        now=NOW,
    )
    db.session.commit()
    fake.number_errors[f"whatsapp:{siti.phone}"] = 63016
    assert dispatch_due(db.session, gateway, RULES, now=NOW).counts["failed"] == 1
    [request] = fake.requests
    assert request["Body"] == "Baik Bu, kami cek dulu." and "ContentSid" not in request  # free text
    failed = message(db, message_id)
    assert (failed.status, failed.error_code) == (SmsStatus.failed, 63016)
    assert failed.events[-1].detail == '{"code": "needs_template"}'
    assert sms_rows(db) == []


def test_read_is_the_last_status_and_never_goes_back(db, client, wa_app, fake, gateway):
    [siti] = members(db)
    agreed(db, siti)
    with_content(db)
    message_id = queue_routed(db, siti)
    dispatch_due(db.session, gateway, RULES, now=NOW)
    sid = message(db, message_id).twilio_sid
    for status in ("delivered", "read", "delivered", "sent"):
        form = {"MessageSid": sid, "MessageStatus": status}
        signed_post(client, wa_app, "/twilio/sms/status", form, fake.auth_token)
    assert message(db, message_id).status == SmsStatus.read


def test_every_63xxx_code_has_one_handling():
    assert whatsapp.on_error(63014) == whatsapp.OnError.opt_out
    assert whatsapp.on_error(63016) == whatsapp.OnError.needs_template
    assert {whatsapp.on_error(c) for c in (63003, 63024, 63049, 63999)} == {whatsapp.OnError.fallback}


def test_consent_is_asked_by_the_claims_policy(db):
    """The claim asks `policy.decide`: a family that refused visits gets none; a number opted out of calls
    is no number to call; an opt-out of business WhatsApp stops the staff's wa.me too."""
    [siti] = members(db)

    def decide(channel):
        return policy.decide(
            db.session, RULES, family_id=siti.family_id, members=[siti], zone="WIB", channel=channel, now=NOW
        )

    assert decide(Channel.visit).allowed and decide(Channel.whatsapp).allowed
    optouts.family_opt_out(db.session, siti.family_id, "tidak mau dihubungi", source=ConsentSource.outcome, now=NOW)
    optouts.opt_out(db.session, siti.phone, ConsentChannel.whatsapp, "Twilio 63014", source=ConsentSource.twilio)
    assert decide(Channel.visit).code == "opt_out"
    assert decide(Channel.whatsapp).code == "no_phone"
    assert decide(Channel.phone).allowed  # only what was refused


def test_the_ledger_keeps_the_history_of_one_number(db):
    phone = "+6281200000009"
    optouts.opt_in(db.session, phone, Channel.whatsapp, source=ConsentSource.import_, now=NOW)
    optouts.opt_out(db.session, phone, Channel.whatsapp, "BERHENTI", now=NOW + timedelta(days=1))
    optouts.opt_in(db.session, phone, Channel.whatsapp, source=ConsentSource.supervisor, now=NOW + timedelta(days=2))
    assert optouts.has_opted_in(db.session, phone, Channel.whatsapp)
    from telecollect.contacts.models import Consent

    consent = db.session.scalar(select(Consent).where(Consent.phone == phone))
    assert [(e.state.value, e.source.value) for e in consent.events] == [
        ("opted_in", "import"),
        ("opted_out", "keyword"),
        ("opted_in", "supervisor"),
    ]


def test_flask_messaging_content_sid(app, db, runner):
    result = runner.invoke(args=["messaging", "content-sid", "due_reminder", SID, "--category", "utility"])
    assert result.exit_code == 0, result.output
    content = whatsapp.content_for(db.session, SmsKind.due_reminder)
    assert content.content_sid == SID and "va" in content.variables
    body = "Halo {{1}}, VA Anda {{2}}."
    result = runner.invoke(
        args=["messaging", "content-sid", "autodebit_prompt", SID, "--variables", "nama,va", "--body", body]
    )
    assert result.exit_code == 0, result.output
    assert whatsapp.content_for(db.session, SmsKind.autodebit_prompt).variables == ("nama", "va")
    refused = runner.invoke(args=["messaging", "content-sid", "due_reminder", "HX12"])
    assert refused.exit_code != 0 and "HX12" in refused.output
    refused = runner.invoke(
        args=["messaging", "content-sid", "due_reminder", SID, "--variables", "nama,va", "--body", "Halo {{1}}"]
    )
    assert refused.exit_code != 0


@pytest.mark.committing
def test_two_dispatchers_share_one_rate_limit(app, db, fake, gateway):
    """Two dispatchers at once, one sender at 5 messages a second: Twilio never gets more than the bucket
    (5) plus one second's refill (5) in any second, and every message leaves once."""
    from tests.queues.test_concurrency import run_together

    people = members(db, 24)
    for person in people:
        queue_sms(
            db.session,
            kind=SmsKind.due_reminder,
            key=f"due:{person.id}",
            to_phone=person.phone,
            members=[person],
            timezone="WIB",
            scheduled_at=NOW,
            jatuh_tempo=NOW.date(),
        )
    db.session.commit()
    times: list[float] = []
    import time

    original = fake.answer

    def timed(form):
        times.append(time.monotonic())
        return original(form)

    fake.answer = timed
    pace = Pace(rates={"sms": 5})

    def dispatcher():
        return dispatch_due(_db.session, gateway, RULES, now=NOW, batch_size=4, pace=pace).counts["sent"]

    sent = run_together(app, [dispatcher, dispatcher])
    assert sum(sent) == 24
    assert sorted(r["To"] for r in fake.requests) == sorted(p.phone for p in people)
    times.sort()
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 10, busiest


def test_opt_in_sources_outcome_import_and_supervisor(db, client, login, make_user):
    """WhatsApp is agreed on the call screen's checkbox (API field `whatsapp_opt_in`), by an import column, or
    by a supervisor on the participant page; `do_not_contact` stops every channel of the family, and visits."""
    from telecollect.contacts.models import Consent
    from tests.conftest import csrf_token
    from tests.helpers import csv_bytes, row, run_import

    [siti] = members(db)
    run_import(db, csv_bytes([{**row(card_no="0000000000007", phone="0812-0000-0007"), "whatsapp_opt_in": "ya"}]))
    assert optouts.has_opted_in(db.session, "+6281200000007", Channel.whatsapp)
    login(make_user("supervisor"))
    page = client.get(f"/participants/{siti.card_no}")
    assert page.status_code == 200 and 'data-testid="consents"' in page.text
    answer = client.post(
        f"/participants/{siti.card_no}/consent",
        data={"csrf_token": csrf_token(page.text), "number": "0", "channel": "whatsapp", "action": "opt_in"},
    )
    assert answer.status_code == 302
    consent = db.session.scalar(select(Consent).where(Consent.phone == siti.phone))
    assert (consent.state.value, consent.source.value) == ("opted_in", "supervisor")
    assert "Supervisor" in client.get(f"/participants/{siti.card_no}").text.split('data-testid="consents"')[1]


def test_the_whatsapp_templates_page_sets_sid_and_channel_order(db, client, login, make_user, wa_app):
    from telecollect.branches.stamping import act_in_branch
    from tests.conftest import csrf_token

    [siti] = members(db)
    agreed(db, siti)
    supervisor = make_user("supervisor")
    login(supervisor)
    act_in_branch(db.session(), supervisor.branch_id)  # the page saves her branch's own; its jobs act in it
    page = client.get("/sms/whatsapp-templates")
    assert page.status_code == 200
    preview = page.text.split('data-testid="whatsapp-promise_reminder"')[1].split('data-testid="preview"')[1]
    assert "8888800012345678" in preview.split("</p>")[0]  # the participant reads the virtual account
    form = {
        "csrf_token": csrf_token(page.text),
        "kind": "promise_reminder",
        "content_sid": SID,
        "variables": "nama,tanggal_janji,va,kanal",
        "body": whatsapp.DEFAULTS[SmsKind.promise_reminder][0],
        "category": "utility",
        "channel_order": "whatsapp,sms",
    }
    assert client.post("/sms/whatsapp-templates", data=form).status_code == 302
    assert route(db.session, SmsKind.promise_reminder, [siti])[0] == MessageChannel.whatsapp
    assert client.post("/sms/whatsapp-templates", data={**form, "channel_order": "sms"}).status_code == 302
    assert route(db.session, SmsKind.promise_reminder, [siti])[0] == MessageChannel.sms
    refused = client.post("/sms/whatsapp-templates", data={**form, "channel_order": "sms,sms"})
    assert refused.status_code == 400
    refused = client.post("/sms/whatsapp-templates", data={**form, "variables": "nama,va"})  # body has {{3}}, {{4}}
    assert refused.status_code == 400


def test_the_outbox_shows_the_backlog_and_when_it_clears(db, client, login, make_user, wa_app):
    people = members(db, 3)
    for person in people:
        queue_sms(
            db.session,
            kind=SmsKind.due_reminder,
            key=f"due:{person.id}",
            to_phone=person.phone,
            members=[person],
            timezone="WIB",
            scheduled_at=NOW,
            jatuh_tempo=NOW.date(),
        )
    db.session.commit()
    login(make_user("supervisor"))
    table = client.get("/sms/outbox").text.split('data-testid="backlog"')[1].split("</table>")[0]
    assert '<td>SMS</td><td class="num">3</td><td class="num">10</td>' in table


def test_two_whatsapp_messages_to_one_number_keep_the_pair_limit_apart(db, wa_app, fake, gateway):
    [siti] = members(db)
    agreed(db, siti)
    with_content(db)
    first = queue_routed(db, siti, key="promise:1")
    second = queue_routed(db, siti, key="promise:2")
    pace = Pace(pair_seconds={"whatsapp": 6})
    counts = dispatch_due(db.session, gateway, RULES, now=NOW, pace=pace).counts
    assert (counts["sent"], counts["deferred"]) == (1, 1)
    waiting = message(db, second)
    assert waiting.status == SmsStatus.queued and waiting.next_attempt_at == NOW + timedelta(seconds=6)
    assert message(db, first).status == SmsStatus.accepted
    later = dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(seconds=6), pace=pace).counts
    assert later["sent"] == 1 and len(fake.requests) == 2


def test_free_text_inside_the_window_goes_as_body(db, wa_app, fake, gateway):
    """A telecollector's reply (agent_reply) needs no opt-in record or Content SID: the participant wrote
    first; it leaves as free text."""
    [siti] = members(db)
    message_id = queue_agent_reply(
        db.session,
        key="reply:2",
        to_phone=siti.phone,
        family_id=siti.family_id,
        timezone="WIB",
        body="Siap Bu.",
        now=NOW,
    )
    db.session.commit()
    assert dispatch_due(db.session, gateway, RULES, now=NOW).counts["sent"] == 1
    [request] = fake.requests
    assert (request["To"], request["Body"], request["From"]) == (f"whatsapp:{siti.phone}", "Siap Bu.", SENDER)
    assert message(db, message_id).status == SmsStatus.accepted
