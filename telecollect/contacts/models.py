"""Contact attempts, promises to pay, the consent ledger and holidays."""

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.auth.models import User
from telecollect.contacts.outcomes import Outcome
from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db
from telecollect.participants.models import Family, Participant


class Channel(str, enum.Enum):
    phone = "phone"
    whatsapp = "whatsapp"
    visit = "visit"
    sms = "sms"


class ContactAttempt(db.Model):
    """One try to reach a family, by one person, on one channel, with its outcome."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "client_ref"),
        Index("ix_contact_attempts_family_at", "family_id", "at"),
        Index("ix_contact_attempts_user_at", "user_id", "at"),
        Index("ix_contact_attempts_at", "at"),
        # A branch's month (the funnel, reports): led by branch (issue 16).
        Index("ix_contact_attempts_branch_at", "branch_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), nullable=False)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), nullable=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), nullable=False)
    #: The member spoken to or dialled, when known.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, name="channel", native_enum=False, length=10), nullable=False
    )
    #: What came of it: a code of telecollect.contacts.outcomes (stored as its text, no database enum).
    outcome: Mapped[Outcome] = mapped_column(
        Enum(Outcome, name="outcome", native_enum=False, length=30, validate_strings=True), nullable=False
    )
    is_reached: Mapped[bool] = mapped_column(nullable=False)
    is_right_party: Mapped[bool] = mapped_column(nullable=False)
    #: The number dialled or messaged (E.164).
    phone: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    #: The contact policy's reason code (hours, day, holiday, daily_cap, weekly_cap, opt_out) when the
    #: contact happened outside it: recorded all the same, flagged and audited. NULL: inside the policy.
    outside_policy: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: Set by the client so that a submission sent twice is recorded once.
    client_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Where the family lived, which queue, and how long it owed when it was
    # contacted: copied at record time so that the outcome reports group five
    # million attempts without joining them to families and participants.
    queue: Mapped[str | None] = mapped_column(String(12), nullable=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), nullable=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), nullable=True)
    #: Months-in-arrears bucket label ("1-3" … ">24") at the time of the attempt.
    bucket: Mapped[str | None] = mapped_column(String(6), nullable=True)

    family: Mapped[Family] = relationship()
    participant: Mapped[Participant | None] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self):
        return f"<ContactAttempt {self.id} family={self.family_id} {self.channel.value} {self.outcome}>"


class PromiseState(str, enum.Enum):
    pending = "pending"
    kept = "kept"
    partly_kept = "partly_kept"
    broken = "broken"


class Promise(db.Model):
    """A promise to pay an amount by a date, made in one contact attempt."""

    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_user_state", "user_id", "state"),
        # A branch's promises made, and due, in a month (the funnel): led by branch (issue 16).
        Index("ix_promises_branch_made_on", "branch_id", "made_on"),
        Index("ix_promises_branch_promised_on", "branch_id", "promised_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True, nullable=False)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("contact_attempts.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: The family's local date when the promise was made: payments from then on count.
    made_on: Mapped[date] = mapped_column(Date, nullable=False)
    promised_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[PromiseState] = mapped_column(
        Enum(PromiseState, name="promise_state", native_enum=False, length=12),
        default=PromiseState.pending,
        server_default="pending",
        nullable=False,
    )
    #: Paid toward the promise between it and its date plus the grace days.
    paid_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    resolved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    family: Mapped[Family] = relationship()
    attempt: Mapped[ContactAttempt] = relationship()

    def __repr__(self):
        return f"<Promise {self.id} family={self.family_id} Rp{self.amount} by {self.promised_on} {self.state.value}>"


class ConsentChannel(str, enum.Enum):
    """What a consent is about: a way of reaching a number, or visits to a family."""

    phone = "phone"  #: calls from the telecollectors
    sms = "sms"
    whatsapp = "whatsapp"  #: the branch's WhatsApp Business sender (Twilio)
    cadre_whatsapp = "cadre_whatsapp"  #: wa.me chats opened by cadres and telecollectors from their phones
    visit = "visit"  #: a cadre at the door (per family, not per number)


class ConsentState(str, enum.Enum):
    opted_in = "opted_in"
    opted_out = "opted_out"


class ConsentSource(str, enum.Enum):
    """Who or what recorded a consent."""

    keyword = "keyword"  #: the participant wrote BERHENTI/STOP or MULAI/START
    twilio = "twilio"  #: a Twilio error: 21610 (replied STOP), 63014 (blocked our WhatsApp)
    outcome = "outcome"  #: a recorded outcome (do_not_contact; whatsapp_opt_in)
    cadre = "cadre"  #: a cadre's report
    supervisor = "supervisor"
    import_ = "import"  #: an import file's column (whatsapp_opt_in)
    inbound = "inbound"  #: the participant wrote to our WhatsApp first
    migrated = "migrated"  #: an opt-out recorded before the ledger (0019)


class Consent(db.Model):
    """The consent ledger: where a number (or, for visits, a family) stands on a channel now.

    One row per (phone, channel) or (family, visit); written only by telecollect.policy.optouts, which also
    appends its history (ConsentEvent). No row: never asked, which is a refusal for business WhatsApp (it
    needs an opt-in) and a yes for the rest (they need an opt-out to stop)."""

    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("phone", "channel"),
        UniqueConstraint("family_id", "channel"),
        CheckConstraint(
            "(channel = 'visit' AND family_id IS NOT NULL AND phone IS NULL)"
            " OR (channel <> 'visit' AND phone IS NOT NULL AND family_id IS NULL)",
            name="subject",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: E.164; NULL for visits (those are per family).
    phone: Mapped[str | None] = mapped_column(String(16), nullable=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True, nullable=True)
    channel: Mapped[ConsentChannel] = mapped_column(
        Enum(ConsentChannel, name="consent_channel", native_enum=False, length=16), nullable=False
    )
    state: Mapped[ConsentState] = mapped_column(
        Enum(ConsentState, name="consent_state", native_enum=False, length=10), nullable=False
    )
    source: Mapped[ConsentSource] = mapped_column(
        Enum(ConsentSource, name="consent_source", native_enum=False, length=12), nullable=False
    )
    #: Free text: the word written, the Twilio error, the supervisor's reason.
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    events: Mapped[list["ConsentEvent"]] = relationship(
        back_populates="consent", order_by="ConsentEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_opted_out(self) -> bool:
        return self.state == ConsentState.opted_out

    def __repr__(self):
        return f"<Consent {self.phone or self.family_id} {self.channel.value} {self.state.value}>"


class ConsentEvent(db.Model):
    """A consent's history: every change, with its source and time (kept as long as the consent)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"), index=True, nullable=False)
    state: Mapped[ConsentState] = mapped_column(
        Enum(ConsentState, name="consent_state", native_enum=False, length=10), nullable=False
    )
    source: Mapped[ConsentSource] = mapped_column(
        Enum(ConsentSource, name="consent_source", native_enum=False, length=12), nullable=False
    )
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    consent: Mapped[Consent] = relationship(back_populates="events")

    def __repr__(self):
        return f"<ConsentEvent {self.consent_id} {self.state.value} {self.source.value}>"


class Holiday(db.Model):
    """A day on which nobody is contacted (national holidays, cuti bersama, local days)."""

    __tablename__ = "holidays"
    __table_args__ = (
        Index(
            "uq_holidays_on_installation",
            "on",
            unique=True,
            sqlite_where=text("branch_id IS NULL"),
            postgresql_where=text("branch_id IS NULL"),
        ),
        Index(
            "uq_holidays_branch_on",
            "branch_id",
            "on",
            unique=True,
            sqlite_where=text("branch_id IS NOT NULL"),
            postgresql_where=text("branch_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    on: Mapped[date] = mapped_column(Date, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: The branch whose own row this is; NULL: the installation's, used by every branch without its own.
    #: `on` is unique per branch (and once among the installation's rows).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)

    def __repr__(self):
        return f"<Holiday {self.on} {self.name}>"
