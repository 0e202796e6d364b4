"""What a telecollector sets herself on the desktop (ready, or paused with a reason) and what a supervisor
edits (the pause reasons). The state itself is written by `services.set_agent_state`, its one writer."""

import re
from datetime import datetime

from sqlalchemy import func, select

from telecollect.audit import services as audit
from telecollect.auth.models import User
from telecollect.errors import Conflict, ServiceError
from telecollect.telephony.models import AgentState, AgentStatus, Call, CallStatus, Disposition, PauseReason
from telecollect.telephony.services import set_agent_state

#: The states an agent chooses herself; on_call and wrap_up follow her calls.
DESK_STATES = (AgentState.ready, AgentState.paused)
#: A pause reason's code: short, lower-case, as the board and the history keep it.
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,19}$")
#: The audit action of a pause reason added or changed.
REASON_ACTION = "pause_reason.save"


def change_own_state(session, user: User, state: str, *, reason_code: str | None, now: datetime) -> AgentStatus:
    """The agent sets herself ready or paused (with an active reason). While a call of hers is going on or
    owes its outcome her state follows the call: `Conflict("agent_state_in_call")`."""
    try:
        wanted = AgentState(state)
    except ValueError:
        raise ServiceError("agent_state_unknown", "state") from None
    if wanted not in DESK_STATES:
        raise ServiceError("agent_state_unknown", "state")
    row = session.get(AgentStatus, user.id)
    if row is not None and row.state in (AgentState.on_call, AgentState.wrap_up) and _call_holds(session, row):
        raise Conflict("agent_state_in_call")
    return set_agent_state(session, user, wanted, now=now, reason_code=reason_code or None)


def _call_holds(session, row: AgentStatus) -> bool:
    """Whether the call that put her on_call or in wrap_up still holds her: going on, or owing its outcome."""
    if row.call_id is None:
        return False
    call = session.get(Call, row.call_id)
    if call is None:
        return False
    return call.disposition == Disposition.pending or call.status not in (CallStatus.ended, CallStatus.failed)


def add_pause_reason(session, code: str, label: str, *, by: User) -> PauseReason:
    """A new pause reason, last in the menu."""
    code = (code or "").strip().lower()
    if not CODE_PATTERN.match(code):
        raise ServiceError("pause_reason_code_invalid", "code")
    if session.scalar(select(PauseReason.id).where(PauseReason.code == code)) is not None:
        raise Conflict("pause_reason_code_taken", "code", code=code)
    last = session.scalar(select(func.max(PauseReason.sort_order))) or 0
    reason = PauseReason(code=code, label=_label(label), is_active=True, sort_order=last + 1)
    session.add(reason)
    session.flush()
    audit.record(session, REASON_ACTION, user=by, target=reason, detail=f"{code}: {reason.label}")
    return reason


def update_pause_reason(
    session, reason: PauseReason, *, label: str, sort_order: int, is_active: bool, by: User
) -> PauseReason:
    """Rename, reorder, retire or bring back a pause reason (its code stays: the history keeps it)."""
    reason.label, reason.sort_order, reason.is_active = _label(label), sort_order, is_active
    session.flush()
    audit.record(
        session,
        REASON_ACTION,
        user=by,
        target=reason,
        detail=f"{reason.code}: {reason.label}{'' if is_active else ' (retired)'}",
    )
    return reason


def _label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label or len(label) > 80:
        raise ServiceError("pause_reason_label_invalid", "label")
    return label
