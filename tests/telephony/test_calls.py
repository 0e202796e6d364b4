"""Calls placed from the desktop through the real `twilio` SDK against the fake Twilio Voice, which plays
each call like Twilio: the TwiML fetched, the key pressed, the <Dial action> and status callbacks posted,
all signed."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from telecollect.audit.models import AuditEvent
from telecollect.branches.stamping import act_in_branch
from telecollect.contacts.models import Channel, ContactAttempt
from telecollect.participants.models import Participant
from telecollect.policy import optouts
from telecollect.queues.models import QueueName, WorkState
from telecollect.telephony.models import AgentState, AgentStatus, Call, CallStatus, Disposition
from telecollect.workflows import queue_work
from tests.conftest import csrf_token
from tests.fake_twilio import VoiceScript
from tests.helpers import MAKASSAR_PLACE, add_branch_with_hours
from tests.helpers_queue import families, queue_up
from tests.telephony.conftest import AGENT_PHONE, csrf_of, item, place, switch

PARTICIPANT = "+6281200000001"


def the_call(db, call_id) -> Call:
    db.session.expire_all()
    return db.session.get(Call, call_id)


def attempts(db) -> list[ContactAttempt]:
    db.session.expire_all()
    return db.session.scalars(select(ContactAttempt).order_by(ContactAttempt.id)).all()


def agent_state(db, agent) -> AgentStatus | None:
    db.session.expire_all()
    return db.session.get(AgentStatus, agent.id)


def test_panggil_creates_the_call_at_twilio_after_the_row_is_committed(clock, db, client, voice_app, fake, desk):
    agent, item_id = desk()
    answer = place(client, item_id)
    assert answer.status_code == 201, answer.text
    body = answer.get_json()["call"]
    assert body["status"] == "placed" and body["twilio_sid"].startswith("CA") and body["phone"] == PARTICIPANT
    [request] = fake.call_requests
    # Twilio rings the agent's own phone from the caller ID; the participant's number is only in our TwiML.
    assert (request["To"], request["From"]) == (AGENT_PHONE, "+62214301234")
    assert request["Url"] == f"https://telecollect.example.id/twilio/voice/agent?call={body['id']}"
    assert request["StatusCallback"] == f"https://telecollect.example.id/twilio/voice/status?call={body['id']}"
    assert PARTICIPANT not in request.values()
    assert agent_state(db, agent).state == AgentState.on_call
    # Placing it is on the audit log, and so is the full number the answer showed.
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == agent.id)).all()
    assert "call.place" in actions and "call.view" in actions


@pytest.mark.parametrize(("dial", "outcome"), [("no-answer", "no_answer"), ("busy", "busy"), ("failed", "unreachable")])
def test_an_unanswered_participant_is_recorded_without_typing(clock, db, client, voice_app, fake, desk, dial, outcome):
    agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.default_voice_script = VoiceScript(dial=dial)
    fake.run_call(fake.calls and next(iter(fake.calls)))
    call = the_call(db, call_id)
    [attempt] = attempts(db)
    assert (attempt.outcome, attempt.channel, attempt.phone, attempt.user_id) == (
        outcome,
        Channel.phone,
        PARTICIPANT,
        agent.id,
    )
    assert (call.attempt_id, call.dial_status, call.status, call.disposition) == (
        attempt.id,
        dial,
        CallStatus.ended,
        None,
    )
    work = item(db, item_id)
    assert work.attempts == 1 and work.claimed_by_id is None and work.state == WorkState.waiting
    assert agent_state(db, agent).state == AgentState.ready
    # Twilio tells the agent, in Indonesian, that it was recorded for her.
    dial_answer = next(d for d in fake.delivered if "/dial-result" in d.url)
    assert "Tercatat otomatis" in dial_answer.body


def test_a_cancelled_dial_counts_nothing(clock, db, client, voice_app, fake, desk):
    agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.default_voice_script = VoiceScript(dial="canceled")
    fake.run_call(next(iter(fake.calls)))
    assert attempts(db) == [] and the_call(db, call_id).dial_status == "canceled"
    assert item(db, item_id).attempts == 0 and agent_state(db, agent).state == AgentState.ready


@pytest.mark.parametrize("script", [VoiceScript(agent="no-answer"), VoiceScript(agent="busy"), VoiceScript(digits="")])
def test_the_agent_leg_not_answered_or_no_key_records_nothing_on_the_family(
    clock, db, client, voice_app, fake, desk, script
):
    agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.default_voice_script = script
    fake.run_call(next(iter(fake.calls)))
    call = the_call(db, call_id)
    assert call.status == CallStatus.ended and call.dial_status is None and attempts(db) == []
    assert call.agent_leg_status == (script.agent if script.agent != "answer" else "completed")
    work = item(db, item_id)
    assert work.attempts == 0 and work.claimed_by_id == agent.id  # still hers: she may call again
    assert agent_state(db, agent).state == AgentState.ready
    assert place(client, item_id).status_code == 201


def test_the_twiml_asks_for_1_then_dials_the_familys_number_from_the_caller_id(
    clock, db, client, voice_app, fake, desk
):
    _agent, item_id = desk()
    place(client, item_id)
    fake.default_voice_script = VoiceScript(dial="busy")
    fake.run_call(next(iter(fake.calls)))
    first = next(d for d in fake.delivered if "/voice/agent" in d.url)
    assert '<Gather action="/twilio/voice/connect?call=' in first.body and 'numDigits="1"' in first.body
    assert "Tekan satu" in first.body and 'language="id-ID"' in first.body
    connect = next(d for d in fake.delivered if "/voice/connect" in d.url)
    assert connect.form["Digits"] == "1"
    assert 'callerId="+62214301234"' in connect.body and f">{PARTICIPANT}</Number>" in connect.body
    assert 'action="/twilio/voice/dial-result?call=' in connect.body and 'timeout="30"' in connect.body
    assert "record" not in connect.body  # recording is off by default


def test_a_connected_call_forces_its_outcome(clock, db, client, login, voice_app, fake, desk):
    agent, item_id = desk(count=2)
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.default_voice_script = VoiceScript(dial="completed", talk_seconds=185)
    fake.run_call(next(iter(fake.calls)))
    call = the_call(db, call_id)
    assert (call.dial_status, call.talk_seconds, call.disposition) == ("completed", 185, Disposition.pending)
    assert attempts(db) == [] and agent_state(db, agent).state == AgentState.wrap_up
    token = csrf_of(client, item_id)
    # Next, the queue's start page, a skip and the API's claim and release all bring her back to it.
    assert client.post("/queue/next", data={"csrf_token": token}).headers["Location"].endswith(f"/items/{item_id}")
    assert client.get("/queue").headers["Location"].endswith(f"/items/{item_id}")
    skipped = client.post(f"/queue/items/{item_id}/skip", data={"reason": "other", "csrf_token": token})
    assert skipped.status_code == 302 and item(db, item_id).claimed_by_id == agent.id
    claim = client.post("/api/v1/queue/claim", headers={"X-CSRFToken": token})
    assert claim.get_json()["work_item"]["id"] == item_id
    released = client.post(f"/api/v1/work-items/{item_id}/release", headers={"X-CSRFToken": token})
    assert (released.status_code, released.get_json()["error"]["code"]) == (409, "outcome_owed")
    # Also after her lease ended.
    clock.shift(timedelta(hours=1))
    assert client.post("/queue/next", data={"csrf_token": token}).headers["Location"].endswith(f"/items/{item_id}")
    # She records it: that outcome is the call's one attempt, and she is ready again.
    saved = client.post(
        f"/queue/items/{item_id}/outcome",
        data={"outcome": "refused", "channel": "phone", "csrf_token": csrf_of(client, item_id)},
    )
    assert saved.status_code == 302
    [attempt] = attempts(db)
    call = the_call(db, call_id)
    assert (call.attempt_id, call.disposition, attempt.outcome, attempt.phone) == (
        attempt.id,
        Disposition.recorded,
        "refused",
        call.phone,
    )
    assert agent_state(db, agent).state == AgentState.ready
    assert saved.headers["Location"].rsplit("/", 1)[1] != str(item_id)  # the next family now
    body = client.get(f"/api/v1/calls/{call_id}").get_json()["call"]
    assert (body["outcome"], body["talk_seconds"], body["disposition"]) == ("refused", 185, "recorded")


def test_a_supervisor_closes_an_unrecorded_call_after_30_minutes(
    clock, db, client, login, make_user, voice_app, fake, desk
):
    agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.run_call(next(iter(fake.calls)))
    boss = make_user("supervisor")
    switch(client, login, boss)
    page = client.get("/calls")
    assert f'data-call="{call_id}"' in page.text and f'data-testid="close-{call_id}"' not in page.text
    early = client.post(f"/calls/{call_id}/close", data={"csrf_token": csrf_token(page.text)})
    assert early.status_code == 302 and the_call(db, call_id).disposition == Disposition.pending
    clock.shift(timedelta(minutes=31))
    page = client.get("/calls")
    assert f'data-testid="close-{call_id}"' in page.text
    client.post(f"/calls/{call_id}/close", data={"csrf_token": csrf_token(page.text)})
    assert the_call(db, call_id).disposition == Disposition.not_recorded
    assert db.session.scalar(select(AuditEvent.user_id).where(AuditEvent.action == "call.close_unrecorded")) == boss.id
    # She owes nothing now: ready, and Next no longer brings this call's family back by force.
    assert agent_state(db, agent).state == AgentState.ready
    assert (
        queue_work.owed_family(db.session, agent, lease=timedelta(minutes=15), now=the_call(db, call_id).started_at)
        is None
    )


@pytest.mark.parametrize("script", [VoiceScript(dial="busy", twice=True), VoiceScript(dial="busy", out_of_order=True)])
def test_callbacks_twice_or_out_of_order_record_one_attempt_and_only_move_forward(
    clock, db, client, voice_app, fake, desk, script
):
    _agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.default_voice_script = script
    sid = next(iter(fake.calls))
    fake.run_call(sid)
    assert len(attempts(db)) == 1 and the_call(db, call_id).status == CallStatus.ended
    # A late "ringing" and a second, different Dial result change nothing.
    status_url = f"https://telecollect.example.id/twilio/voice/status?call={call_id}"
    dial_url = f"https://telecollect.example.id/twilio/voice/dial-result?call={call_id}"
    fake.post(status_url, {"CallSid": sid, "CallStatus": "ringing"})
    fake.post(dial_url, {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": "60"})
    call = the_call(db, call_id)
    assert (call.status, call.dial_status, call.disposition, call.talk_seconds) == (
        CallStatus.ended,
        "busy",
        None,
        None,
    )
    assert len(attempts(db)) == 1 and item(db, item_id).attempts == 1


def test_unsigned_and_wrongly_signed_twiml_and_callbacks_are_refused(clock, db, client, voice_app, fake, desk):
    _agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    form = {"CallSid": "CA1", "CallStatus": "completed", "Digits": "1", "DialCallStatus": "busy"}
    for path in ("agent", "connect", "notice", "dial-result", "status", "recording"):
        url = f"/twilio/voice/{path}?call={call_id}"
        assert client.post(url, data=form).status_code == 403
        wrong = fake.sign(f"https://telecollect.example.id{url}", {**form, "Digits": "9"})
        assert client.post(url, data=form, headers=wrong).status_code == 403
        other_call = fake.sign(f"https://telecollect.example.id/twilio/voice/{path}?call={call_id + 1}", form)
        assert client.post(url, data=form, headers=other_call).status_code == 403
    assert attempts(db) == [] and the_call(db, call_id).status == CallStatus.placed


def test_refusals_are_409_with_a_reason_in_indonesian(clock, db, client, login, make_user, voice_app, fake, desk):
    _agent, item_id = desk(count=2)
    held = "+6281200000002"  # the family she holds (the larger debt comes first); +…01 is the other family's
    member = db.session.scalar(select(Participant).where(Participant.phone == held))
    refused = place(client, item_id, "+6281377778888")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "call_phone_not_in_family"
    assert refused.get_json()["error"]["message"] == "Nomor itu bukan salah satu nomor keluarga ini."
    assert place(client, item_id, "0812-0000-0001").get_json()["error"]["code"] == "call_phone_not_in_family"
    assert place(client, item_id, "sip:x@evil.example").get_json()["error"]["code"] == "call_phone_not_in_family"
    optouts.opt_out(db.session, held, Channel.phone, "minta")
    db.session.commit()
    assert place(client, item_id, held).get_json()["error"]["code"] == "call_phone_opted_out"
    assert place(client, item_id).get_json()["error"]["code"] == "call_no_phone"
    optouts.opt_in(db.session, held, Channel.phone)
    member.is_phone_invalid = True
    db.session.commit()
    assert place(client, item_id, held).get_json()["error"]["code"] == "call_phone_invalid"
    assert fake.call_requests == [] and db.session.scalar(select(func.count()).select_from(Call)) == 0


def test_outside_the_participants_hours_is_refused(clock, db, client, voice_app, fake, desk):
    _agent, item_id = desk()
    token = csrf_of(client, item_id)
    clock.shift(timedelta(hours=11, minutes=5))  # 20:05 WIB: after calling hours (the lease renewed meanwhile)
    from telecollect.queues.models import WorkItem

    db.session.get(WorkItem, item_id).lease_expires_at += timedelta(hours=12)
    db.session.commit()
    refused = place(client, item_id, token=token)
    assert refused.status_code == 409, refused.text
    error = refused.get_json()["error"]
    assert error["code"] == "call_not_now" and "tidak boleh ditelepon sekarang" in error["message"]
    assert fake.call_requests == []


def test_a_family_leased_to_someone_else_is_refused(clock, db, client, login, make_user, voice_app, fake, desk):
    _holder, item_id = desk()
    other = make_user("telecollector", agent_phone="+6281299990002")
    switch(client, login, other)
    refused = place(client, item_id, token=csrf_token(client.get("/queue").text))
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "outcome_claimed_by_other")
    assert fake.call_requests == []


def test_without_a_phone_for_calls_or_with_voice_off(clock, db, client, login, make_user, app, fake, desk):
    _agent, item_id = desk()
    # VOICE_BACKEND=none (the session's app): the desktop keeps its tel: links and the API refuses.
    page = client.get(f"/queue/items/{item_id}").text
    assert f'href="tel:{PARTICIPANT}"' in page and "data-place-call" not in page
    assert place(client, item_id).get_json()["error"]["code"] == "voice_disabled"


def test_the_desktop_shows_call_buttons_instead_of_tel_links(clock, db, client, voice_app, fake, desk, make_user):
    agent, item_id = desk()
    page = client.get(f"/queue/items/{item_id}").text
    assert f'data-phone="{PARTICIPANT}"' in page and 'href="tel:' not in page and 'id="call-panel"' in page
    agent.agent_phone = None
    db.session.commit()
    assert place(client, item_id).get_json()["error"]["code"] == "agent_phone_missing"


def test_twilio_refusing_the_call_is_told_and_nothing_is_counted(clock, db, client, voice_app, fake, desk):
    agent, item_id = desk()
    fake.number_errors[AGENT_PHONE] = 21211
    answer = place(client, item_id)
    assert answer.status_code == 502 and answer.get_json()["error"]["code"] == "call_twilio_refused"
    call = db.session.scalar(select(Call))
    assert (call.status, call.error_code) == (CallStatus.failed, 21211) and attempts(db) == []
    assert agent_state(db, agent).state == AgentState.ready
    del fake.number_errors[AGENT_PHONE]
    assert place(client, item_id).status_code == 201  # a failed call does not block the next


def test_one_call_at_a_time(clock, db, client, voice_app, fake, desk):
    _agent, item_id = desk()
    assert place(client, item_id).status_code == 201
    again = place(client, item_id)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "call_in_progress")
    assert len(fake.call_requests) == 1


def test_reading_a_call_shows_the_full_number_audited_and_only_to_its_agent(
    clock, db, client, login, make_user, voice_app, fake, desk
):
    _agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    assert client.get(f"/api/v1/calls/{call_id}").get_json()["call"]["phone"] == PARTICIPANT
    shown = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "call.view")).all()
    assert any("0000000000001" in d for d in shown)
    switch(client, login, make_user("telecollector"))
    assert client.get(f"/api/v1/calls/{call_id}").status_code == 404
    switch(client, login, make_user("supervisor"))
    assert client.get(f"/api/v1/calls/{call_id}").status_code == 200


def test_an_outcome_typed_during_the_call_is_that_calls_one_attempt(clock, db, client, voice_app, fake, desk):
    """Agents type while they talk: the outcome saved before the Dial action arrives is the call's attempt,
    and the Dial action (connected) then records no other and forces nothing."""
    agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    sid = next(iter(fake.calls))
    base = "https://telecollect.example.id/twilio/voice"
    fake.post(f"{base}/agent?call={call_id}", {"CallSid": sid, "CallStatus": "in-progress"})
    fake.post(f"{base}/connect?call={call_id}", {"CallSid": sid, "Digits": "1"})
    saved = client.post(
        f"/queue/items/{item_id}/outcome",
        data={"outcome": "cannot_pay", "channel": "phone", "csrf_token": csrf_of(client, item_id)},
    )
    assert saved.status_code == 302
    fake.post(
        f"{base}/dial-result?call={call_id}", {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": "64"}
    )
    fake.post(f"{base}/status?call={call_id}", {"CallSid": sid, "CallStatus": "completed"})
    [attempt] = attempts(db)
    call = the_call(db, call_id)
    assert (attempt.outcome, call.attempt_id, call.disposition, call.talk_seconds) == (
        "cannot_pay",
        attempt.id,
        Disposition.recorded,
        64,
    )
    assert agent_state(db, agent).state == AgentState.ready and item(db, item_id).attempts == 1


def test_an_unanswered_makassar_call_is_rescheduled_in_makassars_calling_hours(
    clock, db, client, login, make_user, voice_app, fake
):
    """Twilio's callbacks name no branch: the call's own (Makassar, calling 08:00-11:00 WITA) decides when
    its family comes back, not the installation's hours (08:00-20:00)."""
    makassar = add_branch_with_hours(db.session, "08:00-11:00")
    act_in_branch(db.session(), makassar.id)
    families(db, 1, **MAKASSAR_PLACE)
    queue_up(db, QueueName.telecollect)
    act_in_branch(db.session(), None)
    db.session.commit()
    login(make_user("telecollector", agent_phone=AGENT_PHONE, branch_id=makassar.id, timezone="WITA"))
    taken = client.post("/queue/next", data={"csrf_token": csrf_token(client.get("/queue").text)})
    item_id = int(taken.headers["Location"].rsplit("/", 1)[1])
    assert place(client, item_id).status_code == 201
    fake.default_voice_script = VoiceScript(dial="no-answer")
    fake.run_call(next(iter(fake.calls)))
    # 10:00 WITA + 2 hours is past Makassar's hours: the next opening, Wednesday 08:00 WITA (00:00 UTC).
    assert item(db, item_id).next_action_at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
