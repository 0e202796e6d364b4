"""Counters shared by every process: how often one key (an IP, a user, a username) did something in a
window, so that guessing passwords, searching NIKs or walking work-item ids is slowed everywhere at once.

The counts are rows (`throttle_hits`), one per key and fixed window, incremented by one atomic upsert
on both engines; Redis is not needed. `hit` commits its count at once: a refused request rolls its own
work back, and a count rolled back with it would count nothing (the one named exception to the
request's single commit, beside a failed sign-in). Call it before the request writes anything.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from telecollect.db import UTCDateTime, is_postgresql
from telecollect.extensions import db


class ThrottleHit(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy builds it at run time
    """How many times `key` acted in the window starting at `window_start`."""

    __tablename__ = "throttle_hits"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    #: When the window ends and the key may act again.
    retry_at: datetime

    def retry_after(self, now: datetime) -> int:
        """Seconds to wait, for a `Retry-After` header."""
        return max(1, int((self.retry_at - now).total_seconds()))


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(session: Session, key: str, *, limit: int, window: timedelta, now: datetime, commit: bool = True) -> Verdict:
    """Count one act of `key` and say whether it is within `limit` per `window`. Atomic across
    processes: two requests at once get two different counts."""
    start = _window_start(now, window)
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    upsert = (
        insert(ThrottleHit)
        .values(key=key[:120], window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[ThrottleHit.key, ThrottleHit.window_start], set_={"count": ThrottleHit.count + 1}
        )
        .returning(ThrottleHit.count)
    )
    count = session.execute(upsert).scalar_one()
    if commit:
        session.commit()
    return Verdict(count <= limit, count, start + window)


def peek(session: Session, key: str, *, window: timedelta, now: datetime) -> int:
    """How many acts `key` has counted in the current window, without counting one."""
    row = session.get(ThrottleHit, (key[:120], _window_start(now, window)))
    return row.count if row else 0


def forget_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Drop windows that started before `before` (the purge job keeps the table small); `dry_run` only counts."""
    if dry_run:
        return session.scalar(select(func.count()).where(ThrottleHit.window_start < before)) or 0
    result = session.execute(delete(ThrottleHit).where(ThrottleHit.window_start < before))
    return int(getattr(result, "rowcount", 0) or 0)
