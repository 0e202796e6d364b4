"""An SMS is sent once: a call to Twilio is on record before it is made, and a call whose answer never came
back (Twilio slower than the client's timeout, a dispatcher killed mid-send) is reconciled with Twilio's list
of the recipient's messages, never sent again blindly. What the list cannot settle waits for a supervisor."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.messaging.dispatch import (
    CLAIM_FOR,
    GIVE_UP_AFTER,
    RECONCILE_AFTER,
    claim_batch,
    dispatch_due,
    send_claimed,
)
from telecollect.messaging.events import parse
from telecollect.messaging.gateways import TwilioGateway
from telecollect.messaging.models import SmsStatus
from tests.conftest import csrf_token
from tests.fake_twilio import FakeTwilio
from tests.messaging.test_sms import NOW, PUBLIC, RULES, members, message, queue, signed_post

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LATER = NOW + CLAIM_FOR + timedelta(seconds=1)  # the dead dispatcher's claim has lapsed


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    server.now = lambda: NOW  # Twilio's clock agrees with the business time of the test
    yield server
    server.stop()


@pytest.fixture
def gateway(fake):
    return TwilioGateway({**fake.config(), "PUBLIC_BASE_URL": PUBLIC})


class Killed(BaseException):
    """The dispatcher's process dies (SIGKILL, OOM, a deploy): nothing after it runs, nothing is committed."""


class DiesAfterTheCall:
    """The real gateway, in a process that dies once Twilio has taken the message, before the answer is recorded."""

    def __init__(self, gateway):
        self.gateway = gateway

    def send(self, to, body, ref=None):
        self.gateway.send(to, body, ref=ref)
        raise Killed

    def __getattr__(self, name):
        return getattr(self.gateway, name)


class DiesBeforeTheCall(DiesAfterTheCall):
    """Dies after the attempt is on record, before the request leaves: Twilio never hears of it."""

    def send(self, to, body, ref=None):
        raise Killed


def crash(db, gateway, dies=DiesAfterTheCall):
    with pytest.raises(Killed):
        dispatch_due(db.session, dies(gateway), RULES, now=NOW)
    db.session.rollback()  # what the dead process had not committed is gone


def test_a_dispatcher_killed_after_twilio_took_the_message_does_not_send_it_twice(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway)
    stuck = message(db, message_id)
    assert (stuck.status, stuck.attempt_at, stuck.attempts) == (SmsStatus.sending, NOW, 1)  # on record before
    assert len(fake.requests) == 1 and fake.requests[0]["StatusCallback"].endswith(f"?ref={stuck.attempt_ref}")

    assert dispatch_due(db.session, gateway, RULES, now=LATER - timedelta(seconds=2)).counts["reconciled"] == 0
    counts = dispatch_due(db.session, gateway, RULES, now=LATER).counts
    assert (counts["reconciled"], counts["sent"]) == (1, 0)
    settled = message(db, message_id)
    assert (settled.status, settled.twilio_sid, settled.attempt_at) == (SmsStatus.sent, "SM" + f"{1:032x}", None)
    assert settled.sent_at == LATER and settled.claimed_until is None
    assert fake.list_requests == [
        {"To": siti.phone, "DateSent": NOW.date().isoformat(), "PageSize": "100"},  # sent that day
        {"To": siti.phone, "PageSize": "50"},  # the newest, for any Twilio still queues
    ]
    dispatch_due(db.session, gateway, RULES, now=LATER + timedelta(hours=1))
    assert len(fake.requests) == 1  # sent exactly once
    assert parse(settled.events[-1].detail) == ("reconciled_found", {"status": "sent", "sid": settled.twilio_sid})


def test_twilio_slower_than_the_timeout_is_reconciled_not_sent_twice(db, fake):
    """The SDK gives up after its timeout (a read timeout, formerly "not sent"); Twilio took the message and
    answers later. The message is checked against Twilio's list before anything is sent again."""
    gateway = TwilioGateway({**fake.config(TWILIO_TIMEOUT_SECONDS=0.5), "PUBLIC_BASE_URL": PUBLIC})
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    fake.slow_answers.append(3)
    assert dispatch_due(db.session, gateway, RULES, now=NOW).counts["unresolved"] == 1
    waiting = message(db, message_id)
    assert (waiting.status, waiting.attempt_at, waiting.claimed_until) == (
        SmsStatus.sending,
        NOW,
        NOW + RECONCILE_AFTER,
    )
    code, params = parse(waiting.events[-1].detail)
    assert code == "no_answer" and "ReadTimeout" in params["error"]

    assert sum(dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(minutes=1)).counts.values()) == 0
    assert (
        dispatch_due(db.session, gateway, RULES, now=NOW + RECONCILE_AFTER + timedelta(seconds=1)).counts["reconciled"]
        == 1
    )
    settled = message(db, message_id)
    assert (settled.status, settled.twilio_sid) == (SmsStatus.sent, "SM" + f"{1:032x}")
    assert fake.answered.wait(10)  # Twilio's late answer came, to nobody
    dispatch_due(db.session, gateway, RULES, now=NOW + timedelta(hours=1))
    assert len(fake.requests) == 1


@pytest.mark.committing
def test_a_dispatcher_process_killed_mid_send_does_not_send_twice(app, db, fake):
    """A real process: `dispatch_sms` in its own interpreter, SIGKILLed while Twilio (which has the message)
    is slow to answer. The next dispatcher reconciles and sends nothing."""
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    db.session.commit()
    fake.slow_answers.append(60)
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PUBLIC_BASE_URL": PUBLIC,
        **{k: str(v) for k, v in fake.config().items()},
    }
    script = (
        "import sys; from datetime import datetime; from wsgi import app; "
        "from telecollect.scheduler.jobs import dispatch_sms; "
        "app.app_context().push(); dispatch_sms(datetime.fromisoformat(sys.argv[1]))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, NOW.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 40
        while not fake.requests and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert fake.requests, process.communicate(timeout=5)[0]
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=20)
    db.session.rollback()
    assert message(db, message_id).status == SmsStatus.sending

    gateway = TwilioGateway({**fake.config(), "PUBLIC_BASE_URL": PUBLIC})
    assert dispatch_due(db.session, gateway, RULES, now=LATER).counts["reconciled"] == 1
    assert message(db, message_id).status == SmsStatus.sent and len(fake.requests) == 1


def test_an_attempt_twilio_never_received_is_sent_after_the_check(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway, dies=DiesBeforeTheCall)
    first_ref = message(db, message_id).attempt_ref
    counts = dispatch_due(db.session, gateway, RULES, now=LATER).counts
    assert (counts["sent"], counts["reconciled"], len(fake.list_requests)) == (1, 0, 2)
    sent = message(db, message_id)
    assert (sent.status, sent.attempts) == (SmsStatus.accepted, 2) and sent.attempt_ref != first_ref
    assert [r["To"] for r in fake.requests] == [siti.phone]


def test_the_list_is_read_page_by_page_and_skips_messages_already_recorded(db, fake, gateway):
    """The same text sent to the same number earlier that day (recorded with its SID) is not taken for the
    lost one; the lost one is found on a later page."""
    [siti] = members(db)
    first = queue(db, siti, "due:1")
    dispatch_due(db.session, gateway, RULES, now=NOW)  # recorded as SM…1
    again = queue(db, siti, "due:2")
    crash(db, gateway)  # the same body again, lost: SM…2
    for n in range(5):  # others' messages to that number, listed before it (newest first)
        gateway.client.messages.create(to=siti.phone, body=f"lain {n}", messaging_service_sid="MG" + "1" * 32)
    fake.max_page_size = 2
    assert message(db, first).body == message(db, again).body
    assert dispatch_due(db.session, gateway, RULES, now=LATER).counts["reconciled"] == 1
    assert message(db, again).twilio_sid == "SM" + f"{2:032x}"
    assert [r.get("Page", "0") for r in fake.list_requests if "DateSent" in r] == ["0", "1", "2", "3"]
    assert len(fake.requests) == 7


def test_a_message_twilio_still_queues_is_found_too(db, fake, gateway):
    """Twilio lists a message by DateSent only once it has left; one still in its queue is found among the
    newest messages to the number."""
    fake.sends_at_once = False
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway)
    assert dispatch_due(db.session, gateway, RULES, now=LATER).counts["reconciled"] == 1
    settled = message(db, message_id)
    assert (settled.status, settled.twilio_sid) == (SmsStatus.accepted, "SM" + f"{1:032x}")
    assert len(fake.requests) == 1


def test_a_text_changed_on_the_way_is_not_taken_for_never_sent(db, fake, gateway):
    """Twilio may rewrite a text (smart encoding): no message fits, but one of ours to that number appeared
    since the attempt, so nobody can say it never left."""
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway)
    fake.messages[-1]["body"] = fake.messages[-1]["body"].replace("a", "à")
    assert fake.messages[-1]["body"] != fake.requests[0]["Body"]
    assert dispatch_due(db.session, gateway, RULES, now=LATER).counts["unknown"] == 1
    assert message(db, message_id).status == SmsStatus.unknown and len(fake.requests) == 1


def test_when_twilio_cannot_be_asked_nothing_is_sent_until_it_can(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway)
    unreachable = TwilioGateway({**fake.config(TWILIO_API_BASE_URL="http://127.0.0.1:9"), "PUBLIC_BASE_URL": PUBLIC})
    assert dispatch_due(db.session, unreachable, RULES, now=LATER).counts["unresolved"] == 1
    waiting = message(db, message_id)
    assert (waiting.status, waiting.claimed_until) == (SmsStatus.sending, LATER + RECONCILE_AFTER)
    again = LATER + RECONCILE_AFTER + timedelta(seconds=1)
    assert dispatch_due(db.session, unreachable, RULES, now=again).counts["unresolved"] == 1
    assert [e.detail for e in message(db, message_id).events].count(waiting.events[-1].detail) == 1  # said once
    assert dispatch_due(db.session, gateway, RULES, now=again + RECONCILE_AFTER * 2).counts["reconciled"] == 1
    assert len(fake.requests) == 1


def test_when_twilio_cannot_be_asked_for_a_day_a_supervisor_decides(db, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway)
    unreachable = TwilioGateway({**fake.config(TWILIO_API_BASE_URL="http://127.0.0.1:9"), "PUBLIC_BASE_URL": PUBLIC})
    assert dispatch_due(db.session, unreachable, RULES, now=NOW + GIVE_UP_AFTER).counts["unknown"] == 1
    assert message(db, message_id).status == SmsStatus.unknown and len(fake.requests) == 1


def test_a_callback_naming_the_attempt_settles_it(db, client, app, fake, gateway):
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway)
    ref = message(db, message_id).attempt_ref
    saved = {k: app.config.get(k) for k in ("TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL")}
    app.config.update(TWILIO_AUTH_TOKEN=fake.auth_token, PUBLIC_BASE_URL=PUBLIC)
    try:
        form = {"MessageSid": "SM" + f"{1:032x}", "MessageStatus": "delivered"}
        answer = signed_post(client, app, f"/twilio/sms/status?ref={ref}", form, fake.auth_token)
    finally:
        app.config.update(saved)
    assert answer.status_code == 204
    settled = message(db, message_id)
    assert (settled.status, settled.twilio_sid, settled.attempt_at) == (SmsStatus.delivered, form["MessageSid"], None)
    assert sum(dispatch_due(db.session, gateway, RULES, now=LATER).counts.values()) == 0
    assert fake.list_requests == [] and len(fake.requests) == 1


def ambiguous(db, fake, gateway):
    """The lost message and another with the same text and sender, that none of our rows holds: either could
    be ours, so the reconciliation cannot tell."""
    [siti] = members(db)
    message_id = queue(db, siti, "due:1")
    crash(db, gateway)
    gateway.client.messages.create(to=siti.phone, body=fake.requests[0]["Body"], messaging_service_sid="MG" + "1" * 32)
    assert dispatch_due(db.session, gateway, RULES, now=LATER).counts["unknown"] == 1
    return message_id


def test_an_uncertain_match_waits_for_a_supervisor_and_is_never_resent_by_itself(db, fake, gateway):
    message_id = ambiguous(db, fake, gateway)
    unknown = message(db, message_id)
    assert (unknown.status, unknown.claimed_until, unknown.attempt_at) == (SmsStatus.unknown, None, None)
    for hours in (1, 24, 24 * 7):
        assert sum(dispatch_due(db.session, gateway, RULES, now=LATER + timedelta(hours=hours)).counts.values()) == 0
    assert len(fake.requests) == 2


def test_the_outbox_shows_them_and_a_supervisor_sends_one_again(clock, db, client, login, make_user, fake, gateway):
    message_id = ambiguous(db, fake, gateway)
    clock.move_to(LATER)  # the supervisor decides a moment after
    login(make_user("supervisor"))
    outbox = client.get("/sms/outbox")
    assert 'data-testid="unknown-waiting"' in outbox.text and "status=unknown" in outbox.text
    listed = client.get("/sms/outbox?status=unknown").text
    assert f"/sms/messages/{message_id}" in listed and re.search(
        r'data-status="unknown">[^<]*: <span class="count">1<', listed
    )
    page = client.get(f"/sms/messages/{message_id}").text
    assert 'data-testid="decide"' in page and 'value="send_again"' in page
    answer = client.post(
        f"/sms/messages/{message_id}/resolve", data={"decision": "send_again", "csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 302
    queued = message(db, message_id)
    assert queued.status == SmsStatus.queued
    assert parse(queued.events[-1].detail) == ("send_again", {"by": "supervisor1"})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sms.send_again"))
    assert (event.target_type, event.target_id) == ("sms_messages", message_id)
    assert dispatch_due(db.session, gateway, RULES, now=LATER + timedelta(minutes=1)).counts["sent"] == 1
    assert len(fake.requests) == 3  # the supervisor's decision: one more
    again = client.post(
        f"/sms/messages/{message_id}/resolve", data={"decision": "mark_sent", "csrf_token": csrf_token(page)}
    )
    assert again.status_code == 302 and message(db, message_id).status == SmsStatus.accepted  # settled already


def test_a_supervisor_marks_one_sent(db, client, login, make_user, fake, gateway):
    message_id = ambiguous(db, fake, gateway)
    login(make_user("supervisor"))
    page = client.get(f"/sms/messages/{message_id}").text
    client.post(f"/sms/messages/{message_id}/resolve", data={"decision": "mark_sent", "csrf_token": csrf_token(page)})
    assert message(db, message_id).status == SmsStatus.sent
    audited = select(AuditEvent.action).where(
        AuditEvent.target_type == "sms_messages", AuditEvent.target_id == message_id
    )
    assert db.session.scalars(audited).all() == ["sms.mark_sent"]
    assert sum(dispatch_due(db.session, gateway, RULES, now=LATER + timedelta(days=1)).counts.values()) == 0
    assert len(fake.requests) == 2


@pytest.mark.parametrize("role", ["admin", "telecollector", "cadre"])
def test_only_a_supervisor_settles_an_unknown_message(db, client, login, make_user, fake, gateway, role):
    message_id = ambiguous(db, fake, gateway)
    login(make_user(role))
    token = csrf_token(client.get("/", follow_redirects=True).text)
    answer = client.post(f"/sms/messages/{message_id}/resolve", data={"decision": "send_again", "csrf_token": token})
    assert answer.status_code == 403 and message(db, message_id).status == SmsStatus.unknown


def test_an_unknown_decision_is_refused(db, client, login, make_user, fake, gateway):
    message_id = ambiguous(db, fake, gateway)
    login(make_user("supervisor"))
    page = client.get(f"/sms/messages/{message_id}").text
    client.post(f"/sms/messages/{message_id}/resolve", data={"decision": "both", "csrf_token": csrf_token(page)})
    assert message(db, message_id).status == SmsStatus.unknown


def test_a_dispatcher_slower_than_its_claim_leaves_the_message_to_the_one_that_took_it_over(db, fake, gateway):
    """A claims a batch and is slow (a Twilio timeout per message); its claim lapses and B claims the rest.
    When A reaches one of them it finds the claim no longer its own and sends nothing; B sends it."""
    [siti, budi] = members(db, 2)
    first, second = queue(db, siti, "due:1"), queue(db, budi, "due:2")
    assert claim_batch(db.session, NOW, 10) == [first, second]  # A
    assert send_claimed(db.session, gateway, RULES, first, now=NOW) == "sent"
    db.session.commit()
    assert claim_batch(db.session, LATER, 10) == [second]  # B
    assert send_claimed(db.session, gateway, RULES, second, now=NOW) == "taken"  # A, at last
    db.session.commit()
    assert send_claimed(db.session, gateway, RULES, second, now=LATER) == "sent"  # B
    db.session.commit()
    assert message(db, second).status == SmsStatus.accepted
    assert sorted(r["To"] for r in fake.requests) == sorted([siti.phone, budi.phone])
