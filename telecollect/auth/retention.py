"""How long sign-in attempts are kept (see SECURITY.md, "Retention")."""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from telecollect.auth.models import LoginAttempt


def forget_attempts_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Delete sign-in attempts (username, IP) made before `before`; returns how many.

    The period must stay longer than any lockout window: throttling reads the recent ones."""
    old = (LoginAttempt.at < before,)
    count = session.scalar(select(func.count()).select_from(LoginAttempt).where(*old)) or 0
    if count and not dry_run:
        session.execute(delete(LoginAttempt).where(*old))
    return count
