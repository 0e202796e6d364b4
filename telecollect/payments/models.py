"""Payments received, and how each was applied to the family's arrears."""

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.auth.models import User
from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db
from telecollect.participants.models import Family


class PaymentChannel(str, enum.Enum):
    """Where a participant may pay (the official channels only)."""

    bank = "bank"
    atm = "atm"
    minimarket = "minimarket"
    mobile_jkn = "mobile_jkn"
    autodebit = "autodebit"
    post_office = "post_office"
    branch = "branch"
    other = "other"


PAYMENT_CHANNELS = tuple(channel.value for channel in PaymentChannel)
#: The attributed channel of a payment no contact preceded (otherwise a contact channel: phone, whatsapp, …).
SELF_CURE = "self_cure"


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_family_paid_on", "family_id", "paid_on"),
        Index("ix_payments_paid_on", "paid_on"),
        # A branch's payments in a month (the funnel): led by branch (issue 16).
        Index("ix_payments_branch_paid_on", "branch_id", "paid_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    #: The bank's or channel's reference: unique, so a file imported twice changes nothing.
    reference: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), nullable=False)
    #: The member whose card number the payment named, when it named one.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    channel: Mapped[PaymentChannel] = mapped_column(
        Enum(PaymentChannel, name="payment_channel", native_enum=False, length=20),
        default=PaymentChannel.other,
        server_default="other",
        nullable=False,
    )
    #: Whole months of arrears this payment cleared (oldest first).
    months_covered: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    #: Credited, in this order of precedence, to the last contact that reached the
    #: family within the attribution window before the payment; none is self-cure.
    attributed_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempts.id"), nullable=True)
    attributed_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: phone, whatsapp, visit, sms or self_cure.
    attributed_channel: Mapped[str] = mapped_column(
        String(12), default=SELF_CURE, server_default=SELF_CURE, nullable=False
    )
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    family: Mapped[Family] = relationship()
    attributed_user: Mapped[User | None] = relationship()

    def __repr__(self):
        return f"<Payment {self.reference} family={self.family_id} Rp{self.amount} {self.paid_on}>"
