"""Relief programs as data (REHAB, relaxations) and the installment plans families register."""

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.auth.models import User
from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db
from telecollect.participants.models import Family


class ProgramKind(str, enum.Enum):
    installment = "installment"  #: REHAB: the arrears in monthly installments
    relaxation = "relaxation"  #: pay N months to reactivate, the rest by a date


class ReliefProgram(db.Model):
    """One program's rules, valid over a period. Rules change: they are rows, not constants."""

    __tablename__ = "relief_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[ProgramKind] = mapped_column(
        Enum(ProgramKind, name="program_kind", native_enum=False, length=12), nullable=False
    )
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: Comma-separated segments that may join, e.g. "PBPU,BP".
    segments: Mapped[str] = mapped_column(String(40), nullable=False)
    min_months: Mapped[int] = mapped_column(nullable=False)
    max_months: Mapped[int | None] = mapped_column(nullable=True)
    #: Installments: at most this many, and at most months ÷ divisor.
    max_installments: Mapped[int | None] = mapped_column(nullable=True)
    installment_divisor: Mapped[int | None] = mapped_column(nullable=True)
    #: Registration allowed from day 1 to this day of the month (and in February).
    registration_last_day: Mapped[int] = mapped_column(default=31, server_default="31", nullable=False)
    registration_last_day_february: Mapped[int] = mapped_column(default=29, server_default="29", nullable=False)
    #: Whether the plan also covers the current month's contribution.
    includes_current_month: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)
    #: Relaxation: months to pay (plus the current one) to reactivate at once …
    pay_months: Mapped[int | None] = mapped_column(nullable=True)
    #: … and the date by which the rest must be paid.
    settle_by: Mapped[date | None] = mapped_column(Date, nullable=True)

    def __repr__(self):
        return f"<ReliefProgram {self.code} {self.effective_from}–{self.effective_to}>"


class PlanState(str, enum.Enum):
    active = "active"
    completed = "completed"
    broken = "broken"  #: an installment was missed: back to the collection queue


class InstallmentPlan(db.Model):
    """A REHAB plan the family registered (through Mobile JKN, Care Center 165 or the branch)."""

    __tablename__ = "installment_plans"
    __table_args__ = (
        # One active plan per family, whoever registers it and however many at once.
        Index(
            "uq_installment_plans_active_family",
            "family_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True, nullable=False)
    program_id: Mapped[int] = mapped_column(ForeignKey("relief_programs.id"), nullable=False)
    registered_on: Mapped[date] = mapped_column(Date, nullable=False)
    installments: Mapped[int] = mapped_column(nullable=False)
    total_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[PlanState] = mapped_column(
        Enum(PlanState, name="plan_state", native_enum=False, length=10),
        default=PlanState.active,
        server_default="active",
        nullable=False,
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    program: Mapped[ReliefProgram] = relationship()
    family: Mapped[Family] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    schedule: Mapped[list["Installment"]] = relationship(
        back_populates="plan", order_by="Installment.seq", cascade="all, delete-orphan"
    )

    def __repr__(self):
        return f"<InstallmentPlan {self.id} family={self.family_id} {self.installments}x {self.state.value}>"


class InstallmentState(str, enum.Enum):
    pending = "pending"
    paid = "paid"
    missed = "missed"


class Installment(db.Model):
    __tablename__ = "installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), nullable=False)
    plan_id: Mapped[int] = mapped_column(ForeignKey("installment_plans.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[InstallmentState] = mapped_column(
        Enum(InstallmentState, name="installment_state", native_enum=False, length=10),
        default=InstallmentState.pending,
        server_default="pending",
        nullable=False,
    )

    plan: Mapped[InstallmentPlan] = relationship(back_populates="schedule")

    def __repr__(self):
        return f"<Installment {self.plan_id}#{self.seq} {self.due_on} Rp{self.amount} {self.state.value}>"
