"""Participants, the families they pay with, and their arrears over time."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db
from telecollect.regions.models import City, District, Province, Village

#: PostgreSQL storage for the tables every import rewrites most of (a member's arrears, a family's credit):
#: each page is filled half, so that all its rows can be rewritten in place in one import (a HOT update: no
#: index touched while no indexed column changes). An arrears list changes every member's figures each
#: month; a payment file nearly every paying member's. With pages filled to 70 %, 48 % of a 1,000,000-payment
#: file's member updates stayed in place (37 s); at 60 %, 74 % (25 s); at 50 %, all (8 s, against 56 s with
#: full pages and the arrears in three indexes). The price is the tables' size on disk: twice the pages.
REWRITTEN_EACH_IMPORT = {"postgresql_with": {"fillfactor": 50}}


class Segment(str, enum.Enum):
    PBPU = "PBPU"  #: self-paying workers (mandiri)
    BP = "BP"  #: non-workers
    PPU = "PPU"  #: wage earners, paid through the employer
    PBI = "PBI"  #: paid by the government


#: Months-in-arrears buckets used by filters and reports: (label, low, high).
BUCKETS = (
    ("1-3", 1, 3),
    ("4-6", 4, 6),
    ("7-12", 7, 12),
    ("13-24", 13, 24),
    (">24", 25, None),
)


def bucket_of(months: int) -> str:
    """The bucket label of a number of months in arrears ("0" when paid up)."""
    for label, low, high in BUCKETS:
        if months >= low and (high is None or months <= high):
            return label
    return "0"


class Family(db.Model):
    """Members sharing a family card: one virtual account, owe and pay together."""

    __tablename__ = "families"
    __table_args__ = (REWRITTEN_EACH_IMPORT,)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    #: The imported `family_id`, or the card number of a participant who has
    #: none (a family of one). BPJS family ids are usually the head's card
    #: number, so both conventions name the same family.
    key: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    #: Money paid that did not yet cover a whole month (it counts toward the next one).
    credit: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    #: The day all arrears and the current month were paid; cleared by new arrears data.
    reactivated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: Where the family lives (its members' place, set by the import), for reports by district.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True, nullable=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    members: Mapped[list["Participant"]] = relationship(back_populates="family", order_by="Participant.card_no")

    def __repr__(self):
        return f"<Family {self.key}>"


class Participant(db.Model):
    __tablename__ = "participants"
    __table_args__ = (
        CheckConstraint("klass IS NULL OR klass BETWEEN 1 AND 3", name="klass_range"),
        CheckConstraint("months_in_arrears >= 0", name="months_not_negative"),
        CheckConstraint("arrears_amount >= 0", name="amount_not_negative"),
        # No index holds a column the imports rewrite (the arrears, `updated_at`), so that the rewrites stay
        # in place (see REWRITTEN_EACH_IMPORT): the place indexes hold the place alone (migration 0028).
        Index("ix_participants_district_id", "district_id"),
        Index("ix_participants_village_id", "village_id"),
        Index("ix_participants_city_id", "city_id"),
        REWRITTEN_EACH_IMPORT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    #: JKN card number: 13 digits, leading zeros kept.
    card_no: Mapped[str] = mapped_column(String(13), unique=True, nullable=False)
    #: NIK: 16 digits. Personal data: shown masked to all but supervisors and admins.
    nik: Mapped[str | None] = mapped_column(String(16), index=True, nullable=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Mobile number in E.164 (+6281234567890).
    phone: Mapped[str | None] = mapped_column(String(16), index=True, nullable=True)
    #: A second mobile number from the file's `phone2` column (E.164), when the participant has one.
    phone2: Mapped[str | None] = mapped_column(String(16), nullable=True)
    segment: Mapped[Segment] = mapped_column(Enum(Segment, name="segment", native_enum=False, length=8), nullable=False)
    #: Care class 1–3 ("class" is a Python keyword).
    klass: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True, nullable=False)
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), nullable=False)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), nullable=False)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), nullable=True)
    rt: Mapped[str | None] = mapped_column(String(3), nullable=True)
    rw: Mapped[str | None] = mapped_column(String(3), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_autodebit: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)
    #: Set when a call found the number is not this participant's; a new
    #: number from an import clears it.
    is_phone_invalid: Mapped[bool] = mapped_column(default=False, server_default="0", nullable=False)
    # The latest arrears snapshot, copied here because every list, filter and
    # report needs it and a million-row "latest row per participant" join is
    # too slow for an interactive page. Only `record_arrears` writes them.
    months_in_arrears: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    arrears_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    arrears_as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)

    family: Mapped[Family] = relationship(back_populates="members")
    province: Mapped[Province] = relationship()
    city: Mapped[City] = relationship()
    district: Mapped[District] = relationship()
    village: Mapped[Village | None] = relationship()
    snapshots: Mapped[list["ArrearsSnapshot"]] = relationship(
        back_populates="participant", order_by="ArrearsSnapshot.as_of.desc()"
    )

    def __repr__(self):
        return f"<Participant {self.card_no} {self.name}>"


class ArrearsSnapshot(db.Model):
    """Arrears of one participant as reported on one date."""

    __tablename__ = "arrears_snapshots"
    __table_args__ = (
        UniqueConstraint("participant_id", "as_of"),
        CheckConstraint("months_in_arrears >= 0", name="months_not_negative"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), nullable=False)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), nullable=False)
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    months_in_arrears: Mapped[int] = mapped_column(nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"), nullable=True)

    participant: Mapped[Participant] = relationship(back_populates="snapshots")

    def __repr__(self):
        return f"<ArrearsSnapshot p={self.participant_id} {self.as_of} {self.months_in_arrears}m Rp{self.amount}>"
