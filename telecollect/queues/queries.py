"""Reading work items: access, lists, counters."""

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from telecollect import clock
from telecollect.auth.models import Role, User
from telecollect.auth.scoping import areas_of
from telecollect.contacts.models import ContactAttempt, Promise, PromiseState
from telecollect.errors import Forbidden, NotFound
from telecollect.participants.models import Family, Participant
from telecollect.participants.queries import family_arrears
from telecollect.queues.models import FollowUp, QueueName, WorkItem, WorkState
from telecollect.queues.priority import Score, score

#: A work item with its family's members, in two queries; every caller shows or checks the members.
WITH_FAMILY = (joinedload(WorkItem.family).selectinload(Family.members),)


def attach_family(session, item: WorkItem) -> WorkItem:
    """Load the item's family and its members in one query (a claim's hot path; cheaper than WITH_FAMILY)."""
    rows = session.execute(
        select(Family, Participant)
        .join(Participant, Participant.family_id == Family.id)
        .where(Family.id == item.family_id)
        .order_by(Participant.card_no)
    ).all()
    family = rows[0][0] if rows else session.get(Family, item.family_id)
    set_committed_value(family, "members", [member for _family, member in rows])
    set_committed_value(item, "family", family)
    return item


def item_for_user(session, user: User, item_id: int, *, to_work: bool) -> WorkItem:
    """Load a work item the user may see (and, with `to_work`, record on).

    Telecollectors work the call queue, cadres the cadre queue inside their
    areas, supervisors and admins see everything but work nothing. Items a
    cadre may not see do not exist for her (404); a wrong role is 403.
    """
    item = session.get(WorkItem, item_id, options=WITH_FAMILY)
    if item is None:
        raise NotFound("not_found", f"No work item {item_id}.")
    if user.role in (Role.admin, Role.supervisor):
        if to_work:
            raise Forbidden("forbidden", "Supervisors and admins do not record contacts.")
        return item
    if user.role == Role.cadre:
        if item.queue != QueueName.cadre or not in_areas(user, item) or item.assigned_user_id not in (None, user.id):
            raise NotFound("not_found", f"No work item {item_id}.")
        return item
    if item.queue != QueueName.telecollect:
        raise Forbidden("forbidden", "Telecollectors work the call queue only.")
    return item


def in_areas(user: User, item: WorkItem) -> bool:
    return areas_of(user).covers(item.district_id, item.village_id)


def cadre_work_list(session, user: User) -> list[WorkItem]:
    """Live cadre-queue families in her areas (hers or the pool's), by kelurahan, RT/RW, priority."""
    items = session.scalars(
        select(WorkItem)
        .where(
            WorkItem.queue == QueueName.cadre,
            WorkItem.state != WorkState.closed,
            WorkItem.assigned_user_id.in_([user.id]) | WorkItem.assigned_user_id.is_(None),
            areas_of(user).condition(WorkItem.district_id, WorkItem.village_id),
        )
        .options(selectinload(WorkItem.family).selectinload(Family.members))
    ).all()
    return sorted(items, key=lambda i: (_village_name(i), _rt_rw(i), -i.priority, i.id))


def _village_name(item: WorkItem) -> str:
    head = item.family.members[0] if item.family.members else None
    return head.village.name if head and head.village else ""


def _rt_rw(item: WorkItem) -> tuple[str, str]:
    head = item.family.members[0] if item.family.members else None
    return (head.rw or "", head.rt or "") if head else ("", "")


def day_start(zone: str, now: datetime) -> datetime:
    """Local midnight in `zone` of the day `now` falls on."""
    return clock.day_start(clock.local_day(now, zone), zone)


def today_counters(session, user: User, now: datetime) -> dict:
    """Calls, contacts and promises the user recorded since local midnight."""
    since = day_start(user.timezone, now)
    calls, contacts = session.execute(
        select(func.count(), func.count().filter(ContactAttempt.is_reached.is_(True))).where(
            ContactAttempt.user_id == user.id, ContactAttempt.at >= since
        )
    ).one()
    promises = session.scalar(
        select(func.count()).select_from(Promise).where(Promise.user_id == user.id, Promise.created_at >= since)
    )
    return {"calls": calls, "contacts": contacts, "promises": promises}


def my_promises(session, user: User) -> list[Promise]:
    """Pending promises this user took, soonest first."""
    return session.scalars(
        select(Promise)
        .where(Promise.user_id == user.id, Promise.state == PromiseState.pending)
        .options(selectinload(Promise.family).selectinload(Family.members))
        .order_by(Promise.promised_on, Promise.id)
    ).all()


def my_callbacks(session, user: User) -> list[WorkItem]:
    return session.scalars(
        select(WorkItem)
        .where(
            WorkItem.callback_user_id == user.id,
            WorkItem.follow_up == FollowUp.callback,
            WorkItem.state != WorkState.closed,
        )
        .options(selectinload(WorkItem.family).selectinload(Family.members))
        .order_by(WorkItem.next_action_at)
    ).all()


def family_attempts(session, family_id: int, limit: int = 50) -> list[ContactAttempt]:
    return session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.family_id == family_id)
        .options(selectinload(ContactAttempt.user))
        .order_by(ContactAttempt.at.desc())
        .limit(limit)
    ).all()


def last_contact(session, family_ids: list[int]) -> dict[int, datetime]:
    """When each family was last reached by anyone, on any channel."""
    if not family_ids:
        return {}
    return dict(
        session.execute(
            select(ContactAttempt.family_id, func.max(ContactAttempt.at))
            .where(ContactAttempt.family_id.in_(family_ids), ContactAttempt.is_reached.is_(True))
            .group_by(ContactAttempt.family_id)
        ).all()
    )


def days_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else (now - moment).days


def promise_status(promise: Promise, today: date) -> str:
    """due (today), overdue (past) or upcoming, for the promise list."""
    if promise.promised_on < today:
        return "overdue"
    return "due" if promise.promised_on == today else "upcoming"


def item_score(item: WorkItem, now: datetime) -> Score:
    """The item's priority, with its parts, from its family's arrears and its contact history as of `now`
    (what `rescore` stores, and what the API shows beside it)."""
    amount, months = family_arrears(item.family.members)
    return score(
        amount=amount,
        months=months,
        last_contact_at=item.last_contact_at,
        attempts=item.attempts,
        contacts=item.contacts,
        now=now,
    )
