"""A kept participant import rolls forward: it becomes `applying`, then lands a chunk per short transaction,
and a process killed on the way leaves it to be resumed, never half-forgotten (issue 12, item 10)."""

import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, update

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import User
from telecollect.imports import runner
from telecollect.imports.models import ImportRun, ImportStagedChunk, ImportStatus
from telecollect.participants.models import Participant
from telecollect.reports.models import ArrearsDistrictTotal
from telecollect.workflows.imports import resume_imports
from tests.helpers import SETTINGS, csv_bytes, row, run_import


class Killed(BaseException):
    """The process dies here: nothing after it runs (a BaseException, as SystemExit or a signal's)."""


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _kill_after(db, participants: int):
    """An `on_batch` hook that kills the import once `participants` rows have landed (during the apply)."""

    def on_batch():
        if _count(db, Participant) >= participants:
            raise Killed

    return on_batch


@pytest.fixture
def one_chunk_per_transaction(monkeypatch):
    """At test size every chunk would fit in one transaction: one chunk each, as in a large import."""
    monkeypatch.setattr(runner, "APPLY_TRANSACTION_SECONDS", 0)


def test_an_import_killed_while_applying_stays_applying_and_is_resumed_whole(db, one_chunk_per_transaction):
    data = csv_bytes([row(card_no=f"{n:013d}", family_id=f"F{n}") for n in range(1, 501)])
    with pytest.raises(Killed):
        run_import(db, data, batch_size=100, on_batch=_kill_after(db, 200))
    db.session.rollback()
    run = db.session.scalar(select(ImportRun))
    # Meanwhile readers see the chunks applied so far and the run as applying; the reactions wait.
    assert run.status == ImportStatus.applying
    assert (run.created, _count(db, Participant)) == (200, 200)
    assert db.session.scalars(select(ImportStagedChunk.seq).order_by(ImportStagedChunk.seq)).all() == [-1, 2, 3, 4]
    assert _count(db, ArrearsDistrictTotal) == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "import.participants")) == 0

    reports = resume_imports(db.session, settings=SETTINGS)

    assert [(r.run_id, r.status, r.created, r.rejected) for r in reports] == [(run.id, ImportStatus.committed, 500, 0)]
    db.session.refresh(run)
    assert (run.status, run.created, run.updated) == (ImportStatus.committed, 500, 0)
    assert _count(db, Participant) == 500 and _count(db, ImportStagedChunk) == 0
    assert _count(db, ArrearsDistrictTotal) > 0  # the reactions ran once the whole file had landed
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "import.participants")) == 1
    assert resume_imports(db.session, settings=SETTINGS) == []  # nothing left: a second resume does nothing


def test_the_next_import_first_finishes_the_one_left_applying(db, one_chunk_per_transaction):
    first = csv_bytes([row(card_no=f"{n:013d}", arrears_amount="Rp100.000") for n in range(1, 301)])
    with pytest.raises(Killed):
        run_import(db, first, batch_size=100, on_batch=_kill_after(db, 100))
    db.session.rollback()
    second = csv_bytes([row(card_no=f"{n:013d}", arrears_amount="Rp200.000") for n in range(1, 301)])
    report = run_import(db, second, batch_size=100)
    runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [(r.status, r.created, r.updated) for r in runs] == [
        (ImportStatus.committed, 300, 0),
        (ImportStatus.committed, 0, 300),
    ]
    assert report.updated == 300
    # The second file's figures are the last word: the first run was finished before it applied.
    assert set(db.session.scalars(select(Participant.arrears_amount))) == {200_000}


def test_a_refused_file_is_counted_transaction_by_transaction_and_leaves_nothing(db, one_chunk_per_transaction):
    rows = [row(card_no=f"{n:013d}") for n in range(1, 301)]
    rows.append(row(card_no="0000000000007"))  # a repeat, refused while staging
    report = run_import(db, csv_bytes(rows), batch_size=100)
    assert (report.status, report.created, report.rejected) == (ImportStatus.rejected, 300, 1)
    assert report.errors[0].line == 302 and report.errors[0].column == "card_no"
    assert _count(db, Participant) == 0 and _count(db, ImportStagedChunk) == 0


def test_a_place_refused_stops_the_import_before_anything_lands(db, one_chunk_per_transaction):
    run_import(db, csv_bytes([row(card_no="0000000000000")]))  # the places of the rows below are known
    rows = [row(card_no=f"{n:013d}") for n in range(1, 251)]
    rows.append(row(card_no="0000000009999", kecamatan="Kecamatan Baru"))
    report = run_import(db, csv_bytes(rows), batch_size=100, allow_new_places=False)
    assert (report.status, report.created, report.rejected) == (ImportStatus.rejected, 250, 1)
    assert report.errors[0].column == "kecamatan"
    assert _count(db, Participant) == 1

    kept = run_import(db, csv_bytes(rows), batch_size=100, allow_new_places=False, skip_invalid=True)
    assert (kept.status, kept.created, kept.rejected) == (ImportStatus.committed, 250, 1)
    assert db.session.get(ImportRun, kept.run_id).rejected == 1
    assert _count(db, Participant) == 251


def test_new_places_are_listed_once_and_added_once(db, one_chunk_per_transaction):
    rows = [row(card_no=f"{n:013d}", kecamatan="Kecamatan Baru") for n in range(1, 251)]
    dry = run_import(db, csv_bytes(rows), batch_size=100, dry_run=True)
    names = ["Kota Administrasi Jakarta Utara", "Kecamatan Baru", "Tugu Utara"]
    assert [p.name for p in dry.new_places] == names
    assert _count(db, Participant) == 0
    kept = run_import(db, csv_bytes(rows), batch_size=100)
    assert [p.name for p in kept.new_places] == names
    districts = db.session.scalars(select(Participant.district_id).distinct()).all()
    assert len(districts) == 1


@pytest.mark.committing
def test_a_writer_gets_in_between_two_apply_transactions(app, db, make_user, one_chunk_per_transaction):
    """Before, the whole apply was one transaction: a writer waited for the last row. Now, half-way through
    applying (between two transactions), another connection writes at once."""
    user = make_user("telecollector")
    db.session.commit()
    user_id = user.id
    applying, written = threading.Event(), threading.Event()
    errors, reports = [], []

    def on_batch():
        if not applying.is_set() and _count(db, Participant) > 0:
            applying.set()
            written.wait(20)  # the import pauses between two apply transactions until the writer is done

    def importer():
        try:
            with app.app_context():
                data = csv_bytes([row(card_no=f"{n:013d}") for n in range(1, 1001)])
                reports.append(run_import(db, data, batch_size=200, on_batch=on_batch))
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=importer)
    thread.start()
    assert applying.wait(30)
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], connect_args={"timeout": 3} if sqlite else {})
    try:
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(update(User).where(User.id == user_id).values(daily_call_target=42))
            seen = connection.scalar(select(func.count()).select_from(Participant))
        assert time.monotonic() - started < 3
    except Exception as exc:  # "database is locked": blocked by the import
        errors.append(exc)
    finally:
        written.set()
        engine.dispose()
    thread.join(60)
    assert not errors, errors
    assert 0 < seen < 1000  # it wrote while the import was half-applied
    assert reports and reports[0].created == 1000
    assert db.session.scalar(select(User.daily_call_target).where(User.id == user_id)) == 42


def test_flask_import_resume_finishes_a_run_left_applying(runner, db, one_chunk_per_transaction):
    data = csv_bytes([row(card_no=f"{n:013d}") for n in range(1, 301)])
    with pytest.raises(Killed):
        run_import(db, data, batch_size=100, on_batch=_kill_after(db, 100))
    db.session.rollback()
    run_id = db.session.scalar(select(ImportRun.id))
    result = runner.invoke(args=["import", "resume"])
    assert result.exit_code == 0, result.output
    assert str(run_id) in result.stdout and "300" in result.stdout
    assert _count(db, Participant) == 300
    assert db.session.get(ImportRun, run_id).status == ImportStatus.committed
    again = runner.invoke(args=["import", "resume"])
    assert again.exit_code == 0 and _count(db, ImportStagedChunk) == 0


#: Imports a file in a child process that kills itself (SIGKILL: no cleanup runs) once `kill_at`
#: participants have landed, applying one chunk per transaction.
_KILLED_CHILD = """
import os, signal, sys
from sqlalchemy import func, select
from telecollect import create_app
from telecollect.extensions import db
from telecollect.imports import runner
from telecollect.participants.models import Participant
from tests.helpers import run_import

url, path, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
runner.APPLY_TRANSACTION_SECONDS = 0
app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})

def on_batch():
    if db.session.scalar(select(func.count()).select_from(Participant)) >= kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

with app.app_context():
    with open(path, "rb") as data:
        run_import(db, data.read(), batch_size=100, on_batch=on_batch)
"""


@pytest.mark.committing
def test_a_process_killed_while_applying_is_resumed_whole(app, db, tmp_path):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "peserta.csv"
    path.write_bytes(csv_bytes([row(card_no=f"{n:013d}", family_id=f"F{n}") for n in range(1, 601)]))
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_CHILD, app.config["SQLALCHEMY_DATABASE_URI"], str(path), "300"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    run = db.session.scalar(select(ImportRun))
    assert run.status == ImportStatus.applying and run.created == _count(db, Participant) == 300

    [report] = resume_imports(db.session, settings=SETTINGS)

    assert (report.status, report.created) == (ImportStatus.committed, 600)
    assert _count(db, Participant) == 600 and _count(db, ImportStagedChunk) == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "import.participants")) == 1
