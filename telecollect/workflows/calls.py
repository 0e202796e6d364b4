"""Calls through Twilio Voice (bridge mode), one function per step, each in its caller's transaction:

    place_call ──commit──▶ (Twilio asked: placed / failed / unknown) ──▶ agent_answered (TwiML: press 1)
      ──▶ agent_pressed (Dial) ──▶ dial_result (the attempt, or the forced outcome) ──▶ leg_status (ended)

Twilio's callbacks arrive late, twice or out of order: each step locks the call, its status only moves
forward (`telephony.advance`), the Dial action decides the attempt once (`dial_status` set once; the
attempt's `client_ref` is "call:<id>", unique per agent), and the agent's final leg status never
undoes what the Dial action decided.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from telecollect.auth.models import User
from telecollect.contacts import services as contacts
from telecollect.contacts.models import Channel
from telecollect.contacts.outcomes import OUTCOMES
from telecollect.contacts.services import OutcomeInput
from telecollect.db import lock_for
from telecollect.errors import Conflict
from telecollect.phones import InvalidPhone, normalize_mobile
from telecollect.policy import optouts
from telecollect.policy import rules as policy
from telecollect.queues import lifecycle
from telecollect.queues.models import WorkItem
from telecollect.queues.queries import attach_family
from telecollect.settings import Settings
from telecollect.telephony import services as telephony
from telecollect.telephony.gateway import Placed, VoiceError
from telecollect.telephony.models import AgentState, Call, CallStatus, Disposition
from telecollect.workflows import queue_work


@dataclass(frozen=True)
class CallContext:
    """What the callbacks need to record an attempt, from the edge."""

    rules: policy.ContactRules
    retry_delays: dict[str, timedelta]
    lease: timedelta
    settings: Settings


def place_call(
    session: Session,
    item: WorkItem,
    user: User,
    *,
    phone: str | None,
    rules: policy.ContactRules,
    lease: timedelta,
    record_calls: bool,
    now: datetime,
) -> Call:
    """Panggil: re-checked at this moment, in this order → the agent has a phone to ring
    (`agent_phone_missing`) → she owes no outcome of a connected call (`outcome_owed`) and has no call
    going (`call_in_progress`) → she holds this family's live claim, kept for the call in one conditional
    UPDATE (`lifecycle.keep_held`; `outcome_claimed_by_other`, `outcome_lease_lapsed`, `outcome_not_claimed`)
    → the number is one of the family's own, not marked invalid, not opted out of calls (`call_phone_*`;
    none given: the best one, `call_no_phone` when there is none) → the contact policy: the participant's
    calling hours, day, holidays and caps (`call_not_now`) → the call row (requested) and the agent on_call.

    Every refusal is a `Conflict` (409). Nothing leaves: the caller commits, then asks Twilio
    (`mark_placed` / `mark_failed`). The number dialled is never the client's beyond choosing among the
    family's own (toll fraud)."""
    if not user.agent_phone:
        raise Conflict("agent_phone_missing")
    lock_for(session, f"place-call:{user.id}")  # one agent pressing twice at once: one call
    owed = telephony.owed_call(session, user)
    if owed is not None:
        raise Conflict("outcome_owed", family=owed.family_id)
    if telephony.live_call_of(session, user, now) is not None:
        raise Conflict("call_in_progress")
    lifecycle.check_holder(item, user, now)
    if not lifecycle.keep_held(session, item, user, now, now + lease):
        lifecycle.check_holder(item, user, now)
        raise Conflict("outcome_not_claimed")
    attach_family(session, item)
    number, member_id = _number_to_dial(session, item, phone)
    decision = policy.window_decision(session, rules, item.timezone, now)
    if decision.allowed:
        decision = policy.cap_decision(session, rules, item.family_id, item.timezone, now)
    if not decision.allowed:
        raise Conflict("call_not_now", "phone", reason=decision.reason or "", policy=decision.code)
    call = telephony.new_call(
        session,
        user=user,
        work_item_id=item.id,
        family_id=item.family_id,
        participant_id=member_id,
        phone=number,
        agent_phone=user.agent_phone,
        is_recorded=record_calls,
        now=now,
    )
    telephony.set_agent_state(session, user, AgentState.on_call, now=now, call_id=call.id)
    return call


def _number_to_dial(session: Session, item: WorkItem, phone: str | None) -> tuple[str, int | None]:
    """The number to dial and its member: the one asked for, if it is the family's own and usable; else the
    best one (the first member's valid number that did not opt out of calls, then the second numbers)."""
    owned: dict[str, tuple[int, bool]] = {}
    for member in item.family.members:
        if member.phone:
            owned.setdefault(member.phone, (member.id, member.is_phone_invalid))
        if member.phone2:
            owned.setdefault(member.phone2, (member.id, False))
    if phone:
        try:
            number = normalize_mobile(phone)
        except InvalidPhone:
            raise Conflict("call_phone_not_in_family", "phone") from None
        if number not in owned:
            raise Conflict("call_phone_not_in_family", "phone")
        member_id, invalid = owned[number]
        if invalid:
            raise Conflict("call_phone_invalid", "phone")
        if optouts.is_opted_out(session, number, Channel.phone):
            raise Conflict("call_phone_opted_out", "phone")
        return number, member_id
    for number, (member_id, invalid) in owned.items():
        if not invalid and not optouts.is_opted_out(session, number, Channel.phone):
            return number, member_id
    raise Conflict("call_no_phone", "phone")


def mark_placed(session: Session, call: Call, placed: Placed) -> None:
    """Twilio accepted the call: its SID kept (a callback may have brought it first)."""
    if call.twilio_sid is None:
        call.twilio_sid = placed.sid
    telephony.advance(call, CallStatus.placed)
    session.flush()


def mark_failed(session: Session, call: Call, error: VoiceError, *, now: datetime) -> None:
    """Twilio refused the call or could not be reached: failed, with its error; the agent is ready again."""
    if call.status != CallStatus.requested:
        return  # a callback says it did get through after all
    call.status, call.error_code, call.error_message, call.ended_at = CallStatus.failed, error.code, error.message, now
    _agent_free(session, call, now)
    session.flush()


def mark_unknown(session: Session, call: Call, message: str) -> None:
    """No answer from Twilio: the call stays requested; a status callback (carrying our id) settles it."""
    call.error_message = message[:200]
    session.flush()


def agent_answered(session: Session, call: Call, sid: str | None, *, now: datetime) -> bool:
    """Twilio fetched the TwiML: the agent's leg answered. True: ask her to press 1; False: hang up (the
    call is already decided or over)."""
    _adopt_sid(call, sid)
    if call.answered_at is None:
        call.answered_at = now
    telephony.advance(call, CallStatus.agent_answered)
    session.flush()
    return call.dial_status is None and call.status not in (CallStatus.ended, CallStatus.failed)


def agent_pressed(session: Session, call: Call, digits: str, *, now: datetime) -> bool:
    """She pressed a key (a voicemail presses none): 1 dials the participant (True); anything else ends
    the call with no attempt on the family."""
    if digits != "1" or call.dial_status is not None or call.status in (CallStatus.ended, CallStatus.failed):
        return False
    telephony.advance(call, CallStatus.dialling)
    session.flush()
    return True


def dial_result(
    session: Session, call: Call, dial_status: str, duration: str | None, *, context: CallContext, now: datetime
) -> None:
    """The `<Dial action>`: what the participant's leg did decides the attempt, once.

    no-answer → no_answer, busy → busy, failed → unreachable: recorded at once, without typing, as the
    agent's attempt (the family rescheduled as the outcome says). canceled → nothing counted. completed →
    connected: the talk time kept, the agent in wrap_up, and the outcome owed (forced disposition) until
    she records it, which completes this same attempt. A second Dial action changes nothing."""
    if call.dial_status is not None:
        return
    call.dial_status = dial_status[:16]
    user = call.user
    item = session.get(WorkItem, call.work_item_id)
    if call.attempt_id is not None:  # she recorded the outcome while the call went on: that is its attempt
        if dial_status == "completed":
            call.talk_seconds = max(0, _int(duration))
        _agent_free(session, call, now)
    elif dial_status == "completed":
        call.talk_seconds = max(0, _int(duration))
        call.disposition = Disposition.pending
        if item is not None:
            lifecycle.take(session, item, user, now, now + context.lease)  # the family stays hers to record
        telephony.agent_follows_call(session, call, AgentState.wrap_up, now=now)
    elif dial_status in telephony.DIAL_OUTCOMES:
        _record_attempt(session, call, item, telephony.DIAL_OUTCOMES[dial_status], context=context, now=now)
        _agent_free(session, call, now)
    else:
        _agent_free(session, call, now)
    session.flush()


def leg_status(session: Session, call: Call, status: str, sid: str | None, *, now: datetime) -> None:
    """The agent's leg as Twilio reports it (StatusCallback). A final status ends the call (the first one
    counts); an agent leg never answered records no attempt on the family. A connected call's outcome stays
    owed whatever this says."""
    _adopt_sid(call, sid)
    if status in ("queued", "initiated", "ringing"):
        telephony.advance(call, CallStatus.placed)
    elif status == "in-progress":
        telephony.advance(call, CallStatus.agent_answered)
    elif status in telephony.FINAL_LEG_STATUSES:
        if call.agent_leg_status is None:
            call.agent_leg_status = status
            call.ended_at = call.ended_at or now
        if call.twilio_sid is not None:
            telephony.advance(call, CallStatus.ended)
        if call.disposition != Disposition.pending:
            _agent_free(session, call, now)
    session.flush()


def recording_ready(session: Session, call: Call, sid: str, duration: str | None) -> None:
    """The recording's SID and length (no media kept here); the first report counts."""
    if call.recording_sid is None and sid:
        call.recording_sid = sid[:34]
        call.recording_seconds = max(0, _int(duration))
        session.flush()


def _record_attempt(
    session: Session, call: Call, item: WorkItem | None, code: str, *, context: CallContext, now: datetime
) -> None:
    """The attempt a call recorded without typing, as its agent's: through `queue_work.record_outcome` when
    the family is (again) hers, so it is counted and rescheduled like any outcome; kept on the family alone
    when another agent holds it now. `client_ref` "call:<id>": once, even with two callbacks at once."""
    if item is None:
        return
    user = call.user
    given = OutcomeInput(kind=OUTCOMES[code], channel=Channel.phone, phone=call.phone, client_ref=f"call:{call.id}")
    attach_family(session, item)
    if lifecycle.take(session, item, user, now, now + context.lease):
        recorded = queue_work.record_outcome(
            session,
            item,
            user,
            given,
            rules=context.rules,
            retry_delays=context.retry_delays,
            now=now,
            settings=context.settings,
        )
        attempt = recorded.attempt
    else:
        attempt = contacts.find_recorded(session, user, given.client_ref) or contacts.record_attempt(
            session, item, user, given, now
        )
    call.attempt_id = attempt.id


def _agent_free(session: Session, call: Call, now: datetime) -> None:
    telephony.agent_follows_call(session, call, AgentState.ready, now=now)


def _adopt_sid(call: Call, sid: str | None) -> None:
    if call.twilio_sid is None and sid:
        call.twilio_sid = sid[:34]


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
