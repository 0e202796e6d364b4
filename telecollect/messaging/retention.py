"""How long SMS and WhatsApp messages keep their bodies and numbers, and participants' media their links
(see SECURITY.md, "Retention")."""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from telecollect.messaging.models import Conversation, InboundMedia, InboundSms, SmsEvent, SmsMessage, SmsStatus

#: Statuses a message never leaves by itself: only these are purged. A message still waiting, being sent, or
#: in a status added later (one a supervisor must look at) is kept until someone decides.
FINISHED = (
    SmsStatus.held,
    SmsStatus.accepted,
    SmsStatus.sent,
    SmsStatus.delivered,
    SmsStatus.read,
    SmsStatus.undelivered,
    SmsStatus.failed,
    SmsStatus.canceled,
)


def purge_messages_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Delete finished outgoing messages (body, number, events) created before `before`; returns how many.

    Their idempotency keys go with them: every key names a period or a promise long past, so no reminder
    can be queued again because of it."""
    old = select(SmsMessage.id).where(SmsMessage.created_at < before, SmsMessage.status.in_(FINISHED))
    count = session.scalar(select(func.count()).select_from(old.subquery())) or 0
    if count and not dry_run:
        session.execute(delete(SmsEvent).where(SmsEvent.message_id.in_(old)))
        session.execute(delete(SmsMessage).where(SmsMessage.id.in_(old)))
    return count


def purge_replies_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Delete participants' replies (body and number) received before `before`; returns how many.

    A STOP reply's effect is the opt-out, which is kept (it protects the person); the reply's text is not."""
    old = (InboundSms.received_at < before,)
    count = session.scalar(select(func.count()).select_from(InboundSms).where(*old)) or 0
    if count and not dry_run:
        session.execute(delete(InboundMedia).where(InboundMedia.inbound_id.in_(select(InboundSms.id).where(*old))))
        session.execute(delete(InboundSms).where(*old))
    return count


def purge_media_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Delete the links to photos and files participants sent on WhatsApp (KTP, family card…) received
    before `before`; returns how many. The message itself stays until its own period."""
    old = (InboundMedia.received_at < before,)
    count = session.scalar(select(func.count()).select_from(InboundMedia).where(*old)) or 0
    if count and not dry_run:
        session.execute(delete(InboundMedia).where(*old))
    return count


def purge_conversations_before(session: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Delete WhatsApp conversations (number, family, unread state) whose last message is before `before`."""
    old = (Conversation.last_message_at < before,)
    count = session.scalar(select(func.count()).select_from(Conversation).where(*old)) or 0
    if count and not dry_run:
        session.execute(delete(Conversation).where(*old))
    return count
