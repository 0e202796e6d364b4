"""Recording what happened on a contact, and scheduling what comes next."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from telecollect.auth.models import User
from telecollect.contacts.models import Channel, ContactAttempt, Promise
from telecollect.contacts.outcomes import OUTCOMES, OutcomeKind
from telecollect.errors import ServiceError
from telecollect.formatting import ZONES
from telecollect.money import parse_positive_rupiah
from telecollect.participants.models import bucket_of
from telecollect.participants.queries import family_arrears
from telecollect.phones import InvalidPhone, normalize_mobile
from telecollect.queues.models import QueueName, WorkItem
from telecollect.reasons import Refusal

#: How far ahead a promise or a callback may be set.
MAX_DAYS_AHEAD = 30
#: What a person can record; SMS are sent by the system, not logged by hand.
HAND_CHANNELS = {
    QueueName.telecollect: (Channel.phone, Channel.whatsapp),
    QueueName.cadre: (Channel.whatsapp, Channel.phone, Channel.visit),
}


@dataclass
class OutcomeInput:
    kind: OutcomeKind
    channel: Channel
    note: str | None = None
    promise_date: date | None = None
    promise_amount: int | None = None
    callback_at: datetime | None = None
    phone: str | None = None
    client_ref: str | None = None
    #: When the contact happened, if before it is recorded (a cadre's entry saved offline and synced later).
    contact_at: datetime | None = None
    #: The participant agreed to WhatsApp messages from the branch (recorded in the consent ledger).
    whatsapp_opt_in: bool = False


@dataclass
class Recorded:
    """What recording an outcome did."""

    attempt: ContactAttempt
    #: False when the client_ref was seen before and the first result is returned.
    is_new: bool
    #: Someone else held the claim: the attempt is kept, their claim untouched.
    was_claimed_by_other: bool = False


def parse_outcome(data: dict, item: WorkItem, *, now: datetime) -> OutcomeInput:
    """Validate an outcome submission (API JSON or screen form). Raises `ServiceError` naming the field.
    (Whether a callback falls in the calling window is the contact policy's question, asked when the
    outcome is recorded.)"""
    kind = OUTCOMES.get(str(data.get("outcome") or ""))
    if kind is None or (item.queue == QueueName.telecollect and not kind.call):  # a cadre may also call
        raise ServiceError("invalid_outcome", "outcome")
    channel = _channel(data.get("channel") or HAND_CHANNELS[item.queue][0].value, item.queue)
    parsed = OutcomeInput(
        kind=kind,
        channel=channel,
        note=_note(data.get("note")),
        client_ref=_client_ref(data.get("client_ref")),
        phone=_family_phone(data.get("phone"), item),
        whatsapp_opt_in=data.get("whatsapp_opt_in") in (True, "true", "on", "1", 1),
    )
    if item.queue == QueueName.cadre:
        # `occurred_at` is the phone's time of the contact; `recorded_at` is its older name, still accepted.
        field = "occurred_at" if data.get("occurred_at") else "recorded_at"
        if data.get(field):
            parsed.contact_at = _occurred_at(data.get(field), item.timezone, now, field)
    # A promise is dated by the day it was made (a cadre's entry may reach the server days later).
    local_today = (parsed.contact_at or now).astimezone(ZONES[item.timezone]).date()
    if kind.promise:
        parsed.promise_date = _promise_date(data.get("promise_date"), local_today)
        parsed.promise_amount = _promise_amount(data.get("promise_amount"))
    if kind.callback:
        # A callback asked for on a visit is checked against when she asked, not when the entry arrived.
        parsed.callback_at = _callback_at(data.get("callback_at"), item.timezone, parsed.contact_at or now)
    return parsed


def _channel(value, queue: QueueName) -> Channel:
    try:
        channel = Channel(str(value))
    except ValueError:
        channel = None
    if channel not in HAND_CHANNELS[queue]:
        allowed = ", ".join(c.value for c in HAND_CHANNELS[queue])
        raise ServiceError("invalid_channel", "channel", allowed=allowed)
    return channel


def _note(value) -> str | None:
    note = str(value or "").strip()
    if len(note) > 1000:
        raise ServiceError("note_too_long", "note")
    return note or None


def _client_ref(value) -> str | None:
    ref = str(value or "").strip()
    if len(ref) > 64:
        raise ServiceError("client_ref_too_long", "client_ref")
    return ref or None


def _family_phone(value, item: WorkItem) -> str | None:
    """The number the person says they used: one of the family's own numbers, in any usual writing
    (`0812-…`, `+62 812 …`), stored as E.164. Blank: the workflow picks the first usable one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        phone = normalize_mobile(value)
    except InvalidPhone as exc:
        raise ServiceError.of(exc, "phone", label="field_phone") from None
    own = {number for member in item.family.members for number in (member.phone, member.phone2) if number}
    if phone not in own:
        raise ServiceError("phone_not_family", "phone")
    return phone


#: How long a cadre's entry may wait on her phone before it is too old to record (issue 13: three days).
MAX_HOURS_OFFLINE = 72
#: How far ahead of the server a phone's clock may run: a time ahead by less counts as now, more is refused.
CLOCK_SKEW = timedelta(minutes=5)


def _occurred_at(value, zone: str, now: datetime, field: str = "occurred_at") -> datetime:
    """When the contact happened by the phone's clock (ISO 8601; without an offset, the family's local time).
    Accepted up to MAX_HOURS_OFFLINE hours old; never in the future beyond CLOCK_SKEW (a phone whose clock
    is wrong is told so, and the entry stays on it to be corrected)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ServiceError("occurred_at_invalid", field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZONES[zone])
    moment = moment.astimezone(UTC)
    if moment < now - timedelta(hours=MAX_HOURS_OFFLINE):
        raise ServiceError("occurred_at_too_old", field, hours=MAX_HOURS_OFFLINE)
    if moment > now + CLOCK_SKEW:
        raise ServiceError("occurred_at_in_future", field)
    return min(moment, now)


def parse_occurred_at(value, zone: str, now: datetime) -> datetime:
    """The phone's time of something a cadre did (an outcome, a WhatsApp opened), checked by the one rule
    (`_occurred_at`); an empty value is `now`."""
    return _occurred_at(value, zone, now) if value else now


def _promise_date(value, local_today: date) -> date:
    if isinstance(value, date):
        promised = value
    else:
        try:
            promised = date.fromisoformat(str(value or ""))
        except ValueError:
            raise ServiceError("promise_date_required", "promise_date") from None
    if not local_today <= promised <= local_today + timedelta(days=MAX_DAYS_AHEAD):
        raise ServiceError("promise_date_out_of_range", "promise_date", days=MAX_DAYS_AHEAD)
    return promised


def _promise_amount(value) -> int:
    """Whole Rupiah above 0, written (1.500.000, Rp 1.500.000,00) or a JSON number; the error names why."""
    try:
        return parse_positive_rupiah(value)
    except Refusal as exc:
        if exc.code == "required":
            raise ServiceError("promise_amount_required", "promise_amount") from None
        raise ServiceError.of(exc, "promise_amount", label="field_promise_amount") from None


def _callback_at(value, zone: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value or ""))
    except ValueError:
        raise ServiceError("callback_at_required", "callback_at") from None
    if moment.tzinfo is None:  # a time typed on screen is the participant's local time
        moment = moment.replace(tzinfo=ZONES[zone])
    moment = moment.astimezone(UTC)
    if moment <= now or moment > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ServiceError("callback_at_out_of_range", "callback_at", days=MAX_DAYS_AHEAD)
    return moment


def find_recorded(session, user: User, client_ref: str | None) -> ContactAttempt | None:
    if not client_ref:
        return None
    return session.scalar(
        select(ContactAttempt).where(ContactAttempt.user_id == user.id, ContactAttempt.client_ref == client_ref)
    )


def record_attempt(
    session, item: WorkItem, user: User, given: OutcomeInput, now: datetime, *, outside_policy: str | None = None
) -> ContactAttempt:
    """Store one contact attempt on the family (and mark a number found not to be theirs as invalid).

    The attempt is dated when the contact happened (`given.contact_at`, else `now`). `outside_policy`
    is the contact policy's reason code when the contact happened outside it (hours, a cap, an
    opt-out): a contact that happened is recorded all the same, flagged.

    Nothing a person records is dropped: the attempt is stored whatever state
    the work item is in; what it does to the item is the lifecycle's business.
    A `client_ref` seen before fails the flush (unique per user): see
    `workflows.queue_work.record_outcome`."""
    members = item.family.members
    phone = given.phone  # the caller chose it among the numbers the policy allows (or the person typed it)
    _amount, months = family_arrears(members)
    attempt = ContactAttempt(
        queue=item.queue.value,
        district_id=item.district_id,
        village_id=item.village_id,
        bucket=bucket_of(months),
        work_item_id=item.id,
        family_id=item.family_id,
        user_id=user.id,
        channel=given.channel,
        outcome=given.kind.code,
        is_reached=given.kind.reached,
        is_right_party=given.kind.right_party,
        phone=phone,
        note=given.note,
        callback_at=given.callback_at,
        at=given.contact_at or now,
        outside_policy=outside_policy,
        client_ref=given.client_ref,
        participant_id=next((m.id for m in members if phone and m.phone == phone), None),
    )
    session.add(attempt)
    session.flush()
    if given.kind.invalid_number and phone:
        for member in members:
            if member.phone == phone:
                member.is_phone_invalid = True
    return attempt


def record_promise(
    session, item: WorkItem, user: User, attempt: ContactAttempt, given: OutcomeInput, now: datetime
) -> Promise:
    """The promise to pay made on `attempt`, dated by the family's calendar day when it was made."""
    promise = Promise(
        family_id=item.family_id,
        attempt_id=attempt.id,
        user_id=user.id,
        made_on=(given.contact_at or now).astimezone(ZONES[item.timezone]).date(),
        promised_on=given.promise_date,
        amount=given.promise_amount,
        created_at=now,
    )
    session.add(promise)
    session.flush()
    return promise
