"""Reading work items: access, lists, counters."""

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, load_only, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from telecollect import clock
from telecollect.auth.models import Role, User
from telecollect.auth.scoping import areas_of
from telecollect.errors import Forbidden, NotFound
from telecollect.participants.models import Family, Participant
from telecollect.participants.queries import family_arrears
from telecollect.queues.models import CadreWhatsappOpen, FollowUp, QueueName, WorkItem, WorkState
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
        raise NotFound("work_item_not_found", item_id=item_id)
    if user.reads_as_staff:
        if to_work:
            raise Forbidden("forbidden_supervisors_do_not_work")
        return item
    if user.role == Role.cadre:
        if item.queue != QueueName.cadre or not in_areas(user, item) or item.assigned_user_id not in (None, user.id):
            raise NotFound("work_item_not_found", item_id=item_id)
        return item
    if item.queue != QueueName.telecollect:
        raise Forbidden("forbidden_call_queue_only")
    return item


def in_areas(user: User, item: WorkItem) -> bool:
    return areas_of(user).covers(item.district_id, item.village_id)


#: How many families the cadre's list carries at most (the whole list, kept on her phone for offline use):
#: the most urgent first. A kecamatan of tens of thousands of families is cut there.
CADRE_LIST_MAX = 2000
#: How many families the list page itself carries (its first screen); the rest come as compact data.
CADRE_FIRST_SCREEN = 20


def cadre_work_list(
    session, user: User, *, page: int = 1, per_page: int = CADRE_LIST_MAX
) -> tuple[list[WorkItem], bool]:
    """One page of the live cadre-queue families in her areas (hers or the pool's), the most urgent
    (highest priority, then newest) first; and whether there are more after it.

    A family that owes nothing leaves the list, unless a promise of it is still open (the card says
    so): nothing else is left to visit it for (issue 13, D8).

    The page is read in SQL along `ix_work_items_cadre_list` and stops after it (nothing counts
    every family); only that page's families, members and places are loaded."""
    scope = areas_of(user)
    owes = exists().where(Participant.family_id == WorkItem.family_id, Participant.arrears_amount > 0)
    promised = WorkItem.state == WorkState.promised  # a promise of the family is running
    rows = session.scalars(
        select(WorkItem)
        .where(
            WorkItem.queue == QueueName.cadre,
            WorkItem.state != WorkState.closed,
            WorkItem.assigned_user_id.in_([user.id]) | WorkItem.assigned_user_id.is_(None),
            scope.condition(WorkItem.district_id, WorkItem.village_id),
            owes | promised,
        )
        .order_by(WorkItem.priority.desc(), WorkItem.id.desc())
        .limit(per_page + 1)
        .offset((max(page, 1) - 1) * per_page)
        .options(
            selectinload(WorkItem.family)
            .selectinload(Family.members)
            .options(
                load_only(*CARD_COLUMNS, raiseload=True),
                selectinload(Participant.village),
                selectinload(Participant.district),
            )
        )
    ).all()
    return list(rows[:per_page]), len(rows) > per_page


#: What a card shows of a member (the list loads only these: a list of 2,000 families reads less; another
#: column read on a card raises instead of costing a query per member).
CARD_COLUMNS = (
    Participant.id,
    Participant.card_no,
    Participant.name,
    Participant.phone,
    Participant.family_id,
    Participant.district_id,
    Participant.village_id,
    Participant.rt,
    Participant.rw,
    Participant.address,
    Participant.is_phone_invalid,
    Participant.months_in_arrears,
    Participant.arrears_amount,
)


def day_start(zone: str, now: datetime) -> datetime:
    """Local midnight in `zone` of the day `now` falls on."""
    return clock.day_start(clock.local_day(now, zone), zone)


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


def days_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else (now - moment).days


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


def whatsapp_opened_today(session, user: User, day) -> list[int]:
    """The work items whose family `user` opened WhatsApp for on her local `day` (each once)."""
    return list(
        session.scalars(
            select(CadreWhatsappOpen.work_item_id)
            .where(CadreWhatsappOpen.user_id == user.id, CadreWhatsappOpen.opened_on == day)
            .distinct()
            .order_by(CadreWhatsappOpen.work_item_id)
        ).all()
    )


def whatsapp_families_on(session, day) -> dict[int, int]:
    """Per cadre (user id): the families she opened WhatsApp for on `day` (her local day)."""
    return dict(
        session.execute(
            select(CadreWhatsappOpen.user_id, func.count(func.distinct(CadreWhatsappOpen.family_id)))
            .where(CadreWhatsappOpen.opened_on == day)
            .group_by(CadreWhatsappOpen.user_id)
        ).all()
    )
