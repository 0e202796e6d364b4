"""Work items: one family to be worked in one queue."""

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.auth.models import User
from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db
from telecollect.participants.models import Family


class QueueName(str, enum.Enum):
    telecollect = "telecollect"  #: the telecollectors' call queue
    cadre = "cadre"  #: the cadres' neighbourhood work lists


class WorkState(str, enum.Enum):
    open = "open"  #: never worked
    waiting = "waiting"  #: waiting for its next attempt or a callback
    promised = "promised"  #: a promise to pay is running
    closed = "closed"  #: done, with a close_reason


class CloseReason(str, enum.Enum):
    """Why a work item closed."""

    already_paid = "already_paid"  #: outcomes that end the work
    moved = "moved"
    deceased = "deceased"
    no_arrears = "no_arrears"  #: a new arrears list shows the family owes nothing
    reactivated = "reactivated"  #: payments cleared the arrears and the current month
    no_phone = "no_phone"  #: the contact policy found no number that may be used
    do_not_contact = "do_not_contact"  #: the family asked not to be contacted (the consent ledger has it)
    #: the family moved to another branch (an import of that branch named one of its members); the new
    #: branch queues it afresh
    moved_branch = "moved_branch"


class RequeueReason(str, enum.Enum):
    """Why a family came back to the queue before its time."""

    promise_broken = "promise_broken"
    promise_partly_kept = "promise_partly_kept"
    rehab_missed = "rehab_missed"


class FollowUp(str, enum.Enum):
    none = "none"
    callback = "callback"  #: a callback at a time the participant asked for
    promise = "promise"  #: check the day after a promised payment date


class WorkItem(db.Model):
    """A family in a queue, assigned to a person or left to the queue's team pool.

    "Claimed" is not a stored state: an item is claimed while `claimed_by_id`
    is set and its lease has not expired, so an abandoned claim frees itself.
    """

    __tablename__ = "work_items"
    __table_args__ = (
        # Impossible states are impossible: a closed item has its reason and time, an open one neither;
        # a claim always has its lease. Only queues.lifecycle writes these columns.
        CheckConstraint(
            "(state = 'closed' AND close_reason IS NOT NULL AND closed_at IS NOT NULL) OR "
            "(state != 'closed' AND close_reason IS NULL AND closed_at IS NULL)",
            name="closed_with_reason",
        ),
        CheckConstraint(
            "(claimed_by_id IS NULL AND lease_expires_at IS NULL) OR "
            "(claimed_by_id IS NOT NULL AND lease_expires_at IS NOT NULL)",
            name="claim_with_lease",
        ),
        # One live item per family and queue; closed ones stay as history.
        Index(
            "uq_work_items_live_family_queue",
            "family_id",
            "queue",
            unique=True,
            sqlite_where=text("state != 'closed'"),
            postgresql_where=text("state != 'closed'"),
        ),
        # A claim walks this backwards (highest priority first) and stops at the first free, due row.
        Index(
            "ix_work_items_claim_order",
            "queue",
            "follow_up",
            "priority",
            "next_action_at",
            "id",
            sqlite_where=text("state != 'closed'"),
            postgresql_where=text("state != 'closed'"),
        ),
        # The same walk within one branch, when claims filter by branch (issue 16).
        Index(
            "ix_work_items_branch_claim_order",
            "branch_id",
            "queue",
            "follow_up",
            "priority",
            "next_action_at",
            "id",
            sqlite_where=text("state != 'closed'"),
            postgresql_where=text("state != 'closed'"),
        ),
        # A cadre's list: one page of the most urgent live families, read backwards (priority, then id).
        Index(
            "ix_work_items_cadre_list",
            "queue",
            "priority",
            "id",
            sqlite_where=text("state != 'closed'"),
            postgresql_where=text("state != 'closed'"),
        ),
        Index("ix_work_items_assigned", "assigned_user_id", "state"),
        # "What am I holding?" and "my callbacks" are asked on every claim and list.
        Index(
            "ix_work_items_claimed_by",
            "claimed_by_id",
            sqlite_where=text("claimed_by_id IS NOT NULL"),
            postgresql_where=text("claimed_by_id IS NOT NULL"),
        ),
        Index(
            "ix_work_items_callback_user",
            "callback_user_id",
            sqlite_where=text("callback_user_id IS NOT NULL"),
            postgresql_where=text("callback_user_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), nullable=False)
    queue: Mapped[QueueName] = mapped_column(
        Enum(QueueName, name="queue_name", native_enum=False, length=12), nullable=False
    )
    state: Mapped[WorkState] = mapped_column(
        Enum(WorkState, name="work_state", native_enum=False, length=10),
        default=WorkState.open,
        server_default="open",
        nullable=False,
    )
    close_reason: Mapped[CloseReason | None] = mapped_column(
        Enum(CloseReason, name="close_reason", native_enum=False, length=30), nullable=True
    )
    requeue_reason: Mapped[RequeueReason | None] = mapped_column(
        Enum(RequeueReason, name="requeue_reason", native_enum=False, length=30), nullable=True
    )
    #: Owner; empty means the queue's team pool.
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Not to be offered before this time.
    next_action_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    follow_up: Mapped[FollowUp] = mapped_column(
        Enum(FollowUp, name="follow_up", native_enum=False, length=10),
        default=FollowUp.none,
        server_default="none",
        nullable=False,
    )
    #: Who owns a requested callback (anyone may take it 30 minutes after it is due).
    callback_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: The family's zone (from its province), so "who may be called now" is one SQL condition.
    timezone: Mapped[str] = mapped_column(String(4), nullable=False)
    #: The family's place (its first member's), for cadre areas and district reports.
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), nullable=False)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), nullable=True)
    #: What the family owed when it was assigned (the base of the recovery rate).
    assigned_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    #: Higher is worked first; see queues.priority for how it is made.
    priority: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    contacts: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    family: Mapped[Family] = relationship()
    assigned_user: Mapped[User | None] = relationship(foreign_keys=[assigned_user_id])

    def is_claimed(self, now: datetime) -> bool:
        return self.claimed_by_id is not None and self.lease_expires_at is not None and self.lease_expires_at > now

    def __repr__(self):
        return f"<WorkItem {self.id} family={self.family_id} {self.queue.value} {self.state.value}>"


class CadreWhatsappOpen(db.Model):
    """A cadre opened WhatsApp (wa.me) for a family from her work list: counted per her local day, because
    WhatsApp caps what a personal number may send to people who do not reply (issue 14, item 8)."""

    __tablename__ = "cadre_whatsapp_opens"
    __table_args__ = (Index("ix_cadre_whatsapp_opens_user_day", "user_id", "opened_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "<user id>:<client_ref>": the phone's reference for the tap, so a resent entry counts once.
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), nullable=False)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), nullable=False)
    #: When she tapped, by the phone's clock (checked like an outcome's `occurred_at`).
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: Her local day of the tap (her time zone): the day it counts on.
    opened_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)

    def __repr__(self):
        return f"<CadreWhatsappOpen user={self.user_id} family={self.family_id} on={self.opened_on}>"
