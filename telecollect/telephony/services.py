"""Agents' states and calls: the one writer of `agent_states` (and its history) and of `calls`.

The call flow moves a telecollector to on_call when a call is placed, to wrap_up when the participant
answered (until she records the outcome) and back to ready after it; the agent (or a supervisor) pauses
with a reason and comes back. Every change is one history row and one audit event, in the caller's
transaction.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from telecollect.audit import services as audit
from telecollect.auth.models import User
from telecollect.db import lock_for
from telecollect.errors import Conflict, ServiceError
from telecollect.phones import mask_phone
from telecollect.telephony.models import (
    CALL_STATUS_RANK,
    AgentState,
    AgentStateEvent,
    AgentStatus,
    Call,
    CallStatus,
    Disposition,
    PauseReason,
)
from telecollect.telephony.queries import CALL_STALE

#: The audit action of a state change; its detail is "old → new [reason]".
STATE_ACTION = "agent.state"


def current_state(session, user: User) -> AgentStatus | None:
    """The agent's state row (None: she has never had one; the board shows her as not signed in to calls)."""
    return session.get(AgentStatus, user.id)


def set_agent_state(
    session,
    user: User,
    state: AgentState | str,
    *,
    now: datetime,
    reason_code: str | None = None,
    call_id: int | None = None,
    by: User | None = None,
) -> AgentStatus:
    """Move `user` to `state` at `now`: the state row (one per user) updated, a history row with the state
    left and since when, and an audit event. Setting the state she is already in (same reason) changes
    nothing and writes nothing.

    `paused` needs an active pause reason code (`ServiceError("pause_reason_unknown")`); the other states
    take none (`ServiceError("pause_reason_not_paused")`). `by` is who changed it when not the agent herself.
    Adds and flushes; the caller commits.
    """
    state = AgentState(state)
    if state == AgentState.paused:
        active = session.scalar(select(PauseReason.id).where(PauseReason.code == reason_code, PauseReason.is_active))
        if not reason_code or active is None:
            raise ServiceError("pause_reason_unknown", "reason_code")
    elif reason_code:
        raise ServiceError("pause_reason_not_paused", "reason_code")
    row = session.get(AgentStatus, user.id, with_for_update=True)
    if row is not None and row.state == state and row.reason_code == reason_code:
        if call_id is not None:
            row.call_id = call_id
        return row
    event = AgentStateEvent(
        user_id=user.id,
        at=now,
        state=state,
        reason_code=reason_code,
        previous_state=row.state if row else None,
        previous_reason_code=row.reason_code if row else None,
        previous_since=row.since if row else None,
        call_id=call_id,
        by_user_id=by.id if by is not None and by.id != user.id else None,
    )
    before = f"{row.state.value}" if row else "-"
    if row is None:
        row = AgentStatus(user_id=user.id, state=state, reason_code=reason_code, since=now, call_id=call_id)
        session.add(row)
    else:
        row.state, row.reason_code, row.since, row.call_id = state, reason_code, now, call_id
    session.add(event)
    audit.record(
        session,
        STATE_ACTION,
        user=by or user,
        target=user,
        detail=f"{before} → {state.value}" + (f" {reason_code}" if reason_code else ""),
    )
    session.flush()
    return row


def pause_reasons(session, *, active_only: bool = True) -> list[PauseReason]:
    """The pause reasons in their order (the agent's menu; the admin page lists retired ones too)."""
    statement = select(PauseReason).order_by(PauseReason.sort_order, PauseReason.code)
    if active_only:
        statement = statement.where(PauseReason.is_active)
    return list(session.scalars(statement))


# --- calls ---------------------------------------------------------------------------------------------

#: The audit actions of calls.
CALL_PLACED, CALL_CLOSED_UNRECORDED, RECORDING_PLAYED = "call.place", "call.close_unrecorded", "call.recording_play"
#: A call Twilio never answered about (requested) blocks its agent only this long.
UNANSWERED_REQUEST = timedelta(minutes=2)
#: After a connected call, how long before a supervisor may close it as "tidak dicatat".
DISPOSITION_GRACE = timedelta(minutes=30)
#: Twilio's final CallStatus words for a leg.
FINAL_LEG_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
#: DialCallStatus → the outcome recorded without typing; "completed" waits for the agent, "canceled" counts nothing.
DIAL_OUTCOMES = {"no-answer": "no_answer", "busy": "busy", "failed": "unreachable"}


def advance(call: Call, status: CallStatus) -> bool:
    """Move the call forward to `status`; a status behind (or beside) where it stands changes nothing, so a
    callback arriving late, twice or out of order never moves it back. True when it moved."""
    if CALL_STATUS_RANK[status] <= CALL_STATUS_RANK[call.status]:
        return False
    call.status = status
    return True


def new_call(
    session,
    *,
    user: User,
    work_item_id: int,
    family_id: int,
    participant_id: int | None,
    phone: str,
    agent_phone: str,
    is_recorded: bool,
    now: datetime,
) -> Call:
    """The call row, requested: written (and committed by the caller) before Twilio is asked."""
    call = Call(
        user_id=user.id,
        work_item_id=work_item_id,
        family_id=family_id,
        participant_id=participant_id,
        phone=phone,
        agent_phone=agent_phone,
        status=CallStatus.requested,
        is_recorded=is_recorded,
        started_at=now,
    )
    session.add(call)
    session.flush()
    audit.record(session, CALL_PLACED, user=user, target=call, detail=f"work_item={work_item_id} {mask_phone(phone)}")
    return call


def live_call_of(session, user: User, now: datetime) -> Call | None:
    """The agent's call still going, if any: placed and not over within CALL_STALE (later, its callbacks
    were lost), or requested within UNANSWERED_REQUEST (Twilio never answered about it)."""
    return session.scalar(
        select(Call)
        .where(
            Call.user_id == user.id,
            or_(
                Call.status.in_((CallStatus.placed, CallStatus.agent_answered, CallStatus.dialling))
                & (Call.started_at > now - CALL_STALE),
                (Call.status == CallStatus.requested) & (Call.started_at > now - UNANSWERED_REQUEST),
            ),
        )
        .order_by(Call.id.desc())
        .limit(1)
    )


def owed_call(session, user: User) -> Call | None:
    """The connected call whose outcome this agent still owes (forced disposition), if any."""
    return session.scalar(
        select(Call).where(Call.user_id == user.id, Call.disposition == Disposition.pending).order_by(Call.id).limit(1)
    )


def call_for_update(session, call_id: int) -> Call | None:
    """The call, locked for this transaction (two callbacks of one call at once: one after the other)."""
    lock_for(session, f"call:{call_id}")
    return session.get(Call, call_id, with_for_update=True, populate_existing=True)


def close_unrecorded(session, call: Call, supervisor: User, *, now: datetime) -> Call:
    """A supervisor closes a connected call whose outcome the agent never recorded, as "tidak dicatat",
    DISPOSITION_GRACE after it was answered. Raises `Conflict("call_not_closable")` otherwise."""
    answered = call.ended_at or call.answered_at or call.started_at
    if call.disposition != Disposition.pending or now < answered + DISPOSITION_GRACE:
        raise Conflict("call_not_closable", minutes=int(DISPOSITION_GRACE.total_seconds() // 60))
    call.disposition = Disposition.not_recorded
    agent_follows_call(session, call, AgentState.ready, now=now)
    audit.record(session, CALL_CLOSED_UNRECORDED, user=supervisor, target=call, detail=f"agent={call.user_id}")
    session.flush()
    return call


def recordings_to_delete(session, *, before: datetime, limit: int = 500) -> list[Call]:
    """Calls whose recording is still at Twilio and older than `before`."""
    return list(
        session.scalars(
            select(Call)
            .where(Call.recording_sid.is_not(None), Call.is_recording_deleted.is_(False), Call.started_at < before)
            .order_by(Call.id)
            .limit(limit)
        )
    )


def agent_follows_call(session, call: Call, state: AgentState, *, now: datetime) -> None:
    """Move the call's agent to `state` only while this call holds her state (on_call or wrap_up for it):
    a pause she chose meanwhile, or a later call, is left alone."""
    row = current_state(session, call.user)
    if row is not None and row.call_id == call.id and row.state in (AgentState.on_call, AgentState.wrap_up):
        set_agent_state(session, call.user, state, now=now, call_id=call.id)


def call_for_outcome(session, user: User, work_item_id: int) -> Call | None:
    """The call an outcome `user` records now on this family completes: her connected call on it whose
    outcome is owed, or her call on it still dialling or talking (she types while she talks)."""
    return session.scalar(
        select(Call)
        .where(
            Call.user_id == user.id,
            Call.work_item_id == work_item_id,
            or_(
                Call.disposition == Disposition.pending,
                (Call.status == CallStatus.dialling) & Call.dial_status.is_(None) & Call.attempt_id.is_(None),
            ),
        )
        .order_by(Call.id.desc())
        .limit(1)
    )


def complete_disposition(session, call: Call, attempt_id: int, *, now: datetime) -> None:
    """The agent recorded the outcome of this call: that attempt is the call's (the Dial action, arriving
    after an outcome typed during the conversation, records no other), and after a connected call she is
    ready again."""
    was_owed = call.disposition == Disposition.pending
    call.attempt_id, call.disposition = attempt_id, Disposition.recorded
    if was_owed:
        agent_follows_call(session, call, AgentState.ready, now=now)
    session.flush()


def recording_played(session, call: Call, user: User) -> None:
    """A supervisor played the recording: on the audit log."""
    audit.record(session, RECORDING_PLAYED, user=user, target=call, detail=call.recording_sid)


def recording_deleted(session, call: Call) -> None:
    """Twilio no longer has the recording (deleted after RECORDING_DAYS)."""
    call.is_recording_deleted = True
    session.flush()
