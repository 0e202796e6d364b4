"""Benchmark how long the call centre waits to write while a large participant import runs.

An import stages its rows in short transactions, then (participants) applies them in transactions of
about a second each, rolling forward (telecollect.imports.runner); on SQLite only one transaction writes
at a time, so a writer (an outcome, a claim) waits while the import holds the write lock. For each file
size and engine this:

1. builds a fresh, migrated database and the demo participant file (as bench.import_participants does);
2. runs the real `flask import participants` in a child process;
3. meanwhile writes one small row every `--interval` seconds from this process, each write its own
   transaction (as a request does), timing each from BEGIN to COMMIT;
4. reports the import's wall time and the writers' longest wait, 99th percentile and count.

Run from the repository root:
    .venv/bin/python -m bench.import_writers --sizes 100000 --engines sqlite
"""

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.common import engine_names, heading_line, positive, row_line, sizes
from bench.import_participants import FLASK, ROOT, BenchError, flask, note, participant_file

#: Not the tests' database, nor the other benchmarks'.
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/telecollect_bench_writers"
#: How long a writer may wait before it counts as failed (the app's SQLITE_BUSY_TIMEOUT_MS is 30 s).
WRITER_TIMEOUT_SECONDS = 600
#: A request waiting longer than this has failed in production (the default busy timeout).
FAILED_AFTER_SECONDS = 30


@dataclass
class Result:
    engine: str
    rows: int
    import_seconds: float
    writes: int
    max_wait_seconds: float
    p99_wait_seconds: float
    over_1s: int
    over_30s: int


def fresh_sqlite(workdir: Path) -> str:
    path = workdir / "writers.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def fresh_postgresql(url: str) -> str:
    """An empty public schema in the database at `url` (created when missing)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    server, name = plain.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return url


@contextlib.contextmanager
def writer_connection(url: str):
    """A plain driver connection that waits as long as it must (the bench measures the wait)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=WRITER_TIMEOUT_SECONDS)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        placeholder = "?"
    else:
        connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
        connection.execute(f"SET lock_timeout = '{WRITER_TIMEOUT_SECONDS}s'")
        connection.commit()
        placeholder = "%s"
    try:
        yield connection, placeholder
    finally:
        connection.close()


def measure(engine: str, url: str, path: Path, rows: int, interval: float) -> Result:
    label = f"{engine} {rows:,}"
    note(f"{label}: migrating")
    flask(url, "db", "upgrade")
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py", "DEFAULT_LOCALE": "en"}
    waits: list[float] = []
    note(f"{label}: importing while writing every {interval}s")
    with writer_connection(url) as (connection, placeholder):
        started = time.perf_counter()
        child = subprocess.Popen(
            [str(FLASK), "import", "participants", str(path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        n = 0
        while child.poll() is None:
            n += 1
            begin = time.perf_counter()
            connection.execute(
                f"INSERT INTO throttle_hits (key, window_start, count) VALUES ({placeholder}, {placeholder}, 1)",
                (f"bench-writer-{n}", datetime.now(UTC)),
            )
            connection.commit()
            waits.append(time.perf_counter() - begin)
            time.sleep(interval)
        stdout, stderr = child.communicate()
        seconds = time.perf_counter() - started
    lines = stdout.strip().splitlines()
    if child.returncode != 0 or not lines or not lines[-1].startswith(f"created {rows},"):
        raise BenchError(f"{label}: the import failed: {(stdout + stderr).strip()[-2000:]}")
    ordered = sorted(waits)
    return Result(
        engine,
        rows,
        seconds,
        len(waits),
        ordered[-1] if ordered else 0.0,
        ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0,
        sum(wait > 1 for wait in waits),
        sum(wait > FAILED_AFTER_SECONDS for wait in waits),
    )


TABLE = (
    ("engine", "engine", 10, "{}"),
    ("rows", "rows", 10, "{:,}"),
    ("import_seconds", "import s", 9, "{:.1f}"),
    ("writes", "writes", 7, "{:,}"),
    ("max_wait_seconds", "max wait s", 10, "{:.2f}"),
    ("p99_wait_seconds", "p99 s", 7, "{:.3f}"),
    ("over_1s", ">1 s", 5, "{}"),
    ("over_30s", ">30 s", 5, "{}"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.import_writers", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes, default="1000000", help="row counts (default: %(default)s)")
    parser.add_argument(
        "--engines", type=engine_names(("sqlite", "postgresql")), default="sqlite,postgresql", help="engines"
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out", help="files and SQLite databases")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="the PostgreSQL database to use (emptied)")
    parser.add_argument(
        "--interval", type=positive(float), default=0.05, help="seconds between two writes (default: %(default)s)"
    )
    args, _others = parser.parse_known_args(argv)  # bench.run gives every benchmark the same argv
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    try:
        print(heading_line(TABLE), flush=True)
        for rows in args.sizes:
            path = participant_file(workdir, rows)
            for engine in args.engines:
                url = fresh_sqlite(workdir) if engine == "sqlite" else fresh_postgresql(args.pg_url)
                results.append(measure(engine, url, path, rows, args.interval))
                print(row_line(results[-1], TABLE), flush=True)
                document = {"results": [asdict(result) for result in results]}
                (workdir / "import_writers.json").write_text(json.dumps(document, indent=2) + "\n")
    except (BenchError, psycopg.OperationalError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
