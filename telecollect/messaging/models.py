"""Message templates (the cadre's WhatsApp opener now; SMS reminders later)."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db


class MessageTemplate(db.Model):
    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the template is for, e.g. "cadre_whatsapp".
    key: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), nullable=True)

    def __repr__(self):
        return f"<MessageTemplate {self.key}>"
