"""Benchmark `flask import participants` against a bare bulk insert of the same rows.

For each file size and database engine it:

1. generates a demo participant CSV once (cached in the work directory);
2. imports it into a fresh, migrated database with the real command, in a child
   process, measuring wall time and that child's own peak memory;
3. copies the rows the import wrote into a second fresh, migrated database with
   nothing but the driver (sqlite3 `executemany`, psycopg `COPY`), timing only
   the inserts and the commit. That is the practical limit: what writing these
   rows costs with no parsing, validation or ORM at all.

Run from the repository root:
    .venv/bin/python -m bench.import_participants --sizes 2000
"""

import argparse
import contextlib
import csv
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import psycopg

from bench.common import engine_names, heading_line, row_line, sizes
from telecollect.demo.services import demo_rows
from telecollect.participants.importing import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
FLASK = ROOT / ".venv" / "bin" / "flask"
#: GNU time reports the peak RSS of the one process it runs; `getrusage` on
#: RUSAGE_CHILDREN would give the maximum over every child so far instead.
GNU_TIME = "/usr/bin/time"

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
#: BENCH_PG_PREFIX names the databases apart when several people bench on one server (`tc_ops_` gives
#: `tc_ops_telecollect_bench`, …).
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "")
PG_DATABASES = {"import": f"{PG_PREFIX}telecollect_bench", "bare": f"{PG_PREFIX}telecollect_bench_bare"}

#: What the import writes for each row, in foreign-key order: the bare insert's work.
TIMED_TABLES = ("families", "participants", "arrears_snapshots")
#: Rows the timed tables refer to (places, the import run); copied before the
#: clock starts, since the import finds or makes them once, not per row.
PREREQUISITE_TABLES = ("provinces", "cities", "districts", "villages", "import_runs")
#: The connection settings the app uses on SQLite (telecollect.register_sqlite_pragmas).
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")

FLOOR_ROWS, FLOOR_SECONDS, FLOOR_PEAK_MB, FLOOR_RATIO = 1_000_000, 120, 300, 4
FLOORS = (
    f"Floors: {FLOOR_ROWS:,} rows on SQLite < {FLOOR_SECONDS} s, peak < {FLOOR_PEAK_MB} MB, ratio <= {FLOOR_RATIO}x"
)

#: Fixed, so a cached file and a regenerated one hold the same rows.
SEED = 20240131
AS_OF = date(2024, 1, 31)


class BenchError(Exception):
    """A failure that ends the benchmark with a clear message rather than a traceback."""


def note(message: str) -> None:
    """Progress on standard error, so standard output holds only the figures."""
    print(message, file=sys.stderr, flush=True)


# --- engines ---------------------------------------------------------------
# Each engine makes fresh databases, opens a plain DB-API connection, and
# bulk-inserts rows the fastest way its driver offers.


@dataclass
class Sqlite:
    workdir: Path
    name: str = "sqlite"

    def check(self) -> None:
        """Nothing to reach: SQLite is a file."""

    def fresh(self, label: str) -> str:
        """Delete the database file and its WAL companions; the app creates it on first use."""
        path = self.workdir / f"{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"

    @contextlib.contextmanager
    def connect(self, url: str):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            for pragma in SQLITE_PRAGMAS:
                connection.execute(pragma)
            yield connection
        finally:
            connection.close()

    @staticmethod
    def insert(connection, table: str, columns: list[str], rows: list[tuple]) -> None:
        placeholders = ", ".join("?" * len(columns))
        connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)


@dataclass
class Postgresql:
    name: str = "postgresql"

    def check(self) -> None:
        """Fail before generating any file, not minutes later, when the server is down."""
        try:
            with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=5):
                pass
        except psycopg.OperationalError as exc:
            raise BenchError(
                f"PostgreSQL is not reachable at {PG_SERVER} (needed for --engines postgresql): {exc}".rstrip()
            ) from None

    @staticmethod
    def fresh(label: str) -> str:
        return recreate_database(PG_DATABASES[label])

    @staticmethod
    def connect(url: str):
        return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))

    @staticmethod
    def insert(connection, table: str, columns: list[str], rows: list[tuple]) -> None:
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


ENGINES = {"sqlite": Sqlite, "postgresql": lambda _workdir: Postgresql()}


def recreate_database(name: str, template: str | None = None) -> str:
    """Drop and recreate a PostgreSQL database, empty or a copy of `template`; returns its URL.

    CREATE DATABASE cannot run inside a transaction, hence the autocommit connection.
    """
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template is None:
            admin.execute(f'CREATE DATABASE "{name}"')
        else:  # FILE_COPY: a plain file copy, much faster than WAL-logging every page
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


# --- the steps ---------------------------------------------------------------


def participant_file(workdir: Path, rows: int) -> Path:
    """The CSV of `rows` demo participants, generated only when missing.

    Rows stream from the generator to disk, so a million-row file never sits in
    memory; it is written under another name first, so an interrupted run never
    leaves a truncated file that later runs would take as cached.
    """
    path = workdir / f"participants-{rows}.csv"
    if path.exists():
        return path
    note(f"generating {path.name}")
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(demo_rows(rows, random.Random(SEED), AS_OF))
    partial.replace(path)
    return path


def flask(url: str, *args: str, wrapper: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run a `flask` command in the project, as a user would, against database `url`."""
    # English output: the benchmarks read the summary line the command prints.
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py", "DEFAULT_LOCALE": "en"}
    result = subprocess.run([*wrapper, str(FLASK), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise BenchError(f"`flask {' '.join(args)}` exited with {result.returncode}:\n{output}")
    return result


def migrated(engine, label: str) -> str:
    """A fresh database with the schema built by the app's own migrations (indexes included)."""
    url = engine.fresh(label)
    flask(url, "db", "upgrade")
    return url


def timed_import(url: str, path: Path, rows: int, workdir: Path, kind: str = "participants") -> tuple[float, float]:
    """Run the real `flask import <kind>`; return its wall seconds and its own peak RSS in MB."""
    rss_file = workdir / f"{kind}.rss"
    wrapper = (GNU_TIME, "-f", "%M", "-o", str(rss_file))
    start = time.perf_counter()
    result = flask(url, "import", kind, str(path), wrapper=wrapper)
    seconds = time.perf_counter() - start
    lines = result.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith(f"created {rows},"):
        raise BenchError(
            f"import of {path.name} did not create {rows} {kind}; it said: {lines[-1] if lines else '(nothing)'}"
        )
    peak_kb = int(rss_file.read_text().split()[-1])
    return seconds, peak_kb / 1024


def dump(engine, url: str, tables: tuple[str, ...]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every column of every row of `tables`, in id order, as the driver returns them."""
    tables_rows = {}
    with engine.connect(url) as connection:
        for table in tables:
            cursor = connection.execute(f"SELECT * FROM {table} ORDER BY id")
            columns = [description[0] for description in cursor.description]
            tables_rows[table] = (columns, cursor.fetchall())
    return tables_rows


def load(engine, connection, dumped: dict, tables: tuple[str, ...]) -> None:
    """Insert the dumped rows of `tables`, in order, in one transaction."""
    for table in tables:
        columns, rows = dumped[table]
        engine.insert(connection, table, columns, rows)
    connection.commit()


def bare_insert(engine, dumped: dict) -> float:
    """Seconds the driver alone needs to insert and commit the rows the import wrote."""
    url = migrated(engine, "bare")
    with engine.connect(url) as connection:
        load(engine, connection, dumped, PREREQUISITE_TABLES)
        start = time.perf_counter()
        load(engine, connection, dumped, TIMED_TABLES)
        return time.perf_counter() - start


@dataclass
class Result:
    engine: str
    rows: int
    import_seconds: float
    rows_per_second: float
    peak_rss_mb: float
    bare_seconds: float
    ratio: float
    floors: str | None


def measure(engine, path: Path, rows: int, workdir: Path) -> Result:
    """One benchmark point: the real import, then the bare insert of what it wrote."""
    label = f"{engine.name} {rows:,}"
    note(f"{label}: migrating")
    url = migrated(engine, "import")
    note(f"{label}: importing")
    seconds, peak_mb = timed_import(url, path, rows, workdir)
    note(f"{label}: bare insert")
    dumped = dump(engine, url, PREREQUISITE_TABLES + TIMED_TABLES)
    written = len(dumped["participants"][1])
    if written != rows:
        raise BenchError(f"{label}: the import reported {rows} rows but the database holds {written}")
    bare_seconds = bare_insert(engine, dumped)
    result = Result(engine.name, rows, seconds, rows / seconds, peak_mb, bare_seconds, seconds / bare_seconds, None)
    result.floors = floor_verdict(result)
    return result


def floor_verdict(result: Result) -> str | None:
    """ "ok" or what was missed, for the one case the floors are set for; None otherwise."""
    if result.engine != "sqlite" or result.rows != FLOOR_ROWS:
        return None
    misses = [
        f"{what} {value:.1f} > {limit}"
        for what, value, limit, ok in (
            ("seconds", result.import_seconds, FLOOR_SECONDS, result.import_seconds < FLOOR_SECONDS),
            ("peak MB", result.peak_rss_mb, FLOOR_PEAK_MB, result.peak_rss_mb < FLOOR_PEAK_MB),
            ("ratio", result.ratio, FLOOR_RATIO, result.ratio <= FLOOR_RATIO),
        )
        if not ok
    ]
    return "MISS: " + ", ".join(misses) if misses else "ok"


# --- output ------------------------------------------------------------------

#: (field, heading, width, how a value is shown): the table's columns.
TABLE = (
    ("engine", "engine", 10, "{}"),
    ("rows", "rows", 10, "{:,}"),
    ("import_seconds", "import s", 9, "{:.2f}"),
    ("rows_per_second", "rows/s", 9, "{:,.0f}"),
    ("peak_rss_mb", "peak MB", 8, "{:.0f}"),
    ("bare_seconds", "bare s", 8, "{:.2f}"),
    ("ratio", "ratio", 7, "{:.1f}x"),
    ("floors", "floors", 0, "{}"),
)


def write_json(path: Path, results: list[Result]) -> None:
    """Rewritten after every point, so a run that fails late still leaves its figures."""
    document = {"floors": FLOORS, "seed": SEED, "results": [asdict(result) for result in results]}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# --- command line --------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.import_participants", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=sizes, default="100000,1000000", help="comma-separated row counts (default: %(default)s)"
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
    args, _others = parser.parse_known_args(argv)  # bench.run gives every benchmark the same argv
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
        print(heading_line(TABLE), flush=True)
        for rows in args.sizes:
            path = participant_file(workdir, rows)
            for engine in engines:
                results.append(measure(engine, path, rows, workdir))
                print(row_line(results[-1], TABLE), flush=True)
                write_json(workdir / "import_participants.json", results)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
