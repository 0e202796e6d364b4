"""What Twilio tells us: delivery statuses and participants' replies."""

from datetime import datetime

from sqlalchemy import func, select, update

from telecollect.contacts.models import Channel, ConsentSource
from telecollect.errors import Conflict, ServiceError
from telecollect.messaging import events
from telecollect.messaging.dispatch import whatsapp_failed
from telecollect.messaging.models import (
    STATUS_RANK,
    TWILIO_STATUS,
    InboundSms,
    MessageChannel,
    SmsEvent,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from telecollect.messaging.outbox import queue_sms
from telecollect.participants.models import Participant
from telecollect.phones import InvalidPhone, normalize_mobile
from telecollect.policy.optouts import opt_in, opt_out

STOP_WORDS = {"STOP", "BERHENTI", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPALL"}
START_WORDS = {"START", "MULAI", "UNSTOP"}
INFO_WORDS = {"INFO", "CEK"}


def apply_status(
    session, sid: str, twilio_status: str, error_code: str | None, now: datetime, ref: str | None = None
) -> bool:
    """Move a message's delivery status forward; a late or repeated callback changes nothing.

    `ref` is the attempt's reference from the callback URL: it names a message whose SID never came back
    (the call timed out, or the dispatcher died mid-send), which the callback settles as sent.
    Returns whether anything changed. Unknown SIDs are ignored (another branch's number).
    """
    status = TWILIO_STATUS.get((twilio_status or "").lower())
    if status is None or not sid:
        return False
    message = session.scalar(select(SmsMessage).where(SmsMessage.twilio_sid == sid))
    settled = False
    if message is None and ref:
        message = session.scalar(
            select(SmsMessage).where(SmsMessage.attempt_ref == ref, SmsMessage.twilio_sid.is_(None))
        )
        if message is None:
            return False
        message.twilio_sid, message.attempt_at = sid, None
        message.sent_at = message.sent_at or now
        message.claimed_until = None
        message.events.append(
            SmsEvent(status=message.status.value, detail=events.detail("callback_attempt", ref=ref, sid=sid), at=now)
        )
        if message.status not in STATUS_RANK:  # sending or unknown: Twilio has it
            message.status = SmsStatus.accepted
        settled = True
    if message is None:
        return False
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(message.status, 0):
        return settled
    message.status, message.updated_at = status, now
    if error_code:
        message.error_code = int(error_code) if str(error_code).isascii() and str(error_code).isdigit() else None
    message.events.append(
        SmsEvent(
            status=status.value,
            detail=events.detail("callback_status", status=twilio_status, error=error_code or None),
            at=now,
        )
    )
    if message.channel == MessageChannel.whatsapp and status in (SmsStatus.failed, SmsStatus.undelivered):
        whatsapp_failed(session, message, message.error_code, now)  # usually an SMS instead, once
    return True


#: A supervisor's decisions on a message whose outcome is unknown.
DECISIONS = ("mark_sent", "send_again")


def resolve_unknown(session, message: SmsMessage, decision: str, *, by: str, now: datetime) -> None:
    """A supervisor settles a message the reconciliation could not: `mark_sent` (Twilio has it, e.g. seen in
    its console: recorded as sent, never sent again) or `send_again` (it did not leave: queued to go now,
    through the contact policy like any message).

    The change is one conditional UPDATE, so two supervisors deciding at once settle it once.
    Errors: ServiceError `sms_decision` (no such decision); Conflict `sms_not_unknown` (not waiting for a
    decision, e.g. another supervisor settled it first).
    """
    if decision not in DECISIONS:
        raise ServiceError("sms_decision", "decision")
    values: dict = {"claimed_until": None, "attempt_at": None, "updated_at": now}
    if decision == "mark_sent":
        values |= {"status": SmsStatus.sent, "sent_at": func.coalesce(SmsMessage.sent_at, now)}
        detail = events.detail("marked_sent", by=by)
    else:
        values |= {"status": SmsStatus.queued, "next_attempt_at": now}
        detail = events.detail("send_again", by=by)
    changed = session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message.id, SmsMessage.status == SmsStatus.unknown)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise Conflict("sms_not_unknown", "status")
    session.add(SmsEvent(message_id=message.id, status=values["status"].value, detail=detail, at=now))
    session.flush()
    session.expire(message)


def handle_inbound(
    session, *, sid: str, from_phone: str, body: str, opt_out_type: str | None, now: datetime, rules=None
) -> InboundSms:
    """Store a reply and act on it: STOP words opt out, START words opt back in, INFO/CEK answers.

    The INFO answer (the family's arrears and the official channels) goes only
    to a number registered on that family, and through the outbox like any SMS.
    """
    existing = session.scalar(select(InboundSms).where(InboundSms.twilio_sid == sid))
    if existing is not None:
        return existing  # Twilio retried the webhook
    phone = _e164(from_phone)
    word = (body or "").strip().split()[0].upper() if (body or "").strip() else ""
    action = _action(word, (opt_out_type or "").upper())
    members = (
        session.scalars(select(Participant).where(Participant.phone == phone).order_by(Participant.card_no)).all()
        if phone
        else []
    )
    head = members[0] if members else None
    inbound = InboundSms(
        twilio_sid=sid,
        from_phone=phone or from_phone,
        body=body or "",
        action=action,
        family_id=head.family_id if head else None,
        participant_id=head.id if head else None,
        received_at=now,
    )
    session.add(inbound)
    if action == "stop" and phone:
        opt_out(session, phone, Channel.sms, f"replied {word or opt_out_type}", source=ConsentSource.keyword, now=now)
    elif action == "start" and phone:
        opt_in(session, phone, Channel.sms, source=ConsentSource.keyword, reason=f"replied {word}", now=now)
    elif action == "info" and head is not None:
        family = head.family.members
        queue_sms(
            session,
            kind=SmsKind.info_reply,
            key=f"info:{sid}",
            to_phone=phone,
            members=family,
            timezone=head.province.timezone,
            scheduled_at=now,
        )
    session.flush()
    return inbound


def _action(word: str, opt_out_type: str) -> str:
    if opt_out_type == "STOP" or word in STOP_WORDS:
        return "stop"
    if opt_out_type == "START" or word in START_WORDS:
        return "start"
    if word in INFO_WORDS:
        return "info"
    return "other"


def _e164(raw: str) -> str | None:
    try:
        return normalize_mobile(raw or "")
    except InvalidPhone:
        return None
