"""Inbound WhatsApp through signed webhooks (the fake Twilio's token): BERHENTI/MULAI/CEK from registered,
unregistered and shared numbers, a replayed message, conversations in the inbox and on the desktop, free text
inside the 24-hour window and templates after it, and participants' photos for the roles that may see a NIK."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from telecollect.audit.models import AuditEvent
from telecollect.contacts.models import Consent, ConsentChannel, ConsentSource, ConsentState
from telecollect.messaging import whatsapp
from telecollect.messaging.dispatch import dispatch_due
from telecollect.messaging.gateways import TwilioGateway
from telecollect.messaging.models import (
    Conversation,
    InboundMedia,
    InboundSms,
    MessageChannel,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from telecollect.participants.models import Participant
from telecollect.policy import optouts
from telecollect.queues.models import QueueName
from telecollect.runtime import contact_rules, lease
from telecollect.workflows import queue_work
from tests.conftest import csrf_token
from tests.fake_twilio import FakeTwilio
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up
from tests.messaging.test_sms import PUBLIC, RULES, signed_post

SENDER = "whatsapp:+6221500400"
SID = "HX" + "b" * 32
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # the `clock` fixture's start: Tuesday 09:00 WIB
SHARED, SHARED_LOCAL = "+6281277770000", "081277770000"  # on two families
STRANGER = "+6285799999999"  # on none
PATH = "/twilio/whatsapp/inbound"
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    server.now = lambda: T0
    yield server
    server.stop()


@pytest.fixture
def gateway(fake):
    return TwilioGateway({**fake.config(TWILIO_WHATSAPP_FROM=SENDER), "PUBLIC_BASE_URL": PUBLIC})


@pytest.fixture
def wa_app(app, fake):
    keys = ("TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "TWILIO_WHATSAPP_FROM")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(TWILIO_AUTH_TOKEN=fake.auth_token, PUBLIC_BASE_URL=PUBLIC, TWILIO_WHATSAPP_FROM=SENDER)
    yield app
    app.config.update(saved)


@pytest.fixture
def people(db):
    """Siti (her own number, her own family), and two families sharing one number."""
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", name="Siti Aminah", phone="081200000001", arrears_amount="210000"),
                row(
                    card_no="0000000000002",
                    family_id="F2",
                    name="Budi Dua",
                    phone="081277770000",
                    arrears_amount="35000",
                ),
                row(
                    card_no="0000000000003",
                    family_id="F3",
                    name="Citra Tiga",
                    phone="081277770000",
                    arrears_amount="35000",
                ),
            ]
        ),
    )
    db.session.commit()
    return {p.card_no: p for p in db.session.scalars(select(Participant))}


def post(client, app, fake, sid, phone, body, **extra):
    form = {"MessageSid": sid, "From": f"whatsapp:{phone}", "To": SENDER, "Body": body, **extra}
    answer = signed_post(client, app, PATH, form, fake.auth_token)
    assert answer.status_code == 200 and answer.mimetype == "text/xml", answer.status_code
    return answer


def consents(db, phone):
    db.session.expire_all()
    return {c.channel: c.state for c in db.session.scalars(select(Consent).where(Consent.phone == phone))}


def answers(db):
    db.session.expire_all()
    return db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.info_reply).order_by(SmsMessage.id)
    ).all()


# -- the webhook and its keywords


def test_the_webhook_refuses_unsigned_and_wrongly_signed_requests(db, client, wa_app, fake):
    form = {"MessageSid": "SMx", "From": "whatsapp:+6281200000001", "Body": "BERHENTI"}
    assert signed_post(client, wa_app, PATH, form, fake.auth_token, signature="").status_code == 403
    assert signed_post(client, wa_app, PATH, form, "wrong-token").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 0
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 0


def test_berhenti_stops_whatsapp_sms_and_cadre_whatsapp_and_mulai_opts_back_in(db, client, wa_app, fake, people, clock):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMw1", siti.phone, "Berhenti")
    assert consents(db, siti.phone) == {
        ConsentChannel.whatsapp: ConsentState.opted_out,
        ConsentChannel.sms: ConsentState.opted_out,
        ConsentChannel.cadre_whatsapp: ConsentState.opted_out,
    }
    assert optouts.is_opted_out(db.session, siti.phone, ConsentChannel.sms)
    stored = db.session.scalar(select(InboundSms).where(InboundSms.twilio_sid == "SMw1"))
    assert (stored.channel, stored.action, stored.family_id) == (MessageChannel.whatsapp, "stop", siti.family_id)
    post(client, wa_app, fake, "SMw2", siti.phone, "MULAI")
    assert set(consents(db, siti.phone).values()) == {ConsentState.opted_in}
    assert optouts.has_opted_in(db.session, siti.phone, ConsentChannel.whatsapp)


def test_with_the_setting_off_berhenti_stops_whatsapp_only(db, client, wa_app, fake, people, monkeypatch):
    from telecollect import settings

    siti = people["0000000000001"]
    changed = settings.Settings.from_config({**wa_app.config, "WHATSAPP_STOP_ALSO_SMS": False})
    monkeypatch.setitem(wa_app.extensions, "telecollect.settings", changed)
    post(client, wa_app, fake, "SMw1", siti.phone, "STOP")
    assert consents(db, siti.phone) == {ConsentChannel.whatsapp: ConsentState.opted_out}
    assert not optouts.is_opted_out(db.session, siti.phone, ConsentChannel.sms)


def test_any_message_is_a_whatsapp_opt_in_but_never_lifts_an_opt_out(db, client, wa_app, fake, people):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMw1", siti.phone, "Halo, saya mau tanya")
    consent = db.session.scalar(select(Consent).where(Consent.phone == siti.phone))
    assert (consent.channel, consent.state, consent.source) == (
        ConsentChannel.whatsapp,
        ConsentState.opted_in,
        ConsentSource.inbound,
    )
    post(client, wa_app, fake, "SMw2", siti.phone, "BERHENTI")
    post(client, wa_app, fake, "SMw3", siti.phone, "Maaf, satu pertanyaan lagi")
    assert not optouts.has_opted_in(db.session, siti.phone, ConsentChannel.whatsapp), "only MULAI lifts it"


def test_cek_from_a_registered_number_answers_with_arrears_months_and_virtual_account(db, client, wa_app, fake, people):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMcek", siti.phone, "cek")
    [answer] = answers(db)
    va = "88888" + siti.card_no[-11:]
    assert (answer.channel, answer.to_phone, answer.family_id) == (MessageChannel.whatsapp, siti.phone, siti.family_id)
    assert answer.content_sid is None, "free text: the participant wrote just now"
    assert "Rp210.000" in answer.body and va in answer.body and "Mobile JKN" in answer.body
    assert f"{siti.months_in_arrears} bulan" in answer.body and "Siti Aminah" in answer.body
    assert siti.nik not in answer.body


def test_cek_from_an_unknown_or_shared_number_gets_general_information_only(db, client, wa_app, fake, people):
    post(client, wa_app, fake, "SMa", STRANGER, "INFO")
    post(client, wa_app, fake, "SMb", SHARED, "CEK")
    stranger, shared = answers(db)
    for answer in (stranger, shared):
        assert answer.family_id is None and answer.channel == MessageChannel.whatsapp
        assert "Rp" not in answer.body and "88888" not in answer.body
        assert "Care Center 165" in answer.body and "Mobile JKN" in answer.body
        for person in people.values():
            assert person.name not in answer.body
    assert (stranger.to_phone, shared.to_phone) == (STRANGER, SHARED)
    kept = db.session.scalar(select(InboundSms).where(InboundSms.twilio_sid == "SMb"))
    assert kept.family_id is None, "a shared number belongs to no one family"


def test_cek_goes_by_the_approved_template_when_it_has_a_content_sid(db, client, wa_app, fake, people, gateway, clock):
    siti = people["0000000000001"]
    whatsapp.save_content(db.session, SmsKind.info_reply, SID)
    db.session.commit()
    post(client, wa_app, fake, "SMcek", siti.phone, "CEK")
    assert dispatch_due(db.session, gateway, RULES, now=datetime.now(UTC)).counts["sent"] == 1
    [request] = fake.requests
    assert request["To"] == f"whatsapp:{siti.phone}" and request["ContentSid"] == SID
    variables = json.loads(request["ContentVariables"])
    assert variables["4"] == "88888" + siti.card_no[-11:] and variables["3"] == "Rp210.000"


def test_a_replayed_inbound_message_is_handled_once(db, client, wa_app, fake, people):
    siti = people["0000000000001"]
    cek = {"MessageSid": "SMcek", "From": f"whatsapp:{siti.phone}", "Body": "CEK"}
    replies = [signed_post(client, wa_app, PATH, cek, fake.auth_token) for _ in range(3)]
    assert {r.status_code for r in replies} == {200}
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 1
    assert len(answers(db)) == 1
    hello = {"MessageSid": "SMhi", "From": f"whatsapp:{siti.phone}", "Body": "Halo"}
    for _ in range(2):
        signed_post(client, wa_app, PATH, hello, fake.auth_token)
    assert db.session.scalar(select(Conversation.unread)) == 1, "one message, counted once"


# -- conversations: the inbox, free text and templates


def signed_in(client, login, make_user, role):
    user = make_user(role)
    assert login(user).status_code == 302
    return user


def reply(client, conversation_id, **form):
    page = client.get(f"/whatsapp/conversations/{conversation_id}")
    token = csrf_token(page.text)
    fields = dict(__import__("re").findall(r'name="(token)" value="([^"]+)"', page.text))
    return client.post(f"/whatsapp/conversations/{conversation_id}/reply", data={"csrf_token": token, **fields, **form})


def test_a_message_opens_a_conversation_in_the_inbox_unread_until_opened(
    db, client, wa_app, fake, people, login, make_user, clock
):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMhi", siti.phone, "Saya sudah bayar kemarin")
    post(client, wa_app, fake, "SMhi2", siti.phone, "Mohon dicek")
    signed_in(client, login, make_user, "telecollector")
    inbox = client.get("/whatsapp/conversations")
    assert inbox.status_code == 200
    assert "Siti Aminah" in inbox.text and "Mohon dicek" in inbox.text
    conversation = db.session.scalar(select(Conversation))
    assert conversation.unread == 2 and conversation.family_id == siti.family_id
    assert client.get(f"/whatsapp/conversations/{conversation.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Conversation, conversation.id).unread == 0
    assert "Siti Aminah" not in client.get("/whatsapp/conversations?unread=1").text
    # The family timeline shows it too.
    assert "Saya sudah bayar kemarin" in client.get(f"/participants/{siti.card_no}").text


def test_free_text_inside_24_hours_and_only_a_template_after(
    db, client, wa_app, fake, people, login, make_user, clock, gateway
):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMhi", siti.phone, "Bisa dicicil?")
    conversation_id = db.session.scalar(select(Conversation.id))
    agent = make_user("telecollector")

    clock.move_to(T0 + timedelta(hours=23))
    assert login(agent).status_code == 302
    answer = reply(client, conversation_id, body="Bisa, lewat program REHAB.")
    assert answer.status_code == 302
    sent = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == SmsKind.agent_reply))
    assert (sent.channel, sent.content_sid, sent.body) == (MessageChannel.whatsapp, None, "Bisa, lewat program REHAB.")
    assert sent.to_phone == siti.phone and sent.family_id == siti.family_id
    assert dispatch_due(db.session, gateway, RULES, now=datetime.now(UTC)).counts["sent"] == 1
    assert fake.requests[-1]["Body"] == "Bisa, lewat program REHAB." and "ContentSid" not in fake.requests[-1]

    clock.move_to(T0 + timedelta(hours=25))
    if client.get("/holidays").status_code != 200:  # signed in again if the idle session ended meanwhile
        assert login(agent).status_code == 302
    page = client.get(f"/whatsapp/conversations/{conversation_id}").text
    assert 'name="body"' not in page and "template-only" in page
    refused = reply(client, conversation_id, body="Masih ada?")
    assert refused.status_code == 302
    assert "24 jam" in client.get(refused.headers["Location"]).text
    assert db.session.scalar(select(func.count()).where(SmsMessage.kind == SmsKind.agent_reply)) == 1

    whatsapp.save_content(db.session, SmsKind.info_reply, SID)  # an approved template made from family values
    db.session.commit()
    page = client.get(f"/whatsapp/conversations/{conversation_id}").text
    assert 'value="info_reply"' in page and 'value="due_reminder"' not in page
    assert reply(client, conversation_id, kind="info_reply").status_code == 302
    templated = db.session.scalar(
        select(SmsMessage)
        .where(SmsMessage.idempotency_key.like(f"agent:{conversation_id}:{agent.id}:%"))
        .order_by(SmsMessage.id.desc())
        .limit(1)
    )
    assert templated.kind == SmsKind.info_reply and templated.content_sid == SID
    assert "88888" + siti.card_no[-11:] in templated.body


def test_a_free_reply_refused_with_63016_asks_for_a_template_and_never_falls_back_to_sms(
    db, client, wa_app, fake, people, login, make_user, clock, gateway
):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMhi", siti.phone, "Halo")
    conversation_id = db.session.scalar(select(Conversation.id))
    signed_in(client, login, make_user, "telecollector")
    assert reply(client, conversation_id, body="Selamat pagi").status_code == 302
    fake.number_errors[f"whatsapp:{siti.phone}"] = 63016
    dispatch_due(db.session, gateway, RULES, now=datetime.now(UTC))
    db.session.expire_all()
    refused = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == SmsKind.agent_reply))
    assert (refused.status, refused.error_code) == (SmsStatus.failed, 63016)
    assert db.session.scalar(select(func.count()).where(SmsMessage.channel == MessageChannel.sms)) == 0
    assert 'data-testid="needs-template"' in client.get(f"/whatsapp/conversations/{conversation_id}").text


def test_a_double_submitted_reply_is_one_message(db, client, wa_app, fake, people, login, make_user, clock):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMhi", siti.phone, "Halo")
    conversation_id = db.session.scalar(select(Conversation.id))
    signed_in(client, login, make_user, "telecollector")
    page = client.get(f"/whatsapp/conversations/{conversation_id}").text
    form = {"csrf_token": csrf_token(page), "token": page.split('name="token" value="')[1].split('"')[0], "body": "Ya"}
    for _ in range(2):
        assert client.post(f"/whatsapp/conversations/{conversation_id}/reply", data=form).status_code == 302
    assert db.session.scalar(select(func.count()).where(SmsMessage.kind == SmsKind.agent_reply)) == 1


def test_the_agent_desktop_shows_the_familys_conversation(db, client, wa_app, fake, people, login, make_user, clock):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMhi", siti.phone, "Kapan petugas menelepon?")
    agent = signed_in(client, login, make_user, "telecollector")
    queue_up(db, QueueName.telecollect, now=T0)
    held = queue_work.claim(db.session, agent, contact_rules(), lease=lease(), now=T0)
    db.session.commit()
    assert held.family_id == siti.family_id
    desk = client.get(f"/queue/items/{held.id}").text
    assert 'data-testid="desk-whatsapp"' in desk and "Kapan petugas menelepon?" in desk
    assert f'name="back" value="/queue/items/{held.id}"' in desk


# -- media


def test_media_are_links_for_the_roles_that_may_see_a_nik_each_view_audited(
    db, client, wa_app, fake, people, login, make_user, clock
):
    siti = people["0000000000001"]
    post(
        client, wa_app, fake, "SMktp", siti.phone, "", NumMedia="1", MediaUrl0=MEDIA_URL, MediaContentType0="image/jpeg"
    )
    media = db.session.scalar(select(InboundMedia))
    assert (media.url, media.content_type) == (MEDIA_URL, "image/jpeg")
    conversation_id = db.session.scalar(select(Conversation.id))

    signed_in(client, login, make_user, "telecollector")
    for page in (f"/whatsapp/conversations/{conversation_id}", f"/participants/{siti.card_no}"):
        text = client.get(page).text
        assert "media-hidden" in text and MEDIA_URL not in text and f"/whatsapp/media/{media.id}" not in text
    assert client.get(f"/whatsapp/media/{media.id}").status_code == 403
    assert not db.session.scalar(select(func.count()).where(AuditEvent.action == "whatsapp.media.view"))

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/holidays").text)})
    supervisor = signed_in(client, login, make_user, "supervisor")
    text = client.get(f"/whatsapp/conversations/{conversation_id}").text
    assert f"/whatsapp/media/{media.id}" in text and MEDIA_URL not in text
    shown = client.get(f"/whatsapp/media/{media.id}")
    assert shown.status_code == 302 and shown.headers["Location"] == MEDIA_URL
    assert shown.headers["Cache-Control"] == "no-store"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "whatsapp.media.view"))
    assert event.user_id == supervisor.id and siti.card_no in event.detail


def test_the_free_text_cek_answer_leaves_on_whatsapp_as_body(db, client, wa_app, fake, people, gateway, clock):
    siti = people["0000000000001"]
    post(client, wa_app, fake, "SMcek", siti.phone, "CEK")
    dispatch_due(db.session, gateway, RULES, now=datetime.now(UTC))
    assert [(r["To"], "88888" + siti.card_no[-11:] in r.get("Body", "")) for r in fake.requests] == [
        (f"whatsapp:{siti.phone}", True)
    ]


@pytest.mark.committing
def test_a_replay_arriving_while_the_first_is_handled_and_two_first_messages_at_once(app, db, people):
    """Twilio retries while our first answer is still being written, and a participant's two first messages
    arrive at the same moment: one stored message and one answer; one conversation with two unread."""
    import threading

    from telecollect.messaging.conversations import handle_whatsapp_inbound

    siti = people["0000000000001"]
    phone, errors = siti.phone, []
    barrier = threading.Barrier(2)

    def work(sid, body):
        try:
            with app.app_context():
                barrier.wait()
                handle_whatsapp_inbound(
                    db.session, sid=sid, from_address=f"whatsapp:{phone}", body=body, media=[], now=T0
                )
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    for pair in ((("SMcek", "CEK"), ("SMcek", "CEK")), (("SMa", "Halo"), ("SMb", "Saya mau tanya"))):
        threads = [threading.Thread(target=work, args=args) for args in pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 3
    assert len(answers(db)) == 1
    [conversation] = db.session.scalars(select(Conversation)).all()
    assert conversation.unread == 2


def test_opening_many_photos_quickly_is_refused(db, client, wa_app, fake, people, login, make_user, clock):
    """KTP photos are walked like NIKs: past the disclosure limit of distinct records a minute, 429."""
    from telecollect.audit.disclosure import READS
    from telecollect.messaging.conversations import handle_whatsapp_inbound

    siti = people["0000000000001"]
    for n in range(READS[0] // 10 + 1):
        handle_whatsapp_inbound(
            db.session,
            sid=f"SMphotos{n}",
            from_address=f"whatsapp:{siti.phone}",
            body="",
            media=[(f"{MEDIA_URL}{n}{k}", "image/jpeg") for k in range(10)],
            now=T0,
        )
    db.session.commit()
    signed_in(client, login, make_user, "supervisor")
    ids = db.session.scalars(select(InboundMedia.id).order_by(InboundMedia.id)).all()
    answers_ = [client.get(f"/whatsapp/media/{media_id}").status_code for media_id in ids[: READS[0] + 1]]
    assert answers_ == [302] * READS[0] + [429]
    assert client.get(f"/whatsapp/media/{ids[0]}").status_code == 302, "one opened already is free to reopen"


# -- which branch a message from an unknown number belongs to: the branch whose sender received it

MAKASSAR_SENDER = "+6241100100"


@pytest.fixture
def makassar(db):
    from telecollect.branches.services import add_branch, set_branch_setting

    branch = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    set_branch_setting(branch, "TWILIO_FROM_NUMBER", MAKASSAR_SENDER)
    db.session.commit()
    return branch


def _first_branch_id(db) -> int:
    from telecollect.branches.models import FIRST_BRANCH_CODE, Branch

    return db.session.scalar(select(Branch.id).where(Branch.code == FIRST_BRANCH_CODE))


def test_a_stranger_writing_to_a_branchs_whatsapp_sender_is_that_branchs_conversation(
    db, client, wa_app, fake, makassar
):
    post(client, wa_app, fake, "SMmks1", STRANGER, "Selamat siang", To=f"whatsapp:{MAKASSAR_SENDER}")
    db.session.expire_all()
    conversation = db.session.scalar(select(Conversation).where(Conversation.phone == STRANGER))
    inbound = db.session.scalar(select(InboundSms).where(InboundSms.twilio_sid == "SMmks1"))
    assert (conversation.branch_id, inbound.branch_id) == (makassar.id, makassar.id)


def test_the_installations_sender_names_the_one_branch_sending_from_it_else_none(db, client, wa_app, fake, makassar):
    from telecollect.branches.services import set_branch_setting

    # Makassar sends from its own number: the installation's sender is Jakarta Utara's alone.
    post(client, wa_app, fake, "SMjkt1", STRANGER, "Halo")
    db.session.expire_all()
    first = db.session.scalar(select(Conversation).where(Conversation.phone == STRANGER))
    assert first.branch_id == _first_branch_id(db)
    # Both branches on the installation's sender: a stranger's message could be for either, and stays unassigned.
    set_branch_setting(makassar, "TWILIO_FROM_NUMBER", "")
    db.session.commit()
    other = "+6285711112222"
    post(client, wa_app, fake, "SMboth1", other, "Halo")
    db.session.expire_all()
    assert db.session.scalar(select(Conversation.branch_id).where(Conversation.phone == other)) is None


def test_an_sms_reply_from_a_stranger_is_the_receiving_branchs(db, client, wa_app, fake, makassar):
    form = {"MessageSid": "SMsms1", "From": STRANGER, "To": MAKASSAR_SENDER, "Body": "INFO"}
    assert signed_post(client, wa_app, "/twilio/sms/inbound", form, fake.auth_token).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(InboundSms.branch_id).where(InboundSms.twilio_sid == "SMsms1")) == makassar.id
