"""The record of every import run (participants, payments, …)."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecollect.auth.models import User
from telecollect.db import UTCDateTime, now_utc
from telecollect.extensions import db


class ImportStatus(str, enum.Enum):
    running = "running"  #: reading and staging its rows (or deciding)
    applying = "applying"  #: kept, being applied in short transactions; resumed if its process dies
    committed = "committed"  #: every valid row written
    rejected = "rejected"  #: invalid rows, nothing written
    dry_run = "dry_run"  #: validated only


class ImportRun(db.Model):
    """One run of an import, kept for the record and for its rejects file."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The branch this row belongs to: set from its family (or parent row), else the acting user's or
    #: command's branch (telecollect.branches.stamping). History rows keep the branch they happened in.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, name="import_status", native_enum=False, length=12), nullable=False
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    updated: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    unchanged: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    rejected: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    #: Rejected rows with their reasons, as CSV, for the upload page's download.
    rejects_csv: Mapped[str | None] = mapped_column(Text, nullable=True)

    user: Mapped[User | None] = relationship()

    def __repr__(self):
        return f"<ImportRun {self.id} {self.kind} {self.status.value}>"


class ImportStagedChunk(db.Model):
    """Validated rows of a running import, waiting to be applied (`imports.runner`): staged a chunk at a
    time, each in its own short transaction, so that the call centre keeps writing while a large file is
    read; applied together in one transaction; deleted when the run ends."""

    __tablename__ = "import_staged_chunks"

    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True)
    #: The chunk's place in the file (0, 1, …): applied in this order.
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: zlib-compressed JSON: per row, the validated row's fields and the raw cells in header order.
    rows: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    def __repr__(self):
        return f"<ImportStagedChunk run={self.run_id} seq={self.seq}>"
