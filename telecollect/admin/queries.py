"""Reading the audit log for the admin page: events with who did them and what they touched, in names."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import User
from telecollect.imports.models import ImportRun
from telecollect.participants.models import Participant
from telecollect.queues.models import WorkItem


@dataclass(frozen=True)
class Target:
    """What an event touched, as a person reads it: words, and where to look (an endpoint and its
    arguments), when there is a page for it."""

    text: str
    endpoint: str | None = None
    args: dict | None = None


def recent_events(
    session,
    *,
    action: str = "",
    username: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 100,
):
    """One page of (event, user or None), newest first, and whether an older page exists. `action`
    is a code, or a code's family ending in "." (all `import.` events, say); `since`/`until` is [)."""
    stmt = select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.user_id).order_by(AuditEvent.id.desc())
    if action.endswith("."):
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    elif action:
        stmt = stmt.where(AuditEvent.action == action)
    if username:
        stmt = stmt.where(User.username == username.lower())
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    rows = session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return rows[:per_page], len(rows) > per_page


def targets_of(session, events) -> dict[int, Target]:
    """The target of each event (by event id) in names: a person's name, a participant's name and
    card number, a work item's family (its first member), an import run's file; one query per kind."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.target_type and event.target_id is not None:
            wanted.setdefault(event.target_type, set()).add(event.target_id)
    named: dict[tuple[str, int], Target] = {}
    if ids := wanted.get("users"):
        for user in session.scalars(select(User).where(User.id.in_(ids))):
            named["users", user.id] = Target(f"{user.name} ({user.username})", "admin.edit_user", {"user_id": user.id})
    if ids := wanted.get("participants"):
        for p in session.scalars(select(Participant).where(Participant.id.in_(ids))):
            named["participants", p.id] = Target(
                f"{p.name} · {p.card_no}", "participants.detail", {"card_no": p.card_no}
            )
    if ids := wanted.get("work_items"):
        family_of = dict(session.execute(select(WorkItem.id, WorkItem.family_id).where(WorkItem.id.in_(ids))).all())
        heads: dict[int, Participant] = {}
        for p in session.scalars(
            select(Participant)
            .where(Participant.family_id.in_(set(family_of.values())))
            .order_by(Participant.card_no.desc())
        ):
            heads[p.family_id] = p  # the lowest card number wins: the order is descending
        for item_id, family_id in family_of.items():
            head = heads.get(family_id)
            if head is not None:
                named["work_items", item_id] = Target(
                    f"{head.name} · {head.card_no}", "participants.detail", {"card_no": head.card_no}
                )
    if ids := wanted.get("import_runs"):
        for run in session.scalars(select(ImportRun).where(ImportRun.id.in_(ids))):
            named["import_runs", run.id] = Target(run.filename or f"#{run.id}")
    if ids := wanted.get("sms_messages"):
        for message_id in ids:
            named["sms_messages", message_id] = Target(
                f"SMS #{message_id}", "messaging.message", {"message_id": message_id}
            )
    found = {}
    for event in events:
        if event.target_type and event.target_id is not None:
            found[event.id] = named.get(
                (event.target_type, event.target_id), Target(f"{event.target_type} #{event.target_id}")
            )
    return found
