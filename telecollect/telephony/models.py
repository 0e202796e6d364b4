"""Calls placed through Twilio Voice, agents' states (ready, on a call, wrap-up, paused) and pause reasons."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.auth.models import User
from telecollect.contacts.models import ContactAttempt
from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db
from telecollect.participants.models import Family, Participant
from telecollect.queues.models import WorkItem


class CallStatus(str, enum.Enum):
    """Where a call stands. It only moves forward (`CALL_STATUS_RANK`): a callback that arrives late, twice
    or out of order never moves it back."""

    requested = "requested"  #: the row is written; Twilio not yet asked (the request commits first)
    placed = "placed"  #: Twilio accepted it (twilio_sid known) and rings the agent's phone
    agent_answered = "agent_answered"  #: the agent's leg answered; Twilio fetched the TwiML (press 1)
    dialling = "dialling"  #: the agent pressed 1; the participant's number is dialled
    ended = "ended"  #: over (whatever came of it: see dial_status and agent_leg_status)
    failed = "failed"  #: Twilio refused to place it, or could not be reached


#: The order a call's status moves in; ended and failed are both final.
CALL_STATUS_RANK = {
    CallStatus.requested: 0,
    CallStatus.placed: 1,
    CallStatus.agent_answered: 2,
    CallStatus.dialling: 3,
    CallStatus.ended: 4,
    CallStatus.failed: 4,
}


class Disposition(str, enum.Enum):
    """The outcome a connected call owes (forced disposition)."""

    pending = "pending"  #: the participant's leg was answered: the agent must record the outcome
    recorded = "recorded"  #: she did (attempt_id is that outcome's attempt)
    not_recorded = "not_recorded"  #: a supervisor closed it as "tidak dicatat" after the grace period


class AgentState(str, enum.Enum):
    ready = "ready"
    on_call = "on_call"
    wrap_up = "wrap_up"  #: after a connected call, until the outcome is recorded
    paused = "paused"  #: with a reason code (pause_reasons)


class Call(db.Model):
    """One call placed for an agent on a work item: Twilio rings the agent's phone, then (after she presses 1)
    dials the participant's number chosen by the server from the leased family's own numbers."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("(status IN ('requested', 'failed')) OR twilio_sid IS NOT NULL", name="placed_with_sid"),
        CheckConstraint("talk_seconds IS NULL OR talk_seconds >= 0", name="talk_not_negative"),
        CheckConstraint(
            "disposition IS NULL OR disposition != 'recorded' OR attempt_id IS NOT NULL", name="recorded_with_attempt"
        ),
        Index("ix_calls_user_started", "user_id", "started_at"),
        Index("ix_calls_started", "started_at"),
        Index("ix_calls_family", "family_id", "started_at"),
        # "Does this agent owe an outcome?" is asked on every Next, claim and skip.
        Index(
            "ix_calls_pending_disposition",
            "user_id",
            sqlite_where=text("disposition = 'pending'"),
            postgresql_where=text("disposition = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The agent for whom the call was placed (her phone rang first).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), nullable=False)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), nullable=False)
    #: The member whose number was dialled.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), nullable=True)
    #: The participant's number dialled (E.164), chosen by the server among the family's own.
    phone: Mapped[str] = mapped_column(String(16), nullable=False)
    #: What Twilio rang for the agent: her phone (E.164) or a sip: URI, as it was when the call was placed.
    agent_phone: Mapped[str] = mapped_column(String(120), nullable=False)
    twilio_sid: Mapped[str | None] = mapped_column(String(34), unique=True, nullable=True)
    status: Mapped[CallStatus] = mapped_column(
        Enum(CallStatus, name="call_status", native_enum=False, length=16),
        default=CallStatus.requested,
        server_default="requested",
        nullable=False,
    )
    #: Twilio's final CallStatus of the agent's leg (completed, busy, no-answer, failed, canceled).
    agent_leg_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: When the agent's leg was answered (the TwiML was fetched).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The participant's leg as `<Dial action>` reported it (DialCallStatus).
    dial_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: DialCallDuration of a completed participant leg.
    talk_seconds: Mapped[int | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The contact attempt the call recorded (one call, one attempt): written by the Dial action for
    #: no-answer, busy and failed; by the agent's outcome for a connected call.
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempts.id"), unique=True, nullable=True)
    disposition: Mapped[Disposition | None] = mapped_column(
        Enum(Disposition, name="call_disposition", native_enum=False, length=14), nullable=True
    )
    #: Whether the call was recorded (the RECORD_CALLS setting when it was placed): the notice was played.
    is_recorded: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)
    recording_sid: Mapped[str | None] = mapped_column(String(34), unique=True, nullable=True)
    recording_seconds: Mapped[int | None] = mapped_column(nullable=True)
    #: The recording was deleted at Twilio (RECORDING_DAYS after the call).
    is_recording_deleted: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)
    #: Twilio's error when it refused the call (or the transport's, when it could not be reached).
    error_code: Mapped[int | None] = mapped_column(nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The family's branch when the call was placed.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)

    user: Mapped[User] = relationship()
    work_item: Mapped[WorkItem] = relationship()
    family: Mapped[Family] = relationship()
    participant: Mapped[Participant | None] = relationship()
    attempt: Mapped[ContactAttempt | None] = relationship()

    def __repr__(self):
        return f"<Call {self.id} user={self.user_id} family={self.family_id} {self.status.value} {self.dial_status}>"


class AgentStatus(db.Model):
    """One row per telecollector: her state now and since when (the board reads it)."""

    __tablename__ = "agent_states"
    __table_args__ = (CheckConstraint("(state = 'paused') = (reason_code IS NOT NULL)", name="paused_with_reason"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[AgentState] = mapped_column(
        Enum(AgentState, name="agent_state", native_enum=False, length=10), nullable=False
    )
    #: A pause_reasons code while paused.
    reason_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: The call that put her on_call or in wrap_up.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), nullable=True)

    user: Mapped[User] = relationship()

    def __repr__(self):
        return f"<AgentStatus user={self.user_id} {self.state.value} {self.reason_code or ''}>"


class AgentStateEvent(db.Model):
    """The history of agents' states: one row per change, with the state left and how long it lasted."""

    __tablename__ = "agent_state_events"
    __table_args__ = (Index("ix_agent_state_events_user_at", "user_id", "at"), Index("ix_agent_state_events_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    state: Mapped[AgentState] = mapped_column(
        Enum(AgentState, name="agent_state", native_enum=False, length=10), nullable=False
    )
    reason_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: The state left, and when it had begun (time in state = at - previous_since); NULL for the first.
    previous_state: Mapped[AgentState | None] = mapped_column(
        Enum(AgentState, name="agent_state", native_enum=False, length=10), nullable=True
    )
    previous_reason_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    previous_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), nullable=True)
    #: Who made the change when it was not the agent herself (a supervisor), else NULL.
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    def __repr__(self):
        return f"<AgentStateEvent user={self.user_id} {self.state.value} at={self.at:%H:%M:%S}>"


class PauseReason(db.Model):
    """Why an agent pauses (istirahat, rapat, pelatihan…): editable by an admin; a code in use is retired
    (is_active false), never deleted, so history keeps its label."""

    __tablename__ = "pause_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    #: What the agent and the board read (Bahasa Indonesia, as the branch writes it).
    label: Mapped[str] = mapped_column(String(80), nullable=False)
    is_active: Mapped[bool] = mapped_column(default=True, server_default="1", nullable=False)
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)

    def __repr__(self):
        return f"<PauseReason {self.code}>"
