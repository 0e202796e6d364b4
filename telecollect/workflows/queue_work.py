"""Working the queues: claiming a family, recording what happened on a contact, registering a REHAB plan."""

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from telecollect.auth.models import User
from telecollect.contacts import services as contacts
from telecollect.contacts.models import Channel
from telecollect.contacts.services import OutcomeInput, Recorded
from telecollect.db import lock_for
from telecollect.errors import ServiceError
from telecollect.messaging.reminders import pre_call_notice, prompt_autodebit_now
from telecollect.participants.models import Family
from telecollect.payments import services as payments
from telecollect.policy import rules as policy
from telecollect.programs import services as programs
from telecollect.programs.models import InstallmentPlan
from telecollect.queues import lifecycle
from telecollect.queues import services as queues
from telecollect.queues.models import CloseReason, QueueName, WorkItem
from telecollect.queues.queries import attach_family
from telecollect.settings import Settings

#: How many refused candidates a claim skips before answering "nothing now".
MAX_CLAIM_TRIES = 25


def claim(
    session: Session, user: User, rules: policy.ContactRules, *, lease: timedelta, now: datetime
) -> WorkItem | None:
    """Berikutnya: claim the family most worth contacting now (a lease) → the contact policy asked about it →
    for a call, the pre-call notice (when the branch sends one). None when nothing may be worked now.

    The pick-and-claim is one statement, safe with many claimers at once (`lifecycle.claim_one`). An item
    the policy refuses (a cap reached, no usable number) is rescheduled or closed and the next one is tried.
    """
    queue = queues.queue_for(user)
    zones = policy.zones_open(session, rules, now)
    if not zones:
        return None
    for _try in range(MAX_CLAIM_TRIES):
        item = lifecycle.claim_one(session, user, queue, zones, now, now + lease)
        if item is None:
            return None
        attach_family(session, item)
        channel = Channel.phone if queue == QueueName.telecollect else Channel.whatsapp
        decision = policy.decide(
            session,
            rules,
            family_id=item.family_id,
            members=item.family.members,
            zone=item.timezone,
            channel=channel,
            now=now,
        )
        if decision.allowed:
            if queue == QueueName.telecollect:
                pre_call_notice(session, rules, item.family.members, now)
            return item
        lifecycle.set_aside(
            item, retry_at=decision.retry_at, reason=None if decision.retry_at else CloseReason(decision.code), now=now
        )
        session.flush()
    return None


def record_outcome(
    session: Session,
    item: WorkItem,
    user: User,
    given: OutcomeInput,
    *,
    rules: policy.ContactRules,
    retry_delays: dict[str, timedelta],
    now: datetime,
    settings: Settings,
) -> Recorded:
    """One contact's outcome: a callback asked for inside the calling window → the number used (one the policy
    allows, unless the person named it) → the attempt → the work item's counters and schedule → a promise and
    what is already paid toward it → an autodebit prompt. Raises `ServiceError` for a callback outside the
    window.

    The same `client_ref` twice, even at the same moment from two requests,
    records once: the second waits for the first and then finds it. Nothing a person records is
    dropped: on an item that closed meanwhile, or that someone else claimed
    after this person's lease ran out, the attempt is kept and only the
    schedule is left alone.
    """
    if given.client_ref:
        lock_for(session, f"outcome:{user.id}:{given.client_ref}")
        first = contacts.find_recorded(session, user, given.client_ref)
        if first is not None:
            return Recorded(first, is_new=False)
    if given.kind.callback and given.callback_at is not None:
        _check_callback_window(session, rules, item.timezone, given.callback_at)
    if not given.phone:
        given.phone = next(iter(policy.contactable_phones(session, item.family.members, given.channel)), None)
    attempt = contacts.record_attempt(session, item, user, given, now)
    if given.kind.promise:
        promise = contacts.record_promise(session, item, user, attempt, given, now)
        payments.credit_new_promise(session, promise, grace=settings.promise_grace)
    if given.kind.code == "interested_autodebit":
        prompt_autodebit_now(session, rules, item.family.members, attempt.id, now)
    claimed_by_other = lifecycle.count_attempt(session, item, user, reached=given.kind.reached, now=now)
    if claimed_by_other is False:  # the item is live and nobody else is working it
        _schedule(session, item, user, given, rules=rules, retry_delays=retry_delays, now=now)
    session.flush()
    return Recorded(attempt, is_new=True, was_claimed_by_other=bool(claimed_by_other))


def _schedule(
    session: Session,
    item: WorkItem,
    user: User,
    given: OutcomeInput,
    *,
    rules: policy.ContactRules,
    retry_delays: dict[str, timedelta],
    now: datetime,
) -> None:
    kind = given.kind
    at = policy.next_action_time(session, item, given, rules=rules, retry_delays=retry_delays, now=now)
    if kind.final:
        lifecycle.close_after_outcome(item, CloseReason(kind.code), now)
    elif kind.promise:
        lifecycle.await_promise(item, at)
    elif kind.callback:
        lifecycle.await_callback(item, user, at)
    else:
        lifecycle.retry_later(item, at)
    queues.rescore(item, now)


def _check_callback_window(session: Session, rules: policy.ContactRules, zone: str, at: datetime) -> None:
    window = policy.window_decision(session, rules, zone, at)
    if not window.allowed:
        raise ServiceError("callback_outside_hours", "callback_at", reason=window.reason)


def register_plan(
    session: Session,
    family: Family,
    *,
    installments: int,
    start_month: date,
    on: date,
    user: User,
    settings: Settings,
) -> InstallmentPlan:
    """The REHAB plan the participant registered → nobody chases the family until after its last due date."""
    plan = programs.register_plan(
        session,
        family,
        installments=installments,
        start_month=start_month,
        on=on,
        user=user,
        due_day=settings.installment_due_day,
    )
    lifecycle.await_plan(session, family.id, programs.check_after_plan(plan))
    return plan
