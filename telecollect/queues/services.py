"""Handing out work: assignment, claiming with a lease, releasing, closing."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select, update

from telecollect import clock
from telecollect.auth.models import Role, User
from telecollect.auth.scoping import work_scope
from telecollect.db import bulk_insert, insert_ignoring_duplicates, now_utc
from telecollect.errors import Forbidden, ServiceError
from telecollect.participants.models import BUCKETS, Participant, Segment
from telecollect.participants.queries import family_amount_owed, family_months_owed
from telecollect.queues import lifecycle
from telecollect.queues.models import CadreWhatsappOpen, QueueName, WorkItem, WorkState
from telecollect.queues.priority import score
from telecollect.queues.queries import item_score
from telecollect.reasons import quoted
from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import name_key


@dataclass
class AssignFilters:
    city: str | None = None
    kecamatan: str | None = None
    kelurahan: str | None = None
    segment: str | None = None
    bucket: str | None = None
    min_amount: int | None = None


@dataclass
class AssignResult:
    created: int = 0
    reassigned: int = 0
    unchanged: int = 0
    family_ids: list[int] = field(default_factory=list)
    #: Families outside a cadre's areas: new ones go to the team pool, live ones stay where they are
    #: (she could neither see nor claim them).
    outside_areas: int = 0


@dataclass
class Shared:
    """What `balance` did: how many items each user received, and how many stayed in the pool
    because nobody among them covers their place (a cadre only gets families in her areas)."""

    received: dict[int, int]
    left_in_pool: int = 0
    #: Items the users held outside their areas, sent back to the pool before sharing.
    returned: int = 0


def queue_for(user: User) -> QueueName:
    """Telecollectors work the call queue, cadres the cadre queue; others work none."""
    if user.role == Role.telecollector:
        return QueueName.telecollect
    if user.role == Role.cadre:
        return QueueName.cadre
    raise Forbidden("no_queue")


def assign(
    session, *, queue: QueueName, filters: AssignFilters, user: User | None = None, now: datetime | None = None
) -> AssignResult:
    """Put the families matching `filters` in `queue`, for `user` or the team pool.

    Only families that still owe are taken. A family already live in the queue
    moves to the new owner; otherwise a work item is created with its priority.
    A cadre is given only families in her areas (`scoping.work_scope`): the others
    are created in the pool or left where they are, and counted in `outside_areas`.
    Raises `ServiceError` when the user cannot work that queue or a filter
    names no place.
    """
    now = now or now_utc()
    if user is not None and queue_for(user) != queue:
        raise ServiceError("wrong_queue", "user", username=user.username, queue=queue.value)
    result = AssignResult()
    scope = work_scope(user)
    families = _matching_families(session, filters)
    live = {
        family_id: (item_id, district_id, village_id)
        for family_id, item_id, district_id, village_id in session.execute(
            select(WorkItem.family_id, WorkItem.id, WorkItem.district_id, WorkItem.village_id).where(
                WorkItem.queue == queue, WorkItem.state != WorkState.closed
            )
        )
    }
    new_rows, moved = [], []
    for family in families:
        result.family_ids.append(family.family_id)
        if family.family_id in live:
            item_id, district_id, village_id = live[family.family_id]
            if scope.covers(district_id, village_id):
                moved.append(item_id)
            else:
                result.outside_areas += 1
            continue
        owner = user.id if user is not None else None
        if not scope.covers(family.district_id, family.village_id):
            owner = None
            result.outside_areas += 1
        priority = score(
            amount=family.amount, months=family.months, last_contact_at=None, attempts=0, contacts=0, now=now
        ).total
        new_rows.append(
            lifecycle.new_item_row(
                family_id=family.family_id,
                queue=queue,
                owner_id=owner,
                timezone=family.timezone,
                district_id=family.district_id,
                village_id=family.village_id,
                amount=family.amount,
                priority=priority,
                now=now,
            )
        )
    bulk_insert(session, WorkItem.__table__, new_rows)
    result.created = len(new_rows)
    if moved:
        result.reassigned = _move_to(session, moved, user.id if user else None)
        result.unchanged = len(moved) - result.reassigned
    return result


def _move_to(session, item_ids: list[int], owner: int | None) -> int:
    """Give live items to `owner` (None: the pool); returns how many changed hands."""
    changes_hands = (
        WorkItem.assigned_user_id.is_not(None)
        if owner is None
        else or_(WorkItem.assigned_user_id.is_(None), WorkItem.assigned_user_id != owner)
    )
    moved = 0
    for start in range(0, len(item_ids), 1000):
        moved += session.execute(
            update(WorkItem)
            .where(WorkItem.id.in_(item_ids[start : start + 1000]), changes_hands)
            .values(assigned_user_id=owner)
            .execution_options(synchronize_session=False)
        ).rowcount
    return moved


def _matching_families(session, filters: AssignFilters):
    """Families (with amount owed, longest arrears and place) whose members match the filters."""
    p = Participant
    stmt = (
        select(
            p.family_id,
            family_amount_owed().label("amount"),
            family_months_owed().label("months"),
            func.min(p.district_id).label("district_id"),
            func.min(p.village_id).label("village_id"),
            func.min(Province.timezone).label("timezone"),
        )
        .join(Province, Province.id == p.province_id)
        .group_by(p.family_id)
        .having(family_amount_owed() > 0)
    )
    for column, model, value in (
        (p.city_id, City, filters.city),
        (p.district_id, District, filters.kecamatan),
        (p.village_id, Village, filters.kelurahan),
    ):
        if value:
            ids = _place_ids(session, model, value)
            stmt = stmt.where(column.in_(ids))
    if filters.segment:
        try:
            stmt = stmt.where(p.segment == Segment(filters.segment.upper()))
        except ValueError:
            raise ServiceError("bad_segment", "segment") from None
    if filters.bucket:
        bounds = {label: (low, high) for label, low, high in BUCKETS}.get(filters.bucket)
        if bounds is None:
            raise ServiceError("bad_bucket", "bucket", buckets=", ".join(b[0] for b in BUCKETS))
        low, high = bounds
        months = family_months_owed()
        stmt = stmt.having(months >= low if high is None else months.between(low, high))
    if filters.min_amount:
        stmt = stmt.having(family_amount_owed() >= filters.min_amount)
    return session.execute(stmt.order_by(p.family_id)).all()


def _place_ids(session, model, value: str) -> list[int]:
    code = value.replace(".", "").strip()
    condition = model.code == code if code.isdigit() else model.name_key == name_key(value)
    ids = session.scalars(select(model.id).where(condition)).all()
    if not ids:
        raise ServiceError("unknown_place", "place", value=quoted(value))
    return ids


def unassign(session, item_ids: list[int]) -> int:
    """Send live items back to their queue's team pool."""
    live = session.scalars(
        select(WorkItem.id).where(WorkItem.id.in_(item_ids), WorkItem.state != WorkState.closed)
    ).all()
    return _move_to(session, list(live), None)


def balance(session, queue: QueueName, users: list[User]) -> Shared:
    """Share the pool of `queue` among `users` so that each ends with about the same load.

    Items go, highest priority first, to whoever currently holds the fewest
    live items among those who may work them (a cadre: families in her areas,
    `scoping.work_scope`). An item nobody among `users` covers stays in the pool
    and is counted in `left_in_pool`. First, items a cadre among `users` holds
    outside her areas (given before this rule, or before her areas changed: she can
    neither see nor claim them) go back to the pool, counted in `returned`.
    """
    if not users:
        raise ServiceError("no_users", "users")
    for user in users:
        if queue_for(user) != queue:
            raise ServiceError("wrong_queue", "users", username=user.username, queue=queue.value)
    scopes = {u.id: work_scope(u) for u in users}
    returned = _return_outside_areas(session, queue, scopes)
    loads = dict(
        session.execute(
            select(WorkItem.assigned_user_id, func.count())
            .where(
                WorkItem.queue == queue,
                WorkItem.state != WorkState.closed,
                WorkItem.assigned_user_id.in_([u.id for u in users]),
            )
            .group_by(WorkItem.assigned_user_id)
        ).all()
    )
    loads = {u.id: loads.get(u.id, 0) for u in users}
    received = {u.id: 0 for u in users}
    pool = session.execute(
        select(WorkItem.id, WorkItem.district_id, WorkItem.village_id)
        .where(WorkItem.queue == queue, WorkItem.state != WorkState.closed, WorkItem.assigned_user_id.is_(None))
        .order_by(WorkItem.priority.desc(), WorkItem.id)
    ).all()
    plan: dict[int, list[int]] = {u.id: [] for u in users}
    left = 0
    for item_id, district_id, village_id in pool:
        able = [uid for uid, scope in scopes.items() if scope.covers(district_id, village_id)]
        if not able:
            left += 1
            continue
        user_id = min(able, key=lambda uid: (loads[uid], uid))
        plan[user_id].append(item_id)
        loads[user_id] += 1
        received[user_id] += 1
    for user_id, item_ids in plan.items():
        _move_to(session, item_ids, user_id)
    return Shared(received, left, returned)


def _return_outside_areas(session, queue: QueueName, scopes: dict) -> int:
    """Send the live items each user holds outside her scope back to the pool; how many went."""
    stranded: list[int] = []
    for user_id, scope in scopes.items():
        if scope.everywhere:
            continue
        held = session.execute(
            select(WorkItem.id, WorkItem.district_id, WorkItem.village_id).where(
                WorkItem.queue == queue, WorkItem.state != WorkState.closed, WorkItem.assigned_user_id == user_id
            )
        )
        stranded += [item_id for item_id, district_id, village_id in held if not scope.covers(district_id, village_id)]
    return _move_to(session, stranded, None)


def current_claim(session, user: User, now: datetime) -> WorkItem | None:
    return session.scalar(
        select(WorkItem).where(*lifecycle.held_by(user, now)).order_by(WorkItem.lease_expires_at.desc()).limit(1)
    )


def rescore(item: WorkItem, now: datetime) -> None:
    """The item's priority from its family's arrears and its contact history, as of `now`."""
    item.priority = item_score(item, now).total


def count_matching(session, filters: AssignFilters) -> int:
    """How many families (that still owe) `filters` match: what an assignment with them would take."""
    return len(_matching_families(session, filters))


def record_whatsapp_open(
    session, item: WorkItem, user: User, *, client_ref: str, opened_at: datetime, zone: str
) -> bool:
    """A cadre opened WhatsApp for `item`'s family at `opened_at` (her phone's time, already checked): counted
    on her local day in `zone`. The same `client_ref` from her again (a resend after a lost answer, even two
    at once) counts once. Returns whether it was new.

    Errors: ServiceError `client_ref_required` (no reference: the phone could not dedupe a resend)."""
    client_ref = str(client_ref or "").strip()
    if not client_ref or len(client_ref) > 64:
        raise ServiceError("client_ref_required", "client_ref")
    new_id = insert_ignoring_duplicates(
        session,
        CadreWhatsappOpen.__table__,
        {
            "idempotency_key": f"{user.id}:{client_ref}",
            "user_id": user.id,
            "family_id": item.family_id,
            "work_item_id": item.id,
            "opened_at": opened_at,
            "opened_on": clock.local_day(opened_at, zone),
            "recorded_at": now_utc(),
        },
        "idempotency_key",
    )
    return new_id is not None
