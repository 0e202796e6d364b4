"""A payment file is checked straight into its one apply transaction on PostgreSQL (read ahead in a thread)
and staged first on SQLite: either way it stays all-or-nothing, refuses rows in file order, and lets the
call centre write while it reads."""

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
    # The rejects file is written as rows are refused: on SQLite, whose rows are staged first, those refused
    # while read come before those refused against the database.
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
