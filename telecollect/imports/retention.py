"""How long an import keeps its rejected rows (see SECURITY.md, "Retention")."""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from telecollect.imports.models import ImportRun


def erase_rejects_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Erase the rejected rows (copied as they were: names, NIKs, numbers) of imports started before `before`;
    returns how many runs lost them. The run's record (who, when, counts) stays."""
    old = (ImportRun.started_at < before, ImportRun.rejects_csv.is_not(None))
    count = session.scalar(select(func.count()).select_from(ImportRun).where(*old)) or 0
    if count and not dry_run:
        session.execute(update(ImportRun).where(*old).values(rejects_csv=None))
    return count
