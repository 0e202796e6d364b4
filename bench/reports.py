"""Benchmark the outcome funnel on a branch's full history, next to one hand-written SQL statement.

For each database engine it:

1. builds a database once and keeps it (reused while the participant and attempt
   counts, the seed and the migrations are unchanged): N participants imported
   from the participant benchmark's cached demo file with the real `flask import
   participants` (which fills the families' district and village); then, straight
   into the tables with the driver (PostgreSQL COPY, SQLite executemany in large
   transactions with synchronous=OFF during the build only; the attempt table's
   secondary indexes are dropped for the load and recreated from their own
   definitions afterwards): TELECOLLECTORS telecollectors and CADRES cadres; a work
   item for WORK_ITEM_SHARE of the families in arrears; M contact attempts over the
   12 months of HISTORY, in time order, about M/12 a month, by the families'
   workers, with outcomes from telecollect.contacts.outcomes (their share is
   OUTCOME_WEIGHTS: about 40 % reached, 30 % right party) and the family's queue,
   district, village and arrears bucket copied on each; a promise for every
   `promise_to_pay` attempt (8 % of right-party contacts), kept, partly kept or
   broken once its grace days are over; payments by PAYMENT_SHARE of the families
   each month, half of them credited to a contact that reached the family up to
   ATTRIBUTION_DAYS before, some reactivating the family; then ANALYZE (and VACUUM
   on PostgreSQL, as autovacuum does after large inserts);
2. times `outcome_funnel(session, by, MONTH)` for every grouping of
   telecollect.reports.funnel.GROUPINGS, each try in a fresh app context of one
   app (`create_app`), `--repeat` tries: median and best; and the dashboard's
   `key_figures` and `daily_trend` for the same month;
3. times ONE hand-written SQL statement that computes the same funnel by user and
   by kecamatan (the per-source aggregates in CTEs, UNION ALL, one GROUP BY, the
   labels joined), the same way: the practical limit. Its rows must equal the
   funnel's, every count of every group, or the benchmark fails. Joins that
   cannot change a count are left out (an inner join along a NOT NULL foreign key
   keeps every row; `payments → contact_attempts` becomes `attributed_attempt_id
   IS NOT NULL`), payments and reactivations are one scan, and on PostgreSQL it
   runs with JIT off (its estimated cost passes jit_above_cost, and compiling
   takes longer than running it);
4. times each source query of the funnel alone (by user and by kecamatan), so a
   slow report shows which table is slow (in the JSON).

Run from the repository root:
    .venv/bin/python -m bench.reports --report-participants 100000 --attempts 500000
"""

import argparse
import contextlib
import json
import random
import sqlite3
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import text

from bench.claims import migrations_fingerprint
from bench.common import engine_names, heading_line, positive, row_line
from bench.import_participants import (
    PG_SERVER,
    ROOT,
    SEED,
    BenchError,
    Sqlite,
    flask,
    migrated,
    note,
    participant_file,
    recreate_database,
)
from bench.import_participants import Postgresql as _Postgresql
from telecollect.contacts.outcomes import OUTCOMES
from telecollect.participants.models import bucket_of
from telecollect.payments.models import PAYMENT_CHANNELS

PG_DATABASES = {"reports": "telecollect_bench_reports"}
#: Changes when the way the database is built changes: a kept database is then rebuilt.
BUILD_VERSION = 1

#: The 12 months of history (first day of each), and the month the reports are timed for:
#: the last but one, so its promises are resolved and the month before it is history too.
HISTORY = tuple(date(2024 + (1 + k) // 12, (1 + k) % 12 + 1, 1) for k in range(12))  # 2024-02 … 2025-01
HISTORY_END = date(2025, 2, 1)  #: exclusive
MONTH = (date(2024, 12, 1), date(2024, 12, 31))
#: Attempts are made 08:00–20:00 WIB, that is 01:00–13:00 UTC: the local day is the UTC day.
WORK_START_UTC, WORK_SECONDS = 3600, 12 * 3600

TELECOLLECTORS, CADRES = 20, 13
#: Families in arrears with a work item; of those, in the cadres' queue; left in the team pool;
#: closed at some time during the history; created when the history starts (the others: during it).
WORK_ITEM_SHARE, CADRE_SHARE, POOL_SHARE, CLOSED_SHARE, INITIAL_SHARE = 0.90, 0.25, 0.10, 0.20, 0.60
#: Attempts on an assigned family made by its owner (the others: anyone in the queue).
OWNER_SHARE = 0.85
#: Phone (else WhatsApp), by queue.
PHONE_SHARE = {"telecollect": 0.70, "cadre": 0.40}
#: Outcome weights per 1000 attempts: 600 not reached, 100 reached but not the right party,
#: 300 right party, 24 of them (8 %) promises to pay.
OUTCOME_WEIGHTS = {
    "no_answer": 330,
    "busy": 120,
    "unreachable": 150,
    "wrong_number": 30,
    "wrong_party": 50,
    "moved": 15,
    "deceased": 5,
    "promise_to_pay": 24,
    "callback_requested": 60,
    "already_paid": 15,
    "refused": 51,
    "cannot_pay": 90,
    "interested_rehab": 36,
    "interested_autodebit": 24,
}
#: Promises: days to the promised date; grace days before a result; how the resolved ones ended.
PROMISE_DAYS, GRACE_DAYS = 14, 3
PROMISE_RESULTS = (("kept", 40), ("partly_kept", 15), ("broken", 45))
#: Payments a month by this share of the families in arrears; credited to a contact; reactivating.
PAYMENT_SHARE, ATTRIBUTED_SHARE, REACTIVATING_SHARE = 0.05, 0.5, 0.15
ATTRIBUTION_DAYS = 30
AMOUNT_UNIT = 35_000

FLOOR_PARTICIPANTS, FLOOR_ATTEMPTS = 1_000_000, 5_000_000
FLOOR_MS = {"postgresql": 1000, "sqlite": 3000}
FLOOR_GROUPINGS = ("user", "kecamatan")
FLOORS = (
    f"Floors: the month's funnel by user and by kecamatan at {FLOOR_PARTICIPANTS:,} participants and "
    f"{FLOOR_ATTEMPTS:,} attempts: PostgreSQL < {FLOOR_MS['postgresql']} ms, SQLite < {FLOOR_MS['sqlite']} ms "
    f"(median of the tries)"
)
SETUP = (
    f"Setup: {TELECOLLECTORS} telecollectors, {CADRES} cadres; work items for {WORK_ITEM_SHARE:.0%} of families "
    f"in arrears; attempts over {HISTORY[0]:%Y-%m}..{HISTORY[-1]:%Y-%m} (~1/12 a month), ~40% reached, ~30% "
    f"right party, promises for 8% of those; payments by {PAYMENT_SHARE:.0%} of families a month, "
    f"{ATTRIBUTED_SHARE:.0%} credited to a contact; reports for {MONTH[0]:%Y-%m}"
)

#: The tables the build fills and the benchmark counts, checked when a kept database is reused.
COUNTED = ("participants", "families", "users", "work_items", "contact_attempts", "promises", "payments")


# --- engines ---------------------------------------------------------------
# The participant benchmark's engines, with a database of this benchmark's own,
# a build connection tuned for bulk loading, and their literal formats.


@dataclass
class SqliteEngine(Sqlite):
    """The database is `<workdir>/reports.db`."""

    ts_suffix: str = ""

    def url(self) -> str:
        return f"sqlite:///{self.workdir / 'reports.db'}"

    def exists(self) -> bool:
        return (self.workdir / "reports.db").exists()

    @contextlib.contextmanager
    def build_connection(self, url: str):
        """No durability while building (a failed build is rebuilt), a large page cache, no FK checks."""
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            for pragma in (
                "PRAGMA journal_mode=MEMORY",
                "PRAGMA synchronous=OFF",
                "PRAGMA foreign_keys=OFF",
                "PRAGMA cache_size=-524288",
                "PRAGMA temp_store=MEMORY",
            ):
                connection.execute(pragma)
            connection.execute("BEGIN")
            yield connection
            connection.execute("COMMIT")
            connection.execute("PRAGMA journal_mode=WAL")  # as the app runs it
        finally:
            connection.close()

    @staticmethod
    def rows(connection, sql: str) -> list[tuple]:
        return connection.execute(sql).fetchall()

    @staticmethod
    def write(connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        placeholders = ", ".join("?" * len(columns))
        connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)

    @staticmethod
    def checkpoint(connection) -> None:
        connection.execute("COMMIT")
        connection.execute("BEGIN")

    @staticmethod
    def secondary_indexes(connection, table: str) -> list[tuple[str, str]]:
        """(name, CREATE INDEX statement) of the table's own indexes (not those of its constraints)."""
        return connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table,),
        ).fetchall()

    @staticmethod
    def update_reactivated(connection, reactivated: dict[int, str]) -> None:
        connection.executemany(
            "UPDATE families SET reactivated_on = ? WHERE id = ?",
            [(day, family_id) for family_id, day in sorted(reactivated.items())],
        )

    @staticmethod
    def finish(connection) -> None:
        """Nothing to reset: ids given explicitly are the rowids SQLite continues from."""

    def analyze(self, url: str) -> None:
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            connection.execute("ANALYZE")
            connection.commit()

    #: Statements run before the hand-written one, in its transaction.
    hand_settings: tuple = ()

    @staticmethod
    def hand_parameters(start: datetime, end: datetime, first: date, last: date) -> dict:
        """Bind values as SQLAlchemy writes them on SQLite (naive UTC text, ISO dates), so comparisons match."""
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        return {
            "s": start.astimezone(UTC).strftime(fmt),
            "e": end.astimezone(UTC).strftime(fmt),
            "d0": first.isoformat(),
            "d1": last.isoformat(),
        }


@dataclass
class PostgresqlEngine(_Postgresql):
    ts_suffix: str = "+00"

    def fresh(self, label: str) -> str:
        recreate_database(PG_DATABASES[label])
        return self.url()

    @staticmethod
    def url() -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DATABASES['reports']}"

    @staticmethod
    def exists() -> bool:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            return (
                admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASES["reports"],)).fetchone()
                is not None
            )

    @contextlib.contextmanager
    def build_connection(self, url: str):
        """No foreign-key triggers while loading (the rows are made consistent), no commit waits."""
        with self.connect(url) as connection:
            connection.execute("SET session_replication_role = replica")
            connection.execute("SET synchronous_commit = off")
            connection.execute("SET maintenance_work_mem = '256MB'")
            yield connection
            connection.commit()

    @staticmethod
    def rows(connection, sql: str) -> list[tuple]:
        return connection.execute(sql).fetchall()

    @staticmethod
    def write(connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @staticmethod
    def checkpoint(connection) -> None:
        connection.commit()

    @staticmethod
    def secondary_indexes(connection, table: str) -> list[tuple[str, str]]:
        return connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) ORDER BY indexname",
            (table, table),
        ).fetchall()

    @staticmethod
    def update_reactivated(connection, reactivated: dict[int, str]) -> None:
        connection.execute("CREATE TEMP TABLE reactivated (family_id integer PRIMARY KEY, day date) ON COMMIT DROP")
        with connection.cursor() as cursor, cursor.copy("COPY reactivated (family_id, day) FROM STDIN") as copy:
            for row in sorted(reactivated.items()):
                copy.write_row(row)
        connection.execute("UPDATE families f SET reactivated_on = r.day FROM reactivated r WHERE r.family_id = f.id")

    @staticmethod
    def finish(connection) -> None:
        """Sequences continue after the ids given explicitly."""
        for table in ("work_items", "contact_attempts", "promises", "payments"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )

    def analyze(self, url: str) -> None:
        """Visibility map and statistics, as autovacuum leaves them after large inserts."""
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as connection:
            connection.execute("VACUUM (ANALYZE)")

    #: The one statement's estimated cost passes jit_above_cost and compiling it takes longer than running
    #: it (~0.4 s); the funnel's separate statements each stay under the threshold. Off, as a hand-tuned query would be.
    hand_settings: tuple = ("SET LOCAL jit = off",)

    @staticmethod
    def hand_parameters(start: datetime, end: datetime, first: date, last: date) -> dict:
        return {"s": start, "e": end, "d0": first, "d1": last}


ENGINES = {"sqlite": SqliteEngine, "postgresql": lambda _workdir: PostgresqlEngine()}


# --- the database ----------------------------------------------------------------


def build_key(participants: int, attempts: int) -> dict:
    return {
        "participants": participants,
        "attempts": attempts,
        "seed": SEED,
        "build": BUILD_VERSION,
        "migrations": migrations_fingerprint(),
    }


def counts(engine, url: str) -> dict[str, int]:
    with engine.connect(url) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED}


def database(engine, workdir: Path, participants: int, attempts: int) -> tuple[str, dict, float | None]:
    """The built database's url, its row counts, and the build's seconds (None when a kept one is reused)."""
    key = build_key(participants, attempts)
    stamp = workdir / f"reports-seed-{engine.name}.json"
    url = engine.url()
    if stamp.exists() and engine.exists():
        kept = json.loads(stamp.read_text(encoding="utf-8"))
        if kept.get("key") == key:
            found = counts(engine, url)
            if found == kept["counts"]:
                note(
                    f"{engine.name}: reusing the reports database ({participants:,} participants, "
                    f"{attempts:,} attempts)"
                )
                return url, found, None
            note(f"{engine.name}: the kept database holds {found}, not {kept['counts']}: rebuilding")
    stamp.unlink(missing_ok=True)
    started = time.perf_counter()
    path = participant_file(workdir, participants)
    note(f"{engine.name}: migrating; importing {path.name}")
    url = migrated(engine, "reports")
    result = flask(url, "import", "participants", str(path))
    lines = result.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith(f"created {participants},"):
        raise BenchError(
            f"import of {path.name} did not create {participants} participants; it said: "
            f"{lines[-1] if lines else '(nothing)'}"
        )
    note(f"{engine.name}: imported in {time.perf_counter() - started:.0f} s; building the history")
    with engine.build_connection(url) as connection:
        History(engine, connection, attempts).build()
    note(f"{engine.name}: analyzing")
    engine.analyze(url)
    found = counts(engine, url)
    if found["participants"] != participants or found["contact_attempts"] != attempts:
        raise BenchError(
            f"{engine.name}: the build made {found}, not {participants} participants and {attempts} attempts"
        )
    seconds = time.perf_counter() - started
    stamp.write_text(
        json.dumps({"key": key, "counts": found, "build_seconds": round(seconds, 1)}) + "\n", encoding="utf-8"
    )
    note(f"{engine.name}: built in {seconds:.0f} s")
    return url, found, seconds


def _month_days(first: date) -> int:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (following - first).days


#: "HH:MM:SS.ffffff" of every second of a day.
_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86400)]


class History:
    """The staff, work items, attempts, promises and payments of a branch's year, written as made."""

    CHUNK = 50_000
    ATTEMPT_COLUMNS = (
        "id",
        "work_item_id",
        "family_id",
        "user_id",
        "channel",
        "outcome",
        "is_reached",
        "is_right_party",
        "callback_at",
        "at",
        "queue",
        "district_id",
        "village_id",
        "bucket",
    )
    PROMISE_COLUMNS = (
        "id",
        "family_id",
        "attempt_id",
        "user_id",
        "made_on",
        "promised_on",
        "amount",
        "state",
        "paid_amount",
        "resolved_on",
        "created_at",
    )
    PAYMENT_COLUMNS = (
        "id",
        "reference",
        "family_id",
        "amount",
        "paid_on",
        "channel",
        "months_covered",
        "attributed_attempt_id",
        "attributed_user_id",
        "attributed_channel",
        "created_at",
    )

    def __init__(self, engine, connection, attempts: int):
        self.engine, self.connection, self.attempts = engine, connection, attempts
        self.rng = random.Random(SEED + 7)
        self.suffix = engine.ts_suffix
        self.attempt_id = self.promise_id = self.payment_id = 0
        self.reactivated: dict[int, str] = {}

    def ts(self, day: date, second: int) -> str:
        return f"{day.isoformat()} {_CLOCK[second]}{self.suffix}"

    def build(self) -> None:
        self.users()
        self.families()
        self.work_items()
        indexes = self.engine.secondary_indexes(self.connection, "contact_attempts")
        for name, _definition in indexes:
            self.connection.execute(f"DROP INDEX {name}")
        for first in HISTORY:
            self.month(first)
            self.engine.checkpoint(self.connection)
        note(f"  recreating {len(indexes)} indexes of contact_attempts")
        for _name, definition in indexes:
            self.connection.execute(definition)
        self.engine.update_reactivated(self.connection, self.reactivated)
        self.engine.finish(self.connection)

    def users(self) -> None:
        created = self.ts(HISTORY[0] - timedelta(days=60), WORK_START_UTC)
        staff = [(f"bench-tc-{n:02d}", f"Telecollector {n}", "telecollector") for n in range(1, TELECOLLECTORS + 1)]
        staff += [(f"bench-cadre-{n:02d}", f"Kader {n}", "cadre") for n in range(1, CADRES + 1)]
        self.engine.write(
            self.connection,
            "users",
            ("username", "name", "role", "password_hash", "is_active", "timezone", "created_at"),
            [(username, name, role, "bench:not-a-hash", True, "WIB", created) for username, name, role in staff],
        )
        ids = dict(self.engine.rows(self.connection, "SELECT username, id FROM users"))
        self.staff = {
            "telecollect": [ids[u] for u, _n, r in staff if r == "telecollector"],
            "cadre": [ids[u] for u, _n, r in staff if r == "cadre"],
        }

    def families(self) -> None:
        """The families in arrears: id, place, bucket and what they owe, in id order."""
        rows = self.engine.rows(
            self.connection,
            (
                "SELECT f.id, f.district_id, f.village_id, max(p.months_in_arrears), sum(p.arrears_amount) "
                "FROM families f JOIN participants p ON p.family_id = f.id "
                "GROUP BY f.id, f.district_id, f.village_id HAVING sum(p.arrears_amount) > 0 ORDER BY f.id"
            ),
        )
        self.family_id = [r[0] for r in rows]
        self.district = [r[1] for r in rows]
        self.village = [r[2] for r in rows]
        self.bucket = [bucket_of(r[3]) for r in rows]
        self.owed = [int(r[4]) for r in rows]
        note(f"  {len(rows):,} families in arrears")

    def work_items(self) -> None:
        rng, n = self.rng, len(self.family_id)
        chosen = sorted(rng.sample(range(n), round(n * WORK_ITEM_SHARE)))
        self.worked = chosen  # family indexes with a work item
        self.item_id = [0] * n
        self.queue = [None] * n
        self.owner = [None] * n
        start_second = WORK_START_UTC
        rows = []
        for item_id, index in enumerate(chosen, 1):
            queue = "cadre" if rng.random() < CADRE_SHARE else "telecollect"
            if rng.random() < POOL_SHARE:
                owner = None
            elif queue == "cadre":  # a cadre covers a neighbourhood
                owner = self.staff["cadre"][(self.village[index] or self.district[index]) % CADRES]
            else:
                owner = rng.choice(self.staff["telecollect"])
            self.item_id[index], self.queue[index], self.owner[index] = item_id, queue, owner
            if rng.random() < INITIAL_SHARE:
                created_day = HISTORY[0]
            else:
                created_day = HISTORY[0] + timedelta(days=rng.randrange((HISTORY_END - HISTORY[0]).days))
            created = self.ts(created_day, start_second + rng.randrange(WORK_SECONDS))
            if rng.random() < CLOSED_SHARE:
                left = (HISTORY_END - created_day).days
                closed_day = created_day + timedelta(days=rng.randrange(1, left) if left > 1 else 0)
                closed = self.ts(closed_day, start_second + rng.randrange(WORK_SECONDS))
                state, reason = "closed", rng.choice(("already_paid", "moved", "no_arrears"))
            else:
                closed, reason = None, None
                state = rng.choice(("open", "waiting", "waiting", "promised"))
            rows.append(
                (
                    item_id,
                    self.family_id[index],
                    queue,
                    state,
                    reason,
                    owner,
                    created,
                    "none",
                    "WIB",
                    self.district[index],
                    self.village[index],
                    self.owed[index],
                    0,
                    0,
                    0,
                    created,
                    closed,
                )
            )
        self.engine.write(
            self.connection,
            "work_items",
            (
                "id",
                "family_id",
                "queue",
                "state",
                "close_reason",
                "assigned_user_id",
                "next_action_at",
                "follow_up",
                "timezone",
                "district_id",
                "village_id",
                "assigned_amount",
                "priority",
                "attempts",
                "contacts",
                "created_at",
                "closed_at",
            ),
            rows,
        )
        note(f"  {len(rows):,} work items")

    def month(self, first: date) -> None:
        """One month of attempts (in time order), the promises made in them, and the month's payments."""
        rng, index_of = self.rng, HISTORY.index(first)
        days = _month_days(first)
        count = self.attempts // 12 + (1 if index_of < self.attempts % 12 else 0)
        moments = sorted(rng.randrange(days * WORK_SECONDS) for _ in range(count))
        codes = list(OUTCOME_WEIGHTS)
        reached_code = {code: OUTCOMES[code].reached for code in codes}
        right_party_code = {code: OUTCOMES[code].right_party for code in codes}
        day_names = [first + timedelta(days=d) for d in range(days + 1)]
        resolved_before = HISTORY_END - timedelta(days=GRACE_DAYS)
        reached: list[tuple] = []  # (attempt id, family index, user id, channel, day) for payment credit
        worked, staff, suffix = self.worked, self.staff, self.suffix
        for chunk_start in range(0, count, self.CHUNK):
            chunk = moments[chunk_start : chunk_start + self.CHUNK]
            families = rng.choices(worked, k=len(chunk))
            outcomes = rng.choices(codes, weights=list(OUTCOME_WEIGHTS.values()), k=len(chunk))
            attempts, promises = [], []
            for moment, index, outcome in zip(chunk, families, outcomes, strict=True):
                self.attempt_id += 1
                day, second = divmod(moment, WORK_SECONDS)
                second += WORK_START_UTC
                queue, owner = self.queue[index], self.owner[index]
                user = owner if owner is not None and rng.random() < OWNER_SHARE else rng.choice(staff[queue])
                channel = "phone" if rng.random() < PHONE_SHARE[queue] else "whatsapp"
                on = day_names[day]
                at = f"{on.isoformat()} {_CLOCK[second]}{suffix}"
                is_reached, is_right_party = reached_code[outcome], right_party_code[outcome]
                callback = (
                    f"{(on + timedelta(days=1)).isoformat()} {_CLOCK[second]}{suffix}"
                    if outcome == "callback_requested"
                    else None
                )
                attempts.append(
                    (
                        self.attempt_id,
                        self.item_id[index],
                        self.family_id[index],
                        user,
                        channel,
                        outcome,
                        is_reached,
                        is_right_party,
                        callback,
                        at,
                        queue,
                        self.district[index],
                        self.village[index],
                        self.bucket[index],
                    )
                )
                if is_reached:
                    reached.append((self.attempt_id, index, user, channel, day))
                if outcome == "promise_to_pay":
                    promises.append(self.promise(index, user, on, at, resolved_before))
            self.engine.write(self.connection, "contact_attempts", self.ATTEMPT_COLUMNS, attempts)
            self.engine.write(self.connection, "promises", self.PROMISE_COLUMNS, promises)
        self.payments(first, days, day_names, reached)
        note(
            f"  {first:%Y-%m}: {count:,} attempts (through id {self.attempt_id:,}), "
            f"{self.promise_id:,} promises, {self.payment_id:,} payments so far"
        )

    def promise(self, index: int, user: int, on: date, at: str, resolved_before: date) -> tuple:
        rng = self.rng
        self.promise_id += 1
        promised_on = on + timedelta(days=rng.randint(1, PROMISE_DAYS))
        amount = rng.randint(1, 6) * AMOUNT_UNIT
        if promised_on < resolved_before:
            state = rng.choices([s for s, _w in PROMISE_RESULTS], [w for _s, w in PROMISE_RESULTS])[0]
            paid = {"kept": amount, "partly_kept": amount // 2, "broken": 0}[state]
            resolved = (promised_on + timedelta(days=GRACE_DAYS)).isoformat()
        else:
            state, paid, resolved = "pending", 0, None
        return (
            self.promise_id,
            self.family_id[index],
            self.attempt_id,
            user,
            on.isoformat(),
            promised_on.isoformat(),
            amount,
            state,
            paid,
            resolved,
            at,
        )

    def payments(self, first: date, days: int, day_names: list[date], reached: list[tuple]) -> None:
        """PAYMENT_SHARE of the families pay in the month; ATTRIBUTED_SHARE of the payments follow a contact
        that reached the family earlier in the month (within ATTRIBUTION_DAYS), the others are self-cure."""
        rng, n = self.rng, len(self.family_id)
        rows = []
        for _ in range(round(n * PAYMENT_SHARE)):
            self.payment_id += 1
            if reached and rng.random() < ATTRIBUTED_SHARE:
                attempt_id, index, user, channel, day = rng.choice(reached)
                day = min(day + rng.randrange(min(15, ATTRIBUTION_DAYS)), days - 1)
                credit = (attempt_id, user, channel)
            else:
                index, day = rng.randrange(n), rng.randrange(days)
                credit = (None, None, "self_cure")
            paid_on = day_names[day].isoformat()
            if rng.random() < REACTIVATING_SHARE:
                self.reactivated[self.family_id[index]] = paid_on
            rows.append(
                (
                    self.payment_id,
                    f"BENCH-{SEED}-{self.payment_id:09d}",
                    self.family_id[index],
                    rng.randint(1, 10) * AMOUNT_UNIT,
                    paid_on,
                    rng.choice(PAYMENT_CHANNELS),
                    rng.randint(0, 3),
                    *credit,
                    self.ts(day_names[day], 10 * 3600),
                )
            )
        self.engine.write(self.connection, "payments", self.PAYMENT_COLUMNS, rows)


# --- the practical limit: one hand-written statement ----------------------------------

#: Per grouping: the key of attempts, promises, payments and work items, and the joins each needs for it.
#: The unary plus keeps SQLite from grouping through an index on the key (it would then read every row of
#: the month through that index, one table lookup each); PostgreSQL plans the same either way.
HAND_KEYS = {
    "user": {
        "a": "+a.user_id",
        "p": "+p.user_id",
        "p_join": "",
        "pay": "+pay.attributed_user_id",
        "w": "+w.assigned_user_id",
        "label": "LEFT JOIN users l ON l.id = t.k",
        "name": "l.username",
    },
    "kecamatan": {
        "a": "+a.district_id",
        "p": "+f.district_id",
        "p_join": "JOIN families f ON f.id = p.family_id",
        "pay": "+f.district_id",
        "w": "+w.district_id",
        "label": "LEFT JOIN districts l ON l.id = t.k",
        "name": "l.name",
    },
}

HAND_SQL = """
WITH att AS (
    SELECT {a} AS k, count(DISTINCT a.family_id) AS families_attempted, count(*) AS attempts,
           count(*) FILTER (WHERE a.is_reached) AS contacts, count(*) FILTER (WHERE a.is_right_party) AS rpc
    FROM contact_attempts a WHERE a.at >= :s AND a.at < :e GROUP BY {a}),
made AS (
    SELECT {p} AS k, count(*) AS promises, sum(p.amount) AS promised_amount
    FROM promises p {p_join} WHERE p.made_on BETWEEN :d0 AND :d1 GROUP BY {p}),
due AS (
    SELECT {p} AS k, count(*) AS promises_due,
           count(*) FILTER (WHERE p.state = 'kept') AS promises_kept,
           count(*) FILTER (WHERE p.state = 'partly_kept') AS promises_partly_kept,
           count(*) FILTER (WHERE p.state = 'broken') AS promises_broken
    FROM promises p {p_join} WHERE p.promised_on BETWEEN :d0 AND :d1 GROUP BY {p}),
paid AS (
    SELECT {pay} AS k, count(*) AS payments, sum(pay.amount) AS collected_amount,
           count(DISTINCT CASE WHEN f.reactivated_on = pay.paid_on THEN pay.family_id END) AS reactivated
    FROM payments pay JOIN families f ON f.id = pay.family_id
    WHERE pay.attributed_channel <> 'self_cure' AND pay.attributed_attempt_id IS NOT NULL
      AND pay.paid_on BETWEEN :d0 AND :d1 GROUP BY {pay}),
assigned AS (
    SELECT {w} AS k, count(*) AS families_assigned, sum(w.assigned_amount) AS arrears_assigned
    FROM work_items w WHERE w.created_at < :e AND (w.closed_at IS NULL OR w.closed_at >= :s) GROUP BY {w}),
t AS (
    SELECT k, sum(families_attempted) AS families_attempted, sum(attempts) AS attempts, sum(contacts) AS contacts,
           sum(rpc) AS rpc, sum(promises) AS promises, sum(promised_amount) AS promised_amount,
           sum(promises_due) AS promises_due, sum(promises_kept) AS promises_kept,
           sum(promises_partly_kept) AS promises_partly_kept, sum(promises_broken) AS promises_broken,
           sum(payments) AS payments, sum(collected_amount) AS collected_amount, sum(reactivated) AS reactivated,
           sum(families_assigned) AS families_assigned, sum(arrears_assigned) AS arrears_assigned
    FROM (
        SELECT k, families_attempted, attempts, contacts, rpc, 0 AS promises, 0 AS promised_amount,
               0 AS promises_due, 0 AS promises_kept, 0 AS promises_partly_kept, 0 AS promises_broken,
               0 AS payments, 0 AS collected_amount, 0 AS reactivated, 0 AS families_assigned,
               0 AS arrears_assigned FROM att
        UNION ALL SELECT k, 0, 0, 0, 0, promises, promised_amount, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM made
        UNION ALL SELECT k, 0, 0, 0, 0, 0, 0, promises_due, promises_kept, promises_partly_kept, promises_broken,
                         0, 0, 0, 0, 0 FROM due
        UNION ALL SELECT k, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, payments, collected_amount, reactivated, 0, 0 FROM paid
        UNION ALL SELECT k, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, families_assigned, arrears_assigned FROM assigned
    ) AS parts
    WHERE k IS NOT NULL GROUP BY k)
SELECT {name} AS label, t.* FROM t {label} ORDER BY label
"""

#: The counts the hand statement gives, in its column order after label and key.
HAND_COLUMNS = (
    "families_attempted",
    "attempts",
    "contacts",
    "rpc",
    "promises",
    "promised_amount",
    "promises_due",
    "promises_kept",
    "promises_partly_kept",
    "promises_broken",
    "payments",
    "collected_amount",
    "reactivated",
    "families_assigned",
    "arrears_assigned",
)


def hand_sql(by: str) -> str:
    return HAND_SQL.format(**HAND_KEYS[by])


def hand_funnel(session, by: str, period) -> list[tuple]:
    engine = _engine_of(session)
    for setting in engine.hand_settings:
        session.execute(text(setting))
    parameters = engine.hand_parameters(period.starts_at, period.ends_before, period.start, period.end)
    return session.execute(text(hand_sql(by)), parameters).all()


def _engine_of(session):
    return ENGINES[session.get_bind().dialect.name](None)


def check_same(by: str, funnel_rows: list[dict], hand_rows: list[tuple]) -> None:
    """Every count of every group equal, and the same groups: or the comparison would not be honest."""
    funnel = {row["key"]: tuple(row[name] for name in HAND_COLUMNS) for row in funnel_rows}
    hand = {row[1]: tuple(int(value or 0) for value in row[2:]) for row in hand_rows}
    if funnel != hand:
        differing = sorted(set(funnel) ^ set(hand)) or [k for k in funnel if funnel[k] != hand.get(k)]
        key = differing[0]
        raise BenchError(
            f"the hand-written statement by {by} disagrees with outcome_funnel for key {key!r}: "
            f"{dict(zip(HAND_COLUMNS, funnel.get(key, ()), strict=False))} vs "
            f"{dict(zip(HAND_COLUMNS, hand.get(key, ()), strict=False))}"
        )


# --- measuring ----------------------------------------------------------------


def timed(app, work, repeat: int) -> tuple[list[float], object]:
    """Milliseconds of `work(session)` in a fresh app context each time, and the last answer."""
    from telecollect.extensions import db

    times, answer = [], None
    for _ in range(repeat):
        with app.app_context():
            start = time.perf_counter()
            answer = work(db.session)
            times.append((time.perf_counter() - start) * 1000)
    return times, answer


@dataclass
class Report:
    grouping: str
    median_ms: float
    best_ms: float
    groups: int
    floor_ms: int | None = None
    verdict: str | None = None
    hand_median_ms: float | None = None
    hand_best_ms: float | None = None
    ratio: float | None = None
    # Not in the table; in the JSON.
    runs_ms: list = field(default_factory=list)
    hand_runs_ms: list = field(default_factory=list)
    sources_ms: dict | None = None


@dataclass
class Result:
    engine: str
    participants: int
    attempts: int
    month: str
    month_attempts: int
    build_seconds: float | None
    counts: dict
    reports: list = field(default_factory=list)


def source_times(app, by: str, period, repeat: int) -> dict[str, float]:
    """Best milliseconds of each of the funnel's source queries alone."""
    from telecollect.reports.funnel import SOURCES, _aggregate

    best = {}
    for build in SOURCES:

        def run(session, build=build):
            dialect = session.get_bind().dialect.name
            return session.execute(_aggregate(build(by, period, _no_scope(), dialect))).all()

        times, _rows = timed(app, run, max(2, min(repeat, 3)))
        best[build.__name__.lstrip("_")] = round(min(times), 1)
    return best


def _no_scope():
    from telecollect.reports.funnel import Scope

    return Scope()


def measure(engine, url: str, found: dict, participants: int, attempts: int, build_seconds, repeat: int) -> Result:
    from telecollect import create_app
    from telecollect.reports.dashboard import daily_trend, key_figures
    from telecollect.reports.funnel import GROUPINGS, Period, Scope, outcome_funnel

    period = Period(*MONTH, "WIB")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with engine.connect(url) as connection:
        parameters = engine.hand_parameters(period.starts_at, period.ends_before, period.start, period.end)
        placeholder = "?" if engine.name == "sqlite" else "%s"
        month_attempts = connection.execute(
            f"SELECT count(*) FROM contact_attempts WHERE at >= {placeholder} AND at < {placeholder}",
            (parameters["s"], parameters["e"]),
        ).fetchone()[0]
    result = Result(engine.name, participants, attempts, f"{MONTH[0]:%Y-%m}", month_attempts, build_seconds, found)
    at_floor = participants == FLOOR_PARTICIPANTS and attempts == FLOOR_ATTEMPTS
    for by in GROUPINGS:
        note(f"{engine.name}: funnel by {by}")
        runs, rows = timed(app, lambda session, by=by: outcome_funnel(session, by, period, Scope()), repeat)
        report = Report(by, statistics.median(runs), min(runs), len(rows), runs_ms=[round(t, 1) for t in runs])
        if by in FLOOR_GROUPINGS:
            report.floor_ms = FLOOR_MS[engine.name]
            if at_floor:
                report.verdict = "ok" if report.median_ms < report.floor_ms else "MISS"
            hand_runs, hand_rows = timed(app, lambda session, by=by: hand_funnel(session, by, period), repeat)
            check_same(by, rows, hand_rows)
            report.hand_runs_ms = [round(t, 1) for t in hand_runs]
            report.hand_median_ms, report.hand_best_ms = statistics.median(hand_runs), min(hand_runs)
            report.ratio = report.median_ms / report.hand_median_ms
            report.sources_ms = source_times(app, by, period, repeat)
        result.reports.append(report)
    panels = (
        (
            "key_figures",
            lambda session: key_figures(
                outcome_funnel(session, "month", period, Scope()),
                outcome_funnel(session, "month", period.previous(), Scope()),
            ),
        ),
        ("daily_trend", lambda session: daily_trend(period, outcome_funnel(session, "day", period, Scope()))),
    )
    for name, panel in panels:
        note(f"{engine.name}: dashboard {name}")
        runs, answer = timed(app, panel, repeat)
        groups = len(answer) if isinstance(answer, list) else 1
        result.reports.append(
            Report(f"dash:{name}", statistics.median(runs), min(runs), groups, runs_ms=[round(t, 1) for t in runs])
        )
    return result


# --- output ------------------------------------------------------------------

#: (field, heading, width, how a value is shown): the table's columns.
TABLE = (
    ("grouping", "report", 17, "{}"),
    ("groups", "groups", 6, "{:,}"),
    ("median_ms", "median ms", 10, "{:,.0f}"),
    ("best_ms", "best ms", 9, "{:,.0f}"),
    ("floor_ms", "floor ms", 9, "< {:,}"),
    ("verdict", "floor", 5, "{}"),
    ("hand_median_ms", "hand ms", 9, "{:,.0f}"),
    ("ratio", "ratio", 7, "{:.1f}x"),
)


def result_heading(result: Result) -> str:
    c = result.counts
    built = "kept database" if result.build_seconds is None else f"built in {result.build_seconds:.0f} s"
    return (
        f"{result.engine}: {result.participants:,} participants ({c['families']:,} families), "
        f"{result.attempts:,} attempts ({result.month_attempts:,} in {result.month}), {c['work_items']:,} work "
        f"items, {c['promises']:,} promises, {c['payments']:,} payments; {built}"
    )


def result_note(result: Result) -> str:
    """Where the time of the floor reports goes: each source query alone (best ms)."""
    parts = [
        f"{r.grouping}: " + ", ".join(f"{name} {ms:.0f}" for name, ms in r.sources_ms.items())
        for r in result.reports
        if r.sources_ms
    ]
    return f"{result.engine} source queries alone (best ms) — " + "; ".join(parts)


def write_json(path: Path, results: list[Result]) -> None:
    """Rewritten after every engine, so a run that fails late still leaves its figures."""
    document = {
        "floors": FLOORS,
        "setup": SETUP,
        "seed": SEED,
        "results": [asdict(result) for result in results],
        "hand_sql": {by: hand_sql(by) for by in HAND_KEYS},
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# --- command line --------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options of this benchmark; others are left alone (`bench.run` gives every benchmark the same argv)."""
    parser = argparse.ArgumentParser(prog="bench.reports", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--report-participants",
        type=positive(int),
        default=FLOOR_PARTICIPANTS,
        help="participants in the reports database (default: %(default)s)",
    )
    parser.add_argument(
        "--attempts",
        type=positive(int),
        default=FLOOR_ATTEMPTS,
        help="contact attempts over the 12 months (default: %(default)s)",
    )
    parser.add_argument(
        "--engines",
        type=engine_names(ENGINES),
        default="postgresql,sqlite",
        help="comma-separated engines (default: %(default)s)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / "bench" / "out",
        help="where files, SQLite databases and results go (default: bench/out)",
    )
    parser.add_argument("--repeat", type=positive(int), default=5, help="tries of each report (default: %(default)s)")
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
        print(FLOORS)
        print(SETUP, flush=True)
        for engine in engines:
            url, found, seconds = database(engine, workdir, args.report_participants, args.attempts)
            result = measure(engine, url, found, args.report_participants, args.attempts, seconds, args.repeat)
            results.append(result)
            print(result_heading(result))
            print(heading_line(TABLE))
            for report in result.reports:
                print(row_line(report, TABLE))
            print(result_note(result), flush=True)
            write_json(workdir / "reports.json", results)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
