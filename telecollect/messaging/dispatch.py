"""The dispatcher: sends due SMS in batches, safely beside another dispatcher.

Rows are claimed first, in one statement, and the claim is committed before
anything leaves (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: its single
writer), so two dispatchers never hold the same message. The contact policy is
asked again at send time: a message planned for the evening waits until SMS
hours open; a number that opted out meanwhile is never messaged. A dispatcher
that dies holding a claim loses it when `claimed_until` passes.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from telecollect.contacts.models import Channel
from telecollect.db import is_postgresql
from telecollect.messaging.gateways import SendError
from telecollect.messaging.models import TWILIO_STATUS, SmsEvent, SmsKind, SmsMessage, SmsStatus
from telecollect.participants.models import Participant
from telecollect.policy import rules as policy
from telecollect.policy.optouts import is_opted_out, opt_out

CLAIM_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 8
#: Twilio codes: 20429 too many requests; 21610 the recipient replied STOP;
#: 21211 invalid 'To' number; 21614 'To' is not a mobile number.
RATE_LIMITED, OPTED_OUT, INVALID_NUMBERS = 20429, 21610, {21211, 21614}


@dataclass
class DispatchResult:
    counts: dict = field(
        default_factory=lambda: {"sent": 0, "held": 0, "deferred": 0, "retry": 0, "failed": 0, "canceled": 0}
    )

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
) -> DispatchResult:
    """Send every SMS due at `now`, batch by batch; returns what happened to them."""
    result = DispatchResult()
    for _ in range(max_batches):
        claimed = claim_batch(session, now, batch_size)
        if not claimed:
            break
        for message_id in claimed:
            result.add(_process(session, gateway, rules, session.get(SmsMessage, message_id), now, jitter))
            session.commit()
    return result


def claim_batch(session, now: datetime, size: int) -> list[int]:
    """Claim up to `size` due messages (and ones a dead dispatcher left claimed); commits the claim."""
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
                attempts=SmsMessage.attempts + 1,
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


def _process(session, gateway, rules, message: SmsMessage, now: datetime, jitter) -> str:
    refusal = _refusal_at_send_time(session, rules, message, now)
    if refusal is not None:
        return refusal
    try:
        sent = gateway.send(message.to_phone, message.body)
    except SendError as error:
        return _handle_error(session, message, error, now, jitter)
    if sent.status == "held":
        _set(message, SmsStatus.held, now, "SMS_BACKEND=outbox: kept in the outbox")
        return "held"
    message.twilio_sid = sent.sid
    message.segments = sent.segments or message.segments
    message.price, message.price_unit = sent.price, sent.price_unit
    message.sent_at = now
    _set(message, TWILIO_STATUS.get(sent.status, SmsStatus.accepted), now, f"twilio {sent.status} {sent.sid}")
    return "sent"


def _refusal_at_send_time(session, rules, message: SmsMessage, now: datetime) -> str | None:
    if is_opted_out(session, message.to_phone, Channel.sms):
        _set(message, SmsStatus.canceled, now, "opted out of SMS")
        return "canceled"
    if session.scalar(
        select(Participant.id).where(Participant.phone == message.to_phone, Participant.is_phone_invalid.is_(True))
    ):
        _set(message, SmsStatus.canceled, now, "number marked invalid")
        return "canceled"
    if message.kind == SmsKind.info_reply:
        return None  # the participant asked just now: answering is not contacting them
    window = policy.window_decision(session, rules, message.timezone, now)
    if not window.allowed:
        message.attempts -= 1  # waiting for SMS hours is not a try
        message.next_attempt_at = window.retry_at
        _set(message, SmsStatus.queued, now, f"waits: {window.reason}")
        return "deferred"
    return None


def _handle_error(session, message: SmsMessage, error: SendError, now: datetime, jitter) -> str:
    message.error_code, message.error_message = error.code, (error.message or "")[:300]
    transient = error.status == 429 or error.code == RATE_LIMITED or error.status >= 500
    if transient and message.attempts < MAX_ATTEMPTS:
        message.next_attempt_at = now + backoff(message.attempts, jitter)
        _set(message, SmsStatus.queued, now, f"retry after HTTP {error.status} ({error.code})")
        return "retry"
    if error.code == OPTED_OUT:
        opt_out(session, message.to_phone, Channel.sms, "Twilio 21610: the recipient replied STOP")
    elif error.code in INVALID_NUMBERS:
        session.execute(
            update(Participant)
            .where(Participant.phone == message.to_phone)
            .values(is_phone_invalid=True)
            .execution_options(synchronize_session=False)
        )
    _set(message, SmsStatus.failed, now, f"HTTP {error.status} code {error.code}: {error.message}"[:300])
    return "failed"


def backoff(attempts: int, jitter=random.random) -> timedelta:
    """1, 2, 4 … minutes (at most an hour), ±25% so that retries do not arrive in step."""
    base = min(60 * 2 ** max(0, attempts - 1), 3600)
    return timedelta(seconds=base * (0.75 + 0.5 * jitter()))


def _set(message: SmsMessage, status: SmsStatus, now: datetime, detail: str) -> None:
    message.status = status
    message.claimed_until = None
    message.updated_at = now
    message.events.append(SmsEvent(status=status.value, detail=detail[:300], at=now))
