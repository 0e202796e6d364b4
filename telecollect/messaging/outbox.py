"""Putting messages in the outbox: one row per message (SMS or WhatsApp), in the caller's transaction.

Which channel a reminder takes is decided here (`route`): the kind's channel order (default WhatsApp, then
SMS), WhatsApp only with a WhatsApp sender configured, a Content SID for the kind and the number's recorded
opt-in. A WhatsApp message that fails becomes one SMS (`fall_back_to_sms`), never two."""

import json
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import object_session

from telecollect.accounts import virtual_accounts
from telecollect.branches.settings import settings_of
from telecollect.branches.stamping import acting_branch_or_none
from telecollect.contacts.models import Channel, ConsentChannel
from telecollect.db import insert_ignoring_duplicates, now_utc
from telecollect.errors import ServiceError
from telecollect.formatting import local_date, rupiah
from telecollect.messaging import events, templates, whatsapp
from telecollect.messaging.encoding import encoding_of, segment_count
from telecollect.messaging.models import (
    TEMPLATED_KINDS,
    MessageChannel,
    SmsEvent,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from telecollect.messaging.reminder_settings import channel_order_of
from telecollect.participants.models import Participant
from telecollect.participants.queries import family_arrears
from telecollect.policy import optouts
from telecollect.policy import rules as policy
from telecollect.settings import installation

#: Which template each kind uses.
TEMPLATE_OF = {kind: f"sms_{kind.value}" for kind in TEMPLATED_KINDS}


def message_values(members, to_phone: str | None = None, **extra) -> dict:
    """The variables every SMS template may use, for one family (all its members: the virtual account is
    the family's, `telecollect.accounts`). `{nama}` is the member the number belongs to (the first member
    when none does), so a message to a mother's phone never greets her child."""
    amount, months = family_arrears(members)
    reader = next((m for m in members if to_phone and to_phone in (m.phone, m.phone2)), None)
    reader = reader or (members[0] if members else None)
    # The family's branch's settings (its VA prefixes, name, WhatsApp number), whoever queues the message:
    # queue_sms has many callers (planner, replies, outcomes, webhooks), none of which carries them.
    session = object_session(members[0]) if members else None
    settings = settings_of(session, members[0].branch_id) if session is not None else installation()
    accounts = (
        virtual_accounts(members[0].family.key, (m.card_no for m in members), settings.va_prefixes) if members else []
    )
    return {
        "nama": reader.name if reader else "",
        "jumlah": rupiah(amount),
        "bulan": str(months),
        **templates.va_values(accounts, settings.va_prefixes),
        "kontak": templates.contact_text(settings.branch_whatsapp),
        "kanal": templates.OFFICIAL_CHANNELS,
        "rehab": templates.SMS_SNIPPETS["rehab"],
        "autodebit": templates.SMS_SNIPPETS["autodebit"],
        "cabang": settings.branch_name,
        **{k: (local_date(v) if hasattr(v, "strftime") else str(v)) for k, v in extra.items()},
    }


def queue_sms(
    session,
    *,
    kind: SmsKind,
    key: str,
    to_phone: str,
    members,
    timezone: str,
    scheduled_at: datetime | None = None,
    channel: MessageChannel = MessageChannel.sms,
    fallback_of_id: int | None = None,
    **values,
) -> int | None:
    """Queue one message unless a message with `key` exists already; returns its id, or None for a duplicate.

    The body is rendered now, from the template as it is today, so the outbox shows exactly what the
    participant will read: for WhatsApp, the approved body with its variables filled in (and the Content SID
    and the variables as Twilio takes them).

    A family's message goes only to a number registered on that family (a member's phone or second
    phone): its name, arrears and virtual account are theirs alone. Raises ServiceError
    `sms_not_family_number` for any other number, before anything is rendered.
    """
    if members and to_phone not in {n for m in members for n in (m.phone, m.phone2) if n}:
        raise ServiceError("sms_not_family_number", "to_phone")
    template_key = TEMPLATE_OF[kind]
    filled = message_values(members, to_phone, **values)
    content_sid = content_variables = None
    if channel == MessageChannel.whatsapp:
        content = whatsapp.content_for(session, kind)
        content_sid, template_key = content.content_sid, f"whatsapp_{kind.value}"
        content_variables, body = whatsapp.fill(content, filled)
    else:
        body = templates.render(templates.template_body(session, template_key), filled)
    now = now_utc()
    when = scheduled_at or now
    head = members[0] if members else None
    message_id = insert_ignoring_duplicates(
        session,
        SmsMessage.__table__,
        {
            "idempotency_key": key,
            "kind": kind,
            "channel": channel,
            "template_key": template_key,
            "body": body,
            "content_sid": content_sid,
            "content_variables": content_variables,
            "fallback_of_id": fallback_of_id,
            "to_phone": to_phone,
            "family_id": head.family_id if head else None,
            "participant_id": next((m.id for m in members if m.phone == to_phone), None),
            "timezone": timezone,
            "scheduled_at": when,
            "next_attempt_at": when,
            "status": SmsStatus.queued,
            "attempts": 0,
            "encoding": encoding_of(body),
            "segments": segment_count(body),
            "created_at": now,
            "updated_at": now,
        },
        "idempotency_key",
    )
    if message_id is not None:
        session.add(
            SmsEvent(message_id=message_id, status="queued", detail=events.detail("created", kind=kind.value), at=now)
        )
    return message_id


def queue_agent_reply(
    session, *, key: str, to_phone: str, family_id: int | None, timezone: str, body: str, now: datetime
) -> int | None:
    """Queue a telecollector's free text on WhatsApp (kind `agent_reply`: Body, no Content SID), to be sent
    inside the 24 hours after the participant's last message; refused by Twilio after it (63016: marked
    failed, asking for a template, never an SMS instead). Returns its id, or None for a duplicate key."""
    message_id = insert_ignoring_duplicates(
        session,
        SmsMessage.__table__,
        {
            "idempotency_key": key,
            "kind": SmsKind.agent_reply,
            "channel": MessageChannel.whatsapp,
            "template_key": "agent_reply",
            "body": body,
            "to_phone": to_phone,
            "family_id": family_id,
            "timezone": timezone,
            "scheduled_at": now,
            "next_attempt_at": now,
            "status": SmsStatus.queued,
            "attempts": 0,
            "encoding": encoding_of(body),
            "segments": 1,
            "created_at": now,
            "updated_at": now,
        },
        "idempotency_key",
    )
    if message_id is not None:
        session.add(
            SmsEvent(
                message_id=message_id, status="queued", detail=events.detail("created", kind="agent_reply"), at=now
            )
        )
    return message_id


def whatsapp_on(config) -> bool:
    """Whether any message may go by WhatsApp: a WhatsApp sender is configured."""
    return bool(config.get("TWILIO_WHATSAPP_FROM")) or bool(
        config.get("TWILIO_WHATSAPP_USE_MESSAGING_SERVICE") and config.get("TWILIO_MESSAGING_SERVICE_SID")
    )


def channel_order(session, kind: SmsKind) -> tuple[MessageChannel, ...]:
    """The kind's channels, in the order to try them, in the acting branch (its own settings first)."""
    return channel_order_of(session, kind, acting_branch_or_none(session))


def route(session, kind: SmsKind, members) -> tuple[MessageChannel, str] | None:
    """The channel and number a reminder to this family goes by, or None (nobody may be messaged).

    WhatsApp: the first member's number with a standing WhatsApp opt-in, when WhatsApp is on and the kind
    has a Content SID. SMS: the first number not opted out of SMS. In the kind's channel order."""
    for channel in channel_order(session, kind):
        if channel == MessageChannel.whatsapp:
            if not whatsapp_on(current_app.config) or not whatsapp.content_for(session, kind).content_sid:
                continue
            phones = [m.phone for m in members if m.phone and not m.is_phone_invalid]
            agreed = optouts.opted_in_phones(session, phones, ConsentChannel.whatsapp)
            phone = next((p for p in phones if p in agreed), None)
        else:
            phone = next(iter(policy.contactable_phones(session, members, Channel.sms)), None)
        if phone is not None:
            return channel, phone
    return None


def fall_back_to_sms(session, message: SmsMessage, now: datetime, reason: str) -> int | None:
    """The SMS that replaces a failed WhatsApp message: one new outbox row, at most one ever (its key and its
    `fallback_of_id` are unique), never for free text (agent_reply) nor for an SMS. Returns its id, or None."""
    if message.channel != MessageChannel.whatsapp or message.kind == SmsKind.agent_reply:
        return None
    members = (
        session.scalars(
            select(Participant).where(Participant.family_id == message.family_id).order_by(Participant.card_no)
        ).all()
        if message.family_id
        else []
    )
    named = dict(zip(whatsapp.content_for(session, message.kind).variables, _numbered(message), strict=False))
    keep = {k: v for k, v in named.items() if k not in ("nama", "jumlah", "bulan", "kanal", "va", "cabang")}
    new_id = queue_sms(
        session,
        kind=message.kind,
        key=f"{message.idempotency_key[:75]}:sms",
        to_phone=message.to_phone,
        members=members,
        timezone=message.timezone,
        scheduled_at=now,
        channel=MessageChannel.sms,
        fallback_of_id=message.id,
        **keep,
    )
    if new_id is not None:
        message.events.append(
            SmsEvent(status=message.status.value, detail=events.detail("fallback_sms", id=new_id, why=reason), at=now)
        )
    return new_id


def _numbered(message: SmsMessage) -> list[str]:
    values = json.loads(message.content_variables or "{}")
    return [values[k] for k in sorted(values, key=int)]


def messages_for_family(session, family_id: int) -> list[SmsMessage]:
    return session.scalars(
        select(SmsMessage).where(SmsMessage.family_id == family_id).order_by(SmsMessage.created_at.desc())
    ).all()
