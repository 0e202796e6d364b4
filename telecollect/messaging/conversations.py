"""Inbound WhatsApp and the conversations it opens: the one owner of what a participant's WhatsApp message does.

- BERHENTI/STOP opts the number out of business WhatsApp, and (the installation's `whatsapp_stop_also_sms`,
  default on) out of SMS and cadres' wa.me chats too; MULAI/START opts it back in on the same channels.
- Any other message is a WhatsApp opt-in (WhatsApp's policy: the participant wrote first), unless the number
  stands opted out of WhatsApp: only MULAI lifts that.
- CEK/INFO is answered on WhatsApp with the family's arrears, months, virtual account and official channels,
  only to a number registered on exactly one family; any other number gets the general information (no
  personal data).
- Anything else opens or continues the number's conversation (the inbox, the family timeline, the agent
  desktop). A telecollector answers in free text inside the 24 hours after the participant's last message,
  after that only with an approved template.
- Photos and files are kept as Twilio's links (`InboundMedia`), for the roles that may see a full NIK.

Every write is added and flushed here; the request commits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import desc, func, select, update

from telecollect.auth.scoping import AreaScope
from telecollect.contacts.models import ConsentChannel, ConsentSource
from telecollect.db import insert_ignoring_duplicates, lock_for
from telecollect.errors import Conflict, ServiceError
from telecollect.messaging import events, templates, whatsapp
from telecollect.messaging.encoding import encoding_of, segment_count
from telecollect.messaging.models import (
    Conversation,
    InboundMedia,
    InboundSms,
    MessageChannel,
    SmsEvent,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from telecollect.messaging.outbox import message_values, queue_sms
from telecollect.messaging.services import INFO_WORDS, START_WORDS, STOP_WORDS
from telecollect.participants.models import Participant
from telecollect.phones import InvalidPhone, normalize_mobile
from telecollect.policy.optouts import is_opted_out, opt_in, opt_out

#: WhatsApp's customer service window: free text may be sent this long after the participant's last message.
WINDOW = timedelta(hours=24)
#: The longest free text WhatsApp takes.
MAX_REPLY = 4096
#: Twilio's error for free text outside the 24-hour window: the conversation asks for a template.
OUTSIDE_WINDOW = 63016
#: Twilio sends at most ten media per message (MediaUrl0 … MediaUrl9).
MAX_MEDIA = 10
#: The answer to CEK/INFO from a number that is on no family or on several: no personal data.
GENERAL_INFO = (
    "Informasi iuran JKN-KIS: cek tagihan dan bayar melalui {kanal}. Nomor ini tidak terdaftar pada satu "
    "keluarga peserta, jadi tagihan tidak dapat kami sampaikan di sini. Tanyakan ke Care Center 165 atau "
    "CHIKA (WhatsApp 08118165165). BPJS Kesehatan"
)
#: The kinds sent as free text inside the 24-hour window (the rule is WhatsApp's: `whatsapp.FREE_TEXT_KINDS`).
FREE_TEXT_KINDS = whatsapp.FREE_TEXT_KINDS
#: What a template reply to a family may be filled with: values read from the family itself (a template that
#: needs a date or an installment belongs to a reminder, not to a reply).
FAMILY_VARIABLES = frozenset({"nama", "jumlah", "bulan", "kanal", "va", "cabang", "rehab", "autodebit"})


def whatsapp_number(address: str) -> str | None:
    """`whatsapp:+62812…` (or a bare number) → +62812…, or None when it is no mobile number."""
    raw = (address or "").strip()
    if raw.lower().startswith("whatsapp:"):
        raw = raw[len("whatsapp:") :]
    try:
        return normalize_mobile(raw)
    except InvalidPhone:
        return None


def action_of(body: str) -> str:
    """stop, start, info or other, from the message's first word."""
    text = (body or "").strip()
    word = text.split()[0].upper().strip(".!?,") if text else ""
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in INFO_WORDS:
        return "info"
    return "other"


def registered_families(session, phone: str | None) -> list[int]:
    """The families `phone` is registered on (a member's number), in card order."""
    if not phone:
        return []
    rows = session.execute(
        select(Participant.family_id, func.min(Participant.card_no))
        .where(Participant.phone == phone)
        .group_by(Participant.family_id)
        .order_by(func.min(Participant.card_no))
    ).all()
    return [family_id for family_id, _card in rows]


def family_members(session, family_id: int) -> list[Participant]:
    return list(
        session.scalars(select(Participant).where(Participant.family_id == family_id).order_by(Participant.card_no))
    )


def handle_whatsapp_inbound(
    session,
    *,
    sid: str,
    from_address: str,
    body: str,
    media: list[tuple[str, str]],
    now: datetime,
    stop_also_sms: bool = True,
) -> InboundSms:
    """Store a participant's WhatsApp message and act on it (see the module). Twilio posts a webhook again when
    our answer was slow or lost: the same MessageSid is one message, acted on once."""
    lock_for(session, f"inbound:{sid}")  # a replay arriving while the first is being handled waits for it
    existing = session.scalar(select(InboundSms).where(InboundSms.twilio_sid == sid))
    if existing is not None:
        return existing
    phone = whatsapp_number(from_address)
    action = action_of(body)
    families = registered_families(session, phone)
    family_id = families[0] if len(families) == 1 else None
    members = family_members(session, family_id) if family_id else []
    writer = next((m for m in members if m.phone == phone), None)
    inbound = InboundSms(
        twilio_sid=sid,
        from_phone=phone or (from_address or "")[:20],
        body=body or "",
        action=action,
        channel=MessageChannel.whatsapp,
        family_id=family_id,
        participant_id=writer.id if writer else None,
        received_at=now,
    )
    for position, (url, content_type) in enumerate(media[:MAX_MEDIA]):
        inbound.media.append(
            InboundMedia(position=position, url=url[:500], content_type=(content_type or "")[:100], received_at=now)
        )
    session.add(inbound)
    session.flush()
    if phone is None:
        return inbound
    channels = [ConsentChannel.whatsapp]
    if stop_also_sms:
        channels += [ConsentChannel.sms, ConsentChannel.cadre_whatsapp]
    word = (body or "").strip().split()[0].upper() if (body or "").strip() else ""
    if action == "stop":
        for channel in channels:
            opt_out(session, phone, channel, f"WhatsApp {word}", source=ConsentSource.keyword, now=now)
    elif action == "start":
        for channel in channels:
            opt_in(session, phone, channel, source=ConsentSource.keyword, reason=f"WhatsApp {word}", now=now)
    elif not is_opted_out(session, phone, ConsentChannel.whatsapp, exact=True):
        opt_in(session, phone, ConsentChannel.whatsapp, source=ConsentSource.inbound, reason="wrote to us", now=now)
    if action == "info":
        _answer_info(session, inbound, phone, members, now)
    if action == "other":
        _continue_conversation(session, phone, family_id, now)
    else:  # a keyword opens WhatsApp's window too: an open conversation shows it
        session.execute(
            update(Conversation)
            .where(Conversation.phone == phone)
            .values(last_inbound_at=now, last_message_at=now)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return inbound


def _answer_info(session, inbound: InboundSms, phone: str, members: list[Participant], now: datetime) -> int | None:
    """The CEK/INFO answer: the family's figures and virtual account to a number registered on exactly that
    family (its approved template when the kind has a Content SID, else free text: the participant wrote just
    now, inside the 24-hour window); the general information to anyone else."""
    key = f"wa-info:{inbound.twilio_sid}"[:80]
    if not members:
        body = GENERAL_INFO.format(kanal=templates.OFFICIAL_CHANNELS)
        return queue_free_text(session, kind=SmsKind.info_reply, key=key, to_phone=phone, body=body, now=now)
    content = whatsapp.content_for(session, SmsKind.info_reply)
    if content.content_sid:
        return queue_sms(
            session,
            kind=SmsKind.info_reply,
            key=key,
            to_phone=phone,
            members=members,
            timezone=members[0].province.timezone,
            scheduled_at=now,
            channel=MessageChannel.whatsapp,
        )
    _variables, body = whatsapp.fill(content, message_values(members))
    return queue_free_text(
        session,
        kind=SmsKind.info_reply,
        key=key,
        to_phone=phone,
        body=body,
        now=now,
        family_id=members[0].family_id,
        participant_id=next((m.id for m in members if m.phone == phone), None),
        timezone=members[0].province.timezone,
    )


def _continue_conversation(session, phone: str, family_id: int | None, now: datetime) -> Conversation:
    lock_for(session, f"conversation:{phone}")
    conversation = session.scalar(select(Conversation).where(Conversation.phone == phone))
    if conversation is None:
        conversation = Conversation(phone=phone, unread=0)
        session.add(conversation)
    conversation.family_id = family_id
    conversation.last_inbound_at = max(conversation.last_inbound_at or now, now)
    conversation.last_message_at = max(conversation.last_message_at or now, now)
    conversation.unread = (conversation.unread or 0) + 1
    session.flush()
    return conversation


def queue_free_text(
    session,
    *,
    kind: SmsKind,
    key: str,
    to_phone: str,
    body: str,
    now: datetime,
    family_id: int | None = None,
    participant_id: int | None = None,
    timezone: str = "WIB",
) -> int | None:
    """One WhatsApp free-text row in the outbox (no Content SID: Twilio sends `Body`, which WhatsApp takes
    only inside the 24-hour window); None when a row with `key` exists already."""
    message_id = insert_ignoring_duplicates(
        session,
        SmsMessage.__table__,
        {
            "idempotency_key": key,
            "kind": kind,
            "channel": MessageChannel.whatsapp,
            "template_key": f"whatsapp_{kind.value}",
            "body": body,
            "content_sid": None,
            "content_variables": None,
            "to_phone": to_phone,
            "family_id": family_id,
            "participant_id": participant_id,
            "timezone": timezone,
            "scheduled_at": now,
            "next_attempt_at": now,
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


# -- the conversation: window, replies, reading


def last_inbound_at(session, phone: str) -> datetime | None:
    """The participant's latest WhatsApp message (any, a keyword too: each opens WhatsApp's window)."""
    return session.scalar(
        select(func.max(InboundSms.received_at)).where(
            InboundSms.from_phone == phone, InboundSms.channel == MessageChannel.whatsapp
        )
    )


def window_closes_at(session, phone: str) -> datetime | None:
    last = last_inbound_at(session, phone)
    return last + WINDOW if last is not None else None


def is_window_open(session, phone: str, now: datetime) -> bool:
    closes = window_closes_at(session, phone)
    return closes is not None and now < closes


def reply_templates(session, conversation: Conversation) -> list[whatsapp.Content]:
    """The approved templates an agent may answer with after the window: kinds with a Content SID whose
    variables come from the family alone; none for a conversation without a family (nothing to fill)."""
    if conversation.family_id is None:
        return []
    found = []
    for kind in whatsapp.DEFAULTS:
        content = whatsapp.content_for(session, kind)
        if content.content_sid and set(content.variables) <= FAMILY_VARIABLES:
            found.append(content)
    return found


def queue_agent_reply(
    session, conversation: Conversation, text: str, *, user_id: int, token: str, now: datetime
) -> int:
    """An agent's free text to the participant, inside the 24-hour window. The form's `token` makes a double
    submit one message. ServiceError `reply_empty`, `reply_too_long`; Conflict `whatsapp_window_closed`
    (answer with a template)."""
    text = (text or "").strip()
    if not text:
        raise ServiceError("reply_empty", "body")
    if len(text) > MAX_REPLY:
        raise ServiceError("reply_too_long", "body", limit=MAX_REPLY)
    if not is_window_open(session, conversation.phone, now):
        raise Conflict("whatsapp_window_closed", "body")
    members = family_members(session, conversation.family_id) if conversation.family_id else []
    message_id = queue_free_text(
        session,
        kind=SmsKind.agent_reply,
        key=_reply_key(conversation, user_id, token),
        to_phone=conversation.phone,
        body=text,
        now=now,
        family_id=conversation.family_id,
        participant_id=next((m.id for m in members if m.phone == conversation.phone), None),
        timezone=members[0].province.timezone if members else "WIB",
    )
    return _after_reply(session, conversation, message_id, now)


def queue_template_reply(
    session, conversation: Conversation, kind: str, *, user_id: int, token: str, now: datetime
) -> int:
    """An agent's answer by approved template (any time: templates are what WhatsApp allows after the window).
    ServiceError `reply_template` (not one of `reply_templates`)."""
    content = next((c for c in reply_templates(session, conversation) if c.kind.value == kind), None)
    if content is None or conversation.family_id is None:
        raise ServiceError("reply_template", "kind")
    members = family_members(session, conversation.family_id)
    message_id = queue_sms(
        session,
        kind=content.kind,
        key=_reply_key(conversation, user_id, token),
        to_phone=conversation.phone,
        members=members,
        timezone=members[0].province.timezone if members else "WIB",
        scheduled_at=now,
        channel=MessageChannel.whatsapp,
    )
    return _after_reply(session, conversation, message_id, now)


def _reply_key(conversation: Conversation, user_id: int, token: str) -> str:
    clean = "".join(c for c in (token or "") if c.isalnum())[:40]
    if not clean:
        raise ServiceError("reply_token", "token")
    return f"agent:{conversation.id}:{user_id}:{clean}"


def _after_reply(session, conversation: Conversation, message_id: int | None, now: datetime) -> int:
    if message_id is None:  # the same form sent twice: its message is queued already
        raise Conflict("reply_sent_already", "body")
    conversation.last_message_at = now
    conversation.unread = 0
    session.flush()
    return message_id


def mark_read(session, conversation: Conversation, *, user_id: int, now: datetime) -> None:
    if conversation.unread:
        conversation.unread, conversation.read_at, conversation.read_by_id = 0, now, user_id
        session.flush()


# -- reading


def conversation_visible(scope: AreaScope, members: list[Participant]) -> bool:
    """Whether a user with `scope` may see a conversation: staff everything; anyone else only a conversation
    with a family that has a member inside their areas."""
    return scope.everywhere or bool(scope.visible(members))


@dataclass
class InboxRow:
    conversation: Conversation
    name: str | None
    last_text: str
    is_window_open: bool


def inbox(session, scope: AreaScope, now: datetime, *, unread_only: bool = False, limit: int = 200) -> list[InboxRow]:
    """The conversations `scope` may see, newest first, each with the family's first member's name and the
    latest message's text."""
    stmt = select(Conversation).order_by(desc(Conversation.last_message_at), desc(Conversation.id)).limit(limit)
    if unread_only:
        stmt = stmt.where(Conversation.unread > 0)
    if not scope.everywhere:
        inside = select(Participant.family_id).where(scope.condition(Participant.district_id, Participant.village_id))
        stmt = stmt.where(Conversation.family_id.in_(inside))
    conversations = list(session.scalars(stmt))
    phones = [c.phone for c in conversations]
    family_ids = [c.family_id for c in conversations if c.family_id]
    names = dict(
        session.execute(
            select(Participant.family_id, func.min(Participant.name))
            .where(Participant.family_id.in_(family_ids))
            .group_by(Participant.family_id)
        ).all()
    )
    latest: dict[str, tuple[datetime, str]] = {}
    if phones:
        for phone, at, body in session.execute(
            select(InboundSms.from_phone, InboundSms.received_at, InboundSms.body).where(
                InboundSms.from_phone.in_(phones), InboundSms.channel == MessageChannel.whatsapp
            )
        ):
            if phone not in latest or at >= latest[phone][0]:
                latest[phone] = (at, body)
    return [
        InboxRow(
            conversation=c,
            name=names.get(c.family_id),
            last_text=latest.get(c.phone, (None, ""))[1],
            is_window_open=c.last_inbound_at + WINDOW > now,
        )
        for c in conversations
    ]


def unread_count(session, scope: AreaScope) -> int:
    stmt = select(func.count()).select_from(Conversation).where(Conversation.unread > 0)
    if not scope.everywhere:
        inside = select(Participant.family_id).where(scope.condition(Participant.district_id, Participant.village_id))
        stmt = stmt.where(Conversation.family_id.in_(inside))
    return session.scalar(stmt) or 0


@dataclass
class ThreadEntry:
    at: datetime
    direction: str  #: "in" (the participant) or "out" (us)
    body: str
    inbound: InboundSms | None = None
    message: SmsMessage | None = None

    @property
    def needs_template(self) -> bool:
        """Our free text refused for being outside the 24-hour window (Twilio 63016)."""
        return (
            self.message is not None
            and self.message.error_code == OUTSIDE_WINDOW
            and self.message.status in (SmsStatus.failed, SmsStatus.undelivered)
        )


def thread(session, phone: str, limit: int = 200) -> list[ThreadEntry]:
    """The number's WhatsApp messages both ways, oldest first (the latest `limit`)."""
    inbound = session.scalars(
        select(InboundSms)
        .where(InboundSms.from_phone == phone, InboundSms.channel == MessageChannel.whatsapp)
        .order_by(desc(InboundSms.received_at))
        .limit(limit)
    ).all()
    outbound = session.scalars(
        select(SmsMessage)
        .where(SmsMessage.to_phone == phone, SmsMessage.channel == MessageChannel.whatsapp)
        .order_by(desc(SmsMessage.created_at))
        .limit(limit)
    ).all()
    entries = [ThreadEntry(m.received_at, "in", m.body, inbound=m) for m in inbound]
    entries += [ThreadEntry(m.created_at, "out", m.body, message=m) for m in outbound]
    return sorted(entries, key=lambda e: (e.at, e.direction == "out"))[-limit:]


def conversation_of_family(session, family_id: int) -> Conversation | None:
    """The family's latest conversation (the agent desktop shows it when the family is on her screen)."""
    return session.scalar(
        select(Conversation)
        .where(Conversation.family_id == family_id)
        .order_by(desc(Conversation.last_message_at))
        .limit(1)
    )


def media_of(session, media_id: int) -> InboundMedia | None:
    return session.get(InboundMedia, media_id)


def family_of_media(session, media: InboundMedia) -> list[Participant]:
    inbound = media.inbound
    if inbound.family_id:
        return family_members(session, inbound.family_id)
    return list(session.scalars(select(Participant).where(Participant.phone == inbound.from_phone)))


def conversation_view(session, conversation: Conversation, now: datetime) -> dict:
    """What a page showing one conversation needs (the inbox's page and the agent desktop)."""
    return {
        "conversation": conversation,
        "entries": thread(session, conversation.phone),
        "window_open": is_window_open(session, conversation.phone, now),
        "window_closes_at": window_closes_at(session, conversation.phone),
        "reply_templates": reply_templates(session, conversation),
    }
