"""The shape every file import shares: stream, validate, write in batches, all-or-nothing.

An import owns its transaction, unlike other services: it may write a million
rows, and whether they stay depends on what the last row holds. It commits when
every row is valid (or `skip_invalid` is set and this is no dry run), and
otherwise rolls back and keeps only a record of the run.
"""
import csv
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Protocol, TextIO

from flask import current_app

from telecollect.audit import services as audit
from telecollect.db import bulk_write_cache, lock_for, now_utc
from telecollect.imports.models import ImportRun, ImportStatus
from telecollect.imports.reader import EXTRA_VALUES, FileFormatError, TableReader

#: Errors kept for display; beyond this they are counted (and written to the
#: rejects file when there is one), so a broken million-row file cannot
#: exhaust memory.
MAX_KEPT_ERRORS = 10_000


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    reason: str

    def __str__(self):
        if self.column is None:
            return f"row {self.line}: {self.reason}"
        return f"row {self.line}, {self.column}: {self.reason}"


@dataclass
class ImportReport:
    status: ImportStatus = ImportStatus.running
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    run_id: int | None = None

    def summary(self) -> str:
        return (f"created {self.created}, updated {self.updated}, "
                f"unchanged {self.unchanged}, rejected {self.rejected}")

    def add_errors(self, errors: list[RowError]) -> None:
        room = MAX_KEPT_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    @property
    def errors_not_kept(self) -> bool:
        return len(self.errors) >= MAX_KEPT_ERRORS


class RejectsWriter:
    """Writes rejected rows, as they were, plus a column with the reasons."""

    def __init__(self, stream: TextIO, header: list[str]):
        self.header = [name for name in header if name]
        self._csv = csv.writer(stream)
        self._csv.writerow(["line", *self.header, "errors"])

    def write(self, line: int, raw: dict, errors: list[RowError]) -> None:
        reasons = "; ".join(str(e) for e in errors)
        self._csv.writerow([line, *(raw.get(name, "") for name in self.header), reasons])


Rejected = list[tuple[tuple[int, dict], list[RowError]]]


class BatchWriter(Protocol):
    def write(self, batch: list[tuple[object, dict]]) -> Rejected:
        """Write valid rows; return those refused on the way (duplicates, unknown keys)."""

    def finish(self) -> None:
        """Last work inside the transaction, only when the import is kept."""

    def close(self) -> None:
        """Release what the writer holds (temporary tables), kept or not."""


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    missing_columns: Callable[[list[str]], list[str]]
    validate_row: Callable
    make_writer: Callable[..., BatchWriter]


def run_import(session, reader: TableReader, spec: ImportSpec, *, filename: str, user=None,
               dry_run: bool = False, skip_invalid: bool = False, rejects: RejectsWriter | None = None,
               today: date | None = None, batch_size: int | None = None,
               on_batch: Callable[[], None] | None = None) -> ImportReport:
    """Run one import as `spec` describes. Raises `FileFormatError` when the file as a
    whole is unusable (missing required columns); nothing is written then."""
    missing = spec.missing_columns(reader.header)
    if missing:
        raise FileFormatError(f"missing required column(s): {', '.join(missing)}")
    today = today or date.today()
    batch_size = batch_size or current_app.config["IMPORT_BATCH_SIZE"]
    session.commit()  # start from a clean transaction: the import decides its fate
    lock_for(session, f"import:{spec.kind}")
    run = ImportRun(kind=spec.kind, filename=filename, user_id=user.id if user else None, status=ImportStatus.running)
    session.add(run)
    session.flush()
    report = ImportReport()
    writer = spec.make_writer(session, run.id, report, today)
    try:
        with bulk_write_cache(session, current_app.config["IMPORT_SQLITE_CACHE_MB"]):
            _stream_batches(reader, spec, writer, report, rejects, today, batch_size, on_batch)
            keep = not dry_run and (report.rejected == 0 or skip_invalid)
            if keep:
                writer.finish()
    finally:
        writer.close()
    return _finish(session, spec, run, report, user, keep=keep, dry_run=dry_run)


def _stream_batches(reader, spec, writer, report, rejects, today, batch_size, on_batch):
    batch = []
    for line, raw in reader.rows():
        row, problems = spec.validate_row(line, raw, today)
        if problems:
            _reject(report, rejects, line, raw, [RowError(line, c, r) for c, r in problems])
            continue
        batch.append((row, raw))
        if len(batch) >= batch_size:
            _write_batch(writer, batch, report, rejects)
            batch = []
            if on_batch:
                on_batch()
    if batch:
        _write_batch(writer, batch, report, rejects)
    if on_batch:
        on_batch()


def _write_batch(writer, batch, report, rejects):
    for (line, raw), errors in writer.write(batch):
        _reject(report, rejects, line, raw, errors)


def _reject(report, rejects, line, raw, errors):
    report.rejected += 1
    report.add_errors(errors)
    if rejects is not None:
        rejects.write(line, {k: v for k, v in raw.items() if k != EXTRA_VALUES}, errors)


def _finish(session, spec, run, report, user, *, keep: bool, dry_run: bool) -> ImportReport:
    if keep:
        report.status = ImportStatus.committed
    else:
        session.rollback()
        report.status = ImportStatus.dry_run if dry_run else ImportStatus.rejected
        # The rows are gone with the rollback; the record of the attempt stays.
        run = ImportRun(kind=spec.kind, filename=run.filename, user_id=run.user_id, status=report.status,
                        started_at=run.started_at)
        session.add(run)
    run.status = report.status
    run.finished_at = now_utc()
    run.created, run.updated = report.created, report.updated
    run.unchanged, run.rejected = report.unchanged, report.rejected
    session.flush()
    audit.record(session, f"import.{spec.kind}", user=user, target=run, detail=report.summary())
    session.commit()
    report.run_id = run.id
    return report
