"""The contact policy's settings a supervisor edits at run time."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db


class ContactSetting(db.Model):
    """When and how often families may be contacted. Without a row the environment's defaults apply
    (CALLING_HOURS, CALLING_DAYS, MAX_ATTEMPTS_PER_DAY, MAX_ATTEMPTS_PER_WEEK, CUTI_BERSAMA_BLOCKS_CONTACT)."""

    __tablename__ = "contact_settings"
    __table_args__ = (
        CheckConstraint("max_attempts_per_day BETWEEN 1 AND 20", name="per_day_range"),
        CheckConstraint("max_attempts_per_week BETWEEN 1 AND 100", name="per_week_range"),
        Index(
            "uq_contact_settings_branch_id",
            "branch_id",
            unique=True,
            sqlite_where=text("branch_id IS NOT NULL"),
            postgresql_where=text("branch_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch these settings are for; NULL: the installation's own, used by every branch without its own.
    #: One row per branch (the installation's is the one NULL row its service keeps).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), nullable=True)
    #: "08:00-20:00", the participant's local time.
    calling_hours: Mapped[str] = mapped_column(String(11), nullable=False)
    #: "mon-sat", or a list: "mon-wed,sat".
    calling_days: Mapped[str] = mapped_column(String(40), nullable=False)
    max_attempts_per_day: Mapped[int] = mapped_column(nullable=False)
    max_attempts_per_week: Mapped[int] = mapped_column(nullable=False)
    is_cuti_bersama_closed: Mapped[bool] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    def __repr__(self):
        return f"<ContactSetting branch={self.branch_id} {self.calling_hours} {self.calling_days}>"
