"""The self-service line (issue 15, item 8): Twilio posts here, signed, as a participant calls and keys."""

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from telecollect.audit.models import AuditEvent
from telecollect.participants.models import Participant
from telecollect.queues.models import FollowUp, QueueName, WorkItem, WorkState
from telecollect.selfservice.models import LineCall
from telecollect.selfservice.services import MAX_FAILURES_PER_CALL
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up

PUBLIC = "https://telecollect.example.id"
TOKEN = "line-test-token"
#: Siti's family: her card ends 0011, her husband's 0012; her number is on this family only.
SITI, SITI_PHONE, SITI_CARD, HUSBAND_CARD = "Siti Aminah", "+6281200000011", "0000000000011", "0000000000012"
#: A number registered on two families (a shared phone).
SHARED_PHONE = "+6281200000099"
#: The virtual account of Siti's family: 88888 + the last 11 digits of the family-id card (Siti's).
SITI_VA = "88888" + SITI_CARD[-11:]


@pytest.fixture
def line_app(app):
    saved = {k: app.config.get(k) for k in ("TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL")}
    app.config.update(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=PUBLIC)
    yield app
    app.config.update(saved)


@pytest.fixture
def families(db):
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=SITI_CARD,
                    family_id=SITI_CARD,
                    name=SITI,
                    phone="081200000011",
                    months_in_arrears="6",
                    arrears_amount="Rp1.250.000",
                ),
                row(card_no=HUSBAND_CARD, family_id=SITI_CARD, name="Budi Santoso", phone="", arrears_amount="0"),
                row(card_no="0000000000021", family_id="F2", name="Ani Lestari", phone="081200000099"),
                row(card_no="0000000000031", family_id="F3", name="Dewi Sartika", phone="081200000099"),
            ]
        ),
    )
    db.session.commit()


class Caller:
    """One phone call to the line: every request signed as Twilio signs it (or not, or wrongly)."""

    def __init__(self, client, number: str | None, sid: str = "CA" + "1" * 32):
        self.client, self.number, self.sid = client, number, sid

    def post(self, path: str, *, token: str | None = TOKEN, **form) -> object:
        form = {"CallSid": self.sid, "From": self.number or "anonymous", "To": "+622150000000", **form}
        headers = {}
        if token is not None:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(PUBLIC + path, form)
        return self.client.post(path, data=form, headers=headers)

    def say(self, path: str, **form) -> str:
        """What the line says (all its <Say> text), after checking it is TwiML in Bahasa Indonesia."""
        answer = self.post(path, **form)
        assert answer.status_code == 200, answer.status_code
        assert answer.mimetype == "text/xml"
        twiml = ElementTree.fromstring(answer.data)
        says = twiml.findall(".//Say")
        assert says and all(s.get("language") == "id-ID" for s in says)
        self.last = twiml
        return " ".join(s.text or "" for s in says)

    def gather(self) -> ElementTree.Element:
        return self.last.find("Gather")

    def call(self) -> str:
        return self.say("/twilio/voice/inbound")

    def press(self, digit: str) -> str:
        return self.say("/twilio/voice/inbound/choice", Digits=digit)

    def key_card(self, digits: str, choice: str) -> str:
        return self.say(f"/twilio/voice/inbound/verify?choice={choice}", Digits=digits)


def personal_figures(text: str) -> list[str]:
    """Anything of Siti's family in what the line said."""
    return [
        leak
        for leak in (
            "satu juta dua ratus lima puluh ribu",
            "enam bulan",
            "delapan, delapan, delapan, delapan, delapan, nol",
        )
        if leak in text
    ]


def test_registered_caller_with_the_right_card_digits_hears_her_bill_and_account(db, client, line_app, families, clock):
    siti = Caller(client, "0812-0000-0011")  # as her phone shows it: the line normalises it
    welcome = siti.call()
    assert "layanan mandiri" in welcome and "Tekan 2" in welcome
    menu = siti.gather()
    assert menu.get("numDigits") == "1" and menu.get("action") == "/twilio/voice/inbound/choice"

    asked = siti.press("2")
    assert "empat angka terakhir nomor kartu" in asked and not personal_figures(asked)
    assert siti.gather().get("numDigits") == "4" and siti.gather().get("action").endswith("verify?choice=2")

    bill = siti.key_card(HUSBAND_CARD[-4:], "2")  # any member's card
    assert "satu juta dua ratus lima puluh ribu rupiah, untuk enam bulan" in bill
    words = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]
    spoken_va = ", ".join(words[int(d)] for d in SITI_VA)
    assert spoken_va in bill  # read digit by digit
    assert siti.gather().get("numDigits") == "1"  # back to the menu

    status = siti.press("1")  # verified once for the whole call
    assert "tidak aktif karena tunggakan iuran enam bulan" in status

    call = db.session.scalar(select(LineCall))
    assert (call.is_verified, call.choices, call.disclosed) == (True, "2,1", "bill,status")
    assert SITI_PHONE not in call.caller_hash and len(call.caller_hash) == 64  # the number itself is not kept
    told = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "line.disclose")).all()
    assert told == [f"family={call.family_id} bill", f"family={call.family_id} status"]
    # On the family's timeline.
    client_page = _timeline_as_supervisor(db, client)
    assert 'data-testid="line-event"' in client_page


def _timeline_as_supervisor(db, client) -> str:
    from telecollect.auth.services import create_user
    from tests.conftest import PASSWORD, csrf_token

    user = create_user(db.session, username="spv.line", role="supervisor", name="Supervisor", password=PASSWORD)
    db.session.commit()
    token = csrf_token(client.get("/login").text)
    client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    return client.get(f"/participants/{SITI_CARD}").text


def test_wrong_card_digits_give_no_personal_data_and_the_tries_are_limited(db, client, line_app, families, clock):
    siti = Caller(client, SITI_PHONE)
    siti.call()
    siti.press("2")
    for attempt in range(1, MAX_FAILURES_PER_CALL + 1):
        said = siti.key_card("9999", "2")
        assert not personal_figures(said)
        if attempt < MAX_FAILURES_PER_CALL:
            assert "coba lagi" in said and siti.gather().get("numDigits") == "4"
    assert "hanya dapat memberikan informasi umum" in said and "Mobile J K N" in said
    assert siti.gather().get("numDigits") == "1"
    # No more tries in this call: the digits are not even asked again, and the right ones change nothing.
    again = siti.press("2")
    assert "empat angka" not in again and not personal_figures(again)
    assert not personal_figures(siti.key_card(SITI_CARD[-4:], "2"))
    call = db.session.scalar(select(LineCall))
    assert (call.is_verified, call.verify_failures, call.disclosed) == (False, MAX_FAILURES_PER_CALL, "")


def test_the_number_runs_out_of_tries_across_calls_the_same_day(db, client, line_app, families, clock):
    """A forger who calls again and again with Siti's caller ID gets a few guesses a day, not 10,000."""
    for n, wrong in enumerate(("1111", "2222")):
        caller = Caller(client, SITI_PHONE, sid=f"CA{n:032d}")
        caller.call()
        caller.press("1")
        for _ in range(MAX_FAILURES_PER_CALL if n == 0 else 2):
            caller.key_card(wrong, "1")
    third = Caller(client, SITI_PHONE, sid="CA" + "9" * 32)
    third.call()
    said = third.press("1")
    assert "empat angka" not in said and "Mobile J K N" in said


def test_a_number_on_two_families_and_an_unknown_number_hear_general_information_only(
    db, client, line_app, families, clock
):
    for number, sid in ((SHARED_PHONE, "CA" + "2" * 32), ("+6285799998888", "CA" + "3" * 32), (None, "CA" + "4" * 32)):
        caller = Caller(client, number, sid=sid)
        said = caller.call()
        for digit in ("1", "2", "3", "0"):
            said += caller.press(digit)
            assert "empat angka" not in said  # no card digits asked: nothing personal could follow
        said += caller.key_card(SITI_CARD[-4:], "2")  # a forged request for the verify step
        assert not personal_figures(said)
        for name in (SITI, "Ani Lestari", "Dewi Sartika"):
            assert name not in said
        assert "kanal resmi" in said  # 0: the official channels, for everyone
    calls = db.session.scalars(select(LineCall).order_by(LineCall.id)).all()
    assert [(c.families_matched, c.family_id, c.is_verified) for c in calls] == [
        (2, None, False),
        (0, None, False),
        (0, None, False),
    ]
    assert all(c.choices == "1,2,3,0" and c.disclosed == "" for c in calls)
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "line.disclose")) == 0
    )


def test_a_call_back_lands_in_the_queue_once_at_the_next_calling_hours(db, client, line_app, families, clock):
    clock.move_to(datetime(2026, 11, 24, 14, 30, tzinfo=UTC))  # Tuesday 21:30 WIB: outside calling hours
    first = Caller(client, SITI_PHONE, sid="CA" + "5" * 32)
    first.call()
    first.press("3")
    said = first.key_card(SITI_CARD[-4:], "3")
    assert "Rabu, 25 November pukul 08.00 WIB" in said
    item = db.session.scalar(select(WorkItem).where(WorkItem.queue == QueueName.telecollect))
    assert (item.follow_up, item.state, item.callback_user_id) == (FollowUp.callback, WorkState.waiting, None)
    assert item.next_action_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 08:00 WIB
    # Asked again, in the same call and in another: still one callback, at the same time.
    assert "sudah tercatat" in first.press("3")
    second = Caller(client, SITI_PHONE, sid="CA" + "6" * 32)
    second.call()
    second.press("3")
    assert "sudah tercatat" in second.key_card(SITI_CARD[-4:], "3")
    items = db.session.scalars(select(WorkItem).where(WorkItem.queue == QueueName.telecollect)).all()
    assert len(items) == 1 and items[0].next_action_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert db.session.scalar(select(func.count()).select_from(LineCall).where(LineCall.is_callback_requested)) == 2


def test_a_call_back_for_a_family_already_in_the_queue_is_offered_first_to_anyone(
    db, client, line_app, families, make_user, clock
):
    from telecollect.runtime import contact_rules, lease
    from telecollect.workflows import queue_work

    queue_up(db, QueueName.telecollect, now=datetime.now(UTC))
    siti = Caller(client, SITI_PHONE)
    siti.call()
    siti.press("3")
    assert "hari ini pukul" in siti.key_card(SITI_CARD[-4:], "3")  # inside calling hours: due now
    db.session.expire_all()
    agent = make_user("telecollector")
    with client.application.test_request_context():
        claimed = queue_work.claim(db.session, agent, contact_rules(), lease=lease(), now=datetime.now(UTC))
    siti_family = db.session.scalar(select(Participant.family_id).where(Participant.card_no == SITI_CARD))
    assert claimed is not None and claimed.family_id == siti_family


@pytest.mark.parametrize(
    "path", ["/twilio/voice/inbound", "/twilio/voice/inbound/choice", "/twilio/voice/inbound/verify?choice=2"]
)
def test_unsigned_or_wrongly_signed_requests_are_refused(db, client, line_app, families, path):
    siti = Caller(client, SITI_PHONE)
    assert siti.post(path, token=None, Digits="2").status_code == 403
    assert siti.post(path, token="not-the-token", Digits="2").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(LineCall)) == 0


def test_a_caller_of_a_makassar_family_hears_makassars_virtual_account(db, client, line_app, clock):
    """The line answers with the caller's family's branch's settings (no branch acts in a webhook): a
    Makassar family's account is built on Makassar's prefix, not the installation's."""
    from telecollect.branches.services import add_branch, set_branch_setting
    from telecollect.branches.stamping import act_in_branch

    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    set_branch_setting(makassar, "VA_PREFIXES", "Mandiri=89888")
    act_in_branch(db.session(), makassar.id)
    place = {"province": "Sulawesi Selatan", "city": "Kota Makassar", "kecamatan": "Rappocini"}
    run_import(db, csv_bytes([row(card_no="7371000000011", name="Daeng Sitti", phone="081200000077", **place)]))
    act_in_branch(db.session(), None)
    db.session.commit()
    caller = Caller(client, "081200000077")
    caller.call()
    caller.press("2")
    bill = caller.key_card("0011", "2")
    assert "delapan, sembilan, delapan, delapan, delapan" in bill  # 89888…
    assert "delapan, delapan, delapan, delapan, delapan" not in bill  # not the installation's 88888
