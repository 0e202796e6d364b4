"""How long contacts keep their personal details (see SECURITY.md, "Retention")."""

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from telecollect.contacts.models import ContactAttempt


def erase_details_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Erase the free-text note and the dialled number of attempts made before `before`; returns how many.

    The attempt itself (who, when, which family, the outcome) stays: payments are credited to it and the
    reports count it. Only what can identify or describe a person beyond that goes."""
    old = (ContactAttempt.at < before, or_(ContactAttempt.note.is_not(None), ContactAttempt.phone.is_not(None)))
    count = session.scalar(select(func.count()).select_from(ContactAttempt).where(*old)) or 0
    if count and not dry_run:
        session.execute(update(ContactAttempt).where(*old).values(note=None, phone=None))
    return count
