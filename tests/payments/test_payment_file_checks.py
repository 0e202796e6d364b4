"""A payment file is checked straight into its one apply transaction (read ahead in a thread), on SQLite
before it takes the write lock: it stays all-or-nothing, refuses rows in file order, lets the call centre
write while it reads, and meets another payment import checked at the same time."""

import io
import threading
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, update

from telecollect.auth.models import User
from telecollect.imports.models import ImportRun, ImportStagedChunk
from telecollect.imports.reader import FileFormatError, TableReader
from telecollect.imports.runner import RejectsWriter
from telecollect.payments.models import Payment
from tests.helpers import csv_bytes, row, run_import
from tests.payments.test_payments import PAYMENT_COLUMNS, import_payments


def _members(db, count):
    run_import(db, csv_bytes([row(card_no=f"{n:013d}", as_of="2026-11-01") for n in range(1, count + 1)]))


def _payment(n, **changes):
    return {
        "card_no": f"{n:013d}",
        "amount": "35000",
        "paid_on": "2026-12-01",
        "reference": f"TRX-{n}",
        "channel": "bank",
        **changes,
    }


def _pay(db, data: bytes, **options):
    return import_payments(
        db.session,
        TableReader(io.BytesIO(data), "bayar.csv"),
        filename="bayar.csv",
        batch_size=50,
        today=date(2026, 12, 31),
        **options,
    )


def test_a_payment_file_that_breaks_half_way_leaves_nothing_behind(db):
    _members(db, 120)
    data = csv_bytes([_payment(n) for n in range(1, 121)], columns=PAYMENT_COLUMNS)
    data += b'"0000000000121,"unclosed\n' + "Sîti".encode("latin-1")
    with pytest.raises(FileFormatError):
        _pay(db, data)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportStagedChunk)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportRun).where(ImportRun.kind == "payments")) == 0


def test_refused_payment_rows_are_listed_in_file_order(db):
    """Rows refused while read (a bad amount, a bad day) and while checked against the database (an unknown
    card, a repeated reference, across batches) are all reported, by line."""
    _members(db, 200)
    payments = [_payment(n) for n in range(1, 201)]
    payments[9]["amount"] = "-5"  # line 11
    payments[60]["card_no"] = "9999999999999"  # line 62: nobody
    payments[130]["reference"] = "TRX-3"  # line 132: repeats line 4
    payments[170]["paid_on"] = "31-12-2026"  # line 172
    stream = io.StringIO()
    report = _pay(
        db, csv_bytes(payments, columns=PAYMENT_COLUMNS), rejects=RejectsWriter(stream, list(PAYMENT_COLUMNS))
    )
    assert report.rejected == 4 and report.created == 196
    assert [error.line for error in report.errors] == [11, 62, 132, 172]
    lines = [int(line.split(",", 1)[0]) for line in stream.getvalue().splitlines()[1:]]
    # The rejects file is written as rows are refused: those refused while read (in the read-ahead thread)
    # may come before those of an earlier batch refused against the database.
    assert sorted(lines) == [11, 62, 132, 172]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0  # refused file: nothing kept


@pytest.mark.committing
def test_a_writer_is_not_blocked_while_a_payment_import_reads_its_file(app, db, make_user):
    user = make_user("telecollector")
    _members(db, 400)
    db.session.commit()
    user_id = user.id
    halfway, written = threading.Event(), threading.Event()
    errors, reports = [], []

    def on_batch():
        if not halfway.is_set():
            halfway.set()
            written.wait(20)  # the import pauses mid-file until the writer is done (or gave up)

    def importer():
        try:
            with app.app_context():
                data = csv_bytes([_payment(n) for n in range(1, 401)], columns=PAYMENT_COLUMNS)
                reports.append(_pay(db, data, on_batch=on_batch))
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=importer)
    thread.start()
    assert halfway.wait(30)
    # A writer that would wait for the import gives up after 3 s instead ("database is locked", "lock timeout").
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    patience = {"timeout": 3} if sqlite else {"options": "-c lock_timeout=3000"}
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], connect_args=patience)
    try:
        with engine.begin() as connection:
            connection.execute(update(User).where(User.id == user_id).values(daily_call_target=42))
    except Exception as exc:
        errors.append(exc)
    finally:
        written.set()
        engine.dispose()
    thread.join(60)
    assert not errors, errors
    assert reports and reports[0].created == 400
    assert db.session.scalar(select(User.daily_call_target).where(User.id == user_id)) == 42


def _import_in_thread(app, db, data: bytes, on_batch, reports: list, errors: list) -> threading.Thread:
    def importer():
        try:
            with app.app_context():
                reports.append(_pay(db, data, on_batch=on_batch))
                db.session.remove()
        except Exception as exc:  # surfaced by the test
            errors.append(exc)

    thread = threading.Thread(target=importer)
    thread.start()
    return thread


def _pause_once(first_call: threading.Event, go_on: threading.Event, seconds: float):
    """An `on_batch` that, the first time, says so and waits (at most `seconds`) to be told to go on."""

    def on_batch():
        if not first_call.is_set():
            first_call.set()
            go_on.wait(seconds)

    return on_batch


def _references(db) -> list[str]:
    return sorted(db.session.scalars(select(Payment.reference)).all())


@pytest.mark.committing
def test_two_payment_imports_checked_at_once_both_land(app, db):
    """A checks its first rows and pauses; B, another file, is checked and lands meanwhile; A goes on. On SQLite
    A checked without the write lock: its reads held a snapshot older than B's commit, which could never
    become a write ("database is locked", at once), so A ends it before taking the lock."""
    _members(db, 200)
    db.session.commit()
    checking, b_done = threading.Event(), threading.Event()
    reports, errors = [], []
    first = csv_bytes([_payment(n) for n in range(1, 101)], columns=PAYMENT_COLUMNS)
    a = _import_in_thread(app, db, first, _pause_once(checking, b_done, 3), reports, errors)
    assert checking.wait(30)
    b_reports: list = []
    second = csv_bytes([_payment(n) for n in range(101, 201)], columns=PAYMENT_COLUMNS)
    b = _import_in_thread(app, db, second, None, b_reports, errors)
    b.join(60)
    b_done.set()
    a.join(60)
    assert not errors, errors
    assert reports[0].created == 100 and b_reports[0].created == 100
    assert _references(db) == sorted(f"TRX-{n}" for n in range(1, 201))


@pytest.mark.committing
def test_a_payment_import_whose_references_landed_while_it_was_checked_is_refused_whole(app, db):
    """A checks its first rows and pauses; B records some of the same references. On SQLite A checked them
    without the lock and finds, once it holds it, that they are taken now: A is refused whole with a reason
    and writes nothing (without the second check it broke on the unique reference half-way). On PostgreSQL
    A holds its kind's lock from the start: B waits, then counts those rows as unchanged."""
    _members(db, 200)
    db.session.commit()
    checking, b_done = threading.Event(), threading.Event()
    a_reports, b_reports, errors = [], [], []
    first = csv_bytes([_payment(n) for n in range(1, 101)], columns=PAYMENT_COLUMNS)
    a = _import_in_thread(app, db, first, _pause_once(checking, b_done, 3), a_reports, errors)
    assert checking.wait(30)
    second = csv_bytes(
        [_payment(n) for n in range(1, 21)] + [_payment(n) for n in range(101, 121)], columns=PAYMENT_COLUMNS
    )
    b = _import_in_thread(app, db, second, None, b_reports, errors)
    b.join(1 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else 60)  # PostgreSQL: B waits for A
    b_done.set()
    a.join(60)
    b.join(60)
    assert b_reports, errors
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert len(errors) == 1 and isinstance(errors[0], FileFormatError), errors
        assert errors[0].code == "file_references_taken_meanwhile" and errors[0].params["count"] == 20
        assert b_reports[0].created == 40
        assert _references(db) == sorted(f"TRX-{n}" for n in [*range(1, 21), *range(101, 121)])
        assert db.session.scalar(select(func.count()).select_from(ImportRun).where(ImportRun.kind == "payments")) == 1
    else:
        assert not errors, errors
        assert a_reports[0].created == 100
        assert (b_reports[0].created, b_reports[0].unchanged) == (20, 20)
        assert _references(db) == sorted(f"TRX-{n}" for n in range(1, 121))
