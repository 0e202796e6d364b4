"""Branch offices and deputy regions: who a row of participant data belongs to."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db

#: The code of the branch the migration creates for an installation that had one branch before
#: branches were data. Its empty name and zone mean the installation's (BRANCH_NAME, BRANCH_TIMEZONE).
FIRST_BRANCH_CODE = "0000"
ZONES = ("WIB", "WITA", "WIT")


class DeputyRegion(db.Model):
    """A Kedeputian Wilayah: the regional deputy a group of branches answers to ("regions" names places)."""

    __tablename__ = "deputy_regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A short code, e.g. "DW-I"; made from the name when a branch names a new deputy.
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    branches: Mapped[list["Branch"]] = relationship(back_populates="deputy_region", order_by="Branch.code")

    def __repr__(self):
        return f"<DeputyRegion {self.code} {self.name}>"


class Branch(db.Model):
    """A branch office (Kantor Cabang): its participants, staff, work and settings are its own."""

    __tablename__ = "branches"
    __table_args__ = (CheckConstraint("zone IS NULL OR zone IN ('WIB', 'WITA', 'WIT')", name="zone_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The code the CLI and files name it by (`--branch CODE`), unique in the installation.
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    #: Empty: the installation's BRANCH_NAME (the first branch of an installation that had one).
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: WIB, WITA or WIT: its local day for settling, reminders and reports. NULL: the installation's
    #: BRANCH_TIMEZONE (the first branch of an installation that had one).
    zone: Mapped[str | None] = mapped_column(String(4), nullable=True)
    deputy_region_id: Mapped[int | None] = mapped_column(ForeignKey("deputy_regions.id"), index=True, nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The branch's own settings as JSON ({"va_prefixes": "88888", "calling_hours": "08:00-17:00", ...}):
    #: each key overrides the installation's value of the same name; a missing key is the installation's.
    settings: Mapped[str] = mapped_column(Text, default="{}", server_default="{}", nullable=False)
    is_active: Mapped[bool] = mapped_column(default=True, server_default="1", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    deputy_region: Mapped[DeputyRegion | None] = relationship(back_populates="branches")

    def __repr__(self):
        return f"<Branch {self.code} {self.name}>"
