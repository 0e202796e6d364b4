"""The work-item lifecycle: the only code that changes a work item's state, follow-up, claim and lease,
callback owner or schedule.

    open ──claim──▶ (claimed: claimed_by_id + lease_expires_at) ──outcome──▶ waiting / promised / closed
      ▲                    │ release, lease lapses, set aside                    │
      └────────────────────┘                      requeue ◀── promise broken, installment missed
    closed: an outcome (already_paid, moved, deceased), no_arrears, reactivated, or the policy (no_phone)

Every transition takes `now` from its caller (the request, command or job), so
a job run "as of" a business time writes that time. The database keeps the
pairs together (CHECK constraints on `work_items`): a closed item has its
reason and time, a claim has its lease.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal, not_, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from telecollect.auth.models import User
from telecollect.auth.scoping import areas_of, work_branch_condition
from telecollect.db import UTCDateTime, is_postgresql, one_of
from telecollect.errors import Conflict
from telecollect.participants.models import Family
from telecollect.queues.models import CloseReason, FollowUp, QueueName, RequeueReason, WorkItem, WorkState

#: A personal callback becomes anyone's after this long.
CALLBACK_GRACE = timedelta(minutes=30)
#: Highest priority first; among equals the later due and newer item (the index read backwards).
CLAIM_ORDER = (WorkItem.priority.desc(), WorkItem.next_action_at.desc(), WorkItem.id.desc())
_LIVE = WorkItem.state != WorkState.closed


def new_item_row(
    *,
    family_id: int,
    queue: QueueName,
    owner_id: int | None,
    timezone: str,
    district_id: int,
    village_id: int | None,
    amount: int,
    priority: int,
    now: datetime,
) -> dict:
    """A new work item, as a row for a bulk insert: open, due now, no follow-up, unclaimed."""
    return {
        "family_id": family_id,
        "queue": queue,
        "state": WorkState.open,
        "assigned_user_id": owner_id,
        "next_action_at": now,
        "follow_up": FollowUp.none,
        "timezone": timezone,
        "district_id": district_id,
        "village_id": village_id,
        "priority": priority,
        "attempts": 0,
        "contacts": 0,
        "created_at": now,
        "assigned_amount": amount,
    }


# --- claims and leases -----------------------------------------------------------------------


def callable_condition(queue: QueueName, now: datetime, zones: list[str]):
    """The queue's families callable now by somebody: live, due, in a zone open now (the supervisor's board
    counts these per zone; a claim narrows them to what one person may be offered)."""
    w = WorkItem
    return and_(w.queue == queue, _LIVE, w.next_action_at <= now, w.timezone.in_(zones))


def claimable_condition(user: User, queue: QueueName, now: datetime, zones: list[str]):
    """What `user` may be offered now: callable (`callable_condition`), free, theirs or the pool's."""
    w = WorkItem
    conditions = [
        callable_condition(queue, now, zones),
        or_(w.claimed_by_id.is_(None), w.lease_expires_at <= now, w.claimed_by_id == user.id),
        or_(w.assigned_user_id == user.id, w.assigned_user_id.is_(None)),
        # Someone else's callback stays theirs until it is CALLBACK_GRACE overdue (a callback nobody owns,
        # asked for on the self-service line, is anyone's at once).
        not_(
            and_(
                w.follow_up == FollowUp.callback,
                w.callback_user_id.is_not(None),
                w.callback_user_id != user.id,
                w.next_action_at > now - CALLBACK_GRACE,
            )
        ),
    ]
    if queue == QueueName.cadre:
        conditions.append(areas_of(user).condition(w.district_id, w.village_id))
    conditions.append(work_branch_condition(user, w.branch_id))
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
        and_(
            w.follow_up == FollowUp.callback,
            or_(w.callback_user_id.is_(None), w.next_action_at <= now - CALLBACK_GRACE),
        ),
        w.follow_up == FollowUp.promise,
        w.follow_up == FollowUp.none,
    )


def held_by(user: User, now: datetime) -> tuple:
    """Conditions for the items `user` holds under a live lease."""
    return (WorkItem.claimed_by_id == user.id, WorkItem.lease_expires_at > now, _LIVE)


def claim_one(
    session, user: User, queue: QueueName, zones: list[str], now: datetime, lease_until: datetime
) -> WorkItem | None:
    """Claim the first free item of the first tier that has one, in one statement.

    PostgreSQL locks the chosen row with FOR UPDATE SKIP LOCKED so concurrent
    claimers take the next one; SQLite runs the conditional UPDATE … RETURNING
    under its single-writer lock. COALESCE evaluates its arguments only until
    one is not NULL, on both engines, so the tiers are still tried one after the
    other, each walking the index and stopping at its first free row, but a
    claim costs one round trip whichever tier answers.
    """
    claimable = claimable_condition(user, queue, now, zones)
    # Pressing Next while holding a family must not strand it on screen: the
    # held one comes first (its lease is renewed and the policy asked again).
    held = (
        select(WorkItem.id)
        .where(WorkItem.queue == queue, *held_by(user, now))
        .order_by(WorkItem.lease_expires_at.desc())
    )
    candidates = []
    for candidate in (
        held,
        *(select(WorkItem.id).where(claimable, tier).order_by(*CLAIM_ORDER) for tier in claim_tiers(user, now)),
    ):
        candidate = candidate.limit(1)
        if is_postgresql(session):
            candidate = candidate.with_for_update(skip_locked=True)
        candidates.append(candidate.scalar_subquery())
    statement = (
        update(WorkItem)
        .where(
            WorkItem.id == func.coalesce(*candidates),
            or_(WorkItem.claimed_by_id.is_(None), WorkItem.lease_expires_at <= now, WorkItem.claimed_by_id == user.id),
        )
        .values(claimed_by_id=user.id, lease_expires_at=lease_until)
        .returning(WorkItem)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return session.scalars(statement).one_or_none()


def hold(item: WorkItem, user: User, lease_until: datetime) -> None:
    """Claim this one free item for `user` (the demo's simulated working day picks its own families;
    people claim through `claim_one`)."""
    item.claimed_by_id, item.lease_expires_at = user.id, lease_until


def set_aside(item: WorkItem, *, retry_at: datetime | None, reason: CloseReason | None, now: datetime) -> None:
    """A claimed item the contact policy refuses: free it, due again at `retry_at`, or closed for good."""
    _free(item)
    if retry_at is not None:
        item.next_action_at = retry_at
    else:
        _close(item, reason or CloseReason.no_phone, now)


def renew(item: WorkItem, user: User, lease: timedelta, now: datetime) -> WorkItem:
    """Extend the lease while the screen stays open. Raises `Conflict` when the claim was lost."""
    if item.claimed_by_id != user.id or item.lease_expires_at is None or item.lease_expires_at <= now:
        raise Conflict("claim_lost")
    item.lease_expires_at = now + lease
    return item


def keep_held(session, item: WorkItem, user: User, now: datetime, lease_until: datetime) -> bool:
    """Extend `user`'s live claim on this item to `lease_until`, in one conditional UPDATE: False (and nothing
    written) when the claim lapsed or someone else took the family meanwhile (a call is placed only by the
    holder, even when another agent claims at the same moment)."""
    kept = session.execute(
        update(WorkItem)
        .where(WorkItem.id == item.id, _LIVE, WorkItem.claimed_by_id == user.id, WorkItem.lease_expires_at > now)
        .values(lease_expires_at=lease_until)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(item)
    return bool(kept)


def check_holder(item: WorkItem, user: User, now: datetime) -> None:
    """Only the holder of a live claim records on a call-queue family (an outcome, a REHAB plan).

    Raises `Conflict` naming why: nobody holds it, someone else does, or this user's lease ran out.
    (The cadre queue is worked from a list, not by claim: where a cadre may record is `queries.item_for_user`.)
    """
    if item.queue != QueueName.telecollect:
        return
    if item.claimed_by_id == user.id and item.lease_expires_at is not None and item.lease_expires_at > now:
        return
    if item.claimed_by_id == user.id:
        raise Conflict("outcome_lease_lapsed")
    if item.claimed_by_id is not None and item.lease_expires_at is not None and item.lease_expires_at > now:
        raise Conflict("outcome_claimed_by_other")
    raise Conflict("outcome_not_claimed")


def release(item: WorkItem, user: User) -> WorkItem:
    """Give a claimed item back without an outcome (it keeps its schedule)."""
    if item.claimed_by_id != user.id:
        raise Conflict("not_claimed")
    _free(item)
    return item


def skip(item: WorkItem, user: User, *, not_before: datetime) -> WorkItem:
    """The holder gives the family back without an attempt (a skip with a reason): it is free again, and
    not offered to anyone before `not_before`, so Next does not bring it straight back."""
    if item.claimed_by_id != user.id:
        raise Conflict("not_claimed")
    _free(item)
    item.next_action_at = max(item.next_action_at, not_before)
    return item


def take(session, item: WorkItem, user: User, now: datetime, lease_until: datetime) -> bool:
    """Claim this one family (opened from a promise or callback list) if it is live and free or already
    this user's, in one conditional UPDATE (two agents pressing at once: one wins). True when held."""
    taken = session.execute(
        update(WorkItem)
        .where(
            WorkItem.id == item.id,
            _LIVE,
            or_(WorkItem.claimed_by_id.is_(None), WorkItem.lease_expires_at <= now, WorkItem.claimed_by_id == user.id),
        )
        .values(claimed_by_id=user.id, lease_expires_at=lease_until)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(item)
    return bool(taken)


def open_item(session, row: dict) -> WorkItem | None:
    """Open a work item from `new_item_row(...)` unless its family is already live in that queue
    (a telecollector asks for a cadre visit twice: one visit). Returns the new item, or None."""
    live = session.scalar(
        select(WorkItem.id).where(WorkItem.family_id == row["family_id"], WorkItem.queue == row["queue"], _LIVE)
    )
    if live is not None:
        return None
    item = WorkItem(**row)
    session.add(item)
    session.flush()
    return item


def free_lapsed_leases(session, now: datetime) -> int:
    """Clear claims whose lease has run out (the claim condition ignores them anyway; this keeps pages true)."""
    return session.execute(
        update(WorkItem)
        .where(WorkItem.claimed_by_id.is_not(None), WorkItem.lease_expires_at <= now)
        .values(claimed_by_id=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def return_overdue_callbacks(session, now: datetime) -> int:
    """A personal callback overdue by the grace period becomes anyone's."""
    return session.execute(
        update(WorkItem)
        .where(WorkItem.follow_up == FollowUp.callback, _LIVE, WorkItem.next_action_at <= now - CALLBACK_GRACE)
        .values(callback_user_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount


# --- after a contact ---------------------------------------------------------------------------

#: What the counting UPDATE hands back, so the item need not be read again.
_COUNTED = (
    "state",
    "attempts",
    "contacts",
    "last_attempt_at",
    "last_contact_at",
    "claimed_by_id",
    "lease_expires_at",
    "next_action_at",
    "follow_up",
    "callback_user_id",
    "priority",
)


def count_attempt(
    session, item: WorkItem, user: User, *, reached: bool, now: datetime, contact_at: datetime | None = None
) -> bool | None:
    """Bump the item's counters atomically; free the claim if it is this user's or has lapsed.

    Returns None for a closed item (left untouched), else whether another
    person holds a live claim on it. The item is brought up to date from the
    row as the UPDATE left it (another person may have written in between), so
    two people recording at once lose no count. On the call queue the UPDATE
    also requires this user's live claim (`check_holder` said so when the item
    was read; a lease that lapsed since, or a claim taken meanwhile, raises
    `Conflict` here rather than writing). `contact_at` is when the contact
    happened (a cadre's entry synced later), `now` when it is recorded.
    """
    w = WorkItem
    contact_at = contact_at or now
    mine_or_free = (w.claimed_by_id.is_(None)) | (w.claimed_by_id == user.id) | (w.lease_expires_at <= now)
    values = {
        "attempts": w.attempts + 1,
        "last_attempt_at": _latest(w.last_attempt_at, contact_at),
        "claimed_by_id": case((mine_or_free, None), else_=w.claimed_by_id),
        "lease_expires_at": case((mine_or_free, None), else_=w.lease_expires_at),
    }
    if reached:
        values.update(contacts=w.contacts + 1, last_contact_at=_latest(w.last_contact_at, contact_at))
    held = (w.claimed_by_id == user.id, w.lease_expires_at > now) if item.queue == QueueName.telecollect else ()
    row = session.execute(
        update(w)
        .where(w.id == item.id, _LIVE, *held)
        .values(**values)
        .returning(*(getattr(w, name) for name in _COUNTED))
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        session.refresh(item)
        if held and item.state != WorkState.closed:
            check_holder(item, user, now)
            raise Conflict("outcome_not_claimed")  # unreachable: check_holder found the claim gone
        return None
    for name, value in zip(_COUNTED, row, strict=True):
        set_committed_value(item, name, value)
    return row.claimed_by_id is not None and row.claimed_by_id != user.id


def _latest(column, moment: datetime):
    """The later of a stored time and `moment` (an entry synced late must not move the last contact back)."""
    return case((column > moment, column), else_=literal(moment, UTCDateTime))


def close_after_outcome(item: WorkItem, reason: CloseReason, now: datetime) -> None:
    """An outcome that ends the work (already paid, moved, deceased)."""
    item.callback_user_id = None
    _close(item, reason, now)


def await_promise(item: WorkItem, check_at: datetime) -> None:
    """A promise to pay: nobody calls until the day after its date."""
    item.state, item.follow_up, item.callback_user_id, item.next_action_at = (
        WorkState.promised,
        FollowUp.promise,
        None,
        check_at,
    )


def await_callback(item: WorkItem, user: User, at: datetime) -> None:
    """The participant asked to be called back at `at`: the callback is this user's for a while."""
    item.state, item.follow_up, item.callback_user_id, item.next_action_at = (
        WorkState.waiting,
        FollowUp.callback,
        user.id,
        at,
    )


def callback_requested(item: WorkItem, at: datetime) -> bool:
    """The participant asked for a call back on the self-service line: the family is due at `at` as
    anyone's callback (first in the claim order). One callback per family: when one is already waiting
    (asked on the line or promised by an agent), nothing changes and False is returned."""
    if item.state == WorkState.closed or item.follow_up == FollowUp.callback:
        return False
    item.state, item.follow_up, item.callback_user_id, item.next_action_at = (
        WorkState.waiting,
        FollowUp.callback,
        None,
        at,
    )
    return True


def retry_later(item: WorkItem, at: datetime) -> None:
    """No answer, refused, cannot pay…: try again at `at`."""
    item.state, item.follow_up, item.callback_user_id, item.next_action_at = WorkState.waiting, FollowUp.none, None, at


# --- what other domains' events do to a family's work -----------------------------------------------


def requeue(session, family_ids, reason: RequeueReason, now: datetime) -> int:
    """A broken promise or a missed installment: the family's live items are due again at `now`."""
    return _update_live(
        session, family_ids, state=WorkState.waiting, follow_up=FollowUp.none, next_action_at=now, requeue_reason=reason
    )


def back_to_routine(session, family_ids) -> int:
    """A kept promise: the family returns to the ordinary rhythm (it may still owe)."""
    if not family_ids:
        return 0
    return session.execute(
        update(WorkItem)
        .where(one_of(session, WorkItem.family_id, family_ids), WorkItem.state == WorkState.promised)
        .values(state=WorkState.waiting, follow_up=FollowUp.none)
        .execution_options(synchronize_session=False)
    ).rowcount


def await_plan(session, family_id: int, check_at: datetime) -> int:
    """A registered installment plan: nobody chases the family until after its last due date."""
    return _update_live(
        session, [family_id], state=WorkState.promised, follow_up=FollowUp.promise, next_action_at=check_at
    )


def close_families(session, family_ids, reason: CloseReason, now: datetime) -> int:
    """The families' live items close (reactivated) and lose their claims."""
    if not family_ids:
        return 0
    return _update_live(session, family_ids, **_closed_values(reason, now))


def close_settled(session, owing_family_ids, now: datetime) -> int:
    """Close the live items of every family not in `owing_family_ids` (a subquery): they owe nothing now."""
    return session.execute(
        update(WorkItem)
        .where(_LIVE, WorkItem.family_id.not_in(owing_family_ids))
        .values(**_closed_values(CloseReason.no_arrears, now))
        .execution_options(synchronize_session=False)
    ).rowcount


def close_moved(session, now: datetime) -> int:
    """Close (`moved_branch`) the live items left in a branch the family moved away from: its work there ends,
    its history (attempts, promises, payments) stays with the branch it happened in."""
    moved_away = (
        select(Family.id).where(Family.id == WorkItem.family_id, Family.branch_id != WorkItem.branch_id).exists()
    )
    return session.execute(
        update(WorkItem)
        .where(_LIVE, moved_away)
        .values(**_closed_values(CloseReason.moved_branch, now))
        .execution_options(synchronize_session=False)
    ).rowcount


def _update_live(session, family_ids, **values) -> int:
    return session.execute(
        update(WorkItem)
        .where(one_of(session, WorkItem.family_id, family_ids), _LIVE)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount


def _closed_values(reason: CloseReason, now: datetime) -> dict:
    return {
        "state": WorkState.closed,
        "close_reason": reason,
        "closed_at": now,
        "follow_up": FollowUp.none,
        "claimed_by_id": None,
        "lease_expires_at": None,
        "callback_user_id": None,
    }


def _close(item: WorkItem, reason: CloseReason, now: datetime) -> None:
    for name, value in _closed_values(reason, now).items():
        setattr(item, name, value)


def _free(item: WorkItem) -> None:
    item.claimed_by_id = None
    item.lease_expires_at = None
