"""Benchmark `flask import payments` with promises and plans in place, against a bare bulk insert.

For each size N and database engine it:

1. makes a fresh, migrated database holding N participants, imported from the
   participant benchmark's cached demo file with the real `flask import
   participants` (not timed);
2. puts work in place for the payments to meet, straight into the tables (not
   timed): a telecollector made with `flask users create`; a pending promise for
   PROMISE_SHARE of the families in arrears, each with the contact attempt that
   recorded it; an active REHAB-2022 plan of 4 installments covering the family's
   arrears for PLAN_SHARE of them (other families than the promises');
3. generates a file of N payments once (cached in the work directory): random
   participants' card numbers, multiples of Rp35.000 up to Rp350.000, dated over
   the PAID_DAYS days up to PAID_THROUGH, unique references, every channel;
4. imports it with the real command, in a child process, measuring wall time and
   that child's own peak memory;
5. copies the payment rows the import wrote (every column) into a second fresh,
   migrated database holding the same families and participants, with nothing
   but the driver (sqlite3 `executemany`, psycopg `COPY`), timing only those
   inserts and the commit: what writing the rows costs with no parsing,
   validation, allocation, promises, plans or ORM at all.

On SQLite it also measures the floor of the database work: the same payments
applied by the driver alone to a copy of the set-up database, doing only what any
payment import must do there (look up each payer by card number, insert each
payment, rewrite each paying family's members and the family), with placeholder
figures and no checks, allocation, promises, plans or attribution. Its ratio to
the bare insert says how much of the import's ratio no code can remove.

The payments are dated in the past (the import refuses future dates against the
real today). Promises and installments fall due after the real today, so the
import's closing sweep (`settle_due`) finds nothing due: the time measured is
the payments' own work (allocation, promises, plans, attribution).

With `--reuse-setup` the database as steps 1-2 left it is kept (a PostgreSQL
template database, a copy of the SQLite file) and later runs of the same size
start from a copy of it, migrated to the head again: trying a change to the
import costs the import, not the set-up, each time. A kept set-up is dated:
its promises fall due two weeks after it was made, so keep it for a day's work
(and make it again after a migration that changes how pages are laid out).

Run from the repository root:
    .venv/bin/python -m bench.payments --payment-sizes 2000
"""

import argparse
import csv
import json
import os
import random
import secrets
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from bench import claims
from bench.common import engine_names, heading_line, row_line, sizes
from bench.import_participants import (
    GNU_TIME,
    PG_PREFIX,
    PG_SERVER,
    ROOT,
    SEED,
    BenchError,
    Sqlite,
    dump,
    flask,
    load,
    migrated,
    note,
    participant_file,
    recreate_database,
)
from bench.import_participants import Postgresql as _Postgresql
from telecollect.clock import local_day
from telecollect.payments.importing import COLUMNS
from telecollect.payments.models import PAYMENT_CHANNELS
from telecollect.programs.rules import split

PG_DATABASES = {
    "payments": f"{PG_PREFIX}telecollect_bench_payments",
    "payments-bare": f"{PG_PREFIX}telecollect_bench_payments_bare",
}

#: Payments are dated over the PAID_DAYS days up to PAID_THROUGH: after the demo
#: arrears list (dated 2024-01-31), and fixed, so a cached file stays valid.
PAID_THROUGH = date(2024, 2, 20)
PAID_DAYS = 20
PAID_FROM = PAID_THROUGH - timedelta(days=PAID_DAYS - 1)
#: Rp35.000 (a class III month) times 1 to 10.
AMOUNT_UNIT, AMOUNT_UNITS = 35_000, 10

#: Families in arrears given a pending promise, and (other ones) an active plan.
PROMISE_SHARE, PLAN_SHARE = 0.10, 0.05
#: The promises were made (on a call that reached the family) a few days before the first payment …
PROMISE_MADE_ON = PAID_FROM - timedelta(days=3)
#: … and the plans registered a little earlier.
PLAN_REGISTERED_ON = PAID_FROM - timedelta(days=10)
PLAN_INSTALLMENTS = 4
PROGRAM_CODE = "REHAB-2022"
#: The telecollector who took the promises and recorded the plans.
USERNAME = "bench-payments"

SETUP = (
    f"Setup: pending promises for {PROMISE_SHARE:.0%} of families in arrears, active {PROGRAM_CODE} plans "
    f"({PLAN_INSTALLMENTS} installments) for {PLAN_SHARE:.0%}; payments dated "
    f"{PAID_FROM.isoformat()}..{PAID_THROUGH.isoformat()}"
)


# --- engines ---------------------------------------------------------------
# The participant benchmark's engines, with databases of this benchmark's own
# (it may run next to the other) and a way to copy tables between two of them.


@dataclass
class SqliteEngine(Sqlite):
    """Databases are `<workdir>/payments.db` and `<workdir>/payments-bare.db`."""

    @staticmethod
    def timestamp(moment: datetime) -> str:
        return claims.Sqlite.timestamp(moment)

    def keep_setup(self, url: str, rows: int) -> None:
        with self.connect(url) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(url.removeprefix("sqlite:///"), self._setup_path(rows))

    def kept_setup(self, rows: int) -> str | None:
        """A fresh `payments` database copied from the kept set-up of `rows`, or None when there is none."""
        kept = self._setup_path(rows)
        if not kept.exists():
            return None
        url = self.fresh("payments")
        shutil.copyfile(kept, url.removeprefix("sqlite:///"))
        return url

    def _setup_path(self, rows: int) -> Path:
        return self.workdir / f"payments-setup-{rows}.db"

    def floor_copy(self, url: str) -> Path:
        """A copy of the database at `url` (before the import writes to it), for `database_floor`."""
        with self.connect(url) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy = self.workdir / "payments-floor.db"
        shutil.copyfile(url.removeprefix("sqlite:///"), copy)
        return copy

    def copy_tables(self, source: str, target: str, tables: tuple[str, ...]) -> None:
        """Every row of `tables` from `source` into `target`, in one transaction, inside SQLite."""
        with self.connect(target) as connection:
            connection.execute("ATTACH DATABASE ? AS source", (source.removeprefix("sqlite:///"),))
            for table in tables:
                columns = ", ".join(row[1] for row in connection.execute(f"PRAGMA main.table_info({table})"))
                connection.execute(
                    f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM source.{table} ORDER BY id"
                )
            connection.commit()
            connection.execute("DETACH DATABASE source")


@dataclass
class PostgresqlEngine(_Postgresql):
    @staticmethod
    def fresh(label: str) -> str:
        return recreate_database(PG_DATABASES[label])

    @staticmethod
    def timestamp(moment: datetime) -> datetime:
        return moment

    @staticmethod
    def keep_setup(url: str, rows: int) -> None:
        recreate_database(_setup_name(rows), template=PG_DATABASES["payments"])

    @staticmethod
    def kept_setup(rows: int) -> str | None:
        """A fresh `payments` database copied from the kept set-up of `rows`, or None when there is none."""
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (_setup_name(rows),)).fetchone() is None:
                return None
        return recreate_database(PG_DATABASES["payments"], template=_setup_name(rows))

    def copy_tables(self, source: str, target: str, tables: tuple[str, ...]) -> None:
        """Every row of `tables` from `source` into `target`, in one transaction, COPY to COPY (streamed)."""
        with self.connect(source) as src, self.connect(target) as dst:
            for table in tables:
                with src.cursor() as cursor:
                    cursor.execute(f"SELECT * FROM {table} LIMIT 0")
                    columns = ", ".join(description.name for description in cursor.description)
                with (
                    src.cursor() as out_cursor,
                    dst.cursor() as in_cursor,
                    out_cursor.copy(f"COPY (SELECT {columns} FROM {table} ORDER BY id) TO STDOUT") as out,
                    in_cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as into,
                ):
                    for block in out:
                        into.write(block)
            dst.commit()


def _setup_name(rows: int) -> str:
    return f"{PG_DATABASES['payments']}_setup_{rows}"


ENGINES = {"sqlite": SqliteEngine, "postgresql": lambda _workdir: PostgresqlEngine()}

#: What the payment rows refer to (directly or through participants), in
#: foreign-key order: copied into the bare database before the clock starts.
PREREQUISITE_TABLES = (
    "provinces",
    "cities",
    "districts",
    "villages",
    "users",
    "import_runs",
    "families",
    "participants",
    "contact_attempts",
)
TIMED_TABLES = ("payments",)


# --- the steps ---------------------------------------------------------------


def card_numbers(participants: Path) -> list[str]:
    """The card numbers of the participant file, read as a stream (the other columns are dropped)."""
    with participants.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        column = next(reader).index("card_no")
        return [row[column] for row in reader]


def payment_file(workdir: Path, rows: int, participants: Path) -> Path:
    """The CSV of `rows` payments by the participants of `participants`, generated only when missing.

    Streamed to disk under another name first, like the participant file, so an
    interrupted run never leaves a truncated file that later runs would take as cached.
    """
    path = workdir / f"payments-{rows}-of-{participants.stem}.csv"
    if path.exists():
        return path
    note(f"generating {path.name}")
    cards = card_numbers(participants)
    rng = random.Random(SEED)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for number in range(1, rows + 1):
            paid_on = PAID_THROUGH - timedelta(days=rng.randrange(PAID_DAYS))
            writer.writerow(
                (
                    rng.choice(cards),
                    "",
                    rng.randint(1, AMOUNT_UNITS) * AMOUNT_UNIT,
                    paid_on.isoformat(),
                    f"TRX{SEED}-{number:09d}",
                    rng.choice(PAYMENT_CHANNELS),
                )
            )
    partial.replace(path)
    return path


def import_participants(url: str, path: Path, rows: int) -> None:
    """The participants, with the real command (not timed)."""
    result = flask(url, "import", "participants", str(path))
    lines = result.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith(f"created {rows},"):
        raise BenchError(
            f"import of {path.name} did not create {rows} participants; it said: {lines[-1] if lines else '(nothing)'}"
        )


def make_user(engine, url: str) -> int:
    """A telecollector made by `flask users create`; its id."""
    claims.flask(
        url,
        "users",
        "create",
        USERNAME,
        "--role",
        "telecollector",
        "--password-stdin",
        stdin=secrets.token_urlsafe(18) + "\n",
    )
    with engine.connect(url) as connection:
        return connection.execute(f"SELECT id FROM users WHERE username = '{USERNAME}'").fetchone()[0]


def _installment_due_dates(today: date, count: int) -> list[date]:
    """The due day (the 10th) of the `count` months after `today`'s: none falls due during the run."""
    index = today.year * 12 + today.month - 1
    return [date((index + k) // 12, (index + k) % 12 + 1, 10) for k in range(1, count + 1)]


def promises_and_plans(engine, url: str, user_id: int) -> tuple[int, int]:
    """Pending promises and active plans for random families in arrears, bulk-inserted; their counts."""
    rng = random.Random(SEED + 1)
    now = datetime.now(UTC)
    today = local_day(now, "WIB")  # the demo branch's day
    made_at = engine.timestamp(
        datetime.combine(PROMISE_MADE_ON, datetime.min.time(), UTC) + timedelta(hours=3)
    )  # 10:00 WIB
    promised_on = (today + timedelta(days=14)).isoformat()
    due_dates = [day.isoformat() for day in _installment_due_dates(today, PLAN_INSTALLMENTS)]
    with engine.connect(url) as connection:
        program_id = connection.execute(f"SELECT id FROM relief_programs WHERE code = '{PROGRAM_CODE}'").fetchone()[0]
        # The one branch of the benchmark's installation: every work row carries it (written around the ORM).
        branch = connection.execute("SELECT id FROM branches ORDER BY id LIMIT 1").fetchone()[0]
        # By family key, not id: ids follow the participant import's write order,
        # keys are the file's, so the same families are chosen on every run.
        in_arrears = connection.execute(
            "SELECT f.key, f.id, SUM(p.arrears_amount) FROM families f JOIN participants p ON p.family_id = f.id "
            "GROUP BY f.key, f.id HAVING SUM(p.arrears_amount) > 0 ORDER BY f.key"
        ).fetchall()
        arrears = {family_id: int(amount) for _key, family_id, amount in in_arrears}
        order = list(range(len(in_arrears)))
        rng.shuffle(order)
        promises_end = round(len(order) * PROMISE_SHARE)
        plans_end = promises_end + round(len(order) * PLAN_SHARE)
        promised = [in_arrears[index][1] for index in sorted(order[:promises_end])]
        planned = [in_arrears[index][1] for index in sorted(order[promises_end:plans_end])]

        engine.insert(
            connection,
            "contact_attempts",
            ["family_id", "user_id", "channel", "outcome", "is_reached", "is_right_party", "at", "branch_id"],
            [(family_id, user_id, "phone", "promise_to_pay", True, True, made_at, branch) for family_id in promised],
        )
        attempts = dict(connection.execute("SELECT family_id, id FROM contact_attempts").fetchall())
        engine.insert(
            connection,
            "promises",
            [
                "family_id",
                "attempt_id",
                "user_id",
                "made_on",
                "promised_on",
                "amount",
                "state",
                "paid_amount",
                "created_at",
                "branch_id",
            ],
            [
                (
                    family_id,
                    attempts[family_id],
                    user_id,
                    PROMISE_MADE_ON.isoformat(),
                    promised_on,
                    rng.randint(1, 6) * AMOUNT_UNIT,
                    "pending",
                    0,
                    engine.timestamp(now),
                    branch,
                )
                for family_id in promised
            ],
        )

        engine.insert(
            connection,
            "installment_plans",
            [
                "family_id",
                "program_id",
                "registered_on",
                "installments",
                "total_amount",
                "state",
                "recorded_by_id",
                "created_at",
                "branch_id",
            ],
            [
                (
                    family_id,
                    program_id,
                    PLAN_REGISTERED_ON.isoformat(),
                    PLAN_INSTALLMENTS,
                    arrears[family_id],
                    "active",
                    user_id,
                    engine.timestamp(now),
                    branch,
                )
                for family_id in planned
            ],
        )
        plans = connection.execute("SELECT id, total_amount FROM installment_plans ORDER BY id").fetchall()
        engine.insert(
            connection,
            "installments",
            ["plan_id", "seq", "due_on", "amount", "state", "branch_id"],
            [
                (plan_id, seq, due_on, amount, "pending", branch)
                for plan_id, total in plans
                for seq, (due_on, amount) in enumerate(zip(due_dates, split(total, PLAN_INSTALLMENTS), strict=True), 1)
            ],
        )
        connection.commit()
    return len(promised), len(planned)


#: What the import did besides writing payments, counted afterwards: proof the paths ran.
EFFECTS = {
    "families": "SELECT count(*) FROM families",
    "promises_kept": "SELECT count(*) FROM promises WHERE state = 'kept'",
    "promises_paid_toward": "SELECT count(*) FROM promises WHERE paid_amount > 0",
    "installments_paid": "SELECT count(*) FROM installments WHERE state = 'paid'",
    "plans_completed": "SELECT count(*) FROM installment_plans WHERE state = 'completed'",
    "payments_attributed": "SELECT count(*) FROM payments WHERE attributed_channel != 'self_cure'",
    "payments_covering_months": "SELECT count(*) FROM payments WHERE months_covered > 0",
    "families_reactivated": "SELECT count(*) FROM families WHERE reactivated_on IS NOT NULL",
}


def effects(engine, url: str) -> dict[str, int]:
    with engine.connect(url) as connection:
        return {name: connection.execute(sql).fetchone()[0] for name, sql in EFFECTS.items()}


#: The app's page cache while an import writes (`IMPORT_SQLITE_CACHE_MB`'s default), for the floor.
FLOOR_CACHE_MB = 64


def database_floor(engine, setup_copy: Path, payments: Path) -> float:
    """Seconds the SQLite driver alone needs for the database work of importing `payments` into
    `setup_copy` (a copy of the set-up database, deleted afterwards): read the file, look every payer up
    in one join through a temporary table, insert the payments, read the paying families' members, rewrite
    each of them and each family, commit. The figures written are placeholders: only the work is real."""
    url = f"sqlite:///{setup_copy}"
    try:
        with engine.connect(url) as connection:
            connection.execute(f"PRAGMA cache_size = -{FLOOR_CACHE_MB * 1024}")
            settle_writes()
            start = time.perf_counter()
            _floor_work(connection, payments)
            connection.commit()
            return time.perf_counter() - start
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{setup_copy}{suffix}").unlink(missing_ok=True)


def _floor_work(connection, payments: Path) -> None:
    connection.execute(
        "CREATE TEMP TABLE floor_file (line INTEGER PRIMARY KEY, card_no, amount, paid_on, reference, channel)"
    )
    connection.execute("CREATE TEMP TABLE floor_families (id INTEGER PRIMARY KEY)")
    with payments.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        at = [header.index(column) for column in ("card_no", "amount", "paid_on", "reference", "channel")]
        connection.executemany(
            "INSERT INTO floor_file VALUES (?, ?, ?, ?, ?, ?)",
            ((line, *(row[i] for i in at)) for line, row in enumerate(reader, 2)),
        )
    branch = connection.execute("SELECT id FROM branches ORDER BY id LIMIT 1").fetchone()[0]
    run_id = connection.execute(
        "INSERT INTO import_runs (kind, filename, status, started_at, created, updated, unchanged, rejected, "
        "branch_id) VALUES ('payments', 'floor', 'running', '2026-01-01 00:00:00', 0, 0, 0, 0, ?)",
        (branch,),
    ).lastrowid
    connection.execute(
        "INSERT INTO payments (branch_id, reference, family_id, participant_id, amount, paid_on, channel, "
        "months_covered, attributed_channel, import_run_id, created_at) "
        "SELECT p.branch_id, f.reference, p.family_id, p.id, CAST(f.amount AS INTEGER), f.paid_on, f.channel, 0, "
        "'self_cure', ?, '2026-01-01 00:00:00' "
        "FROM floor_file f JOIN participants p ON p.card_no = f.card_no ORDER BY f.line",
        (run_id,),
    )
    connection.execute(
        "INSERT INTO floor_families SELECT DISTINCT family_id FROM payments WHERE import_run_id = ?", (run_id,)
    )
    members = connection.execute(
        "SELECT p.id, p.months_in_arrears, p.arrears_amount FROM floor_families f "
        "JOIN participants p ON p.family_id = f.id"
    ).fetchall()
    connection.executemany(
        "UPDATE participants SET months_in_arrears = ?, arrears_amount = ?, arrears_as_of = ?, updated_at = ? "
        "WHERE id = ?",
        [
            (max(0, months - 1), max(0, amount - AMOUNT_UNIT), PAID_THROUGH.isoformat(), "2026-01-01 00:00:00", member)
            for member, months, amount in members
        ],
    )
    connection.execute("UPDATE families SET credit = credit + 1 WHERE id IN (SELECT id FROM floor_families)")


def settle_writes() -> None:
    """Write what the untimed steps left in the OS's cache to disk before a timed one starts. The set-up's
    copies (about 1.3 GB of SQLite files for 1,000,000 participants, made just before) were otherwise
    written back while the import ran, and its commit waited behind them: 3-5 s of a 35 s import."""
    os.sync()


def bare_insert(engine, source_url: str, dumped: dict) -> tuple[float, float]:
    """Seconds (wall, and this process's CPU) the driver alone needs to insert and commit the payment rows
    the import wrote. On SQLite the CPU is all the work; on PostgreSQL the server's is not in it."""
    url = migrated(engine, "payments-bare")
    engine.copy_tables(source_url, url, PREREQUISITE_TABLES)
    settle_writes()
    with engine.connect(url) as connection:
        start, cpu = time.perf_counter(), time.process_time()
        load(engine, connection, dumped, TIMED_TABLES)
        return time.perf_counter() - start, time.process_time() - cpu


def timed_import_cpu(url: str, path: Path, rows: int, workdir: Path) -> tuple[float, float, float]:
    """`flask import payments` as `timed_import` runs it, with the child's CPU seconds (user + system) too:
    on a machine shared with other work, CPU time is the steadier figure (SQLite does all its work there)."""
    rss_file = workdir / "payments.rss"
    wrapper = (GNU_TIME, "-f", "%U %S %M", "-o", str(rss_file))
    start = time.perf_counter()
    result = flask(url, "import", "payments", str(path), wrapper=wrapper)
    seconds = time.perf_counter() - start
    lines = result.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith(f"created {rows},"):
        raise BenchError(f"import of {path.name} did not create {rows}; it said: {lines[-1] if lines else '(nothing)'}")
    user, system, peak_kb = rss_file.read_text().split()[-3:]
    return seconds, float(user) + float(system), int(peak_kb) / 1024


@dataclass
class Result:
    engine: str
    payments: int
    participants: int
    promises: int
    plans: int
    import_seconds: float
    rows_per_second: float
    peak_rss_mb: float
    bare_seconds: float
    ratio: float
    # Not in the table; in the JSON.
    setup_seconds: float = 0.0
    effects: dict | None = None
    #: CPU seconds of the import's process and of the bare insert's; their ratio on SQLite only (there the
    #: process does all the work; on PostgreSQL the server's share is not counted).
    import_cpu_seconds: float | None = None
    bare_cpu_seconds: float | None = None
    cpu_ratio: float | None = None
    #: SQLite: seconds of the database work alone (`database_floor`), and their ratio to the bare insert.
    floor_seconds: float | None = None
    floor_ratio: float | None = None


def set_up(engine, participants: Path, rows: int, reuse: bool) -> tuple[str, int, int]:
    """The database the payments are imported into (steps 1-2), made or copied from a kept one; its URL and
    how many promises and plans it holds."""
    label = f"{engine.name} {rows:,}"
    url = engine.kept_setup(rows) if reuse else None
    if url is not None:
        note(f"{label}: copied the kept set-up; migrating it to the head")
        flask(url, "db", "upgrade")
        with engine.connect(url) as connection:
            promises = connection.execute("SELECT count(*) FROM promises WHERE state = 'pending'").fetchone()[0]
            plans = connection.execute("SELECT count(*) FROM installment_plans WHERE state = 'active'").fetchone()[0]
        return url, promises, plans
    note(f"{label}: migrating; importing {participants.name} (not timed)")
    url = migrated(engine, "payments")
    import_participants(url, participants, rows)
    note(f"{label}: promises and plans (not timed)")
    promises, plans = promises_and_plans(engine, url, make_user(engine, url))
    if reuse:
        engine.keep_setup(url, rows)
    return url, promises, plans


def measure(engine, participants: Path, payments: Path, rows: int, workdir: Path, reuse: bool = False) -> Result:
    """One benchmark point: the database set up, the real import, then the bare insert of what it wrote."""
    label = f"{engine.name} {rows:,}"
    started = time.perf_counter()
    url, promises, plans = set_up(engine, participants, rows, reuse)
    setup_seconds = time.perf_counter() - started
    floor_copy = engine.floor_copy(url) if engine.name == "sqlite" else None
    note(f"{label}: importing {payments.name}")
    settle_writes()
    seconds, cpu_seconds, peak_mb = timed_import_cpu(url, payments, rows, workdir)
    note(f"{label}: bare insert")
    dumped = dump(engine, url, TIMED_TABLES)
    written = len(dumped["payments"][1])
    if written != rows:
        raise BenchError(f"{label}: the import reported {rows} payments but the database holds {written}")
    counted = effects(engine, url)
    bare_seconds, bare_cpu = bare_insert(engine, url, dumped)
    floor = None
    if floor_copy is not None:
        note(f"{label}: the database work alone")
        floor = database_floor(engine, floor_copy, payments)
    return Result(
        engine.name,
        rows,
        rows,
        promises,
        plans,
        seconds,
        rows / seconds,
        peak_mb,
        bare_seconds,
        seconds / bare_seconds,
        setup_seconds,
        counted,
        cpu_seconds,
        bare_cpu,
        cpu_seconds / bare_cpu if engine.name == "sqlite" and bare_cpu else None,
        floor,
        floor / bare_seconds if floor is not None else None,
    )


# --- output ------------------------------------------------------------------

#: (field, heading, width, how a value is shown): the table's columns.
TABLE = (
    ("engine", "engine", 10, "{}"),
    ("payments", "payments", 10, "{:,}"),
    ("participants", "particip.", 10, "{:,}"),
    ("promises", "promises", 8, "{:,}"),
    ("plans", "plans", 7, "{:,}"),
    ("import_seconds", "import s", 9, "{:.2f}"),
    ("rows_per_second", "rows/s", 9, "{:,.0f}"),
    ("peak_rss_mb", "peak MB", 8, "{:.0f}"),
    ("bare_seconds", "bare s", 8, "{:.2f}"),
    ("ratio", "ratio", 7, "{:.1f}x"),
    ("cpu_ratio", "cpu ratio", 9, "{:.1f}x"),
    ("floor_ratio", "db floor", 9, "{:.1f}x"),
)


def result_note(result: Result) -> str:
    """What the import did besides inserting, so a figure from a run that skipped the work shows it."""
    e = result.effects or {}
    return (
        f"{result.engine} {result.payments:,}: {e.get('families', 0):,} families; promises kept "
        f"{e.get('promises_kept', 0):,} (paid toward {e.get('promises_paid_toward', 0):,}); installments paid "
        f"{e.get('installments_paid', 0):,}, plans completed {e.get('plans_completed', 0):,}; payments attributed "
        f"{e.get('payments_attributed', 0):,}, covering a month {e.get('payments_covering_months', 0):,}; "
        f"families reactivated {e.get('families_reactivated', 0):,}; setup {result.setup_seconds:.0f} s"
    )


def write_json(path: Path, results: list[Result]) -> None:
    """Rewritten after every point, so a run that fails late still leaves its figures."""
    document = {"setup": SETUP, "seed": SEED, "results": [asdict(result) for result in results]}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# --- command line --------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options of this benchmark; others are left alone (`bench.run` gives every benchmark the same argv)."""
    parser = argparse.ArgumentParser(prog="bench.payments", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--payment-sizes",
        type=sizes,
        default="1000000",
        help="comma-separated payment counts, each against as many participants (default: %(default)s)",
    )
    parser.add_argument(
        "--engines",
        type=engine_names(ENGINES),
        default="sqlite,postgresql",
        help="comma-separated engines (default: %(default)s)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / "bench" / "out",
        help="where files, SQLite databases and results go (default: bench/out)",
    )
    parser.add_argument(
        "--reuse-setup",
        action="store_true",
        help="keep the set-up database of each size and start later runs from a copy of it",
    )
    args, _others = parser.parse_known_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    engines = [ENGINES[name](workdir) for name in args.engines]
    results: list[Result] = []
    try:
        for engine in engines:
            engine.check()
        print(SETUP)
        print(heading_line(TABLE), flush=True)
        for rows in args.payment_sizes:
            participants = participant_file(workdir, rows)
            payments = payment_file(workdir, rows, participants)
            for engine in engines:
                results.append(measure(engine, participants, payments, rows, workdir, args.reuse_setup))
                print(row_line(results[-1], TABLE), flush=True)
                write_json(workdir / "payments.json", results)
        for result in results:
            print(result_note(result))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
