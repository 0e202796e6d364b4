"""The dispatcher: sends due SMS in batches, safely beside another dispatcher, and never twice.

Rows are claimed first, in one statement, and the claim is committed before
anything leaves (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: its single
writer), so two dispatchers never hold the same message. The contact policy is
asked again at send time: a message planned for the evening waits until SMS
hours open; a number that opted out meanwhile is never messaged.

Twilio has no idempotency key for messages, so each call is recorded first:
`attempt_ref` and `attempt_at` are committed before the HTTP call (this is why
the dispatcher commits mid-way, message by message). A call whose answer never
came back (a read timeout, a dispatcher killed mid-send) leaves the row
`sending` with `attempt_at` set; once its claim lapses the next dispatcher
reconciles it with Twilio's list of the recipient's messages of that day (same
sender, same body, a SID none of our rows holds yet): exactly one such message
→ it was sent, recorded with its SID; none, and nothing else of ours to that
number since → it never left, sent now; anything less certain → `unknown`, for
a supervisor to settle on the outbox page. A status callback
carrying the attempt's reference (`?ref=`) settles it too. Nothing with an
unknown outcome is sent again by itself.

WhatsApp rows go the same way, with their own checks at send time (a standing
opt-in, a Content SID) and their own errors (`whatsapp.WHATSAPP_ERRORS`): a
failure becomes one SMS (`outbox.fall_back_to_sms`). With `rates`, each sender's
token bucket (`rates.take`) is asked before each call, however many dispatchers
run; `pair_seconds` keeps messages to one recipient apart.
"""

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from telecollect.contacts.models import Channel, ConsentChannel, ConsentSource
from telecollect.db import is_postgresql
from telecollect.messaging import events, rates, whatsapp
from telecollect.messaging.gateways import WHATSAPP_PREFIX, OutcomeUnknown, SendError, SendResult
from telecollect.messaging.models import (
    STATUS_RANK,
    TWILIO_STATUS,
    MessageChannel,
    SmsEvent,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from telecollect.messaging.outbox import fall_back_to_sms
from telecollect.participants.models import Participant
from telecollect.policy import rules as policy
from telecollect.policy.optouts import has_opted_in, is_opted_out, opt_out

CLAIM_FOR = timedelta(minutes=5)
#: After a call that got no answer, how long before Twilio's list is read (it has listed the message by then).
RECONCILE_AFTER = timedelta(minutes=2)
#: A message whose reconciliation cannot read Twilio's list for this long is left to a supervisor.
GIVE_UP_AFTER = timedelta(days=1)
#: How far Twilio's clock may be behind ours when its creation times are compared with an attempt's.
CLOCK_SKEW = timedelta(minutes=5)
MAX_ATTEMPTS = 8
#: Twilio codes: 20429 too many requests; 21610 the recipient replied STOP;
#: 21211 invalid 'To' number; 21614 'To' is not a mobile number.
RATE_LIMITED, OPTED_OUT, INVALID_NUMBERS = 20429, 21610, {21211, 21614}


#: What can happen to a claimed message in one run. `unresolved`: the call got no answer, reconciled in a later
#: run; `reconciled`: a past call found in Twilio's list (sent once, not again); `unknown`: left for a supervisor.
#: `taken`: another dispatcher claimed it again while this one was slower than its claim; left to that one.
OUTCOMES = ("sent", "held", "deferred", "retry", "failed", "canceled", "unresolved", "reconciled", "unknown", "taken")


@dataclass
class Pace:
    """How fast the dispatcher may send: messages per second per sender (`rates`, by channel; 0 or absent: no
    limit) and the least seconds between two messages to one recipient (`pair_seconds`, by channel). `clock`
    and `sleep` are the wall clock's (a rate is about real seconds, not the business `now`)."""

    rates: dict = field(default_factory=dict)
    pair_seconds: dict = field(default_factory=dict)
    clock: object = time.time
    sleep: object = time.sleep

    @classmethod
    def from_config(cls, config) -> "Pace":
        return cls(
            rates={"sms": config["SMS_RATE_PER_SECOND"], "whatsapp": config["WHATSAPP_RATE_PER_SECOND"]},
            pair_seconds={"sms": config["SMS_PAIR_SECONDS"], "whatsapp": config["WHATSAPP_PAIR_SECONDS"]},
        )


NO_LIMIT = Pace()

#: What a message's branch sends it with: `senders(branch_id)` → (gateway, contact rules). The edge builds
#: it (telecollect.runtime.BranchSenders: each branch's own sender and quiet hours).
BranchSenders = Callable[[int | None], tuple[Any, policy.ContactRules]]


@dataclass
class DispatchResult:
    counts: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1


def dispatch_due(
    session,
    gateway,
    rules: policy.ContactRules,
    *,
    now: datetime,
    batch_size: int = 100,
    max_batches: int = 1000,
    jitter=random.random,
    pace: Pace = NO_LIMIT,
    senders: BranchSenders | None = None,
) -> DispatchResult:
    """Send every message due at `now`, batch by batch; returns what happened to them.

    `senders`: each message's branch's gateway (its sender) and contact rules (its quiet hours), asked with
    the message's `branch_id`; without it, every message goes through `gateway` under `rules`."""
    result = DispatchResult()
    for _ in range(max_batches):
        claimed = claim_batch(session, now, batch_size)
        if not claimed:
            break
        for message_id in claimed:
            outcome = send_claimed(
                session, gateway, rules, message_id, now=now, jitter=jitter, pace=pace, senders=senders
            )
            result.add(outcome)
            session.commit()
    return result


def send_claimed(
    session,
    gateway,
    rules,
    message_id: int,
    *,
    now: datetime,
    jitter=random.random,
    pace: Pace = NO_LIMIT,
    senders: BranchSenders | None = None,
) -> str:
    """One message this dispatcher claimed at `now`: reconciled first if an earlier call's outcome is unknown,
    then sent, unless another dispatcher took it over meanwhile (this one was slower than its claim). With
    `senders`, through its branch's gateway and under its branch's rules."""
    message = session.get(SmsMessage, message_id)
    if message.status != SmsStatus.sending or message.claimed_until != now + CLAIM_FOR:
        return "taken"
    if senders is not None:
        gateway, rules = senders(message.branch_id)
    outcome = reconcile(session, gateway, message, now) if message.attempt_at is not None else None
    if outcome is None:  # never called Twilio, or Twilio has no such message: send it
        outcome = _process(session, gateway, rules, message, now, jitter, pace)
    return outcome


def claim_batch(session, now: datetime, size: int) -> list[int]:
    """Claim up to `size` due messages (and ones whose claim lapsed: reconciled first); commits the claim."""
    due = (
        select(SmsMessage.id)
        .where(
            or_(
                (SmsMessage.status == SmsStatus.queued) & (SmsMessage.next_attempt_at <= now),
                (SmsMessage.status == SmsStatus.sending) & (SmsMessage.claimed_until < now),
            )
        )
        .order_by(SmsMessage.next_attempt_at, SmsMessage.id)
        .limit(size)
    )
    if is_postgresql(session):
        due = due.with_for_update(skip_locked=True)
    claimed = (
        session.execute(
            update(SmsMessage)
            .where(SmsMessage.id.in_(due.scalar_subquery()))
            .values(
                status=SmsStatus.sending,
                claimed_until=now + CLAIM_FOR,
                updated_at=now,
            )
            .returning(SmsMessage.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    session.commit()
    return sorted(claimed)


def _process(session, gateway, rules, message: SmsMessage, now: datetime, jitter, pace: Pace = NO_LIMIT) -> str:
    refusal = _refusal_at_send_time(session, rules, message, now)
    if refusal is None:
        refusal = _pair_wait(session, message, now, pace.pair_seconds.get(message.channel.value, 0))
    if refusal is not None:
        return refusal
    _wait_for_token(session, gateway, message, pace)
    if not _begin_attempt(session, message, now):
        return "taken"
    session.commit()  # the attempt is on record before anything leaves (and the sender's bucket is released)
    extra = {}
    if message.channel == MessageChannel.whatsapp:
        extra = {
            "channel": "whatsapp",
            "content_sid": message.content_sid,
            "content_variables": message.content_variables,
        }
    try:
        sent = gateway.send(message.to_phone, message.body, ref=message.attempt_ref, **extra)
    except SendError as error:
        message.attempt_at = None  # Twilio answered: nothing left
        return _handle_error(session, message, error, now, jitter)
    except OutcomeUnknown as error:
        message.claimed_until, message.updated_at = now + RECONCILE_AFTER, now
        note = events.detail("no_answer", error=error)
        message.events.append(SmsEvent(status=SmsStatus.sending.value, detail=note, at=now))
        return "unresolved"
    message.attempt_at = None
    if sent.status == "held":
        _set(message, SmsStatus.held, now, events.detail("held"))
        return "held"
    _record_sent(message, sent, now, events.detail("provider_status", status=sent.status, sid=sent.sid))
    return "sent"


def _wait_for_token(session, gateway, message: SmsMessage, pace: Pace) -> None:
    """Wait until the sender's bucket gives this message a token (held until the next commit). Branches
    with senders of their own have buckets of their own; branches sharing a sender share its bucket."""
    channel = message.channel.value
    bucket = rates.bucket_name(channel, gateway.sender_of(channel))
    rate = pace.rates.get(channel, 0)
    while (wait := rates.take(session, bucket, rate, clock=pace.clock)) > 0:
        session.commit()  # let the other dispatchers at the bucket meanwhile
        pace.sleep(wait)  # type: ignore[operator]


def _pair_wait(session, message: SmsMessage, now: datetime, seconds: int) -> str | None:
    """Keep two messages to one recipient on one channel `seconds` apart (WhatsApp's pair rate limit)."""
    if not seconds:
        return None
    last = session.scalar(
        select(func.max(SmsMessage.sent_at)).where(
            SmsMessage.to_phone == message.to_phone,
            SmsMessage.channel == message.channel,
            SmsMessage.id != message.id,
            SmsMessage.sent_at.is_not(None),
        )
    )
    if last is None or now - last >= timedelta(seconds=seconds):
        return None
    message.next_attempt_at = last + timedelta(seconds=seconds)
    _set(message, SmsStatus.queued, now, events.detail("waits", reason="pair_rate"))
    return "deferred"


def _begin_attempt(session, message: SmsMessage, now: datetime) -> bool:
    """Record the call about to be made, if this dispatcher still holds the claim it made at `now`: a
    dispatcher slower than its claim finds the row claimed again by another one, and leaves it."""
    ref = uuid.uuid4().hex
    taken = session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.id == message.id,
            SmsMessage.status == SmsStatus.sending,
            SmsMessage.claimed_until == now + CLAIM_FOR,
            SmsMessage.attempt_at.is_(None),
        )
        .values(attempt_ref=ref, attempt_at=now, attempts=SmsMessage.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(message)
    if not taken:
        return False
    message.events.append(SmsEvent(status=SmsStatus.sending.value, detail=events.detail("attempt", ref=ref), at=now))
    return True


def _record_sent(message: SmsMessage, sent: SendResult, now: datetime, detail: str) -> None:
    message.twilio_sid = sent.sid
    message.segments = sent.segments or message.segments
    message.price, message.price_unit = sent.price, sent.price_unit
    message.sent_at = message.sent_at or now
    status = TWILIO_STATUS.get(sent.status, SmsStatus.accepted)
    if STATUS_RANK.get(message.status, 0) >= STATUS_RANK.get(status, 0) and message.status in STATUS_RANK:
        status = message.status  # a status callback got here first and is further along
    _set(message, status, now, detail)


def reconcile(session, gateway, message: SmsMessage, now: datetime) -> str | None:
    """Settle a call whose answer never came back, from Twilio's list of the recipient's messages.

    Returns "reconciled" (exactly one message of ours with this text that no row of ours holds: it left,
    recorded with its SID), "unknown" (several fit; or none fits but another message of ours to this
    number, unheld, was created since the attempt: its text may have been changed on the way, e.g. by
    smart encoding; a supervisor decides), "unresolved" (the list could not be read: asked again later),
    or None: Twilio has nothing of ours for this number since the attempt, so it never left and may be
    sent now.
    """
    assert message.attempt_at is not None
    days = sorted({message.attempt_at.astimezone(UTC).date(), now.astimezone(UTC).date()})  # DateSent: UTC days
    try:
        address = WHATSAPP_PREFIX + message.to_phone if message.channel == MessageChannel.whatsapp else message.to_phone
        listed = gateway.messages_to(address, days)
    except Exception as exc:  # whatever failed, nothing is sent until the list is read
        error = f"{type(exc).__name__}: {exc}"
        if now - message.attempt_at >= GIVE_UP_AFTER:
            message.attempt_at = None
            _set(message, SmsStatus.unknown, now, events.detail("list_unreadable_give_up", error=error))
            return "unknown"
        message.claimed_until, message.updated_at = now + RECONCILE_AFTER, now
        said = message.events and events.code_of(message.events[-1].detail) == "list_unreadable"
        if not said:  # once, not every try
            message.events.append(
                SmsEvent(status=SmsStatus.sending.value, detail=events.detail("list_unreadable", error=error), at=now)
            )
        return "unresolved"
    sids = [m.sid for m in listed]
    held = set(session.scalars(select(SmsMessage.twilio_sid).where(SmsMessage.twilio_sid.in_(sids)))) if sids else set()
    unheld = [m for m in listed if gateway.is_ours(m) and m.sid not in held]
    fitting = [m for m in unheld if m.body == message.body]
    message.attempt_at, attempt_at = None, message.attempt_at
    if len(fitting) == 1:
        found = fitting[0]
        result = SendResult(found.status, found.sid, found.segments, found.price, found.price_unit)
        _record_sent(message, result, now, events.detail("reconciled_found", status=found.status, sid=found.sid))
        return "reconciled"
    since = attempt_at - CLOCK_SKEW
    doubtful = fitting or [m for m in unheld if m.created_at is None or m.created_at >= since]
    if doubtful:
        names = " ".join(sorted(m.sid for m in doubtful))
        code = "reconciled_several_fit" if fitting else "reconciled_others_since"
        _set(message, SmsStatus.unknown, now, events.detail(code, count=len(doubtful), sids=names))
        return "unknown"
    message.events.append(SmsEvent(status=SmsStatus.sending.value, detail=events.detail("reconciled_absent"), at=now))
    return None


def _refusal_at_send_time(session, rules, message: SmsMessage, now: datetime) -> str | None:
    if message.channel == MessageChannel.whatsapp:
        refused = _whatsapp_refusal(session, message)
        if refused is not None:
            _set(message, SmsStatus.canceled, now, events.detail(refused))
            fall_back_to_sms(session, message, now, refused)
            return "canceled"
    elif is_opted_out(session, message.to_phone, Channel.sms):
        _set(message, SmsStatus.canceled, now, events.detail("opted_out"))
        return "canceled"
    if session.scalar(
        select(Participant.id).where(Participant.phone == message.to_phone, Participant.is_phone_invalid.is_(True))
    ):
        _set(message, SmsStatus.canceled, now, events.detail("number_invalid"))
        return "canceled"
    if message.kind == SmsKind.info_reply:
        return None  # the participant asked just now: answering is not contacting them
    window = policy.window_decision(session, rules, message.timezone, now)
    if not window.allowed:
        message.next_attempt_at = window.retry_at
        _set(message, SmsStatus.queued, now, events.detail("waits", reason=window.reason))
        return "deferred"
    return None


def _whatsapp_refusal(session, message: SmsMessage) -> str | None:
    """Why this WhatsApp message may not leave now (its SMS goes instead), or None."""
    if is_opted_out(session, message.to_phone, ConsentChannel.whatsapp):
        return "whatsapp_opted_out"
    if not whatsapp.is_free_text(message.kind, message.content_sid):
        if not has_opted_in(session, message.to_phone, ConsentChannel.whatsapp):
            return "no_whatsapp_opt_in"
        if not message.content_sid:
            return "no_content_sid"
    return None


def whatsapp_failed(session, message: SmsMessage, code: int | None, now: datetime) -> str:
    """What a failed WhatsApp message leads to (`whatsapp.WHATSAPP_ERRORS`): an SMS instead (once), the
    number opted out of WhatsApp (63014) and an SMS, or, for free text outside the 24-hour window (63016),
    a note that a template is needed and no SMS. Returns the handling's name."""
    handling = whatsapp.on_error(code)
    if handling == whatsapp.OnError.needs_template:
        message.events.append(SmsEvent(status=message.status.value, detail=events.detail("needs_template"), at=now))
        return handling.value
    if handling == whatsapp.OnError.opt_out:
        opt_out(
            session,
            message.to_phone,
            ConsentChannel.whatsapp,
            f"Twilio {code}: {whatsapp.WHATSAPP_ERRORS[code or 0][1]}",
            source=ConsentSource.twilio,
            now=now,
        )
    fall_back_to_sms(session, message, now, f"error {code}")
    return handling.value


def _handle_error(session, message: SmsMessage, error: SendError, now: datetime, jitter) -> str:
    message.error_code, message.error_message = error.code, (error.message or "")[:300]
    transient = error.status == 429 or error.code == RATE_LIMITED or error.status >= 500
    if transient and message.attempts < MAX_ATTEMPTS:
        message.next_attempt_at = now + backoff(message.attempts, jitter)
        _set(message, SmsStatus.queued, now, events.detail("retry_http", status=error.status, code=error.code))
        return "retry"
    if error.code == OPTED_OUT and message.channel == MessageChannel.sms:
        opt_out(
            session,
            message.to_phone,
            Channel.sms,
            "Twilio 21610: the recipient replied STOP",
            source=ConsentSource.twilio,
            now=now,
        )
    elif error.code in INVALID_NUMBERS and message.channel == MessageChannel.sms:
        session.execute(
            update(Participant)
            .where(Participant.phone == message.to_phone)
            .values(is_phone_invalid=True)
            .execution_options(synchronize_session=False)
        )
    failure = events.detail("failed_http", status=error.status, code=error.code, message=error.message)
    _set(message, SmsStatus.failed, now, failure)
    if message.channel == MessageChannel.whatsapp:
        whatsapp_failed(session, message, error.code, now)
    return "failed"


def backoff(attempts: int, jitter=random.random) -> timedelta:
    """1, 2, 4 … minutes (at most an hour), ±25% so that retries do not arrive in step."""
    base = min(60 * 2 ** max(0, attempts - 1), 3600)
    return timedelta(seconds=base * (0.75 + 0.5 * jitter()))


def _set(message: SmsMessage, status: SmsStatus, now: datetime, detail: str) -> None:
    message.status = status
    message.claimed_until = None
    message.updated_at = now
    message.events.append(SmsEvent(status=status.value, detail=detail, at=now))
