"""Reading the audit log."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import User


def recent_events(session, *, action: str = "", username: str = "", page: int = 1, per_page: int = 100):
    """One page of events, newest first, and whether an older page exists."""
    stmt = select(AuditEvent).options(joinedload(AuditEvent.user)).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if username:
        stmt = stmt.join(User, User.id == AuditEvent.user_id).where(User.username == username.lower())
    rows = session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return rows[:per_page], len(rows) > per_page
