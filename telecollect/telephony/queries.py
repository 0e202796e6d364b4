"""Reading calls."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from telecollect.telephony.models import Call, CallStatus, Disposition

#: Older calls are not shown as going on (their callbacks were lost).
CALL_STALE = timedelta(hours=2)


def calls_since(session, since: datetime, *, limit: int = 500) -> list[Call]:
    """The calls placed since `since`, newest first, with their agent and attempt."""
    return list(
        session.scalars(
            select(Call)
            .where(Call.started_at >= since)
            .options(joinedload(Call.user), joinedload(Call.attempt))
            .order_by(Call.id.desc())
            .limit(limit)
        )
    )


def live_call_on(session, user, work_item_id: int, now: datetime) -> Call | None:
    """The agent's latest call on this family that is still going or still owes its outcome (the desktop
    resumes showing it after a reload)."""
    call = session.scalar(
        select(Call)
        .where(Call.user_id == user.id, Call.work_item_id == work_item_id, Call.started_at > now - CALL_STALE)
        .order_by(Call.id.desc())
        .limit(1)
    )
    if call is None:
        return None
    going = call.status not in (CallStatus.ended, CallStatus.failed) and call.dial_status is None
    return call if going or call.disposition == Disposition.pending else None
