"""Agents' states: the one writer of `agent_states` and its history.

The call flow moves a telecollector to on_call when a call is placed, to wrap_up when the participant
answered (until she records the outcome) and back to ready after it; the agent (or a supervisor) pauses
with a reason and comes back. Every change is one history row and one audit event, in the caller's
transaction.
"""

from datetime import datetime

from sqlalchemy import select

from telecollect.audit import services as audit
from telecollect.auth.models import User
from telecollect.errors import ServiceError
from telecollect.telephony.models import AgentState, AgentStateEvent, AgentStatus, PauseReason

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
