"""Reading the audit log for the admin page: events with the name of who did them."""

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import User


def recent_events(session, *, action: str = "", username: str = "", page: int = 1, per_page: int = 100):
    """One page of (event, username or None), newest first, and whether an older page exists."""
    stmt = (
        select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.user_id).order_by(AuditEvent.id.desc())
    )
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if username:
        stmt = stmt.where(User.username == username.lower())
    rows = session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return rows[:per_page], len(rows) > per_page
