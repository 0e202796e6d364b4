"""One row per call to the self-service line: who called (never the number itself), what was keyed, what
was told."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db


class LineCall(db.Model):
    """A call to the self-service line, updated as the caller moves through the menu (Twilio's CallSid
    names it on every request). Personal figures are told only once `is_verified`: the caller's number is
    registered on exactly one family and she keyed the last 4 digits of a member's card number."""

    __tablename__ = "line_calls"
    __table_args__ = (
        CheckConstraint("verify_failures >= 0", name="failures_not_negative"),
        CheckConstraint("NOT is_verified OR family_id IS NOT NULL", name="verified_with_family"),
        Index("ix_line_calls_family", "family_id", "started_at"),
        Index("ix_line_calls_caller_started", "caller_hash", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    twilio_sid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: HMAC of the caller's number (E.164) under the app's secret: counts an unknown number's tries across
    #: calls without keeping the number.
    caller_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: The family the number is registered on, when it is registered on exactly one; else NULL.
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), nullable=True)
    #: How many families the number is registered on (0: unknown caller; 2 and more: no personal data).
    families_matched: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    is_verified: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)
    #: Wrong last-4 digits keyed during this call.
    verify_failures: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    #: The menu keys pressed, in order ("1", "2", "3", "0"), e.g. "2,3".
    choices: Mapped[str] = mapped_column(String(60), default="", server_default="", nullable=False)
    #: What personal information was told (e.g. "status,bill"): empty for general information only.
    disclosed: Mapped[str] = mapped_column(String(60), default="", server_default="", nullable=False)
    #: The call asked for a call back and one was put in the queue (or one was already waiting).
    is_callback_requested: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    #: The caller's family's branch; NULL for a caller on no family (or several).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True, nullable=True)

    def __repr__(self):
        return f"<LineCall {self.id} family={self.family_id} verified={self.is_verified} {self.choices!r}>"
