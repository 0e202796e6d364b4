"""The shape every file import shares: stream, validate, check, apply, all-or-nothing.

An import owns its transactions, unlike other services: it may read a million
rows, and whether they stay depends on what the last row holds. It runs so that
the call centre keeps writing while a large file is read and applied (on SQLite
one transaction holding the write lock for a whole import made every outcome
wait, then fail). There are two shapes:

- A `roll_forward` spec (participants) runs in phases:
  1. stage: every row is read and validated (and, for a spec with a
     `unique_key`, checked against the rows before it); the valid ones are kept
     in `import_staged_chunks`, keyed by the run, a chunk per short transaction;
  2. decide: whether the run is kept is settled before anything is written
     (invalid rows, and for a spec with `place_key` the places its rows name,
     resolved once each in a transaction rolled back);
  3. apply: the run becomes `applying` in one commit, then its chunks are
     applied in short transactions (about `APPLY_TRANSACTION_SECONDS` each),
     every chunk deleted in the transaction that applies it, so a chunk lands
     exactly once; the reactions and the `committed` status come in a last one.
     A process killed on the way leaves the run `applying`: `resume_applying`
     (`flask import resume`, and the next import of that kind, which first
     finishes the runs before it) applies what is left. Meanwhile readers see
     the chunks applied so far, and the run as `applying`; the reactions
     (closing the work of settled families, the district totals) and the
     dashboard's "last import" follow only when the whole run has landed. A run
     that is not kept (invalid rows, a dry run) applies its chunks the same way
     to count what it would do, each transaction rolled back.
- Other specs (payments) check and apply in one transaction: the valid rows go
  straight from the file to the writer, whose checks write only temporary
  tables, and the kind's lock is taken to apply them (on SQLite, only then: see
  `_apply_at_once`). Staging would only write and read every row once more.

The staged rows are deleted when the run ends, kept or not.
"""

import enum
import gc
import json
import queue
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from functools import cache, lru_cache, wraps
from operator import attrgetter
from typing import Protocol, TextIO, get_args, get_type_hints

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select, update

from telecollect.audit import services as audit
from telecollect.branches.settings import branch_settings
from telecollect.branches.stamping import act_in_branch
from telecollect.cells import SafeCsvWriter
from telecollect.clock import local_day
from telecollect.db import (
    bulk_write_cache,
    is_postgresql,
    lock_after_reading,
    lock_for,
    now_utc,
    refresh_planner_statistics,
)
from telecollect.imports.fields import control_character_columns
from telecollect.imports.models import ImportRun, ImportStagedChunk, ImportStatus
from telecollect.imports.reader import EXTRA_VALUES, FileFormatError, TableReader
from telecollect.reasons import Refusal, RowError
from telecollect.settings import Settings

#: Errors kept for display; beyond this they are counted (and written to the
#: rejects file when there is one), so a broken million-row file cannot
#: exhaust memory.
MAX_KEPT_ERRORS = 10_000


#: How the summary names the places an import adds, per level.
_NEW_PLACE_WORDS = {
    "city": _l("new regencies/cities: %(num)s"),
    "kecamatan": _l("new kecamatan: %(num)s"),
    "kelurahan": _l("new kelurahan/desa: %(num)s"),
}


@dataclass
class ImportReport:
    status: ImportStatus = ImportStatus.running
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    run_id: int | None = None
    #: Places the import added (`regions.services.NewPlace`); in a dry or refused run, those it would add.
    new_places: list = field(default_factory=list)
    #: Keys of the families another branch had that this import moved to its branch (issue 16).
    moved_branch: list[str] = field(default_factory=list)

    @property
    def is_kept(self) -> bool:
        return self.status == ImportStatus.committed

    def summary(self) -> str:
        """One line for the CLI and the audit log; a run that wrote nothing says what it *would* have done."""
        counts = {"c": self.created, "u": self.updated, "n": self.unchanged, "r": self.rejected}
        if self.is_kept:
            line = _("created %(c)s, updated %(u)s, unchanged %(n)s, rejected %(r)s", **counts)
        else:
            line = _("would create %(c)s, update %(u)s, leave %(n)s unchanged, reject %(r)s", **counts)
        places = self.new_places_summary()
        if self.moved_branch:
            line = f"{line}; " + _("moved from another branch: %(n)s families", n=len(self.moved_branch))
        return f"{line}; {places}" if places else line

    def new_places_summary(self) -> str:
        by_level: dict[str, int] = {}
        for place in self.new_places:
            by_level[place.level] = by_level.get(place.level, 0) + 1
        if not by_level:
            return ""
        parts = ", ".join(str(_NEW_PLACE_WORDS[level]) % {"num": count} for level, count in by_level.items())
        return (
            _("places added: %(places)s", places=parts)
            if self.is_kept
            else _("places it would add: %(places)s", places=parts)
        )

    def add_errors(self, errors: list[RowError]) -> None:
        room = MAX_KEPT_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    @property
    def errors_not_kept(self) -> bool:
        return len(self.errors) >= MAX_KEPT_ERRORS


class RejectsWriter:
    """Writes rejected rows, as they were, plus a column with the reasons (cells that a spreadsheet would
    run as a formula neutralised, as in every file the app writes)."""

    def __init__(self, stream: TextIO, header: list[str]):
        self.header = [name for name in header if name]
        self._csv = SafeCsvWriter(stream)
        self._csv.writerow(["line", *self.header, "errors"])

    def write(self, line: int, raw: dict, errors: list[RowError]) -> None:
        reasons = "; ".join(str(e) for e in errors)
        self._csv.writerow([line, *(raw.get(name, "") for name in self.header), reasons])


Rejected = list[tuple[tuple[int, dict], list[RowError]]]


class BatchWriter(Protocol):
    def write(self, batch: list[tuple[object, dict]]) -> Rejected:
        """Write valid rows; return those refused on the way (duplicates, unknown keys)."""

    def recheck(self) -> None:
        """Under the kind's lock, when it was taken after the checks (SQLite): raise `FileFormatError` if
        another import of the kind, landed meanwhile, changed what the checks found."""

    def finish(self) -> None:
        """Last work inside the transaction, only when the import is kept."""

    def close(self) -> None:
        """Release what the writer holds (temporary tables), kept or not."""


class PlaceCheckingWriter(BatchWriter, Protocol):
    def check_places(self, keys: dict[tuple, None]) -> bool:
        """Resolve every distinct place the rows name (`ImportSpec.place_key`), set the report's
        `new_places`; return whether some would be refused."""


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    missing_columns: Callable[[list[str]], list[str]]
    validate_row: Callable
    make_writer: Callable[..., BatchWriter]
    #: Whether rows name places (then `allow_new_places` reaches the writer).
    has_places: bool = False
    #: The validated row's type (a dataclass): how staged rows are rebuilt, by a resumed run too.
    row_type: type | None = None
    #: A field no two rows of a file may share (the later ones are refused while staging, "<field>_repeated").
    unique_key: str | None = None
    #: The places a row names (a hashable key): checked once each before a roll-forward run is applied.
    place_key: Callable[[object], tuple] | None = None
    #: Apply in short transactions, resumed when the process dies (see the module's doc); the writer then
    #: holds nothing between transactions and a new one is made for each.
    roll_forward: bool = False
    #: Whether the writer reads rows at random all through large tables (payers by card number): SQLite then
    #: reads the database through a memory map (`db.bulk_write_cache`).
    reads_at_random: bool = False


class _QuietCollector:
    """Lets Python's cyclic garbage collector pass over what the process held before an import (the app's,
    Flask's and SQLAlchemy's objects: `gc.freeze`) and run less often while imports run.

    An import makes and drops millions of small objects (rows, tuples, dates), nearly none in a cycle. Each
    collection of the oldest generation walked every object of the process again: 12 s of a 1,000,000-row
    payment import's 62 s on SQLite (py-spy, native frames); frozen, 45 s. A young generation collected
    every 50,000 allocations still walked each chunk's members and payments again and again as they were
    made (2.7 s); every 1,000,000, 0.7 s. Cycles made meanwhile are still collected, a million allocations
    later at most. Imports running at once in one process (threads of the web server) share the setting:
    the last one to end unfreezes and restores the collector, and what was frozen is collected as before."""

    #: The young generation is collected after this many allocations (700 by default), the older ones
    #: after that many young collections: their objects are the import's live chunk, not garbage.
    THRESHOLDS = (1_000_000, 1000, 1000)

    def __init__(self):
        self._lock = threading.Lock()
        self._running = 0
        self._before = gc.get_threshold()

    @contextmanager
    def quieted(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._before = gc.get_threshold()
                gc.freeze()
                gc.set_threshold(*self.THRESHOLDS)
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    gc.unfreeze()
                    gc.set_threshold(*self._before)


_COLLECTOR = _QuietCollector()


def _collecting_less(function):
    """Runs `function` with the collector quieted (`_QuietCollector`)."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with _COLLECTOR.quieted():
            return function(*args, **kwargs)

    return wrapper


@_collecting_less
def run_import(
    session,
    reader: TableReader,
    spec: ImportSpec,
    *,
    filename: str,
    settings: Settings,
    user=None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects: RejectsWriter | None = None,
    today: date | None = None,
    now: datetime | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[], None] | None = None,
    allow_new_places: bool = True,
) -> ImportReport:
    """Run one import as `spec` describes. Raises `FileFormatError` when the file as a
    whole is unusable (missing required columns); nothing is written then.

    `allow_new_places=False` refuses the rows that name a place not yet known
    (so a misspelt kecamatan cannot become a new one). `now` is the business
    time the rows are written at (the CLI's or the request's clock; the clock
    when not given), `today` the day rows are checked against (the branch's
    local day of `now` when not given)."""
    missing = spec.missing_columns(reader.header)
    if missing:
        raise FileFormatError("file_missing_columns", columns=", ".join(missing))
    now = now or now_utc()
    today = today or local_day(now, settings.branch_timezone)
    batch_size = batch_size or settings.import_batch_size
    session.commit()  # start from a clean transaction: the import decides its fate
    _purge_abandoned(session, now)
    run = ImportRun(kind=spec.kind, filename=filename, user_id=user.id if user else None, status=ImportStatus.running)
    session.add(run)
    session.commit()  # the staged chunks refer to it
    run_id = run.id
    report = ImportReport()
    extra = {"allow_new_places": allow_new_places} if spec.has_places else {}
    if not spec.roll_forward:
        # Checked straight into the one apply transaction, which writes nothing but temporary tables until
        # the import is kept (see `_apply_at_once`): staging first would only write and read every row once
        # more.
        batches = _valid_batches(reader, spec, report, rejects, today, batch_size, on_batch, read_ahead=True)
        return _apply_at_once(
            session, spec, run_id, batches, report, user, rejects, settings, today, now, extra, dry_run, skip_invalid
        )
    try:
        staged = _stage(session, reader, spec, run_id, report, rejects, today, batch_size, on_batch)
    except BaseException:
        _forget(session, run_id)  # a file that breaks half-way leaves nothing behind, as before staging
        raise
    plan = _Plan(today, now, extra, reader.header)
    return _roll_forward(session, spec, staged, plan, report, user, rejects, settings, on_batch, dry_run, skip_invalid)


def _apply_at_once(
    session, spec, run_id, batches, report, user, rejects, settings, today, now, extra, dry_run, skip_invalid
):
    """Check every batch, then apply them in the same transaction, so the import stays all-or-nothing.

    The checks read, and write temporary tables only. On PostgreSQL the kind's lock is taken first: it is an
    advisory lock that holds back only another import of the kind. On SQLite the lock is the one write lock
    every writer waits for, so it is taken only once the file is checked and kept, to apply it; the writer
    then checks again (`recheck`) what another import of the kind may have changed meanwhile."""
    locked_first = is_postgresql(session)
    if locked_first:
        lock_for(session, f"import:{spec.kind}")
    writer = spec.make_writer(session, run_id, report, today, now, **extra)
    try:
        with bulk_write_cache(session, settings.import_sqlite_cache_mb, mapped=spec.reads_at_random):
            for batch in batches:
                _write_batch(writer, batch, report, rejects)
            keep = not dry_run and (report.rejected == 0 or skip_invalid)
            if keep and not locked_first:
                lock_after_reading(session, f"import:{spec.kind}")
                writer.recheck()
            if keep:
                writer.finish()
    except BaseException:
        session.rollback()
        _forget(session, run_id)  # a file that breaks half-way leaves nothing behind
        raise
    finally:
        writer.close()
    return _finish(session, spec, run_id, report, user, keep=keep, dry_run=dry_run)


#: About how long one apply transaction of a roll-forward run holds the write lock: chunks are applied until
#: it is reached. On SQLite this bounds a writer's wait during an import.
APPLY_TRANSACTION_SECONDS = 1.0
#: After each apply transaction, on SQLite, the import steps aside this long (never longer than it held the
#: lock): SQLite keeps no queue of writers, and one waiting on the busy timeout retries every 100 ms.
SQLITE_STEP_ASIDE_SECONDS = 0.12
#: The staged chunk holding a roll-forward run's plan, next to its rows (0, 1, …).
_PLAN_SEQ = -1


@dataclass
class _Plan:
    """What applying a run needs besides its rows, staged with them: a resumed run applies the same."""

    today: date
    now: datetime
    options: dict
    header: list[str]

    def dump(self) -> bytes:
        plan = {"today": self.today.isoformat(), "now": self.now.isoformat(), "options": self.options}
        return zlib.compress(json.dumps({**plan, "header": self.header}).encode())

    @classmethod
    def load(cls, payload: bytes) -> "_Plan":
        plan = json.loads(zlib.decompress(payload))
        today, now = date.fromisoformat(plan["today"]), datetime.fromisoformat(plan["now"])
        return cls(today, now, plan["options"], plan["header"])


def _roll_forward(session, spec, staged, plan, report, user, rejects, settings, on_batch, dry_run, skip_invalid):
    """Decide, then apply in short transactions (see the module's doc)."""
    run_id = staged.run_id
    try:
        would_refuse = _check_places(session, spec, staged, plan, report)
        keep = not dry_run and (skip_invalid or (report.rejected == 0 and not would_refuse))
        if not keep:  # count what it would do, every transaction rolled back
            _apply_chunks(session, spec, run_id, plan, report, rejects, settings, on_batch, commit=False)
            return _finish(session, spec, run_id, report, user, keep=False, dry_run=dry_run)
        _start_applying(session, spec, run_id, plan, report, settings)
    except BaseException:
        _forget(session, run_id)
        raise
    # Rolling forward: from here a run that stops (its process killed, an error) stays `applying`.
    try:
        _apply_chunks(session, spec, run_id, plan, report, rejects, settings, on_batch, commit=True)
        return _conclude(session, spec, run_id, plan, report, settings)
    except BaseException:
        session.rollback()
        raise


@_collecting_less
def resume_applying(session, spec: ImportSpec, *, settings: Settings) -> list[ImportReport]:
    """Apply what is left of the runs of `spec.kind` a process left `applying` (it was killed, or failed
    half-way), oldest first; their reports."""
    session.commit()
    runs = session.scalars(
        select(ImportRun.id)
        .where(ImportRun.kind == spec.kind, ImportRun.status == ImportStatus.applying)
        .order_by(ImportRun.id)
    ).all()
    session.rollback()
    return [_resume_run(session, spec, run_id, settings) for run_id in runs]


def _resume_run(session, spec, run_id: int, settings) -> ImportReport:
    payload = session.scalar(
        select(ImportStagedChunk.rows).where(ImportStagedChunk.run_id == run_id, ImportStagedChunk.seq == _PLAN_SEQ)
    )
    run = session.get(ImportRun, run_id)
    report = _report_of(run)
    branch_id = run.branch_id
    session.rollback()
    if payload is None:  # concluded meanwhile by another process
        return report
    act_in_branch(session, branch_id)  # its new families are its branch's, whoever resumes it
    settings = branch_settings(session, branch_id) if branch_id is not None else settings  # and its settings
    plan = _Plan.load(payload)
    _apply_chunks(session, spec, run_id, plan, report, None, settings, None, commit=True)
    return _conclude(session, spec, run_id, plan, report, settings)


def _report_of(run: ImportRun) -> ImportReport:
    return ImportReport(
        status=run.status,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        rejected=run.rejected,
        run_id=run.id,
    )


def _check_places(session, spec, staged, plan, report) -> bool:
    """Whether a row would be refused for its places: each distinct place resolved once, in a transaction
    rolled back (places it adds go again; the report lists them)."""
    if spec.place_key is None or not staged.places:
        return False
    lock_for(session, f"import:{spec.kind}")  # the finder may add places: a writing transaction
    writer = spec.make_writer(session, staged.run_id, report, plan.today, plan.now, **plan.options)
    try:
        return writer.check_places(staged.places)
    finally:
        writer.close()
        session.rollback()


def _start_applying(session, spec, run_id, plan, report, settings) -> None:
    """The run becomes `applying`, its plan staged with its rows, once the runs of its kind that were
    applying have landed (two imports never interleave)."""
    while True:
        lock_for(session, f"import:{spec.kind}")
        earlier = session.scalar(
            select(ImportRun.id)
            .where(ImportRun.kind == spec.kind, ImportRun.status == ImportStatus.applying)
            .order_by(ImportRun.id)
            .limit(1)
        )
        if earlier is None:
            break
        session.rollback()
        _resume_run(session, spec, earlier, settings)
    session.add(ImportStagedChunk(run_id=run_id, seq=_PLAN_SEQ, rows=plan.dump()))
    session.execute(
        update(ImportRun).where(ImportRun.id == run_id).values(status=ImportStatus.applying, rejected=report.rejected)
    )
    session.commit()


def _apply_chunks(session, spec, run_id, plan, report, rejects, settings, on_batch, *, commit: bool) -> None:
    """Apply the run's staged chunks in order, in transactions of about `APPLY_TRANSACTION_SECONDS`.

    `commit`: each chunk is deleted in the transaction that applies it (exactly once, whichever process
    gets it) and the run's counts grow with it; otherwise every transaction is rolled back (counting)."""
    make, header = _row_maker(spec.row_type), plan.header
    after = -1  # the last chunk this process went through
    sqlite = not is_postgresql(session)
    with bulk_write_cache(session, settings.import_sqlite_cache_mb):
        while True:
            lock_for(session, f"import:{spec.kind}")
            started = time.monotonic()
            before = (report.created, report.updated, report.unchanged, report.rejected)
            writer = spec.make_writer(session, run_id, report, plan.today, plan.now, **plan.options)
            applied = 0
            try:
                while applied == 0 or time.monotonic() - started < APPLY_TRANSACTION_SECONDS:
                    chunk = session.execute(
                        select(ImportStagedChunk.seq, ImportStagedChunk.rows)
                        .where(ImportStagedChunk.run_id == run_id, ImportStagedChunk.seq > after)
                        .order_by(ImportStagedChunk.seq)
                        .limit(1)
                    ).first()
                    if chunk is None:
                        break
                    rows = [
                        (make(values), _Cells(header, cells))
                        for values, cells in json.loads(zlib.decompress(chunk.rows))
                    ]
                    _write_batch(writer, rows, report, rejects)
                    after, applied = chunk.seq, applied + 1
                    if commit:
                        session.execute(
                            delete(ImportStagedChunk).where(
                                ImportStagedChunk.run_id == run_id, ImportStagedChunk.seq == chunk.seq
                            )
                        )
            finally:
                writer.close()
            if commit and applied:
                grown = [
                    now - then
                    for now, then in zip(
                        (report.created, report.updated, report.unchanged, report.rejected), before, strict=True
                    )
                ]
                session.execute(
                    update(ImportRun)
                    .where(ImportRun.id == run_id)
                    .values(
                        created=ImportRun.created + grown[0],
                        updated=ImportRun.updated + grown[1],
                        unchanged=ImportRun.unchanged + grown[2],
                        rejected=ImportRun.rejected + grown[3],
                    )
                )
                session.commit()
            else:
                session.rollback()
            if not applied:
                return
            if on_batch:
                on_batch()
            if sqlite:
                time.sleep(min(SQLITE_STEP_ASIDE_SECONDS, time.monotonic() - started))


def _conclude(session, spec, run_id, plan, report, settings) -> ImportReport:
    """The run's last transaction, once every chunk has landed: the reactions, its record, `committed`
    (by whichever process gets here first)."""
    while True:
        lock_for(session, f"import:{spec.kind}")
        run = session.get(ImportRun, run_id, populate_existing=True)
        if run.status != ImportStatus.applying:
            session.rollback()
            return _report_of(session.get(ImportRun, run_id))
        left = session.scalar(select(exists().where(ImportStagedChunk.run_id == run_id, ImportStagedChunk.seq >= 0)))
        if not left:
            break
        session.rollback()
        _apply_chunks(session, spec, run_id, plan, report, None, settings, None, commit=True)
    writer = spec.make_writer(session, run_id, report, plan.today, plan.now, **plan.options)
    try:
        writer.finish()
    finally:
        writer.close()
    report.created, report.updated, report.unchanged, report.rejected = (
        run.created,
        run.updated,
        run.unchanged,
        run.rejected,
    )
    return _finish(session, spec, run_id, report, run.user, keep=True, dry_run=False)


def _stage(session, reader, spec, run_id, report, rejects, today, batch_size, on_batch) -> "_StagedRows":
    """Read and validate every row; keep the valid ones in the staging table a chunk at a time, each
    chunk committed at once (a short write: other writers wait milliseconds, not the whole file)."""
    staged = _StagedRows(session, run_id, reader.header)
    place_key = spec.place_key
    for batch in _valid_batches(reader, spec, report, rejects, today, batch_size, on_batch):
        if place_key is not None:
            for row, _raw in batch:
                staged.places[place_key(row)] = None
        staged.add(batch)
    return staged


def _valid_batches(reader, spec, report, rejects, today, batch_size, on_batch, *, read_ahead: bool = False):
    """Read and validate every row, refusing the invalid ones; yield the valid ones `batch_size` at a time
    (`on_batch` is called after each, and once at the end). `read_ahead`: the file is read and checked in a
    thread while the caller works on the batch before (the caller's database waits leave it the CPU)."""
    checked = _checked_rows(reader, spec, today, batch_size)
    for refused, item in _ReadAhead(checked) if read_ahead else checked:
        if refused:
            _reject(report, rejects, *item)
            continue
        yield item
        if on_batch:
            on_batch()
    if on_batch:
        on_batch()


def _checked_rows(reader, spec, today, batch_size):
    """(True, (line, raw, errors)) for each refused row, (False, batch) for each `batch_size` valid rows, in
    file order. Touches nothing but the file: it may run in another thread."""
    unique_key = spec.unique_key
    seen = _SeenKeys() if unique_key is not None else None
    batch = []
    for line, raw in reader.rows():
        unreadable = control_character_columns(raw)
        if unreadable:
            yield True, (line, raw, [RowError(line, c, Refusal("control_character")) for c in unreadable])
            continue
        row, problems = spec.validate_row(line, raw, today)
        if problems:
            yield True, (line, raw, [RowError(line, column, reason) for column, reason in problems])
            continue
        if seen is not None:
            value = getattr(row, unique_key)
            if not seen.first_time(value):
                refusal = Refusal(f"{unique_key}_repeated", **{unique_key: value})
                yield True, (line, raw, [RowError(line, unique_key, refusal)])
                continue
        batch.append((row, raw))
        if len(batch) >= batch_size:
            yield False, batch
            batch = []
    if batch:
        yield False, batch


class _SeenKeys:
    """The unique keys a file's rows have named so far, kept on disk: SQLite's private temporary database
    (deleted when closed, its page cache bounded), so memory stays flat however long the file. A Python
    set of the national file's 10,000,000 card numbers held about 600 MB."""

    #: SQLite's page cache for the keys, in KB: the rest of the B-tree waits in the temporary file.
    CACHE_KB = 16_384

    def __init__(self):
        # The empty name is SQLite's private temporary database on disk; the reading thread may differ
        # from the creating one, never two at once.
        self._keys = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._keys.execute(f"PRAGMA cache_size = -{self.CACHE_KB}")
        self._keys.execute("CREATE TABLE seen (key PRIMARY KEY) WITHOUT ROWID")
        self._keys.execute("BEGIN")  # one transaction: nothing of it needs to survive a crash

    def first_time(self, value: str) -> bool:
        """Whether no earlier row named `value` (which now counts as met)."""
        key = int(value) if value.isascii() and value.isdigit() else value  # a card number stored compact
        try:
            self._keys.execute("INSERT INTO seen (key) VALUES (?)", (key,))
        except sqlite3.IntegrityError:
            return False
        return True

    def __del__(self):
        self._keys.close()


class _ReadAhead:
    """Iterates `items` in a thread, up to `AHEAD` items ahead of the reader; an exception raised there is
    raised here, in order. A reader that stops early stops the thread at its next item."""

    AHEAD = 4
    _END = object()

    def __init__(self, items):
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=self.AHEAD)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="import-read-ahead", daemon=True)
        self._thread.start()

    def __iter__(self):
        try:
            while True:
                failed, item = self._queue.get()
                if failed:
                    raise item
                if item is self._END:
                    return
                yield item
        finally:
            self._stopped.set()
            self._thread.join()

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put((False, item)):
                    return
            self._put((False, self._END))
        except BaseException as exc:  # handed over to the reader, raised there
            self._put((True, exc))

    def _put(self, entry) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


class _StagedRows:
    """The valid rows of one run in `import_staged_chunks`: written a chunk per transaction, read back a
    chunk at a time by `_apply_chunks` (memory stays flat), in file order. A chunk is its rows as JSON
    (each the validated row's fields and the raw cells in header order), compressed: staged rows are
    written once and read once, and at about 800 bytes a row uncompressed a million-row file would write
    (and free) 800 MB."""

    def __init__(self, session, run_id: int, header: list[str]):
        self.session = session
        self.run_id = run_id
        self.header = header
        self.chunks = 0
        #: The distinct places the staged rows name (`ImportSpec.place_key`), in file order.
        self.places: dict[tuple, None] = {}

    def add(self, batch: list[tuple[object, dict]]) -> None:
        values = attrgetter(*_field_names(type(batch[0][0])))
        header = self.header
        rows = [[values(row), [raw.get(name) for name in header]] for row, raw in batch]
        payload = zlib.compress(json.dumps(rows, default=_json).encode(), 1)
        self.session.add(ImportStagedChunk(run_id=self.run_id, seq=self.chunks, rows=payload))
        self.session.commit()
        self.chunks += 1


def _json(value):
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot stage {type(value).__name__}")


@cache
def _field_names(row_type: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(row_type))


@cache
def _row_maker(row_type: type) -> Callable[[list], object]:
    """Rebuild a validated row from its staged JSON values: dates and enums come back as themselves (only
    those fields are converted; a file's rows share a few dates and values, so each is read once)."""
    hints = get_type_hints(row_type)
    conversions: list[tuple[int, Callable]] = []
    for index, f in enumerate(fields(row_type)):
        kind = next(k for k in (get_args(hints[f.name]) or (hints[f.name],)) if k is not type(None))
        if kind is date:
            conversions.append((index, lru_cache(maxsize=4096)(date.fromisoformat)))
        elif isinstance(kind, type) and issubclass(kind, enum.Enum):
            conversions.append((index, kind))

    def make(values: list) -> object:
        for index, read in conversions:
            if values[index] is not None:
                values[index] = read(values[index])
        return row_type(*values)

    return make


class _Cells(Mapping):
    """A staged row's raw cells, read only when the row is refused on the way (for its rejects line)."""

    __slots__ = ("header", "values")

    def __init__(self, header: list[str], values: list):
        self.header, self.values = header, values

    def __getitem__(self, key):
        try:
            return self.values[self.header.index(key)]
        except ValueError:
            raise KeyError(key) from None

    def __iter__(self):
        return iter(self.header)

    def __len__(self):
        return len(self.header)


#: A run still "running" after this long was abandoned (its process killed): its staged rows are deleted.
ABANDONED_AFTER = timedelta(days=1)


def _purge_abandoned(session, now: datetime) -> None:
    """Staged rows of runs whose process died mid-way (killed, not refused: those clean up after
    themselves) would stay for ever; the next import removes them."""
    abandoned = select(ImportRun.id).where(
        ImportRun.status == ImportStatus.running, ImportRun.started_at < now - ABANDONED_AFTER
    )
    session.execute(delete(ImportStagedChunk).where(ImportStagedChunk.run_id.in_(abandoned)))
    session.commit()


def _forget(session, run_id: int) -> None:
    """Remove a run that did not finish (its staged rows go with it)."""
    session.rollback()
    session.execute(delete(ImportStagedChunk).where(ImportStagedChunk.run_id == run_id))
    session.execute(delete(ImportRun).where(ImportRun.id == run_id))
    session.commit()


def _write_batch(writer, batch, report, rejects):
    for (line, raw), errors in writer.write(batch):
        _reject(report, rejects, line, raw, errors)


def _reject(report, rejects, line, raw, errors):
    report.rejected += 1
    report.add_errors(errors)
    if rejects is not None:
        rejects.write(line, {k: v for k, v in raw.items() if k != EXTRA_VALUES}, errors)


def _finish(session, spec, run_id, report, user, *, keep: bool, dry_run: bool) -> ImportReport:
    if keep:
        report.status = ImportStatus.committed
        refresh_planner_statistics(session)
    else:
        session.rollback()  # the applied rows go; the record of the attempt (committed before) stays
        report.status = ImportStatus.dry_run if dry_run else ImportStatus.rejected
    session.execute(delete(ImportStagedChunk).where(ImportStagedChunk.run_id == run_id))
    run = session.get(ImportRun, run_id)
    run.status = report.status
    report.errors.sort(key=lambda error: error.line)  # rows refused while writing come after the others
    run.finished_at = now_utc()
    run.created, run.updated = report.created, report.updated
    run.unchanged, run.rejected = report.unchanged, report.rejected
    session.flush()
    # Only a kept run is "import.<kind>": a dry run or a refused file changed nothing and says so.
    action = f"import.{spec.kind}" if keep else f"import.{spec.kind}.{report.status.value}"
    audit.record(session, action, user=user, target=run, detail=report.summary())
    session.commit()
    report.run_id = run_id
    return report
