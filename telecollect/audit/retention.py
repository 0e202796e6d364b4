"""How long the audit log is kept (see SECURITY.md, "Retention")."""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from telecollect.audit.models import AuditEvent


def forget_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Delete audit events older than `before`; returns how many."""
    old = (AuditEvent.at < before,)
    count = session.scalar(select(func.count()).select_from(AuditEvent).where(*old)) or 0
    if count and not dry_run:
        session.execute(delete(AuditEvent).where(*old))
    return count
