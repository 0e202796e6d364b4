"""Imports stage their rows in short transactions, then apply them at once: the call centre keeps writing
while a large file is read, and an import stays all-or-nothing (issue 12, item 10)."""

import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, update

from telecollect.auth.models import User
from telecollect.imports.models import ImportRun, ImportStagedChunk, ImportStatus
from telecollect.imports.reader import FileFormatError
from telecollect.participants.models import Participant
from tests.helpers import csv_bytes, row, run_import


def test_a_refused_import_leaves_no_staged_rows_and_writes_nothing(db):
    data = csv_bytes([row(card_no=f"{n:013d}") for n in range(1, 30)] + [row(card_no="12")])
    report = run_import(db, data, batch_size=100)
    assert report.status == ImportStatus.rejected and report.rejected == 1 and report.created == 29
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportStagedChunk)) == 0
    assert db.session.get(ImportRun, report.run_id).status == ImportStatus.rejected


def test_a_kept_import_applies_every_staged_chunk_in_order(db):
    data = csv_bytes([row(card_no=f"{n:013d}", as_of="2026-10-31") for n in range(1, 251)])
    report = run_import(db, data, batch_size=100)
    assert report.status == ImportStatus.committed and report.created == 250
    assert db.session.scalar(select(func.count()).select_from(ImportStagedChunk)) == 0
    first = db.session.scalar(select(Participant).where(Participant.card_no == "0000000000001"))
    assert first.arrears_as_of.isoformat() == "2026-10-31" and first.segment.value == "PBPU"


def test_a_file_that_breaks_half_way_leaves_nothing_behind(db):
    data = csv_bytes([row(card_no=f"{n:013d}") for n in range(1, 250)]) + b'"0000000000999,"unclosed\n'
    data = data + "Sîti".encode("latin-1")
    with pytest.raises(FileFormatError):
        run_import(db, data, batch_size=100)
    assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportStagedChunk)) == 0


@pytest.mark.committing
def test_a_writer_is_not_blocked_while_an_import_reads_its_file(app, db, make_user):
    """While an import is half-way through its rows, another connection writes at once. Before staging
    the import held SQLite's write lock from its first row to its last, and the writer waited it out."""
    user = make_user("telecollector")
    db.session.commit()
    user_id = user.id
    halfway, written = threading.Event(), threading.Event()
    waits, errors, reports = [], [], []

    def on_batch():
        if not halfway.is_set():
            halfway.set()
            written.wait(20)  # the import pauses mid-file until the writer is done (or gave up)

    def importer():
        try:
            with app.app_context():
                data = csv_bytes([row(card_no=f"{n:013d}") for n in range(1, 2001)])
                reports.append(run_import(db, data, batch_size=200, on_batch=on_batch))
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=importer)
    thread.start()
    assert halfway.wait(30)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], connect_args=_short_busy_timeout(app))
    try:
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(update(User).where(User.id == user_id).values(daily_call_target=42))
        waits.append(time.monotonic() - started)
    except Exception as exc:  # "database is locked": blocked by the import
        errors.append(exc)
    finally:
        written.set()
        engine.dispose()
    thread.join(60)
    assert not errors, errors
    assert reports and reports[0].created == 2000
    assert db.session.scalar(select(User.daily_call_target).where(User.id == user_id)) == 42


def _short_busy_timeout(app) -> dict:
    """A writer that gives up after 3 s instead of 30 (SQLite); PostgreSQL never blocks this write."""
    return {"timeout": 3} if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else {}


def test_staged_rows_come_back_as_they_were_validated(db):
    from datetime import date

    from telecollect.imports.runner import _row_maker
    from telecollect.participants.importing import validate_row
    from tests.helpers import BASE_ROW

    validated, _errors = validate_row(7, dict(BASE_ROW), date(2026, 11, 30))
    import json
    from dataclasses import fields

    values = json.loads(json.dumps([getattr(validated, f.name) for f in fields(validated)], default=str))
    assert _row_maker(type(validated))(values) == validated


def test_the_staged_rows_of_an_abandoned_run_are_purged_by_the_next_import(db):
    from datetime import UTC, datetime

    from telecollect.imports.runner import ABANDONED_AFTER

    now = datetime(2026, 11, 30, 3, tzinfo=UTC)
    old = ImportRun(
        kind="participants", filename="x.csv", status=ImportStatus.running, started_at=now - ABANDONED_AFTER * 2
    )
    recent = ImportRun(kind="participants", filename="y.csv", status=ImportStatus.running, started_at=now)
    db.session.add_all([old, recent])
    db.session.flush()
    db.session.add_all(
        [ImportStagedChunk(run_id=old.id, seq=0, rows=b""), ImportStagedChunk(run_id=recent.id, seq=0, rows=b"")]
    )
    db.session.flush()
    run_import(db, csv_bytes([row()]), now=now)
    assert db.session.scalars(select(ImportStagedChunk.run_id)).all() == [recent.id]
