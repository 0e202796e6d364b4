"""Importing participants and recording their arrears."""
import csv
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, TextIO

from flask import current_app
from sqlalchemy import bindparam, select, text, update

from telecollect.audit import services as audit
from telecollect.db import bulk_insert, bulk_write_cache, is_postgresql, lock_for, now_utc
from telecollect.imports.reader import EXTRA_VALUES, FileFormatError, TableReader
from telecollect.participants.importing import (
    COLUMNS, ParticipantRow, missing_columns, validate_row,
)
from telecollect.participants.models import (
    ArrearsSnapshot, Family, ImportRun, ImportStatus, Participant,
)
from telecollect.queues.services import close_settled
from telecollect.regions.services import PlaceResolver, ensure_provinces

#: Errors kept for display; beyond this they are counted (and written to the
#: rejects file when there is one), so a broken million-row file cannot
#: exhaust memory.
MAX_KEPT_ERRORS = 10_000

# Participant attributes an import may change; compared to decide "unchanged".
_PROFILE = (
    "nik", "name", "phone", "segment", "klass", "family_id", "province_id", "city_id",
    "district_id", "village_id", "rt", "rw", "address", "is_autodebit",
)


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
        return (
            f"created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )

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


def import_participants(
    session,
    reader: TableReader,
    *,
    filename: str,
    user=None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects: RejectsWriter | None = None,
    today: date | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[], None] | None = None,
) -> ImportReport:
    """Import a participant file, all-or-nothing unless `skip_invalid`.

    Unlike other services this one owns its transaction: it may write a million
    rows, and whether they stay depends on what the last row holds. It commits
    when every row is valid (or `skip_invalid` is set and this is no dry run),
    and otherwise rolls back and keeps only a record of the run. Participants are
    matched by card number: changed ones are updated, a changed arrears figure
    adds a snapshot, identical rows change nothing. Raises `FileFormatError` when
    the file as a whole is unusable (missing required columns); nothing is
    written then.
    """
    missing = missing_columns(reader.header)
    if missing:
        raise FileFormatError(f"missing required column(s): {', '.join(missing)}")
    today = today or date.today()
    batch_size = batch_size or current_app.config["IMPORT_BATCH_SIZE"]
    session.commit()  # start from a clean transaction: the import decides its fate
    lock_for(session, "import:participants")
    ensure_provinces(session)
    run = ImportRun(kind="participants", filename=filename, user_id=user.id if user else None,
                    status=ImportStatus.running)
    session.add(run)
    session.flush()
    report = ImportReport()
    writer = _BatchWriter(session, run.id, report)
    try:
        with bulk_write_cache(session, current_app.config["IMPORT_SQLITE_CACHE_MB"]):
            _stream_batches(reader, writer, report, rejects, today, batch_size, on_batch)
    finally:
        writer.close()
    return _finish(session, run, report, user, dry_run=dry_run, skip_invalid=skip_invalid)


def _stream_batches(reader, writer, report, rejects, today, batch_size, on_batch):
    batch: list[tuple[ParticipantRow, dict]] = []
    for line, raw in reader.rows():
        row, problems = validate_row(line, raw, today)
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


def _finish(session, run, report, user, *, dry_run, skip_invalid) -> ImportReport:
    keep = not dry_run and (report.rejected == 0 or skip_invalid)
    if keep:
        report.status = ImportStatus.committed
        close_settled(session)  # families that no longer owe leave the queues
        _fill_run(run, report)
        audit.record(session, "import.participants", user=user, target=run, detail=report.summary())
        session.commit()
        report.run_id = run.id
        return report
    session.rollback()
    report.status = ImportStatus.dry_run if dry_run else ImportStatus.rejected
    # The rows are gone with the rollback; the record of the attempt stays.
    run = ImportRun(kind="participants", filename=run.filename, user_id=run.user_id,
                    status=report.status, started_at=run.started_at)
    _fill_run(run, report)
    session.add(run)
    session.flush()
    audit.record(session, "import.participants", user=user, target=run, detail=report.summary())
    session.commit()
    report.run_id = run.id
    return report


def _fill_run(run, report):
    run.status = report.status
    run.finished_at = now_utc()
    run.created, run.updated = report.created, report.updated
    run.unchanged, run.rejected = report.unchanged, report.rejected


class _BatchWriter:
    """Writes validated rows a batch at a time, with a few set-based queries each."""

    def __init__(self, session, run_id: int, report: ImportReport):
        self.session = session
        self.run_id = run_id
        self.report = report
        self.places = PlaceResolver(session)
        self.seen = _SeenCards(session)
        self._place_cache: dict[tuple, dict | None] = {}

    def close(self):
        self.seen.drop()

    def write(self, batch) -> list[tuple[tuple[int, dict], list[RowError]]]:
        """Write one batch; return the rows rejected on the way, with why."""
        rejected, placed = [], []
        duplicates = self.seen.add_and_find_repeats([row.card_no for row, _raw in batch])
        in_batch: set[str] = set()
        for row, raw in batch:
            if row.card_no in duplicates or row.card_no in in_batch:
                rejected.append(((row.line, raw), [RowError(
                    row.line, "card_no", f"card number {row.card_no} appears more than once in the file")]))
                continue
            in_batch.add(row.card_no)
            place_ids = self._place_ids(row)
            if place_ids is None:
                rejected.append(((row.line, raw), [RowError(
                    row.line, "province", f"unknown province {row.province!r}")]))
                continue
            placed.append((row, place_ids))
        if placed:
            self._write_rows(placed)
        return rejected

    def _place_ids(self, row: ParticipantRow) -> dict | None:
        names = (row.province, row.city, row.kecamatan, row.kelurahan)
        if names not in self._place_cache:
            self._place_cache[names] = self._resolve_places(row)
        return self._place_cache[names]

    def _resolve_places(self, row: ParticipantRow) -> dict | None:
        province_id = self.places.province_id(row.province)
        if province_id is None:
            return None
        city_id = self.places.city_id(province_id, row.city)
        district_id = self.places.district_id(city_id, row.kecamatan)
        village_id = self.places.village_id(district_id, row.kelurahan) if row.kelurahan else None
        return {"province_id": province_id, "city_id": city_id,
                "district_id": district_id, "village_id": village_id}

    def _write_rows(self, placed):
        session = self.session
        family_ids = self._family_ids({row.family_key for row, _ in placed})
        existing = {
            r.card_no: r for r in session.execute(
                select(Participant.id, Participant.card_no, Participant.arrears_as_of,
                       Participant.months_in_arrears, Participant.arrears_amount,
                       *[getattr(Participant, name) for name in _PROFILE])
                .where(Participant.card_no.in_([row.card_no for row, _ in placed]))
            )
        }
        now = now_utc()
        inserts, updates, snapshots, corrections = [], [], [], []
        for row, place_ids in placed:
            profile = _profile(row, place_ids, family_ids[row.family_key])
            current = existing.get(row.card_no)
            if current is None:
                inserts.append({**profile, "card_no": row.card_no, "created_at": now, "updated_at": now,
                                "is_phone_invalid": False, **_current_arrears(row)})
                continue
            changes = {k: v for k, v in profile.items() if getattr(current, k) != v}
            if "phone" in changes:
                changes["is_phone_invalid"] = False  # a new number deserves a new try
            adds_snapshot, arrears_changes = _arrears_effect(current, row)
            if adds_snapshot:
                corrections.append(_snapshot(current.id, row, self.run_id))
            changes.update(arrears_changes)
            if changes or adds_snapshot:
                if changes:
                    updates.append({"id": current.id, "updated_at": now, **changes})
                self.report.updated += 1
            else:
                self.report.unchanged += 1
        if inserts:
            # Plain executemany, then one query for the new ids: the ORM's
            # bulk INSERT … RETURNING is several times slower on SQLite.
            bulk_insert(session, Participant.__table__, inserts)
            by_card = {row.card_no: row for row, _ in placed}
            created = session.execute(select(Participant.id, Participant.card_no).where(
                Participant.card_no.in_([r["card_no"] for r in inserts]))).all()
            snapshots.extend(_snapshot(pid, by_card[card], self.run_id) for pid, card in created)
            self.report.created += len(created)
        for group in _group_by_keys(updates):
            session.execute(update(Participant), group)
        self._replace_snapshots(corrections)
        bulk_insert(session, ArrearsSnapshot.__table__, snapshots + corrections)

    def _family_ids(self, keys: set[str]) -> dict[str, int]:
        session = self.session
        found = dict(session.execute(select(Family.key, Family.id).where(Family.key.in_(keys))).all())
        missing = [{"key": key, "created_at": now_utc()} for key in keys if key not in found]
        if missing:
            bulk_insert(session, Family.__table__, missing)
            found.update(session.execute(select(Family.key, Family.id).where(
                Family.key.in_([m["key"] for m in missing]))).all())
        return found

    def _replace_snapshots(self, snapshots):
        """A second figure for a date already on file is a correction: it replaces the first.

        Only participants already on file can have one, so new ones skip this."""
        if snapshots:
            self.session.execute(
                ArrearsSnapshot.__table__.delete().where(
                    ArrearsSnapshot.participant_id == bindparam("p"), ArrearsSnapshot.as_of == bindparam("d")
                ),
                [{"p": s["participant_id"], "d": s["as_of"]} for s in snapshots],
            )


def _profile(row: ParticipantRow, place_ids: dict, family_id: int) -> dict:
    return {
        "nik": row.nik, "name": row.name, "phone": row.phone, "segment": row.segment,
        "klass": row.klass, "family_id": family_id, "rt": row.rt, "rw": row.rw,
        "address": row.address, "is_autodebit": row.is_autodebit, **place_ids,
    }


def _current_arrears(row: ParticipantRow) -> dict:
    return {"months_in_arrears": row.months_in_arrears, "arrears_amount": row.arrears_amount,
            "arrears_as_of": row.as_of}


def _arrears_effect(current, row: ParticipantRow) -> tuple[bool, dict]:
    """Whether the row adds a snapshot, and the current-arrears columns it changes.

    A figure equal to the current one adds nothing, whatever its date. A figure
    dated before the current one is history: it becomes a snapshot but does not
    replace what is current.
    """
    if (current.months_in_arrears, current.arrears_amount) == (row.months_in_arrears, row.arrears_amount):
        return False, {}
    if current.arrears_as_of is not None and row.as_of < current.arrears_as_of:
        return True, {}
    return True, _current_arrears(row)


def _snapshot(participant_id: int, row: ParticipantRow, run_id: int) -> dict:
    return {"participant_id": participant_id, "as_of": row.as_of,
            "months_in_arrears": row.months_in_arrears, "amount": row.arrears_amount,
            "import_run_id": run_id}


def _group_by_keys(rows: list[dict]) -> list[list[dict]]:
    """Bulk UPDATE needs every parameter set of one statement to name the same columns."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


class _SeenCards:
    """Card numbers already met in this file, kept in a temporary table.

    A set in memory would grow with the file; the temporary table keeps the
    import's memory flat and is dropped (or vanishes with the transaction).
    """

    def __init__(self, session):
        self.session = session
        session.execute(text("DROP TABLE IF EXISTS import_seen_cards"))
        suffix = " ON COMMIT DROP" if is_postgresql(session) else ""
        session.execute(text(f"CREATE TEMPORARY TABLE import_seen_cards (card_no VARCHAR(13) PRIMARY KEY){suffix}"))

    def add_and_find_repeats(self, cards: list[str]) -> set[str]:
        repeats = set(self.session.scalars(
            text("SELECT card_no FROM import_seen_cards WHERE card_no IN :cards")
            .bindparams(bindparam("cards", expanding=True)), {"cards": cards}))
        fresh = [(card,) for card in set(cards) - repeats]
        if fresh:
            placeholder = "%s" if is_postgresql(self.session) else "?"
            self.session.connection().exec_driver_sql(
                f"INSERT INTO import_seen_cards (card_no) VALUES ({placeholder})", fresh)
        return repeats

    def drop(self):
        if not is_postgresql(self.session):
            self.session.execute(text("DROP TABLE IF EXISTS import_seen_cards"))
