"""Figures kept per import so that reports can show the change since the previous one."""

from sqlalchemy import BigInteger, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telecollect.extensions import db


class ArrearsDistrictTotal(db.Model):
    """Participants owing and amount owed per kecamatan, as each participant import left them.

    Written at the end of every kept import from the participants table itself;
    a test recomputes it from the raw rows.
    """

    __tablename__ = "arrears_district_totals"
    __table_args__ = (UniqueConstraint("import_run_id", "district_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"), nullable=False)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), nullable=False)
    participants: Mapped[int] = mapped_column(nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)

    def __repr__(self):
        return f"<ArrearsDistrictTotal run={self.import_run_id} district={self.district_id} Rp{self.amount}>"
