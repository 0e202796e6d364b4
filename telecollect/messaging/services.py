"""What Twilio tells us: delivery statuses and participants' replies."""

from datetime import datetime

from sqlalchemy import select

from telecollect.contacts.models import Channel
from telecollect.messaging.models import (
    STATUS_RANK,
    TWILIO_STATUS,
    InboundSms,
    SmsEvent,
    SmsKind,
    SmsMessage,
)
from telecollect.messaging.outbox import queue_sms
from telecollect.participants.models import Participant
from telecollect.phones import InvalidPhone, normalize_mobile
from telecollect.policy.optouts import opt_in, opt_out

STOP_WORDS = {"STOP", "BERHENTI", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPALL"}
START_WORDS = {"START", "MULAI", "UNSTOP"}
INFO_WORDS = {"INFO", "CEK"}


def apply_status(session, sid: str, twilio_status: str, error_code: str | None, now: datetime) -> bool:
    """Move a message's delivery status forward; a late or repeated callback changes nothing.

    Returns whether anything changed. Unknown SIDs are ignored (another branch's number).
    """
    message = session.scalar(select(SmsMessage).where(SmsMessage.twilio_sid == sid))
    status = TWILIO_STATUS.get((twilio_status or "").lower())
    if message is None or status is None:
        return False
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(message.status, 0):
        return False
    message.status, message.updated_at = status, now
    if error_code:
        message.error_code = int(error_code) if str(error_code).isdigit() else None
    message.events.append(
        SmsEvent(
            status=status.value,
            detail=f"callback {twilio_status}" + (f" error {error_code}" if error_code else ""),
            at=now,
        )
    )
    return True


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
        opt_out(session, phone, Channel.sms, f"replied {word or opt_out_type}")
    elif action == "start" and phone:
        opt_in(session, phone, Channel.sms)
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
