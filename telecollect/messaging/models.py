"""Message templates, the outbox (SMS and WhatsApp) with its status history, replies, WhatsApp content,
reminder settings, and the senders' rate-limit buckets."""

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db


class MessageTemplate(db.Model):
    __tablename__ = "message_templates"
    __table_args__ = (
        Index(
            "uq_message_templates_key_installation",
            "key",
            unique=True,
            sqlite_where=text("branch_id IS NULL"),
            postgresql_where=text("branch_id IS NULL"),
        ),
        Index(
            "uq_message_templates_branch_key",
            "branch_id",
            "key",
            unique=True,
            sqlite_where=text("branch_id IS NOT NULL"),
            postgresql_where=text("branch_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the template is for, e.g. "cadre_whatsapp".
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: The branch whose own row this is; NULL: the installation's, used by every branch without its own.
    #: `key` is unique per branch (and once among the installation's rows).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)

    def __repr__(self):
        return f"<MessageTemplate {self.key}>"


class SmsKind(str, enum.Enum):
    due_reminder = "due_reminder"
    promise_reminder = "promise_reminder"
    promise_broken = "promise_broken"
    installment_reminder = "installment_reminder"
    autodebit_prompt = "autodebit_prompt"
    pre_call = "pre_call"
    info_reply = "info_reply"
    #: A telecollector's free text to a participant: WhatsApp only, inside the 24 hours after the
    #: participant's last message (sent as Body; no Content SID).
    agent_reply = "agent_reply"


#: The kinds written from a template (an SMS template and, on WhatsApp, an approved Content SID): every kind
#: but an agent's own words.
TEMPLATED_KINDS = tuple(kind for kind in SmsKind if kind != SmsKind.agent_reply)


class MessageChannel(str, enum.Enum):
    """How an outbox row leaves: Twilio SMS, or WhatsApp through Twilio (`whatsapp:+62…`)."""

    sms = "sms"
    whatsapp = "whatsapp"


class ContentCategory(str, enum.Enum):
    """Meta's category of an approved WhatsApp template: marketing is priced higher and capped."""

    utility = "utility"
    marketing = "marketing"


class SmsStatus(str, enum.Enum):
    queued = "queued"  #: waiting in the outbox for its time and the dispatcher
    sending = "sending"  #: claimed by a dispatcher right now
    held = "held"  #: SMS_BACKEND=outbox: kept here, nothing left
    accepted = "accepted"  #: Twilio took it (accepted/queued at Twilio)
    sent = "sent"
    delivered = "delivered"
    read = "read"  #: WhatsApp only: the participant opened it
    undelivered = "undelivered"
    failed = "failed"
    canceled = "canceled"  #: not sent: opted out or no valid number at send time
    #: Twilio may or may not have it (no answer, or a dispatcher died mid-send) and the reconciliation
    #: could not tell for certain: waits for a supervisor, never sent again by itself.
    unknown = "unknown"


#: Delivery status only moves forward; a late or repeated callback changes nothing.
STATUS_RANK = {
    SmsStatus.accepted: 1,
    SmsStatus.sent: 3,
    SmsStatus.delivered: 4,
    SmsStatus.undelivered: 4,
    SmsStatus.failed: 4,
    SmsStatus.read: 5,
}
#: Twilio's names for its statuses → ours.
TWILIO_STATUS = {
    "accepted": SmsStatus.accepted,
    "queued": SmsStatus.accepted,
    "scheduled": SmsStatus.accepted,
    "sending": SmsStatus.accepted,
    "sent": SmsStatus.sent,
    "delivered": SmsStatus.delivered,
    "read": SmsStatus.read,
    "undelivered": SmsStatus.undelivered,
    "failed": SmsStatus.failed,
    "canceled": SmsStatus.failed,
}


class SmsMessage(db.Model):
    """One outgoing message (SMS or WhatsApp), written in the same transaction as whatever caused it, sent
    later by the dispatcher. (The table keeps its name from when it held SMS only.)"""

    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_due", "status", "next_attempt_at"),
        Index("ix_sms_messages_family", "family_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    #: kind + family + period (or promise/installment id): the same reminder can never be queued twice.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    kind: Mapped[SmsKind] = mapped_column(Enum(SmsKind, name="sms_kind", native_enum=False, length=24), nullable=False)
    channel: Mapped[MessageChannel] = mapped_column(
        Enum(MessageChannel, name="message_channel", native_enum=False, length=8),
        default=MessageChannel.sms,
        server_default="sms",
        nullable=False,
    )
    template_key: Mapped[str] = mapped_column(String(40), nullable=False)
    #: What the participant reads: the SMS text, or the WhatsApp template's approved body filled in.
    body: Mapped[str] = mapped_column(Text, nullable=False)
    #: WhatsApp: the approved template sent (Twilio's Content SID, HX…); NULL: free text (agent_reply) or SMS.
    content_sid: Mapped[str | None] = mapped_column(String(34), nullable=True)
    #: WhatsApp: the template's numbered variables as Twilio takes them, JSON ({"1": "Siti", "2": …}).
    content_variables: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The WhatsApp message this SMS replaces after it failed (at most one SMS per failed message).
    fallback_of_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"), unique=True, nullable=True)
    to_phone: Mapped[str] = mapped_column(String(16), nullable=False)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), nullable=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), nullable=True)
    #: The recipient's zone (for SMS hours at send time).
    timezone: Mapped[str] = mapped_column(String(4), default="WIB", server_default="WIB", nullable=False)
    #: Not before this; the dispatcher also moves it into the SMS window.
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[SmsStatus] = mapped_column(
        Enum(SmsStatus, name="sms_status", native_enum=False, length=12),
        default=SmsStatus.queued,
        server_default="queued",
        nullable=False,
    )
    #: A dispatcher's claim on the row, so that two dispatchers never send it twice.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    #: The reference of the latest call to Twilio, committed before the call and carried in its
    #: StatusCallback URL (`?ref=`), so a callback can name the message even when its SID never came back.
    attempt_ref: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    #: When that call began, while its outcome is unknown (committed before the call; cleared once the
    #: answer is known). A row `sending` with this set is reconciled with Twilio's list, never resent blindly.
    attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    twilio_sid: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    encoding: Mapped[str] = mapped_column(String(6), default="GSM-7", server_default="GSM-7", nullable=False)
    segments: Mapped[int] = mapped_column(default=1, server_default="1", nullable=False)
    #: What Twilio charged, as it reports it (e.g. "-0.04150"), and in which currency.
    price: Mapped[str | None] = mapped_column(String(20), nullable=True)
    price_unit: Mapped[str | None] = mapped_column(String(3), nullable=True)
    error_code: Mapped[int | None] = mapped_column(nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    events: Mapped[list["SmsEvent"]] = relationship(
        back_populates="message", order_by="SmsEvent.id", cascade="all, delete-orphan"
    )

    def __repr__(self):
        return f"<SmsMessage {self.id} {self.kind.value} {self.status.value} to={self.to_phone[:6]}…>"


class SmsEvent(db.Model):
    """A message's status history: queued, claimed, sent, Twilio callbacks, errors."""

    __tablename__ = "sms_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), nullable=False)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("sms_messages.id", ondelete="CASCADE"), index=True, nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    message: Mapped[SmsMessage] = relationship(back_populates="events")

    def __repr__(self):
        return f"<SmsEvent {self.message_id} {self.status}>"


class InboundSms(db.Model):
    """A reply a participant sent to our number."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to; NULL: a reply from a number no family of any branch has.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True, nullable=True)
    twilio_sid: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    from_phone: Mapped[str] = mapped_column(String(20), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    #: stop, start, info or other.
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    #: Which of our numbers it came to: the SMS number, or the WhatsApp sender (From `whatsapp:+62…`).
    channel: Mapped[MessageChannel] = mapped_column(
        Enum(MessageChannel, name="message_channel", native_enum=False, length=8),
        default=MessageChannel.sms,
        server_default="sms",
        nullable=False,
    )
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True, nullable=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    media: Mapped[list["InboundMedia"]] = relationship(
        back_populates="inbound", order_by="InboundMedia.position", cascade="all, delete-orphan"
    )

    def __repr__(self):
        return f"<InboundSms {self.id} {self.channel.value} {self.action}>"


class InboundMedia(db.Model):
    """A photo or file a participant sent on WhatsApp (often a KTP or a family card): kept as Twilio's link
    only, shown to the roles that may see a full NIK (each view audited), deleted after
    `RETENTION_WHATSAPP_MEDIA_DAYS`."""

    __tablename__ = "inbound_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_sms.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: Twilio's MediaUrl<n> index.
    position: Mapped[int] = mapped_column(nullable=False)
    #: Twilio's MediaUrl<n>: never shown to a role that may not see a full NIK.
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: The branch of the message that carried it (NULL: a sender on no family).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True, nullable=True)

    inbound: Mapped[InboundSms] = relationship(back_populates="media")

    def __repr__(self):
        return f"<InboundMedia {self.id} of {self.inbound_id} {self.content_type}>"


class Conversation(db.Model):
    """A participant's WhatsApp conversation with the branch, one per number: opened by a message that is no
    keyword (BERHENTI, MULAI, CEK…), listed in the inbox with its unread state. Its messages are the number's
    inbound WhatsApp rows and the outbox's WhatsApp rows to it."""

    __tablename__ = "whatsapp_conversations"
    __table_args__ = (Index("ix_whatsapp_conversations_last", "last_message_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    #: The family the number is registered on, when it is exactly one; NULL: none or several.
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True, nullable=True)
    #: The participant's latest message: free text may be sent for 24 hours after it.
    last_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: The participant's messages since someone last opened the conversation.
    unread: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: The family's branch (NULL: a number on no family, or several: seen by those who see every branch).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True, nullable=True)

    def __repr__(self):
        return f"<Conversation {self.id} family={self.family_id} unread={self.unread}>"


class ReminderSetting(db.Model):
    """A supervisor's switch and tuning for one reminder kind."""

    __tablename__ = "reminder_settings"
    __table_args__ = (
        Index(
            "uq_reminder_settings_kind_installation",
            "kind",
            unique=True,
            sqlite_where=text("branch_id IS NULL"),
            postgresql_where=text("branch_id IS NULL"),
        ),
        Index(
            "uq_reminder_settings_branch_kind",
            "branch_id",
            "kind",
            unique=True,
            sqlite_where=text("branch_id IS NOT NULL"),
            postgresql_where=text("branch_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SmsKind] = mapped_column(Enum(SmsKind, name="sms_kind", native_enum=False, length=24), nullable=False)
    is_enabled: Mapped[bool] = mapped_column(nullable=False)
    #: Days before the event (due date, promise, installment) the reminder goes out.
    days_before: Mapped[int] = mapped_column(default=1, server_default="1", nullable=False)
    #: The channels to try, in order, comma-separated ("whatsapp,sms"): WhatsApp only for numbers with
    #: a recorded opt-in and a Content SID for the kind, else the next one.
    channel_order: Mapped[str] = mapped_column(
        String(40), default="whatsapp,sms", server_default="whatsapp,sms", nullable=False
    )
    #: The branch whose own row this is; NULL: the installation's, used by every branch without its own.
    #: `kind` is unique per branch (and once among the installation's rows).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)

    def __repr__(self):
        return f"<ReminderSetting {self.kind.value} on={self.is_enabled} days={self.days_before}>"


class WhatsappContent(db.Model):
    """The approved WhatsApp template a kind is sent with: its Content SID, the body Meta approved, and the
    order of its numbered variables ({{1}}, {{2}} …), kept here because the Content API lives on another host.
    A kind without a Content SID is not sent on WhatsApp."""

    __tablename__ = "whatsapp_contents"
    __table_args__ = (
        Index(
            "uq_whatsapp_contents_kind_installation",
            "kind",
            unique=True,
            sqlite_where=text("branch_id IS NULL"),
            postgresql_where=text("branch_id IS NULL"),
        ),
        Index(
            "uq_whatsapp_contents_branch_kind",
            "branch_id",
            "kind",
            unique=True,
            sqlite_where=text("branch_id IS NOT NULL"),
            postgresql_where=text("branch_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SmsKind] = mapped_column(Enum(SmsKind, name="sms_kind", native_enum=False, length=24), nullable=False)
    #: Twilio's Content SID (HX + 32 hex digits); NULL: not (yet) approved, not sent on WhatsApp.
    content_sid: Mapped[str | None] = mapped_column(String(34), nullable=True)
    #: The approved body with its numbered placeholders, as the participant reads it ({{1}} …).
    body: Mapped[str] = mapped_column(Text, nullable=False)
    #: Our variable names in the order of the numbered placeholders, comma-separated ("nama,jumlah,va").
    variables: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[ContentCategory] = mapped_column(
        Enum(ContentCategory, name="content_category", native_enum=False, length=10),
        default=ContentCategory.utility,
        server_default="utility",
        nullable=False,
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: The branch whose own row this is; NULL: the installation's, used by every branch without its own.
    #: `kind` is unique per branch (and once among the installation's rows).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)

    def __repr__(self):
        return f"<WhatsappContent {self.kind.value} {self.content_sid}>"


class SendBucket(db.Model):
    """A sender's token bucket, shared by every dispatcher: `tokens` left at `refilled_at` (Unix seconds,
    wall-clock), refilled at the sender's rate up to one second's worth."""

    __tablename__ = "send_buckets"

    #: The channel and the sender (`rates.bucket_name`): one bucket per sender, shared by the branches
    #: that send through it.
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float, nullable=False)
    refilled_at: Mapped[float] = mapped_column(Float, nullable=False)

    def __repr__(self):
        return f"<SendBucket {self.name} {self.tokens:.1f}>"
