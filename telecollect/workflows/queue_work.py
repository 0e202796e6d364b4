"""Working the queues: claiming a family, recording what happened on a contact, registering a REHAB plan."""

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from telecollect.audit import services as audit
from telecollect.auth.models import User
from telecollect.contacts import services as contacts
from telecollect.contacts.models import Channel, ConsentChannel, ConsentSource
from telecollect.contacts.services import OutcomeInput, Recorded
from telecollect.db import lock_for
from telecollect.errors import Conflict, ServiceError
from telecollect.messaging.reminders import pre_call_notice, prompt_autodebit_now
from telecollect.metrics import CLAIMS, OUTCOMES, count_on_commit
from telecollect.participants import services as participants
from telecollect.payments import services as payments
from telecollect.phones import InvalidPhone, mask_phone, normalize_mobile
from telecollect.policy import optouts
from telecollect.policy import rules as policy
from telecollect.programs import services as programs
from telecollect.programs.models import InstallmentPlan
from telecollect.queues import lifecycle
from telecollect.queues import services as queues
from telecollect.queues.models import CloseReason, QueueName, WorkItem
from telecollect.queues.queries import attach_family
from telecollect.settings import Settings
from telecollect.telephony import services as telephony

#: How many refused candidates a claim skips before answering "nothing now".
MAX_CLAIM_TRIES = 25
#: Why a telecollector skips a family without an attempt, and how long it then stays out of Next.
SKIP_REASONS: dict[str, timedelta] = {
    "wrong_time": timedelta(hours=1),
    "needs_visit": timedelta(days=3),
    "number_doubtful": timedelta(hours=4),
    "other": timedelta(hours=1),
}


def claim(
    session: Session, user: User, rules: policy.ContactRules, *, lease: timedelta, now: datetime
) -> WorkItem | None:
    """Berikutnya: claim the family most worth contacting now (a lease) → the contact policy asked about it →
    for a call, the pre-call notice (when the branch sends one). None when nothing may be worked now.

    The pick-and-claim is one statement, safe with many claimers at once (`lifecycle.claim_one`). An item
    the policy refuses (a cap reached, no usable number) is rescheduled or closed and the next one is tried.
    """
    owed = owed_family(session, user, lease=lease, now=now)
    if owed is not None:
        return owed  # forced disposition: the connected call's outcome first
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
            count_on_commit(session, CLAIMS, queue.value)
            return item
        lifecycle.set_aside(
            item, retry_at=decision.retry_at, reason=None if decision.retry_at else CloseReason(decision.code), now=now
        )
        if item.queue == QueueName.telecollect and item.close_reason == CloseReason.no_phone:
            open_cadre_visit(session, item, now)  # nobody can phone them: a cadre can knock
        session.flush()
    return None


def save_and_next(
    session: Session,
    item: WorkItem,
    user: User,
    given: OutcomeInput,
    *,
    rules: policy.ContactRules,
    retry_delays: dict[str, timedelta],
    lease: timedelta,
    now: datetime,
    settings: Settings,
) -> tuple[Recorded, WorkItem | None]:
    """Save and next, the agent desktop's Enter: the outcome (`record_outcome`) → the next family claimed
    (`claim`; the one just saved is rescheduled, so it is not offered again). The next is None when nobody
    may be contacted now."""
    recorded = record_outcome(
        session, item, user, given, rules=rules, retry_delays=retry_delays, now=now, settings=settings
    )
    return recorded, claim(session, user, rules, lease=lease, now=now)


def skip(
    session: Session,
    item: WorkItem,
    user: User,
    reason: str,
    *,
    rules: policy.ContactRules,
    lease: timedelta,
    now: datetime,
    claim_next: bool = True,
) -> WorkItem | None:
    """Skip with a reason: only the claim's holder (`lifecycle.skip`, raises `Conflict`) → the family is
    free, no attempt counted, and not offered again for a while (`SKIP_REASONS`) → the skip on the audit log
    (what the dashboard counts per agent and reason) → "needs a cadre visit" opens the family on the cadre
    queue in its kelurahan → the next family claimed (None: nobody may be contacted now)."""
    if reason not in SKIP_REASONS:
        raise ServiceError("skip_reason_unknown", "reason")
    check_nothing_owed(session, user)
    lifecycle.check_holder(item, user, now)
    lifecycle.skip(item, user, not_before=now + SKIP_REASONS[reason])
    audit.record(session, SKIP_ACTION, user=user, target=item, detail=reason)
    if reason == "needs_visit":
        open_cadre_visit(session, item, now)
    session.flush()
    return claim(session, user, rules, lease=lease, now=now) if claim_next else None


#: The audit action of a skip; its detail is the reason code.
SKIP_ACTION = "work_item.skip"
#: How long a family whose call's outcome is owed is held again for the agent when she comes back to it.
OWED_HOLD = timedelta(minutes=1)


def owed_family(session: Session, user: User, *, lease: timedelta, now: datetime) -> WorkItem | None:
    """Forced disposition: the family whose connected call's outcome `user` owes, held for her again if it is
    free (her lease may have ended meanwhile); None when she owes nothing. Next, claims and the queue's start
    page bring her back to it until she records the outcome (or a supervisor closes it as not recorded)."""
    owed = telephony.owed_call(session, user)
    if owed is None:
        return None
    item = session.get(WorkItem, owed.work_item_id)
    if item is not None:
        lifecycle.take(session, item, user, now, now + lease)
        attach_family(session, item)
    return item


def check_nothing_owed(session: Session, user: User, item: WorkItem | None = None) -> None:
    """A skip, a release or another family while a connected call's outcome is owed is refused
    (`Conflict("outcome_owed")`); `item`: the family being opened, allowed when it is the owed one."""
    owed = telephony.owed_call(session, user)
    if owed is not None and (item is None or owed.work_item_id != item.id):
        raise Conflict("outcome_owed", family=owed.family_id)


def open_cadre_visit(session: Session, item: WorkItem, now: datetime) -> WorkItem | None:
    """The family on the cadre queue, in the team pool of its kelurahan (unless it is already there)."""
    return lifecycle.open_item(
        session,
        lifecycle.new_item_row(
            family_id=item.family_id,
            queue=QueueName.cadre,
            owner_id=None,
            timezone=item.timezone,
            district_id=item.district_id,
            village_id=item.village_id,
            amount=item.assigned_amount,
            priority=item.priority,
            now=now,
        ),
    )


def work_family(
    session: Session, item: WorkItem, user: User, rules: policy.ContactRules, *, lease: timedelta, now: datetime
) -> WorkItem:
    """Work this family now, opened from a promise or callback list: the contact policy asked (hours,
    caps, a usable number; refusal `ServiceError("work_not_now")` with its reason) → the claim taken if the
    family is free or already this user's (`lifecycle.take`; `Conflict("outcome_claimed_by_other")`)."""
    decision = policy.decide(
        session,
        rules,
        family_id=item.family_id,
        members=item.family.members,
        zone=item.timezone,
        channel=Channel.phone,
        now=now,
    )
    if not decision.allowed:
        raise ServiceError("work_not_now", "item", reason=decision.reason or "")
    check_nothing_owed(session, user, item)
    if not lifecycle.take(session, item, user, now, now + lease):
        raise Conflict("outcome_claimed_by_other")
    return item


def add_heard_number(session: Session, item: WorkItem, user: User, card_no: str, written: str, *, now: datetime) -> str:
    """A new number heard on the call: only by the claim's holder (`lifecycle.check_holder`) → one of this
    family's members → a valid Indonesian mobile number (`phones.normalize_mobile`) → into the member's
    free `phone2` (or in place of a number marked invalid) → audited with its source, "telepon".
    Returns the number as stored (E.164)."""
    lifecycle.check_holder(item, user, now)
    member = next((m for m in item.family.members if m.card_no == card_no), None)
    if member is None:
        raise ServiceError("heard_number_member", "card_no")
    try:
        phone = normalize_mobile(written)
    except InvalidPhone as exc:
        raise ServiceError.of(exc, "phone", label="field_phone") from None
    slot = participants.add_number(member, phone)
    audit.record(
        session,
        "participant.phone_added",
        user=user,
        target=member,
        detail=f"{slot} {mask_phone(phone)} source=telepon work_item={item.id}",
    )
    session.flush()
    return phone


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
    """One contact's outcome: who may record it → the number used → where the contact stood against the
    contact policy → the attempt (flagged and audited when outside the policy) → the work item's counters
    and schedule → a promise and what is already paid toward it → an autodebit prompt (one per family and
    month).

    Who may record: on the call queue only the holder of the live claim (`lifecycle.check_holder`, raises
    `Conflict`); on the cadre queue a family of her list (the view loaded it through `item_for_user`) that
    was in the queue when she made the contact (`given.contact_at`, her entry's time).

    The contact policy gates what STARTS a contact (claims, call buttons, sends). A contact that already
    happened is never refused for hours, caps or opt-outs: it is recorded with the policy's reason code in
    `outside_policy`, and audited. A callback asked for outside the calling window is moved to the window's
    next opening (the callback is a contact yet to start).

    The same `client_ref` twice, even at the same moment from two requests,
    records once: the second waits for the first and then finds it.
    """
    if given.client_ref:
        lock_for(session, f"outcome:{user.id}:{given.client_ref}")
        first = contacts.find_recorded(session, user, given.client_ref)
        if first is not None:
            return Recorded(first, is_new=False)
    # Forced disposition: the outcome a connected call owes is hers to record, also after her lease ended.
    # The call this outcome completes (one call, one attempt): her connected call on this family whose outcome
    # is owed (forced disposition: hers to record, also after her lease ended), or her call still going on it
    # (she types while she talks).
    call = telephony.call_for_outcome(session, user, item.id) if item.queue == QueueName.telecollect else None
    if call is not None:
        if call.disposition is not None:
            lifecycle.take(session, item, user, now, now + OWED_HOLD)
        given.phone = given.phone or call.phone  # the number the call dialled
    lifecycle.check_holder(item, user, now)
    if given.contact_at is not None and item.created_at > given.contact_at:
        raise Conflict("outcome_before_listed")  # an entry made before this family was on anybody's list
    contact_at = given.contact_at or now
    if given.kind.callback and given.callback_at is not None:
        given.callback_at = _callback_inside_window(session, rules, item.timezone, given.callback_at)
    named = given.phone  # a number the person named may be one that opted out; a picked one never is
    if not given.phone:
        given.phone = next(iter(policy.contactable_phones(session, item.family.members, given.channel)), None)
    outside = _outside_policy(session, rules, item, given, contact_at, named=named)
    attempt = contacts.record_attempt(session, item, user, given, now, outside_policy=outside.code)
    if call is not None:
        telephony.complete_disposition(session, call, attempt.id, now=now)  # one call, one attempt
    if outside.code:
        audit.record(
            session, "contact.outside_policy", user=user, target=attempt, detail=f"{outside.code}: {outside.reason}"
        )
    _record_consent(session, item, user, given, now)
    if given.kind.promise:
        promise = contacts.record_promise(session, item, user, attempt, given, now)
        payments.credit_new_promise(session, promise, grace=settings.promise_grace)
    if given.kind.code == "interested_autodebit":
        prompt_autodebit_now(session, rules, item.family.members, now, zone=settings.branch_timezone)
    claimed_by_other = lifecycle.count_attempt(
        session, item, user, reached=given.kind.reached, now=now, contact_at=contact_at
    )
    if claimed_by_other is False:  # the item is live and nobody else is working it
        _schedule(session, item, user, given, rules=rules, retry_delays=retry_delays, now=now)
    session.flush()
    count_on_commit(session, OUTCOMES, given.kind.code, given.channel.value)
    return Recorded(attempt, is_new=True, was_claimed_by_other=bool(claimed_by_other))


def _record_consent(session: Session, item: WorkItem, user: User, given: OutcomeInput, now: datetime) -> None:
    """What the family said about being contacted, into the consent ledger (`policy.optouts`): WhatsApp agreed
    for the number used; `do_not_contact` for every number of the family on every channel, and visits."""
    source = ConsentSource.cadre if item.queue == QueueName.cadre else ConsentSource.outcome
    if given.whatsapp_opt_in and given.phone and given.kind.code != "do_not_contact":
        optouts.opt_in(session, given.phone, ConsentChannel.whatsapp, source=source, now=now, by_user_id=user.id)
    if given.kind.code == "do_not_contact":
        reason = "tidak mau dihubungi"
        numbers = {n for m in item.family.members for n in (m.phone, m.phone2) if n}
        for number in sorted(numbers):
            for channel in (
                ConsentChannel.phone,
                ConsentChannel.sms,
                ConsentChannel.whatsapp,
                ConsentChannel.cadre_whatsapp,
            ):
                optouts.opt_out(session, number, channel, reason, source=source, now=now, by_user_id=user.id)
        optouts.family_opt_out(session, item.family_id, reason, source=source, now=now, by_user_id=user.id)


def _outside_policy(
    session: Session,
    rules: policy.ContactRules,
    item: WorkItem,
    given: OutcomeInput,
    at: datetime,
    *,
    named: str | None,
) -> policy.Decision:
    """Where a contact that happened at `at` stood against the contact policy: the window (day, holiday,
    hours), the family's caps (attempts before this one), the number's opt-out on the channel. Only
    asked to flag, never to refuse."""
    window = policy.window_decision(session, rules, item.timezone, at)
    if not window.allowed:
        return window
    used = named if given.channel in (Channel.phone, Channel.whatsapp) else None
    if used and optouts.is_opted_out(session, used, optouts.for_contact(given.channel)):
        return policy.Decision(False, "opt_out", {"channel": given.channel.value})
    if given.channel in policy.CAPPED_CHANNELS:
        return policy.cap_decision(session, rules, item.family_id, item.timezone, at)
    return policy.ALLOWED


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


def _callback_inside_window(session: Session, rules: policy.ContactRules, zone: str, at: datetime) -> datetime:
    """The callback time asked for, or the calling window's next opening after it."""
    window = policy.window_decision(session, rules, zone, at)
    return at if window.allowed else (window.retry_at or at)


def register_plan(
    session: Session,
    item: WorkItem,
    *,
    installments: int,
    start_month: date,
    on: date,
    user: User,
    settings: Settings,
    now: datetime,
) -> InstallmentPlan:
    """The REHAB plan the participant registered, from the call screen: only by the holder of the live
    claim on a call-queue family (`lifecycle.check_holder`, raises `Conflict`) → the plan (one active plan
    per family, `programs.register_plan`) → nobody chases the family until after its last due date."""
    lifecycle.check_holder(item, user, now)
    plan = programs.register_plan(
        session,
        item.family,
        installments=installments,
        start_month=start_month,
        on=on,
        user=user,
        due_day=settings.installment_due_day,
    )
    lifecycle.await_plan(session, item.family_id, programs.check_after_plan(plan))
    return plan
