"""Handing work out can be undone: each assignment or unassignment from the queue page records the
owner every work item had before it, and the latest one can be undone once (issue 13, D21).

The record keeps, per work item, its owner before (None: the team pool; items the assignment
created are marked so) and after. Undoing gives each item back its owner before, but only where it
still has the owner the action gave it and is still live: work moved or closed since is left alone.
Items the assignment created go to the team pool (they had no owner before).
"""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from telecollect.db import UTCDateTime, now_utc
from telecollect.errors import Conflict
from telecollect.extensions import db
from telecollect.queues.models import QueueName, WorkItem, WorkState

#: Marks an item the assignment created (its owner before is "none, it did not exist").
CREATED = -1


class Handout(db.Model):
    """One assignment or unassignment from the queue page, with what it changed."""

    __tablename__ = "handouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: assign or unassign
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    queue: Mapped[str] = mapped_column(String(12), nullable=False)
    #: JSON list of [work item id, owner before (None: pool; CREATED), owner after].
    changes: Mapped[str] = mapped_column(Text, nullable=False)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    @property
    def count(self) -> int:
        return len(json.loads(self.changes))

    def __repr__(self):
        return f"<Handout {self.id} {self.action} {self.queue} by={self.user_id}>"


def owners(session, queue: QueueName, family_ids: list[int] | None = None) -> dict[int, int | None]:
    """The owner of each live item of `queue` (of `family_ids` only, if given), by item id."""
    stmt = select(WorkItem.id, WorkItem.assigned_user_id).where(
        WorkItem.queue == queue, WorkItem.state != WorkState.closed
    )
    found: dict[int, int | None] = {}
    if family_ids is None:
        return {item_id: owner for item_id, owner in session.execute(stmt).all()}  # noqa: C416
    for start in range(0, len(family_ids), 1000):
        part = family_ids[start : start + 1000]
        found.update((i, o) for i, o in session.execute(stmt.where(WorkItem.family_id.in_(part))))
    return found


def remember(
    session, *, action: str, queue: QueueName, before: dict[int, int | None], after: dict[int, int | None], by, now
) -> Handout | None:
    """Record what an action changed (`before`/`after`: owners by item id); nothing when nothing changed."""
    changes = [
        [item_id, before.get(item_id, CREATED), owner]
        for item_id, owner in sorted(after.items())
        if item_id not in before or before[item_id] != owner
    ]
    if not changes:
        return None
    handout = Handout(at=now, user_id=by.id, action=action, queue=queue.value, changes=json.dumps(changes))
    session.add(handout)
    session.flush()
    return handout


def latest(session) -> Handout | None:
    """The latest handout, if it can still be undone (only the latest one ever can)."""
    last = session.scalars(select(Handout).order_by(Handout.id.desc()).limit(1)).first()
    return last if last is not None and last.undone_at is None else None


@dataclass
class Undone:
    restored: int
    #: Items changed since the handout (moved again or closed): left as they are.
    left: int


def undo(session, handout_id: int, *, by, now: datetime) -> Undone:
    """Give the items of handout `handout_id` back their owners before it; refused (409) unless it is
    the latest handout and was not undone yet."""
    handout = latest(session)
    if handout is None or handout.id != handout_id:
        raise Conflict("handout_not_latest")
    changes = json.loads(handout.changes)
    groups: dict[tuple[int | None, int | None], list[int]] = {}
    for item_id, before, after in changes:
        groups.setdefault((None if before in (None, CREATED) else before, after), []).append(item_id)
    restored = 0
    for (owner, after), item_ids in groups.items():
        current = WorkItem.assigned_user_id.is_(None) if after is None else WorkItem.assigned_user_id == after
        for start in range(0, len(item_ids), 1000):
            restored += session.execute(
                update(WorkItem)
                .where(WorkItem.id.in_(item_ids[start : start + 1000]), WorkItem.state != WorkState.closed, current)
                .values(assigned_user_id=owner)
                .execution_options(synchronize_session=False)
            ).rowcount
    handout.undone_at = now
    handout.undone_by_id = by.id
    return Undone(restored=restored, left=len(changes) - restored)
