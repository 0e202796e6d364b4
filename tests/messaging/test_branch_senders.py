"""The dispatcher sends each message from its branch's sender and under its branch's quiet hours, through the
real Twilio SDK against the fake Twilio: a Makassar message leaves with Makassar's From or MessagingServiceSid,
a North Jakarta one with the installation's, in the same run."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect import runtime
from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
from telecollect.branches.services import set_branch_setting
from telecollect.branches.stamping import act_in_branch
from telecollect.messaging.dispatch import dispatch_due
from telecollect.messaging.gateways import TwilioGateway
from telecollect.messaging.models import SmsKind, SmsMessage, SmsStatus
from telecollect.messaging.outbox import queue_sms
from telecollect.participants.models import Participant
from telecollect.policy.rules import ContactRules
from telecollect.scheduler.jobs import dispatch_sms
from tests.fake_twilio import FakeTwilio
from tests.helpers import MAKASSAR_PLACE, add_branch_with_hours, csv_bytes, row, run_import

#: The installation's rules: 08:00-20:00, Monday to Saturday.
RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)
#: Tuesday 09:30 UTC: 16:30 in Jakarta, 17:30 in Makassar (whose own hours end at 17:00).
AFTERNOON = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
#: Wednesday 01:00 UTC: 08:00 in Jakarta, 09:00 in Makassar.
NEXT_MORNING = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
PUBLIC = "https://telecollect.example.id"
INSTALLATION_SERVICE = "MG" + "1" * 32
MAKASSAR_NUMBER, MAKASSAR_SERVICE = "+62411800165", "MG" + "2" * 32


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def config(app, fake):
    return {**app.config, **fake.config(), "PUBLIC_BASE_URL": PUBLIC}


def _two_messages(db, makassar_sender: tuple[str, str]) -> dict[str, int]:
    """One due reminder queued for a family of each branch; Makassar sends with its own sender and calls
    08:00-17:00."""
    north = db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))
    makassar = add_branch_with_hours(db.session, "08:00-17:00")
    set_branch_setting(makassar, *makassar_sender)
    ids = {}
    for branch, card, phone, zone, place in (
        (north, "0000000000001", "081299990001", "WIB", {"kecamatan": "Rappocini"}),
        (makassar, "7371000000001", "081299990002", "WITA", MAKASSAR_PLACE),
    ):
        act_in_branch(db.session(), branch.id)
        run_import(db, csv_bytes([row(card_no=card, phone=phone, **place)]))
        member = db.session.scalar(select(Participant).where(Participant.card_no == card))
        ids[zone] = queue_sms(
            db.session,
            kind=SmsKind.due_reminder,
            key=f"due:{card}",
            to_phone=member.phone,
            members=[member],
            timezone=zone,
            scheduled_at=AFTERNOON,
            jatuh_tempo=AFTERNOON.date() + timedelta(days=3),
        )
    act_in_branch(db.session(), None)
    db.session.commit()
    return ids


def _sent_to(fake, db, message_id) -> dict:
    db.session.expire_all()
    phone = db.session.get(SmsMessage, message_id).to_phone
    [request] = [r for r in fake.requests if r["To"] == phone]
    return request


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (("TWILIO_FROM_NUMBER", MAKASSAR_NUMBER), {"From": MAKASSAR_NUMBER}),
        (("TWILIO_MESSAGING_SERVICE_SID", MAKASSAR_SERVICE), {"MessagingServiceSid": MAKASSAR_SERVICE}),
    ],
    ids=["own number", "own messaging service"],
)
def test_each_message_leaves_from_its_branchs_sender(db, fake, config, override, expected):
    ids = _two_messages(db, override)
    gateway = TwilioGateway(config)
    senders = runtime.BranchSenders(db.session(), config, gateway)
    first = dispatch_due(db.session, gateway, RULES, now=AFTERNOON, senders=senders).counts
    # 17:30 in Makassar is past its own hours (not the installation's): its message waits for the morning.
    assert (first["sent"], first["deferred"]) == (1, 1)
    north = _sent_to(fake, db, ids["WIB"])
    assert north["MessagingServiceSid"] == INSTALLATION_SERVICE and "From" not in north
    assert db.session.get(SmsMessage, ids["WITA"]).status == SmsStatus.queued
    assert dispatch_due(db.session, gateway, RULES, now=NEXT_MORNING, senders=senders).counts["sent"] == 1
    makassar = _sent_to(fake, db, ids["WITA"])
    assert {key: makassar.get(key) for key in expected} == expected
    other = "MessagingServiceSid" if "From" in expected else "From"
    assert other not in makassar  # one sender, the branch's: never the installation's beside it


def test_the_dispatch_job_sends_with_each_branchs_sender(app, db, fake, config, monkeypatch):
    """`dispatch_sms`, the scheduler's job, wires the branches' senders in."""
    for key, value in fake.config(PUBLIC_BASE_URL=PUBLIC).items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions[runtime._KEY], "sms_gateway", TwilioGateway(config))
    ids = _two_messages(db, ("TWILIO_FROM_NUMBER", MAKASSAR_NUMBER))
    assert dispatch_sms(NEXT_MORNING)["sent"] == 2
    assert _sent_to(fake, db, ids["WITA"])["From"] == MAKASSAR_NUMBER
    assert _sent_to(fake, db, ids["WIB"])["MessagingServiceSid"] == INSTALLATION_SERVICE


class _StoppedClock:
    """The dispatcher's wall clock, stopped: only its `sleep` moves it, and each sleep is recorded."""

    def __init__(self):
        self.now, self.sleeps = 1_000_000.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("makassar_setting", "waits"),
    [
        (("TWILIO_FROM_NUMBER", MAKASSAR_NUMBER), 0),
        (("TWILIO_FROM_NUMBER", ""), 1),  # no sender of its own: the installation's
    ],
    ids=["own sender, own rate", "shared sender, shared rate"],
)
def test_each_sender_is_paced_on_its_own(db, fake, config, makassar_setting, waits):
    """At one SMS a second per sender, two branches with two senders each send at once; two branches sending
    from one sender share its second."""
    from telecollect.messaging.dispatch import Pace

    _two_messages(db, makassar_setting)
    gateway = TwilioGateway(config)
    stopped = _StoppedClock()
    pace = Pace(rates={"sms": 1}, clock=stopped.clock, sleep=stopped.sleep)
    senders = runtime.BranchSenders(db.session(), config, gateway)
    assert dispatch_due(db.session, gateway, RULES, now=NEXT_MORNING, senders=senders, pace=pace).counts["sent"] == 2
    assert len(stopped.sleeps) == waits
    assert len(fake.requests) == 2
