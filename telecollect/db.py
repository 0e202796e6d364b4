"""The declarative base and the column helpers every domain shares."""

import json
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import DateTime, Dialect, MetaData, String, Table, any_, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

#: A column's bind processor: one Python value to what the driver takes.
Processor = Callable[[Any], Any]

# In place before the first migration, so that every constraint has a stable
# name and SQLite batch migrations can drop or alter it later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def now_utc() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that is always time-zone aware UTC in Python.

    SQLite has no time zone type and hands back naive values; storing UTC and
    re-attaching the zone on the way out gives the same behaviour on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


T = TypeVar("T")
#: Where `read_once` keeps its values: in `session.info`, beside the transaction they belong to.
_READ_ONCE = "telecollect.read_once"


def read_once(session: Session | scoped_session[Session], key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, called at most once per transaction of `session` for `key`: the unit of work's copy of
    a setting people edit at run time (branch holidays, the pre-call switch).

    The copy lives as long as the transaction (a request, a command, a job): the next one reads the
    row again, so every process sees a change as soon as it is committed, with no cache to expire or
    forget. `forget_read(session, key)` drops it when this transaction changed the row itself.
    """
    if isinstance(session, scoped_session):  # Flask-SQLAlchemy's `db.session`: this context's session
        session = session()
    transaction = session.get_transaction() or session.begin()  # the unit of work the copy belongs to
    store: tuple[object, dict[Hashable, Any]] | None = session.info.get(_READ_ONCE)
    if store is None or store[0] is not transaction:
        store = (transaction, {})
        session.info[_READ_ONCE] = store
    if key not in store[1]:
        store[1][key] = read()
    return store[1][key]


def forget_read(session: Session | scoped_session[Session], key: Hashable) -> None:
    """This transaction changed what `key` was read from: the next `read_once` reads it again."""
    store = session.info.get(_READ_ONCE)
    if store is not None:
        store[1].pop(key, None)


def lock_for(session: Session, name: str) -> None:
    """Serialise the transactions that do `name` (an import, one outcome's client_ref, one opt-out), across
    processes, from here to their commit: a check-then-write after it cannot race.

    PostgreSQL takes a transaction-scoped advisory lock, released at commit or
    rollback. SQLite admits one writer at a time; its write lock is taken now
    (BEGIN IMMEDIATE, waiting out the busy timeout) unless this transaction
    already holds it, so every read after this sees the other writer's
    committed work. (A deferred transaction that read first would instead fail
    with "database is locked" when it tries to write after the other commits.)
    """
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
        return
    connection = session.connection()
    driver_connection = connection.connection.dbapi_connection
    if driver_connection is not None and not driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_after_reading(session: Session, name: str) -> None:
    """`lock_for(name)` in a transaction that so far has only read the database and written temporary
    tables: a bulk import's checks, made without blocking any other writer.

    On SQLite those reads hold a snapshot, and a snapshot older than another writer's commit can never
    become a write transaction ("database is locked", at once, whatever the busy timeout). So the
    transaction the driver began by itself (at the first write to a temporary table) is ended first.
    What it wrote went to temporary tables, which live on the connection, and the session keeps that
    connection. Then the write lock is taken: every read after this sees what others committed
    meanwhile, so the caller checks again what they may have changed. A transaction someone began
    explicitly (the driver's own handling off, as in the tests' outer transaction) is left alone.
    PostgreSQL takes its advisory lock in the middle of the transaction.
    """
    if not is_postgresql(session):
        driver_connection = session.connection().connection.dbapi_connection
        assert driver_connection is not None  # the session's connection is checked out, hence live
        if driver_connection.isolation_level is not None and driver_connection.in_transaction:
            driver_connection.commit()
    lock_for(session, name)


@contextmanager
def bulk_write_cache(session: Session, megabytes: int, *, mapped: bool = False) -> Iterator[None]:
    """Give SQLite a larger page cache while one bulk job writes, then restore it.

    A million random card numbers, NIKs and phones scatter inserts across three
    B-tree indexes; with SQLite's default 2 MB cache nearly every insert reads
    pages back from disk. The temporary tables (a payment import's fresh rows,
    read back in family order) get the same cache: theirs is 2 MB apart.
    `mapped`: the job also reads the database file through a memory map (up to
    `BULK_MAP_BYTES`), for one that reads rows at random all through a table
    larger than the cache (a payment import's payers and their families): each
    page is then read where the operating system keeps it, not copied by a
    `pread` call. PostgreSQL sizes its buffers itself: no-op there.
    """
    if is_postgresql(session):
        yield
        return
    connection = session.connection()
    settings = {"cache_size": -1024 * int(megabytes), "temp.cache_size": -1024 * int(megabytes)}
    if mapped:
        settings["mmap_size"] = BULK_MAP_BYTES
    previous = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in settings}
    for name, value in settings.items():
        connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        connection = session.connection()
        for name, value in previous.items():
            connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")


#: How much of an SQLite database a bulk job may map (`bulk_write_cache`): SQLite's own ceiling (2 GB).
BULK_MAP_BYTES = 2**31 - 2**16


#: Fills the `branch_id` of rows written around the ORM that lack it. The branches domain owns the rule
#: (telecollect.branches.stamping) and registers it at app creation; the kernel only calls it.
_branch_filler: Callable[[Session, Table, list[dict[str, Any]]], None] | None = None


def set_branch_filler(filler: Callable[[Session, Table, list[dict[str, Any]]], None]) -> None:
    global _branch_filler
    _branch_filler = filler


def _fill_branches(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if _branch_filler is not None and "branch_id" in table.c:
        _branch_filler(session, table, rows)


def one_of(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """`column IN (values)` for thousands of values (a bulk import's families) as one parameter. `in_`
    sends one parameter per value, and SQLAlchemy writes them into the statement's text again at every
    execution (5,000 families: about 3 ms of Python each time; psycopg then parses the long text again
    too). PostgreSQL: `column = ANY(:values)`, an array. SQLite: `column IN (SELECT value FROM
    json_each(:values))`, a JSON array, which SQLite reads like a list of values (an index lookup per
    value). The values are numbers or text."""
    values = list(values)
    if is_postgresql(session):
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(values), type_=String)).table_valued("value")
    return column.in_(select(listed.c.value))


def refresh_planner_statistics(session: Session) -> None:
    """Give SQLite's planner statistics again, after a bulk change (a kept import).

    Knowing nothing of a table, SQLite takes any index with an equality, and every read scoped to a branch
    names two: `family_id = ?` and `branch_id = ?`. Without statistics it chose the branch's index, so one
    family's members, promises or work meant reading every row of the branch: each family page, and each
    chunk of a payment import (61 chunks of 1,000,000 payments read their branch's 1,000,000 members 61
    times, 12 s). With them it knows a branch holds many rows and a family a few. ANALYZE samples
    (`analysis_limit`): about 15 ms for a database of a million participants. PostgreSQL analyses by
    itself (autovacuum)."""
    if is_postgresql(session):
        return
    session.execute(text(f"PRAGMA analysis_limit = {PlannerStatistics.SQLITE_ANALYSIS_LIMIT}"))
    session.execute(text("ANALYZE"))


class PlannerStatistics:
    """Keeps PostgreSQL's planner statistics true for tables one long transaction grows (a bulk import).

    The planner picks a join by the rows it believes a table holds. A table filled inside the
    transaction (a temporary one, or `payments` during a payment import) is believed nearly empty, so
    the planner reads all of it for every lookup (a hash join where an index lookup belonged): the
    time grows with the square of the file. `grew(table, rows)` counts what was added and runs
    `ANALYZE` once the table has doubled since the planner last looked; ANALYZE sees the transaction's
    own rows, and a doubling rule costs log2(growth) runs of about a hundredth of a second each.

    SQLite needs it too, for another reason: knowing nothing, it takes any index with an equality first. A
    branch's read of `payments` (scoped: `branch_id = ?`) then chose `(branch_id, paid_on)` over
    `(family_id, paid_on)` and read every payment of the branch once per chunk of families. There ANALYZE
    samples (`analysis_limit`): a few milliseconds, enough to tell a branch from a family.
    """

    #: Rows added before the first ANALYZE of a table the planner believed empty.
    FIRST_AFTER = 1000

    def __init__(self, session: Session, *tables: str):
        self.session = session
        self.postgresql = is_postgresql(session)
        self.believed: dict[str, float] = {}
        self.added: dict[str, int] = dict.fromkeys(tables, 0)
        if self.postgresql:
            for name in tables:
                # reltuples is -1 for a table never analysed; a temporary table not yet made counts 0.
                found = session.execute(
                    text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"), {"name": name}
                ).scalar()
                self.believed[name] = max(float(found or 0), 0.0)

    #: Index entries SQLite's ANALYZE samples per index (`PRAGMA analysis_limit`; 0 would read them all).
    SQLITE_ANALYSIS_LIMIT = 400

    def grew(self, table: str, rows: int) -> None:
        if not rows:
            return
        self.added[table] = self.added.get(table, 0) + rows
        believed = self.believed.get(table, 0.0)
        if self.added[table] >= max(self.FIRST_AFTER, believed):
            if not self.postgresql:
                self.session.execute(text(f"PRAGMA analysis_limit = {self.SQLITE_ANALYSIS_LIMIT}"))
            self.session.execute(text(f"ANALYZE {table}"))
            self.believed[table] = believed + self.added[table]
            self.added[table] = 0


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows at driver speed, inside the session's transaction.

    The ORM and Core executemany paths process every parameter in Python,
    which costs more than SQLite's own work for a million-row import. Here each
    column's bind processor (dates and datetimes on SQLite, enums) still runs,
    so rows land exactly as SQLAlchemy would write them, but the statement goes
    straight to the driver: `executemany` on SQLite, `COPY` on PostgreSQL.
    Every row must have the same keys.
    """
    if not rows:
        return
    _fill_branches(session, table, rows)
    columns = list(rows[0])
    pick = itemgetter(*columns)
    values = [pick(row) for row in rows] if len(columns) > 1 else [(row[columns[0]],) for row in rows]
    insert_values(session, table, columns, values)


def insert_values(session: Session, table: Table, columns: Sequence[str], values: list[tuple[Any, ...]]) -> None:
    """`bulk_insert` of rows already laid out as tuples in `columns`' order (a million-row import saves a
    dict per row). A table with a branch needs `branch_id` among the columns: nothing fills it here."""
    if not values:
        return
    if _branch_filler is not None and "branch_id" in table.c and "branch_id" not in columns:
        raise ValueError(f"rows of {table.name} need their branch_id")
    connection = session.connection()
    dialect = connection.dialect
    processors = [
        (index, _Memo(process))
        for index, process in enumerate(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        )
        if process
    ]
    if processors:  # column by column: a whole column goes through one converter at C speed
        by_column: list[Sequence[Any]] = list(zip(*values, strict=True))
        for index, memo in processors:
            by_column[index] = memo.column(by_column[index])
        values = list(zip(*by_column, strict=True))
    column_list = ", ".join(columns)
    if dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None  # the session's connection is checked out, hence live
        cursor = driver.cursor()
        with cursor.copy(f"COPY {table.name} ({column_list}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        cursor.close()
    else:
        placeholders = ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({column_list}) VALUES ({placeholders})", values)


class _Memo(dict):
    """A bind processor that converts each value once: dates, times and enum members repeat across a batch."""

    def __init__(self, process: Processor):
        super().__init__()
        self.process = process

    def __missing__(self, value: Hashable) -> Any:
        result = self[value] = self.process(value)
        return result

    def column(self, values: Sequence[Any]) -> list[Any]:
        try:
            return list(map(self.__getitem__, values))
        except TypeError:  # an unhashable value (a JSON document): each converted as it is
            return [self.process(value) for value in values]


def insert_ignoring_duplicates(
    session: Session, table: Table, values: dict[str, Any], conflict_column: str
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING on either engine; returns the new id or None.

    Two schedulers queuing the same reminder at once both run this: the unique
    key lets exactly one row in, and neither fails.
    """
    dialect_insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    values = dict(values)
    _fill_branches(session, table, [values])
    statement = (
        dialect_insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[conflict_column])
        .returning(table.c.id)
    )
    new_id: int | None = session.execute(statement).scalar_one_or_none()
    return new_id
