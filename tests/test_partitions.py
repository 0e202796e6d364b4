"""Monthly partitions of the history tables on PostgreSQL (issue 16, item 6; telecollect.partitions).

Partitions are created in the test's own transaction and rolled back with it (PostgreSQL's DDL is
transactional), in years no other test writes to. SQLite has no partitions.
"""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from telecollect.audit.models import AuditEvent
from telecollect.contacts.models import Channel, ContactAttempt, Promise
from telecollect.contacts.outcomes import Outcome
from telecollect.participants.models import Family
from telecollect.partitions import PARTITIONED, ensure_partitions, list_partitions, partition_name
from tests.helpers import csv_bytes, row, run_import


@pytest.fixture
def postgresql(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    return db


def where(db, table: str, row_id: int) -> str:
    """The partition holding a row."""
    return db.session.execute(
        text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :id"), {"id": row_id}
    ).scalar_one()


def audit_at(db, moment: datetime) -> AuditEvent:
    event = AuditEvent(action="login", at=moment)
    db.session.add(event)
    db.session.flush()
    return event


def family_with_attempt(db, make_user, at: datetime) -> tuple[Family, ContactAttempt]:
    run_import(db, csv_bytes([row()]))
    family = db.session.query(Family).one()
    attempt = ContactAttempt(
        family_id=family.id,
        user_id=make_user("telecollector").id,
        channel=Channel.phone,
        outcome=Outcome.promise_to_pay,
        is_reached=True,
        is_right_party=True,
        at=at,
    )
    db.session.add(attempt)
    db.session.flush()
    return family, attempt


def test_the_job_creates_this_month_and_the_next_ones_once(postgresql):
    created = ensure_partitions(postgresql.session, date(2031, 1, 15), ahead=2)

    assert created == [partition_name(t, date(2031, m, 1)) for t in PARTITIONED for m in (1, 2, 3)]
    assert ensure_partitions(postgresql.session, date(2031, 1, 20), ahead=2) == []
    months = {p.month for p in list_partitions(postgresql.session, "contact_attempts")}
    assert {date(2031, 1, 1), date(2031, 3, 1), None} <= months


def test_rows_land_in_their_months_partition(postgresql, make_user):
    ensure_partitions(postgresql.session, date(2031, 1, 1), ahead=0)
    event = audit_at(postgresql, datetime(2031, 1, 31, 23, 59, tzinfo=UTC))
    _family, attempt = family_with_attempt(postgresql, make_user, datetime(2031, 1, 1, 0, 0, tzinfo=UTC))

    assert where(postgresql, "audit_events", event.id) == "audit_events_2031_01"
    assert where(postgresql, "contact_attempts", attempt.id) == "contact_attempts_2031_01"


def test_a_row_of_a_month_without_partition_waits_in_default_then_moves(postgresql, make_user):
    family, attempt = family_with_attempt(postgresql, make_user, datetime(2035, 5, 5, 10, 0, tzinfo=UTC))
    promise = Promise(
        family_id=family.id,
        attempt_id=attempt.id,
        user_id=attempt.user_id,
        made_on=date(2035, 5, 5),
        promised_on=date(2035, 5, 10),
        amount=35_000,
    )
    event = audit_at(postgresql, datetime(2035, 5, 5, 10, 0, tzinfo=UTC))
    postgresql.session.add(promise)
    postgresql.session.flush()
    assert where(postgresql, "contact_attempts", attempt.id) == "contact_attempts_default"
    assert where(postgresql, "audit_events", event.id) == "audit_events_default"

    created = ensure_partitions(postgresql.session, date(2035, 1, 1), ahead=0)
    # The promise's attempt moved partitions: the check "an attempt still named cannot be deleted" runs now.
    postgresql.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))

    assert "contact_attempts_2035_05" in created and "audit_events_2035_05" in created
    assert where(postgresql, "contact_attempts", attempt.id) == "contact_attempts_2035_05"
    assert where(postgresql, "audit_events", event.id) == "audit_events_2035_05"
    postgresql.session.expire_all()
    assert postgresql.session.get(Promise, promise.id).attempt.id == attempt.id
    assert [p.rows for p in list_partitions(postgresql.session, "contact_attempts") if p.month is None] == [0]


def test_a_promise_must_name_an_existing_attempt(postgresql, make_user):
    family, attempt = family_with_attempt(postgresql, make_user, datetime(2031, 2, 1, tzinfo=UTC))
    nested = postgresql.session.begin_nested()
    with pytest.raises(IntegrityError, match=r"violates foreign key"):
        postgresql.session.execute(
            text(
                "INSERT INTO promises (branch_id, family_id, attempt_id, user_id, made_on, promised_on, amount, "
                "created_at) VALUES (:b, :f, :a, :u, '2031-02-01', '2031-02-05', 1000, now())"
            ),
            {"b": family.branch_id, "f": family.id, "a": attempt.id + 1000, "u": attempt.user_id},
        )
    nested.rollback()


def test_an_attempt_named_by_a_promise_cannot_be_deleted(postgresql, make_user):
    family, attempt = family_with_attempt(postgresql, make_user, datetime(2031, 2, 1, tzinfo=UTC))
    postgresql.session.add(
        Promise(
            family_id=family.id,
            attempt_id=attempt.id,
            user_id=attempt.user_id,
            made_on=date(2031, 2, 1),
            promised_on=date(2031, 2, 5),
            amount=1000,
        )
    )
    postgresql.session.flush()
    nested = postgresql.session.begin_nested()
    postgresql.session.execute(text("DELETE FROM contact_attempts WHERE id = :id"), {"id": attempt.id})
    with pytest.raises(IntegrityError, match="still referenced"):
        postgresql.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    nested.rollback()


def test_flask_db_partitions_creates_and_lists(postgresql, runner):
    result = runner.invoke(args=["db", "partitions", "--ahead", "1"])

    assert result.exit_code == 0, result.output
    assert "contact_attempts_default" in result.output
    assert "arrears_snapshots" in result.output and "sms_events" in result.output


def test_the_scheduler_runs_the_partition_job():
    from telecollect.scheduler.cli import run_once  # noqa: F401  (the job list is the CLI's)
    from telecollect.scheduler.partitions import PARTITION_JOBS, create_partitions_ahead

    assert [(job_id, job, every) for job_id, job, every in PARTITION_JOBS] == [
        ("create_partitions_ahead", create_partitions_ahead, 86400)
    ]


def test_sqlite_has_no_partitions(db, runner):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's half")

    assert ensure_partitions(db.session, date(2031, 1, 1)) == []
    assert "SQLite" in runner.invoke(args=["db", "partitions"]).output


def test_the_migration_keeps_the_rows_down_and_up_on_postgresql():
    """0026_partitions down to plain tables and up to partitioned ones again, with rows, a promise on its
    attempt, ids and sequences kept."""
    import os

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import create_engine

    from telecollect import create_app

    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL half: set TEST_DATABASE_URL (CI always does)")
    name = url.rsplit("/", 1)[1] + "_partitions"
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url.rsplit("/", 1)[0] + "/" + name, "SECRET_KEY": "t"}
    )
    try:
        with app.app_context():
            from telecollect.extensions import db

            upgrade()
            with db.engine.begin() as connection:
                seed_rows(connection)
            downgrade(revision="0025")
            with db.engine.connect() as connection:
                assert kinds(connection) == {"r"}
                assert counts(connection) == (2, 1, 1)
                assert foreign_keys_to_attempts(connection) == 3  # promises, payments, calls
            upgrade()
            with db.engine.begin() as connection:
                assert kinds(connection) == {"p"}
                assert counts(connection) == (2, 1, 1)
                assert foreign_keys_to_attempts(connection) == 0
                assert (
                    connection.execute(
                        text("SELECT tableoid::regclass::text FROM contact_attempts WHERE id = 7")
                    ).scalar_one()
                    == "contact_attempts_2024_03"
                )
                new_id = connection.execute(
                    text(
                        "INSERT INTO contact_attempts (branch_id, family_id, user_id, channel, outcome, is_reached, "
                        "is_right_party, at) SELECT branch_id, family_id, user_id, channel, outcome, is_reached, "
                        "is_right_party, now() FROM contact_attempts WHERE id = 7 RETURNING id"
                    )
                ).scalar_one()
                assert new_id > 8  # the sequence went on from where it was
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_rows(connection) -> None:
    """A family, an officer, two attempts (ids 7 and 8, March 2024: a month the migration creates for
    them), a promise on the first, an audit event."""
    connection.execute(
        text(
            "INSERT INTO families (id, key, created_at, credit, branch_id) VALUES (1, 'K1', now(), 0, 1);"
            "INSERT INTO users (id, username, name, role, password_hash, is_active, timezone, created_at, "
            "session_version, branch_id, is_installation_admin) "
            "VALUES (1, 'tc', 'TC', 'telecollector', 'x', true, 'WIB', now(), 0, 1, false);"
            "INSERT INTO contact_attempts (id, branch_id, family_id, user_id, channel, outcome, is_reached, "
            "is_right_party, at) VALUES (7, 1, 1, 1, 'phone', 'promise_to_pay', true, true, '2024-03-05 10:00+00'),"
            "(8, 1, 1, 1, 'phone', 'no_answer', false, false, '2024-03-06 10:00+00');"
            "SELECT setval('contact_attempts_id_seq', 8);"
            "INSERT INTO promises (branch_id, family_id, attempt_id, user_id, made_on, promised_on, amount, state, "
            "created_at, paid_amount) VALUES (1, 1, 7, 1, '2024-03-05', '2024-03-10', 1000, 'pending', now(), 0);"
            "INSERT INTO audit_events (branch_id, at, action) VALUES (1, '2024-03-05 10:00+00', 'login');"
        )
    )


def kinds(connection) -> set[str]:
    return set(
        connection.execute(
            text("SELECT relkind::text FROM pg_class WHERE oid = ANY(CAST(:names AS regclass[]))"),
            {"names": list(PARTITIONED)},
        ).scalars()
    )


def counts(connection) -> tuple[int, int, int]:
    return tuple(
        connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in ("contact_attempts", "promises", "audit_events")
    )


def foreign_keys_to_attempts(connection) -> int:
    return connection.execute(
        text("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = to_regclass('contact_attempts')")
    ).scalar_one()
