"""Handing out work: assignment, claiming with a lease, releasing, closing."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, or_, select, update

from telecollect.auth.models import Role, User
from telecollect.auth.scoping import areas_of
from telecollect.contacts.models import Channel
from telecollect.db import bulk_insert, is_postgresql, now_utc
from telecollect.errors import Conflict, Forbidden, ServiceError
from telecollect.participants.models import BUCKETS, Participant, Segment
from telecollect.queues import policy
from telecollect.queues.models import FollowUp, QueueName, WorkItem, WorkState
from telecollect.queues.priority import score
from telecollect.queues.queries import attach_family
from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import name_key

#: A personal callback becomes anyone's after this long.
CALLBACK_GRACE = timedelta(minutes=30)
#: How many refused candidates a claim skips before answering "nothing now".
MAX_CLAIM_TRIES = 25


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


def queue_for(user: User) -> QueueName:
    """Telecollectors work the call queue, cadres the cadre queue; others work none."""
    if user.role == Role.telecollector:
        return QueueName.telecollect
    if user.role == Role.cadre:
        return QueueName.cadre
    raise Forbidden("no_queue", "Only telecollectors and cadres work a queue.")


def assign(session, *, queue: QueueName, filters: AssignFilters, user: User | None = None,
           now: datetime | None = None) -> AssignResult:
    """Put the families matching `filters` in `queue`, for `user` or the team pool.

    Only families that still owe are taken. A family already live in the queue
    moves to the new owner; otherwise a work item is created with its priority.
    Raises `ServiceError` when the user cannot work that queue or a filter
    names no place.
    """
    now = now or now_utc()
    if user is not None and queue_for(user) != queue:
        raise ServiceError("wrong_queue", f"{user.username} does not work the {queue.value} queue.", "user")
    result = AssignResult()
    families = _matching_families(session, filters)
    live = dict(session.execute(
        select(WorkItem.family_id, WorkItem.id).where(WorkItem.queue == queue, WorkItem.state != WorkState.closed)
    ).all())
    new_rows, moved = [], []
    for family in families:
        result.family_ids.append(family.family_id)
        if family.family_id in live:
            moved.append(live[family.family_id])
            continue
        new_rows.append(_new_item(family, queue, user, now))
    bulk_insert(session, WorkItem.__table__, new_rows)
    result.created = len(new_rows)
    if moved:
        result.reassigned = _move_to(session, moved, user.id if user else None)
        result.unchanged = len(moved) - result.reassigned
    return result


def _move_to(session, item_ids: list[int], owner: int | None) -> int:
    """Give live items to `owner` (None: the pool); returns how many changed hands."""
    changes_hands = WorkItem.assigned_user_id.is_not(None) if owner is None else or_(
        WorkItem.assigned_user_id.is_(None), WorkItem.assigned_user_id != owner)
    moved = 0
    for start in range(0, len(item_ids), 1000):
        moved += session.execute(
            update(WorkItem).where(WorkItem.id.in_(item_ids[start:start + 1000]), changes_hands)
            .values(assigned_user_id=owner).execution_options(synchronize_session=False)
        ).rowcount
    return moved


def _new_item(family, queue, user, now) -> dict:
    priority = score(amount=family.amount, months=family.months, last_contact_at=None, attempts=0, contacts=0, now=now)
    return {
        "family_id": family.family_id, "queue": queue, "state": WorkState.open,
        "assigned_user_id": user.id if user else None, "next_action_at": now, "follow_up": FollowUp.none,
        "timezone": family.timezone, "district_id": family.district_id, "village_id": family.village_id,
        "priority": priority.total, "attempts": 0, "contacts": 0, "created_at": now, "assigned_amount": family.amount,
    }


def _matching_families(session, filters: AssignFilters):
    """Families (with amount owed, longest arrears and place) whose members match the filters."""
    p = Participant
    stmt = (
        select(p.family_id, func.sum(p.arrears_amount).label("amount"), func.max(p.months_in_arrears).label("months"),
               func.min(p.district_id).label("district_id"), func.min(p.village_id).label("village_id"),
               func.min(Province.timezone).label("timezone"))
        .join(Province, Province.id == p.province_id)
        .group_by(p.family_id)
        .having(func.sum(p.arrears_amount) > 0)
    )
    for column, model, value in ((p.city_id, City, filters.city), (p.district_id, District, filters.kecamatan),
                                 (p.village_id, Village, filters.kelurahan)):
        if value:
            ids = _place_ids(session, model, value)
            stmt = stmt.where(column.in_(ids))
    if filters.segment:
        try:
            stmt = stmt.where(p.segment == Segment(filters.segment.upper()))
        except ValueError:
            raise ServiceError("bad_segment", "Segment must be PBPU, BP, PPU or PBI.", "segment") from None
    if filters.bucket:
        bounds = {label: (low, high) for label, low, high in BUCKETS}.get(filters.bucket)
        if bounds is None:
            raise ServiceError("bad_bucket", f"Bucket must be one of {', '.join(b[0] for b in BUCKETS)}.", "bucket")
        low, high = bounds
        months = func.max(p.months_in_arrears)
        stmt = stmt.having(months >= low if high is None else months.between(low, high))
    if filters.min_amount:
        stmt = stmt.having(func.sum(p.arrears_amount) >= filters.min_amount)
    return session.execute(stmt.order_by(p.family_id)).all()


def _place_ids(session, model, value: str) -> list[int]:
    code = value.replace(".", "").strip()
    condition = model.code == code if code.isdigit() else model.name_key == name_key(value)
    ids = session.scalars(select(model.id).where(condition)).all()
    if not ids:
        raise ServiceError("unknown_place", f"No {model.__tablename__[:-1]} named {value!r}.", "place")
    return ids


def unassign(session, item_ids: list[int]) -> int:
    """Send live items back to their queue's team pool."""
    live = session.scalars(select(WorkItem.id).where(WorkItem.id.in_(item_ids), WorkItem.state != WorkState.closed)).all()
    return _move_to(session, list(live), None)


def balance(session, queue: QueueName, users: list[User]) -> dict[int, int]:
    """Share the pool of `queue` among `users` so that each ends with about the same load.

    Items go, highest priority first, to whoever currently holds the fewest
    live items. Returns how many each user received.
    """
    if not users:
        raise ServiceError("no_users", "Choose at least one person to share the pool with.", "users")
    for user in users:
        if queue_for(user) != queue:
            raise ServiceError("wrong_queue", f"{user.username} does not work the {queue.value} queue.", "users")
    loads = dict(session.execute(
        select(WorkItem.assigned_user_id, func.count()).where(
            WorkItem.queue == queue, WorkItem.state != WorkState.closed,
            WorkItem.assigned_user_id.in_([u.id for u in users])).group_by(WorkItem.assigned_user_id)
    ).all())
    loads = {u.id: loads.get(u.id, 0) for u in users}
    received = {u.id: 0 for u in users}
    pool = session.scalars(
        select(WorkItem.id).where(WorkItem.queue == queue, WorkItem.state != WorkState.closed,
                                  WorkItem.assigned_user_id.is_(None))
        .order_by(WorkItem.priority.desc(), WorkItem.id)
    ).all()
    plan: dict[int, list[int]] = {u.id: [] for u in users}
    for item_id in pool:
        user_id = min(loads, key=lambda uid: (loads[uid], uid))
        plan[user_id].append(item_id)
        loads[user_id] += 1
        received[user_id] += 1
    for user_id, item_ids in plan.items():
        _move_to(session, item_ids, user_id)
    return received


def close_settled(session, now: datetime | None = None) -> int:
    """Close live items of families that no longer owe anything (after new arrears data)."""
    owing = select(Participant.family_id).group_by(Participant.family_id).having(func.sum(Participant.arrears_amount) > 0)
    return session.execute(
        update(WorkItem).where(WorkItem.state != WorkState.closed, WorkItem.family_id.not_in(owing))
        .values(state=WorkState.closed, close_reason="no_arrears", closed_at=now or now_utc(),
                claimed_by_id=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def claimable_condition(user: User, queue: QueueName, now: datetime, zones: list[str]):
    """What `user` may be offered now: due, free, theirs or the pool's, in an open zone."""
    w = WorkItem
    conditions = [
        w.queue == queue, w.state != WorkState.closed, w.next_action_at <= now, w.timezone.in_(zones),
        or_(w.claimed_by_id.is_(None), w.lease_expires_at <= now, w.claimed_by_id == user.id),
        or_(w.assigned_user_id == user.id, w.assigned_user_id.is_(None)),
        # Someone else's callback stays theirs until it is CALLBACK_GRACE overdue.
        not_(and_(w.follow_up == FollowUp.callback, w.callback_user_id != user.id,
                  w.next_action_at > now - CALLBACK_GRACE)),
    ]
    if queue == QueueName.cadre:
        conditions.append(areas_of(user).condition(w.district_id, w.village_id))
    return and_(*conditions)


def claim_tiers(user: User, now: datetime):
    """The claim order, as conditions tried one after the other: callbacks due for
    this user, then anyone's callbacks overdue by the grace period, then promise
    follow-ups, then the rest. Within a tier the highest priority goes first.

    Tiers (rather than one ORDER BY over a CASE) let every statement walk the
    index on (queue, follow_up, priority, next_action_at) and stop at the first
    free row, instead of sorting every due family on each claim.
    """
    w = WorkItem
    return (
        and_(w.follow_up == FollowUp.callback, w.callback_user_id == user.id),
        and_(w.follow_up == FollowUp.callback, w.next_action_at <= now - CALLBACK_GRACE),
        w.follow_up == FollowUp.promise,
        w.follow_up == FollowUp.none,
    )


#: Highest priority first; among equals the later due and newer item (the index read backwards).
CLAIM_ORDER = (WorkItem.priority.desc(), WorkItem.next_action_at.desc(), WorkItem.id.desc())


def claim_next(session, user: User, rules: policy.ContactRules, *, lease: timedelta,
               now: datetime | None = None) -> WorkItem | None:
    """Claim the best item `user` may work now, with a lease; None when nothing may be worked.

    The pick-and-claim is one statement, safe with many claimers at once:
    PostgreSQL locks the chosen row with FOR UPDATE SKIP LOCKED so concurrent
    claimers take the next one; SQLite runs the conditional UPDATE … RETURNING
    under its single-writer lock. An item the contact policy refuses (daily cap,
    no usable number) is rescheduled or closed and the next one is tried.
    """
    now = now or now_utc()
    queue = queue_for(user)
    zones = policy.zones_open(session, rules, now)
    if not zones:
        return None
    for _ in range(MAX_CLAIM_TRIES):
        item = _claim_one(session, user, queue, zones, now, now + lease)
        if item is None:
            return None
        attach_family(session, item)
        decision = policy.decide(session, rules, family_id=item.family_id, members=item.family.members,
                                 zone=item.timezone, channel=_channel(queue), now=now)
        if decision.allowed:
            if queue == QueueName.telecollect:
                from telecollect.messaging.reminders import pre_call_notice

                pre_call_notice(session, rules, item.family.members, now)
            return item
        _set_aside(item, decision, now)
        session.flush()
    return None


def _channel(queue: QueueName) -> Channel:
    return Channel.phone if queue == QueueName.telecollect else Channel.whatsapp


def _claim_one(session, user, queue, zones, now, lease_until) -> WorkItem | None:
    """Claim the first free item of the first tier that has one, in one statement.

    COALESCE evaluates its arguments only until one is not NULL, on both
    engines, so the tiers are still tried one after the other, each walking
    the index and stopping at its first free row, but a claim costs one round
    trip whichever tier answers.
    """
    claimable = claimable_condition(user, queue, now, zones)
    # Pressing Next while holding a family must not strand it on screen: the
    # held one comes first (its lease is renewed and the policy asked again).
    held = select(WorkItem.id).where(WorkItem.queue == queue, *_held_by(user, now)) \
        .order_by(WorkItem.lease_expires_at.desc())
    candidates = []
    for candidate in (held, *(select(WorkItem.id).where(claimable, tier).order_by(*CLAIM_ORDER)
                              for tier in claim_tiers(user, now))):
        candidate = candidate.limit(1)
        if is_postgresql(session):
            candidate = candidate.with_for_update(skip_locked=True)
        candidates.append(candidate.scalar_subquery())
    statement = (
        update(WorkItem)
        .where(WorkItem.id == func.coalesce(*candidates),
               or_(WorkItem.claimed_by_id.is_(None), WorkItem.lease_expires_at <= now, WorkItem.claimed_by_id == user.id))
        .values(claimed_by_id=user.id, lease_expires_at=lease_until)
        .returning(WorkItem)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return session.scalars(statement).one_or_none()


def _set_aside(item: WorkItem, decision: policy.Decision, now: datetime) -> None:
    """A claimed item the policy refuses: try again when it may, or close it when it never may."""
    item.claimed_by_id = None
    item.lease_expires_at = None
    if decision.retry_at is not None:
        item.next_action_at = decision.retry_at
    else:
        item.state = WorkState.closed
        item.close_reason = decision.code
        item.closed_at = now


def _held_by(user: User, now: datetime) -> tuple:
    """Items `user` holds under a live lease."""
    return (WorkItem.claimed_by_id == user.id, WorkItem.lease_expires_at > now, WorkItem.state != WorkState.closed)


def current_claim(session, user: User, now: datetime | None = None) -> WorkItem | None:
    return session.scalar(
        select(WorkItem).where(*_held_by(user, now or now_utc())).order_by(WorkItem.lease_expires_at.desc()).limit(1)
    )


def renew(session, item: WorkItem, user: User, lease: timedelta, now: datetime | None = None) -> WorkItem:
    """Extend the lease while the screen stays open. Raises when the claim was lost."""
    now = now or now_utc()
    if item.claimed_by_id != user.id or item.lease_expires_at is None or item.lease_expires_at <= now:
        raise Conflict("claim_lost", "This family is no longer claimed by you; press Next.", None)
    item.lease_expires_at = now + lease
    return item


def release(session, item: WorkItem, user: User) -> WorkItem:
    """Give a claimed item back without an outcome (it keeps its schedule)."""
    if item.claimed_by_id != user.id:
        raise Conflict("not_claimed", "You have not claimed this family.", None)
    item.claimed_by_id = None
    item.lease_expires_at = None
    return item
