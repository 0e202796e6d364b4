"""Who did what: sign-ins, and who viewed or changed a participant."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db


class AuditEvent(db.Model):
    """One event. The log is a sink every domain writes to, so it imports none of them (the user is an id)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target_type", "target_id"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to; NULL: an installation-level event (an installation administrator,
    #: a national or regional user).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: What happened: login, login_failed, login_throttled, logout,
    #: participant.view, participant.update, participant.search, work_item.view, cadre_list.view
    #: (the last three name, in `detail`, the participants whose full numbers were shown or found),
    #: import.participants, user.create, ...
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target_id: Mapped[int | None] = mapped_column(nullable=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    def __repr__(self):
        return f"<AuditEvent {self.action} user={self.user_id} {self.target_type}:{self.target_id}>"
