"""Monthly partitions of the four history tables on PostgreSQL (issue 16, item 6); SQLite has none.

Migration 0026_partitions turns contact attempts, SMS events, arrears snapshots and audit events into
tables partitioned by month (PostgreSQL's declarative partitioning, RANGE on the key below), each
with a DEFAULT partition so that no insert ever fails. `ensure_partitions` (the scheduler's monthly
job, and `flask db partitions`) creates the coming months ahead; a row that landed in the default
partition (a month nobody created yet, or a date far in the past) stays readable there and is moved
into its month's partition, created then, the next time the job runs.

What PostgreSQL cannot hold on a partitioned table, and what keeps each rule instead (the models
keep the plain constraints, which SQLite enforces; the models-versus-migrations test ignores these
names on PostgreSQL):

- the primary key must include the partition key: (id, at) / (id, as_of); ids stay unique, all drawn
  from the table's one sequence.
- a unique key must include it too: arrears snapshots' (participant_id, as_of) does; contact attempts'
  (user_id, client_ref) cannot, so it becomes a plain index, and the rule "one client_ref records
  once" is kept by the advisory lock every outcome takes first (`lock_for("outcome:…")`).
- a foreign key cannot point at `id` alone: promises.attempt_id and payments.attributed_attempt_id
  are checked by triggers instead (a row must name an existing attempt, locked FOR KEY SHARE as a
  foreign key would; an attempt still named cannot be deleted, checked at commit so that moving a row
  between partitions is no deletion).
"""

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from telecollect.db import is_postgresql, lock_for

#: Partitioned table → its partition key (a UTC timestamp, or a date).
PARTITIONED: dict[str, str] = {
    "contact_attempts": "at",
    "sms_events": "at",
    "arrears_snapshots": "as_of",
    "audit_events": "at",
}
#: Months the job keeps created ahead of the current one.
MONTHS_AHEAD = 3
#: Constraints and indexes of the models that PostgreSQL's partitioned tables hold differently (see above).
POSTGRESQL_ONLY_DIFFERENCES = frozenset(
    {
        "uq_contact_attempts_user_id_client_ref",
        "ix_contact_attempts_user_client_ref",
        "fk_promises_attempt_id_contact_attempts",
        "fk_payments_attributed_attempt_id_contact_attempts",
        "fk_calls_attempt_id_contact_attempts",
    }
)
_PARTITION_NAME = re.compile(r"^(?P<table>[a-z_]+)_(?:(?P<year>\d{4})_(?P<month>\d{2})|default)$")


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    #: First day of its month; None: the default partition.
    month: date | None
    rows: int


def partition_name(table: str, month: date | None) -> str:
    """contact_attempts_2026_12; contact_attempts_default."""
    return f"{table}_default" if month is None else f"{table}_{month:%Y_%m}"


def is_partition_name(name: str) -> bool:
    """Whether a table name is one of the partitions (the schema comparison skips them)."""
    match = _PARTITION_NAME.match(name)
    return match is not None and match["table"] in PARTITIONED


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def is_partitioned(session: Session, table: str) -> bool:
    if not is_postgresql(session):
        return False
    kind = session.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:name)"), {"name": f"public.{table}"}
    ).scalar()
    return kind == "p"


def ensure_partitions(session: Session, today: date, ahead: int = MONTHS_AHEAD) -> list[str]:
    """Create the partitions of this month and the next `ahead` months, and of every month that has rows
    waiting in a default partition (moving them in); return the names created. Idempotent; two runs at
    once wait for each other (an advisory lock per table). Adds and flushes; the caller commits."""
    created: list[str] = []
    for table, key in PARTITIONED.items():
        if not is_partitioned(session, table):
            continue
        lock_for(session, f"partitions:{table}")
        wanted = {add_months(month_start(today), n) for n in range(ahead + 1)}
        wanted |= _months_in_default(session, table, key)
        existing = {p.month for p in list_partitions(session, table)}
        for month in sorted(wanted - existing):
            _create_month(session, table, key, month)
            created.append(partition_name(table, month))
    return created


def list_partitions(session: Session, table: str | None = None) -> list[Partition]:
    """The partitions of one partitioned table (or all), by month, the default last; rows are the
    planner's estimate (exact for the default partition, which should be small)."""
    if not is_postgresql(session):
        return []
    found = []
    for name in [table] if table else list(PARTITIONED):
        if not is_partitioned(session, name):
            continue
        rows = session.execute(
            text(
                "SELECT c.relname, c.reltuples FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:name)"
            ),
            {"name": f"public.{name}"},
        ).all()
        for relname, estimate in rows:
            match = _PARTITION_NAME.match(relname)
            if match is None:
                continue
            month = date(int(match["year"]), int(match["month"]), 1) if match["year"] else None
            count = max(int(estimate), 0)
            if month is None:
                count = session.execute(text(f'SELECT count(*) FROM "{relname}"')).scalar_one()
            found.append(Partition(name, relname, month, count))
    return sorted(found, key=lambda p: (p.table, p.month is None, p.month or date.min))


def _months_in_default(session: Session, table: str, key: str) -> set[date]:
    month = f"date_trunc('month', {key} AT TIME ZONE 'UTC')" if key == "at" else f"date_trunc('month', {key})"
    rows = session.execute(text(f'SELECT DISTINCT {month}::date FROM "{partition_name(table, None)}"')).scalars()
    return set(rows)


def _bound(key: str, month: date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'" if key == "at" else f"'{month.isoformat()}'"


def _create_month(session: Session, table: str, key: str, month: date) -> None:
    """Create one month's partition. Rows of that month waiting in the default partition would make the
    CREATE fail, so they are taken out first and put back through the parent, in the same transaction."""
    default = partition_name(table, None)
    low, high = _bound(key, month), _bound(key, add_months(month, 1))
    waiting = f"{key} >= {low} AND {key} < {high}"
    session.execute(text(f'CREATE TEMPORARY TABLE partition_move (LIKE "{table}")'))
    moved = session.execute(  # type: ignore[attr-defined]  # a DML statement's CursorResult
        text(
            f'WITH gone AS (DELETE FROM "{default}" WHERE {waiting} RETURNING *) '
            "INSERT INTO partition_move SELECT * FROM gone"
        )
    ).rowcount
    partition = partition_name(table, month)
    session.execute(text(f'CREATE TABLE "{partition}" PARTITION OF "{table}" FOR VALUES FROM ({low}) TO ({high})'))
    if moved:
        session.execute(text(f'INSERT INTO "{table}" SELECT * FROM partition_move'))
    session.execute(text("DROP TABLE partition_move"))
