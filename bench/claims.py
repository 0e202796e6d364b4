"""Benchmark claiming from the work queue over HTTP, against gunicorn, next to the bare claim statement.

For each database engine it:

1. builds a seeded database once (migrations, `flask demo seed`, `flask queue
   assign --queue telecollect`), kept in the work directory (SQLite file) or as a
   template database (PostgreSQL, with planner statistics) and reused while the
   participant count and the migrations are unchanged; every run works on a fresh
   copy of it, with `--agents` telecollectors and API tokens made by `flask users`;
2. times the claim statement alone (the same UPDATE … RETURNING that
   `telecollect.queues.lifecycle.claim_one` sends, captured from it), from one
   plain driver connection, rolling back after each try: the practical limit;
3. starts gunicorn, warms it up, and lets `--agents` agents claim for `--seconds`,
   once per `--think` value (the seconds an agent spends "on the call" between a
   claim and its outcome: 0 is flat out); each claimed family gets a `no_answer`
   outcome (retried after 7 days, so it is not due again);
4. checks the run: no family handed to two agents within one lease, and no
   "nothing to do" answer while the database still held due, unclaimed families.

The contact window is opened to every hour of every day for the server under
test, so the figures do not depend on when the benchmark runs; national
holidays still close it, and on one the benchmark says so and does nothing.

Run from the repository root:
    .venv/bin/python -m bench.claims --families 3000 --agents 4 --seconds 10
"""

import argparse
import contextlib
import csv
import hashlib
import json
import math
import multiprocessing
import os
import random
import resource
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests

from bench import import_participants
from bench.common import engine_names, heading_line, positive, row_line
from bench.import_participants import FLASK, PG_SERVER, ROOT, BenchError, note, recreate_database

PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
#: --keep-alive: an agent's connection idles for a whole call; gunicorn's default (2 s) would close
#: it mid-call and race the agent's next request (as a proxy in front of it keeps its connections).
GUNICORN_OPTIONS = ("-w", "4", "-k", "gthread", "--threads", "4", "--keep-alive", "75")

PG_DATABASES = {"seed": "telecollect_bench_claims_seed", "run": "telecollect_bench_claims"}

#: The lease a claim gets (the app's default, set explicitly for the server under test).
LEASE_MINUTES = 15
#: The server's contact policy for the run: always open (holidays aside), no caps
#: that a run could reach, and a worked family not due again for a week.
SERVER_SETTINGS = {
    "CALLING_HOURS": "00:00-24:00",
    "CALLING_DAYS": "mon-sun",
    "MAX_ATTEMPTS_PER_DAY": "1000",
    "MAX_ATTEMPTS_PER_WEEK": "1000",
    "RETRY_DELAYS": "no_answer=7d",
    "QUEUE_LEASE_MINUTES": str(LEASE_MINUTES),
}
#: Cheap hashes for the benchmark's own accounts: they sign in by token only.
SETUP_SETTINGS = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "DEFAULT_LOCALE": "en"}  # English: output is parsed
#: The demo seed makes families of 1–5 members, 2.9 on average.
PARTICIPANTS_PER_FAMILY = 3
AGENT_PREFIX = "bench-agent-"

#: Every step is bounded, so that a stuck server or database ends the run with a message.
SEED_TIMEOUT, COMMAND_TIMEOUT, START_TIMEOUT = 600, 180, 60
#: Flat-out claiming before the measured run, so that every worker thread is warm (not measured).
WARMUP_SECONDS = 5
REQUEST_TIMEOUT = (5, 30)  # connect, read (seconds)
#: The bare statement is tried until either limit, after a few unmeasured warm-up tries.
BARE_WARMUP, BARE_TRIES, BARE_SECONDS = 10, 2000, 10.0

FLOOR_ENGINE, FLOOR_AGENTS, FLOOR_P95_MS = "postgresql", 20, 50
FLOORS = f"Floor: p95 < {FLOOR_P95_MS} ms on PostgreSQL at {FLOOR_AGENTS} agents, 0 double-claims"

METHOD = (
    f"Warm-up: {WARMUP_SECONDS} s of flat-out claiming before each measured run, not counted, so that every\n"
    "  gunicorn thread has its database connection and statement caches (cold, a first claim takes ~0.8 s).\n"
    "Call s: how long each agent waits between a claim's answer and its outcome (uniform in A-B): 0 measures\n"
    "  capacity (20 agents flat out on 2 cores queue behind each other: latency is then set by waiting\n"
    "  for the CPU); 1-3 s is still ~100x the pace of a real telecollector (100 calls a day).\n"
    "Double-claims: every claim is logged by the client as (agent, work item, time); a work item\n"
    f"  handed to two different agents less than one lease ({LEASE_MINUTES} min) apart counts once. The database\n"
    "  is asked too: work items with this run's attempts from two different agents (the larger count is shown).\n"
    "Wrongly-empty: the run only ever removes due families (an outcome pushes the next try 7 days on),\n"
    "  and an agent holds at most one claim; so if more due, unclaimed families than agents remain at\n"
    "  the end, some were free at every moment of the run and every 204 answer was wrong. Otherwise\n"
    "  the queue ran (nearly) dry and 204 answers are not judged ('-')."
)
SQLITE_NOTE = (
    "SQLite serialises writers: each claim (and each outcome, and each token's last-used stamp)\n"
    "  waits for the one write lock, so one claim is made at a time whatever the agent count;\n"
    "  more agents only lengthen the queue for the lock."
)


@dataclass(frozen=True)
class Think:
    """How long an agent is "on the call" between a claim's answer and its outcome: uniform in
    [shortest, longest] seconds. 0 is flat out, the server's capacity; a real telecollector
    takes minutes per call (100 calls in a working day is one every 4 to 5 minutes)."""

    shortest: float
    longest: float

    def __str__(self) -> str:
        if self.shortest == self.longest:
            return f"{self.shortest:g}"
        return f"{self.shortest:g}-{self.longest:g}"


# --- engines ---------------------------------------------------------------
# Each engine makes fresh databases, copies the seeded one, opens a plain
# DB-API connection and says how it takes a timestamp parameter.


@dataclass
class Sqlite(import_participants.Sqlite):
    placeholder: str = "?"

    def path(self, label: str) -> Path:
        return self.workdir / f"claims-{label}.db"

    def url(self, label: str) -> str:
        return f"sqlite:///{self.path(label)}"

    def exists(self, label: str) -> bool:
        return self.path(label).exists()

    def fresh(self, label: str) -> str:
        """Delete the database file and its WAL companions; the app creates it on first use."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path(label)}{suffix}").unlink(missing_ok=True)
        return self.url(label)

    def copy(self, source: str, target: str) -> str:
        """A fresh `target` holding what `source` holds (the backup API copies the WAL's content too)."""
        url = self.fresh(target)
        with (
            contextlib.closing(sqlite3.connect(self.path(source))) as src,
            contextlib.closing(sqlite3.connect(self.path(target))) as dst,
        ):
            src.backup(dst)
        return url

    def analyze(self, url: str) -> None:
        """Nothing: the app never runs ANALYZE on SQLite, so the benchmark does not either."""

    @staticmethod
    def server_pid() -> None:
        """No server: SQLite works inside the gunicorn workers."""
        return

    @staticmethod
    def timestamp(moment: datetime) -> str:
        """How SQLAlchemy stores a UTC datetime in SQLite (naive, text), so comparisons match."""
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Postgresql(import_participants.Postgresql):
    placeholder: str = "%s"

    @staticmethod
    def url(label: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DATABASES[label]}"

    @staticmethod
    def exists(label: str) -> bool:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            return (
                admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASES[label],)).fetchone()
                is not None
            )

    @staticmethod
    def fresh(label: str) -> str:
        return recreate_database(PG_DATABASES[label])

    @staticmethod
    def copy(source: str, target: str) -> str:
        return recreate_database(PG_DATABASES[target], template=PG_DATABASES[source])

    def analyze(self, url: str) -> None:
        """Planner statistics, as autovacuum would have them on a database in use for a while."""
        with self.connect(url) as connection:
            connection.execute("ANALYZE")

    @staticmethod
    def server_pid() -> int | None:
        """The postmaster's process id, when the server runs on this machine and its files are readable."""
        with contextlib.suppress(OSError, ValueError, psycopg.Error):
            with psycopg.connect(f"{PG_SERVER}/postgres") as admin:
                data_directory = admin.execute("SHOW data_directory").fetchone()[0]
            return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
        return None

    @staticmethod
    def timestamp(moment: datetime) -> datetime:
        return moment


ENGINES = {"postgresql": lambda _workdir: Postgresql(), "sqlite": Sqlite}


def query(engine, url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of one query on a plain connection; write `?` for parameters."""
    with engine.connect(url) as connection:
        return connection.execute(sql.replace("?", engine.placeholder), params).fetchall()


# --- setup -------------------------------------------------------------------


def flask(
    url: str, *args: str, timeout: float = COMMAND_TIMEOUT, stdin: str | None = None, module: str | None = None
) -> subprocess.CompletedProcess:
    """Run a `flask` command in the project (or `python -c module`), bounded in time."""
    env = {**os.environ, **SETUP_SETTINGS, "DATABASE_URL": url, "FLASK_APP": "wsgi.py"}
    command = [str(PYTHON), "-c", module] if module else [str(FLASK), *args]
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"`flask {' '.join(args)}` did not finish within {timeout} s") from None
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise BenchError(f"`flask {' '.join(args)}` exited with {result.returncode}:\n{output}")
    return result


def migrations_fingerprint() -> str:
    """Changes whenever a migration is added or edited: a seeded copy from before is then stale."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def seeded(engine, workdir: Path, families: int) -> int:
    """Make the seeded database unless a matching one is kept; return its families in the queue.

    Seeding 3 participants per wanted family takes minutes at 100,000 families,
    so the seeded database is kept, keyed by the participant count and the
    migrations, and every run copies it.
    """
    participants = families * PARTICIPANTS_PER_FAMILY
    key = {"participants": participants, "migrations": migrations_fingerprint(), "analyzed": True}
    stamp = workdir / f"claims-seed-{engine.name}.json"
    if stamp.exists() and engine.exists("seed"):
        kept = json.loads(stamp.read_text(encoding="utf-8"))
        if kept.get("key") == key:
            note(f"{engine.name}: reusing the seeded database ({kept['families']:,} families)")
            return kept["families"]
    stamp.unlink(missing_ok=True)
    url = engine.fresh("seed")
    note(f"{engine.name}: migrating")
    flask(url, "db", "upgrade")
    note(f"{engine.name}: seeding {participants:,} participants")
    start = time.perf_counter()
    flask(url, "demo", "seed", "--participants", str(participants), timeout=SEED_TIMEOUT)
    note(f"{engine.name}: seeded in {time.perf_counter() - start:.0f} s; filling the telecollect queue")
    flask(url, "queue", "assign", "--queue", "telecollect", timeout=SEED_TIMEOUT)
    engine.analyze(url)
    in_queue = live_items(engine, url)
    stamp.write_text(json.dumps({"key": key, "families": in_queue}) + "\n", encoding="utf-8")
    return in_queue


def live_items(engine, url: str) -> int:
    return query(engine, url, "SELECT count(*) FROM work_items WHERE queue = 'telecollect' AND state != 'closed'")[0][0]


#: Run in a child with the run database's environment: the real `flask users`
#: commands, through the app's CLI runner, so that one process makes every account.
AGENTS_CHILD = """
import json, sys
from wsgi import app
request = json.load(sys.stdin)
runner = app.test_cli_runner()
tokens = {}
for username in request["usernames"]:
    for args, given in ((["users", "create", username, "--role", "telecollector", "--password-stdin"],
                         request["password"] + "\\n"), (["users", "token", username], None)):
        result = runner.invoke(args=args, input=given)
        if result.exit_code != 0:
            sys.exit(f"flask {' '.join(args)}: {result.output.strip()}")
    tokens[username] = [line for line in result.output.split() if line.startswith("tc_")][-1]
print(json.dumps(tokens))
"""


def make_agents(url: str, count: int) -> dict[str, str]:
    """`count` telecollectors with one API token each: {username: token}."""
    usernames = [f"{AGENT_PREFIX}{number:03d}" for number in range(1, count + 1)]
    stdin = json.dumps({"usernames": usernames, "password": secrets.token_urlsafe(18)})
    result = flask(url, "users", "create/token", stdin=stdin, module=AGENTS_CHILD)
    tokens = json.loads(result.stdout.strip().splitlines()[-1])
    if sorted(tokens) != usernames or not all(t.startswith("tc_") for t in tokens.values()):
        raise BenchError(f"`flask users token` did not give {count} tokens")
    return tokens


# --- the practical limit: the claim statement alone ----------------------------


def server_app(url: str):
    """The app, configured as the server under test is (the lease as a number, as config.py makes it)."""
    from telecollect import create_app

    settings = {**SERVER_SETTINGS, "QUEUE_LEASE_MINUTES": LEASE_MINUTES}
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", **settings})


def claim_statement(url: str, username: str) -> tuple[str, object]:
    """The SQL and driver parameters `lifecycle.claim_one` sends for `username` now, captured on its way out.

    The claim is made for real, inside a transaction that is rolled back, so
    the statement is exactly the app's (whatever its current form) and the
    database is left as it was.
    """
    from sqlalchemy import event, select

    from telecollect.auth.models import User
    from telecollect.branches.stamping import act_in_branch
    from telecollect.db import now_utc
    from telecollect.extensions import db
    from telecollect.policy.rules import zones_open
    from telecollect.queues import lifecycle, services
    from telecollect.runtime import contact_rules, lease

    app = server_app(url)
    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
        try:
            user = db.session.scalar(select(User).where(User.username == username))
            act_in_branch(db.session(), user.branch_id)  # as the server does for a signed-in agent
            now = now_utc()
            zones = zones_open(db.session, contact_rules(), now)
            if not zones:
                raise BenchError("the contact policy opens no zone now, though the benchmark opens every hour")
            event.listen(engine, "before_cursor_execute", capture)
            try:
                claimed = lifecycle.claim_one(db.session, user, services.queue_for(user), zones, now, now + lease())
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            db.session.rollback()
        finally:
            db.session.remove()
            engine.dispose()
    if claimed is None:
        raise BenchError("the claim statement found nothing to claim in the freshly seeded queue")
    statement, parameters = captured[-1]
    if not statement.lstrip().upper().startswith("UPDATE"):
        raise BenchError(
            f"expected the claim UPDATE to be the last statement of lifecycle.claim_one, got: {statement[:80]}"
        )
    return statement, parameters


def bare_claims(engine, url: str, statement: str, parameters) -> list[float]:
    """Seconds per try of the claim statement alone on one plain connection (each try rolled back)."""
    timings = []
    with engine.connect(url) as connection:
        stop = time.perf_counter() + BARE_SECONDS
        for attempt in range(BARE_WARMUP + BARE_TRIES):
            start = time.perf_counter()
            rows = connection.execute(statement, parameters).fetchall()
            elapsed = time.perf_counter() - start
            connection.rollback()
            if len(rows) != 1:
                raise BenchError(f"the bare claim statement returned {len(rows)} rows, not 1")
            if attempt >= BARE_WARMUP:
                timings.append(elapsed)
                if start > stop:
                    break
    return timings


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, log: Path, probe_token: str):
    """gunicorn serving the app on a free port, stopped on the way out whatever happens; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        **SERVER_SETTINGS,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "FLASK_APP": "wsgi.py",
    }
    with log.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [str(GUNICORN), *GUNICORN_OPTIONS, "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(process, base, probe_token, log)
        yield process, base
    finally:
        stop(process)


def wait_until_up(process: subprocess.Popen, base: str, token: str, log: Path) -> None:
    """Until every worker could answer an authenticated request, or START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            answer = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
            if answer.status_code == 200:
                time.sleep(1.0)  # the other workers boot alongside the first to answer
                return
            raise BenchError(f"gunicorn answered /api/v1/me with {answer.status_code}: {answer.text[:300]}")
        except requests.RequestException:
            time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """TERM the master (it stops its workers), then KILL its whole process group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants, the ended ones included.

    An ended child's time moves to its parent's "children" counters once it is
    reaped (PostgreSQL's parallel workers and closed connections), so those count too.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / ticks  # utime, stime, cutime, cstime
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pending.extend(int(child) for child in children)
    return total


def machine_busy_seconds() -> float:
    """CPU seconds, over all cores, the machine spent not idle since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- the agents ---------------------------------------------------------------------


@dataclass
class AgentLog:
    agent: str
    #: Seconds per claim request answered 200 or 204 (errors are only counted).
    latencies: list[float] = field(default_factory=list)
    #: (work item id, wall-clock time) of each 200 answer.
    claims: list[tuple[int, float]] = field(default_factory=list)
    empty: int = 0
    outcomes: int = 0
    outcome_latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: When the last request ended (monotonic clock, shared by every process).
    finished_at: float = 0.0
    cpu_seconds: float = 0.0


def run_agent(
    base: str, agent: str, token: str, start_at: float, stop_at: float, think: "Think", phase: str
) -> AgentLog:
    """Claim, "call" for the think time, and record `no_answer` on what was claimed, from `start_at`
    until `stop_at` (monotonic)."""
    log = AgentLog(agent)
    pause = random.Random(agent).uniform  # each agent its own repeatable sequence of call lengths
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    claim_url = f"{base}/api/v1/queue/claim"
    time.sleep(max(0.0, start_at - time.monotonic()))
    if think.longest:  # agents are never in step: each starts partway through a call
        time.sleep(pause(0, think.longest))
    while time.monotonic() < stop_at:
        try:
            start = time.perf_counter()
            answer = http.post(claim_url, timeout=REQUEST_TIMEOUT)
            elapsed = time.perf_counter() - start
            if answer.status_code not in (200, 204):
                log.errors.append(f"claim {answer.status_code}")
                time.sleep(0.05)
                continue
            log.latencies.append(elapsed)
            if answer.status_code == 204:
                log.empty += 1
                continue
            item_id = answer.json()["work_item"]["id"]
            log.claims.append((item_id, time.time()))
            if think.longest:
                time.sleep(pause(think.shortest, think.longest))
            body = {"outcome": "no_answer", "channel": "phone", "client_ref": f"{agent}-{phase}{len(log.claims)}"}
            start = time.perf_counter()
            answer = http.post(f"{base}/api/v1/work-items/{item_id}/outcome", json=body, timeout=REQUEST_TIMEOUT)
            log.outcome_latencies.append(time.perf_counter() - start)
            if answer.status_code == 201:
                log.outcomes += 1
            else:
                log.errors.append(f"outcome {answer.status_code}")
        except requests.RequestException as exc:
            log.errors.append(type(exc).__name__)
            time.sleep(0.05)
    log.finished_at = time.monotonic()
    http.close()
    return log


def _agent_process(results, *args) -> None:
    """One agent in its own process; its CPU time is the whole process's."""
    log = run_agent(*args)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    log.cpu_seconds = usage.ru_utime + usage.ru_stime
    results.put(log)


def run_agents(
    base: str, tokens: dict[str, str], seconds: float, client: str, think: "Think", phase: str = "run"
) -> tuple[list[AgentLog], float]:
    """Every agent at once, as threads of this process or as processes of their own.

    Returns their logs and the seconds from the common start to the last answer.
    """
    start_at = time.monotonic() + 2.0  # time for every agent to be ready to go
    stop_at = start_at + seconds
    jobs = [(base, agent, token, start_at, stop_at, think, phase) for agent, token in sorted(tokens.items())]
    if client == "threads":
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            logs = list(pool.map(lambda job: run_agent(*job), jobs))
        return logs, max(log.finished_at for log in logs) - start_at
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_agent_process, args=(results, *job), daemon=True) for job in jobs]
    for process in processes:
        process.start()
    logs = []
    try:
        for _ in processes:
            logs.append(results.get(timeout=max(1.0, stop_at - time.monotonic()) + sum(REQUEST_TIMEOUT) + 30))
    except Exception as exc:
        raise BenchError(f"{len(processes) - len(logs)} agent process(es) gave no result: {exc!r}") from None
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    return logs, max(log.finished_at for log in logs) - start_at


# --- checks -------------------------------------------------------------------------


def double_claims(logs: list[AgentLog]) -> int:
    """Work items handed to two different agents less than one lease apart (client-side log)."""
    lease = LEASE_MINUTES * 60
    handed: dict[int, list[tuple[float, str]]] = {}
    for log in logs:
        for item_id, at in log.claims:
            handed.setdefault(item_id, []).append((at, log.agent))
    doubled = 0
    for claims in handed.values():
        claims.sort()
        if any(
            b_agent != a_agent and b_at - a_at < lease
            for i, (a_at, a_agent) in enumerate(claims)
            for b_at, b_agent in claims[i + 1 :]
        ):
            doubled += 1
    return doubled


def db_double_claims(engine, url: str) -> int:
    """Work items on which two different agents recorded an attempt in this run (database-side)."""
    return query(
        engine,
        url,
        "SELECT count(*) FROM (SELECT work_item_id FROM contact_attempts WHERE client_ref LIKE ? "
        "GROUP BY work_item_id HAVING count(DISTINCT user_id) > 1) AS doubled",
        (f"{AGENT_PREFIX}%",),
    )[0][0]


def db_attempts(engine, url: str) -> int:
    sql = "SELECT count(*) FROM contact_attempts WHERE client_ref LIKE ?"
    return query(engine, url, sql, (f"{AGENT_PREFIX}%",))[0][0]


def due_unclaimed(engine, url: str, now: datetime) -> int:
    """Families any agent could have been given at `now`: due, in the pool, not under a live lease."""
    at = engine.timestamp(now)
    return query(
        engine,
        url,
        "SELECT count(*) FROM work_items WHERE queue = 'telecollect' AND state != 'closed' "
        "AND assigned_user_id IS NULL AND next_action_at <= ? "
        "AND (claimed_by_id IS NULL OR lease_expires_at <= ?)",
        (at, at),
    )[0][0]


def holiday_today(moments: list[datetime]) -> str | None:
    """The national holiday (or cuti bersama) in Jakarta at any of `moments`, as "date (name)", or None."""
    from telecollect.formatting import ZONES
    from telecollect.policy.rules import ContactRules, blocks_contact, built_in_holidays
    from telecollect.settings import load_config

    # The server reads the same environment, with the run's settings on top.
    rules = ContactRules.from_config({**load_config(), **SERVER_SETTINGS})
    for moment in moments:
        day = moment.astimezone(ZONES["WIB"]).date()
        holiday = built_in_holidays(day.year).get(day)
        if holiday is not None and blocks_contact(rules, holiday):
            return f"{day.isoformat()} ({holiday.label})"
    return None


# --- one engine -------------------------------------------------------------------------


@dataclass
class Result:
    engine: str
    families: int
    agents: int
    think: str
    seconds: float
    claims_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    double_claims: int
    wrongly_empty: int | None
    bare_p50_ms: float
    ratio: float
    floor: str | None
    # Not in the table; in the JSON.
    client: str = ""
    claims: int = 0
    empty_answers: int = 0
    outcomes: int = 0
    outcome_p50_ms: float = 0.0
    errors: dict = field(default_factory=dict)
    attempts_in_database: int = 0
    double_claims_client: int = 0
    double_claims_database: int = 0
    due_unclaimed_at_end: int = 0
    bare_tries: int = 0
    client_cpu_cores: float = 0.0
    server_cpu_cores: float = 0.0
    #: PostgreSQL's processes (SQLite's work is inside gunicorn's).
    database_cpu_cores: float | None = None
    machine_busy_cores: float = 0.0
    cores: int = 0
    server_log: str = ""
    #: Rows of the participant file another branch was importing during the run (0: none), and whether
    #: that import was still running when the agents stopped (it overlapped the whole run).
    during_import: int = 0
    import_overlapped: bool | None = None


# --- another branch importing meanwhile (issue 16) -----------------------------------

#: The second branch, in another zone, whose import runs while the first branch's agents claim.
OTHER_BRANCH = ("KC-IMPOR", "Cabang Impor", "WITA", "Deputi Bench")


def other_branch_file(url: str, workdir: Path, rows: int) -> Path:
    """A second branch (made with `flask branches add`) and its participant file of `rows` rows: the
    participant benchmark's demo file with card numbers and family keys of their own (a card number on
    file in the first branch would move its family, and that is not what is measured)."""
    code, name, zone, deputy = OTHER_BRANCH
    flask(url, "branches", "add", code, "--name", name, "--zone", zone, "--deputy", deputy)
    source = import_participants.participant_file(workdir, rows)
    target = workdir / f"other-branch-{source.name}"
    if not target.exists():
        with source.open(newline="", encoding="utf-8") as inp, target.open("w", newline="", encoding="utf-8") as out:
            reader, writer = csv.reader(inp), csv.writer(out)
            header = next(reader)
            writer.writerow(header)
            card, family = header.index("card_no"), header.index("family_id")
            for row in reader:
                row[card] = "9" + row[card][1:]  # demo card numbers start with 0
                row[family] = f"X{row[family]}" if row[family] else ""
                writer.writerow(row)
    return target


def start_other_import(url: str, path: Path, workdir: Path) -> subprocess.Popen:
    """`flask import participants FILE --branch` of the second branch, in the background."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py", "DEFAULT_LOCALE": "en"}
    log = (workdir / "claims-other-import.log").open("w", encoding="utf-8")
    return subprocess.Popen(
        [str(FLASK), "import", "participants", str(path), "--branch", OTHER_BRANCH[0]],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def finish_other_import(process: subprocess.Popen) -> None:
    """Wait for the second branch's import to land (after the agents stopped)."""
    if process.wait(timeout=3600) != 0:
        raise BenchError("the second branch's import failed: see claims-other-import.log")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def measure(engine, args: argparse.Namespace, workdir: Path, think: Think) -> Result:
    """One engine at one think time: seeded copy, agents, bare statement, the HTTP run, the checks."""
    families = seeded(engine, workdir, args.families)
    if families < args.families:
        note(f"{engine.name}: the demo seed gave {families:,} families, fewer than the {args.families:,} asked")
    note(f"{engine.name}: copying the seeded database; making {args.agents} agents")
    url = engine.copy("seed", "run")
    tokens = make_agents(url, args.agents)
    other_file = other_branch_file(url, workdir, args.during_import) if args.during_import else None
    note(f"{engine.name}: timing the bare claim statement")
    statement, parameters = claim_statement(url, next(iter(sorted(tokens))))
    bare = bare_claims(engine, url, statement, parameters)
    (workdir / f"claims-statement-{engine.name}.sql").write_text(statement.strip() + "\n", encoding="utf-8")
    note(f"{engine.name}: {args.agents} agents claiming for {args.seconds:g} s, {think} s per call")
    server_log = workdir / f"claims-gunicorn-{engine.name}.log"
    with gunicorn(url, server_log, next(iter(tokens.values()))) as (server, base):
        # Every worker thread opens its database connection and fills its statement caches on its
        # first requests (up to a second each); a server in use has done so long before.
        run_agents(base, tokens, WARMUP_SECONDS, args.client, Think(0, 0), phase="warmup")
        database_pid = engine.server_pid()
        database_cpu = tree_cpu_seconds(database_pid) if database_pid else 0.0
        server_cpu, machine_busy, client_cpu = tree_cpu_seconds(server.pid), machine_busy_seconds(), _own_cpu()
        importing = start_other_import(url, other_file, workdir) if other_file else None
        started = time.monotonic()
        logs, elapsed = run_agents(base, tokens, args.seconds, args.client, think)
        wall = time.monotonic() - started  # CPU shares are over this, the agents' 2 s start included
        overlapped = importing.poll() is None if importing else None
        server_cpu = tree_cpu_seconds(server.pid) - server_cpu
        database_cpu = tree_cpu_seconds(database_pid) - database_cpu if database_pid else None
        machine_busy = machine_busy_seconds() - machine_busy
        client_cpu = (_own_cpu() - client_cpu) if args.client == "threads" else sum(w.cpu_seconds for w in logs)
    if importing:
        finish_other_import(importing)
    ended = datetime.now(UTC)
    latencies = [s for log in logs for s in log.latencies]
    claims = sum(len(log.claims) for log in logs)
    empty = sum(log.empty for log in logs)
    errors: dict[str, int] = {}
    for log in logs:
        for error in log.errors:
            errors[error] = errors.get(error, 0) + 1
    due = due_unclaimed(engine, url, ended)
    if not claims:
        found = ", ".join(f"{what} x{n}" for what, n in sorted(errors.items())) or "no error"
        dry = (
            f"; only {due} due families were left after the {WARMUP_SECONDS} s warm-up: give --families more"
            if due <= args.agents
            else ""
        )
        raise BenchError(f"{engine.name}: no claim succeeded ({empty} empty answers; {found}{dry}); see {server_log}")
    doubled_client, doubled_db = double_claims(logs), db_double_claims(engine, url)
    bare_p50 = percentile(bare, 50) * 1000
    p50 = percentile(latencies, 50) * 1000
    outcome_latencies = [s for log in logs for s in log.outcome_latencies]
    result = Result(
        engine=engine.name,
        families=families,
        agents=args.agents,
        think=str(think),
        seconds=round(elapsed, 2),
        claims_per_second=claims / elapsed,
        p50_ms=p50,
        p95_ms=percentile(latencies, 95) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        double_claims=max(doubled_client, doubled_db),
        wrongly_empty=empty if due > args.agents else None,
        bare_p50_ms=bare_p50,
        ratio=p50 / bare_p50,
        floor=None,
        client=args.client,
        claims=claims,
        empty_answers=empty,
        outcomes=sum(log.outcomes for log in logs),
        outcome_p50_ms=percentile(outcome_latencies, 50) * 1000 if outcome_latencies else 0.0,
        errors=errors,
        attempts_in_database=db_attempts(engine, url),
        double_claims_client=doubled_client,
        double_claims_database=doubled_db,
        due_unclaimed_at_end=due,
        bare_tries=len(bare),
        client_cpu_cores=client_cpu / wall,
        server_cpu_cores=server_cpu / wall,
        database_cpu_cores=None if database_cpu is None else database_cpu / wall,
        machine_busy_cores=machine_busy / wall,
        cores=os.cpu_count() or 0,
        server_log=str(server_log),
        during_import=args.during_import,
        import_overlapped=overlapped,
    )
    result.floor = floor_verdict(result)
    return result


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def floor_verdict(result: Result) -> str | None:
    """ "ok" or what was missed, for the one case the floor is set for; None otherwise."""
    if result.engine != FLOOR_ENGINE or result.agents != FLOOR_AGENTS:
        return None
    misses = []
    if not result.p95_ms < FLOOR_P95_MS:
        misses.append(f"p95 {result.p95_ms:.1f} ms >= {FLOOR_P95_MS}")
    if result.double_claims:
        misses.append(f"{result.double_claims} double-claims")
    return "MISS: " + ", ".join(misses) if misses else "ok"


# --- output ------------------------------------------------------------------

#: (field, heading, width, how a value is shown): the table's columns.
TABLE = (
    ("engine", "engine", 10, "{}"),
    ("families", "families", 9, "{:,}"),
    ("agents", "agents", 6, "{}"),
    ("think", "call s", 6, "{}"),
    ("seconds", "seconds", 7, "{:.0f}"),
    ("claims_per_second", "claims/s", 9, "{:,.1f}"),
    ("p50_ms", "p50 ms", 8, "{:.1f}"),
    ("p95_ms", "p95 ms", 8, "{:.1f}"),
    ("p99_ms", "p99 ms", 8, "{:.1f}"),
    ("double_claims", "double", 6, "{}"),
    ("wrongly_empty", "bad 204", 7, "{}"),
    ("bare_p50_ms", "bare p50", 9, "{:.2f}"),
    ("ratio", "ratio", 7, "{:.1f}x"),
    ("floor", "floor", 0, "{}"),
)


def result_notes(result: Result) -> list[str]:
    """What the row alone does not say: answers, errors, who used the CPU."""
    lines = [
        f"{result.engine}, {result.think} s per call: {result.claims:,} claims, "
        f"{result.empty_answers:,} empty (204) answers, "
        f"{result.outcomes:,} outcomes (p50 {result.outcome_p50_ms:.1f} ms; {result.attempts_in_database:,} "
        f"attempts in the database); {result.due_unclaimed_at_end:,} due, unclaimed families left; "
        f"bare statement: p50 of {result.bare_tries:,} tries"
        + (
            f"; meanwhile a {result.during_import:,}-row participant import in another branch "
            + ("(still running when the agents stopped)" if result.import_overlapped else "(ended before the agents)")
            if result.during_import
            else ""
        ),
        f"  CPU, in cores of {result.cores}: client {result.client_cpu_cores:.2f} ({result.client}), "
        f"gunicorn {result.server_cpu_cores:.2f}, "
        + ("" if result.database_cpu_cores is None else f"PostgreSQL {result.database_cpu_cores:.2f}, ")
        + f"whole machine {result.machine_busy_cores:.2f}",
    ]
    if result.errors:
        lines.append(
            f"  ERRORS: {', '.join(f'{what} x{n}' for what, n in sorted(result.errors.items()))} "
            f"(see {result.server_log})"
        )
    if result.client_cpu_cores >= 0.5:
        lines.append(
            f"  note: the client itself used {result.client_cpu_cores:.2f} of the machine's {result.cores} "
            "cores, taken from gunicorn and the database: the server figures are lower than on a machine "
            "of their own, and latencies include time the client waited for the CPU."
        )
    others = (
        result.machine_busy_cores
        - result.client_cpu_cores
        - result.server_cpu_cores
        - (result.database_cpu_cores or 0.0)
    )
    if others >= 0.25:
        lines.append(
            f"  note: {others:.2f} cores went to other processes during the run (PostgreSQL's "
            "parallel workers, or anything else running here): the server had less CPU than the "
            "table assumes."
        )
    if result.wrongly_empty is None:
        lines.append(
            f"  note: only {result.due_unclaimed_at_end} due families left for {result.agents} agents: "
            "the queue ran (nearly) dry, so 204 answers are not judged."
        )
    if result.engine == "sqlite":
        lines.append("  " + SQLITE_NOTE)
    return lines


def write_json(path: Path, results: list[Result], args: argparse.Namespace) -> None:
    """Rewritten after every engine, so a run that fails late still leaves its figures."""
    document = {
        "floors": FLOORS,
        "server": {"gunicorn": " ".join(GUNICORN_OPTIONS), **SERVER_SETTINGS},
        "client": args.client,
        "method": METHOD,
        "results": [asdict(result) for result in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# --- command line --------------------------------------------------------------


def _thinks(value: str) -> list[Think]:
    thinks = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        low, _sep, high = part.partition("-")
        try:
            think = Think(float(low), float(high or low))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected N or A-B seconds, got {part!r}") from None
        if not 0 <= think.shortest <= think.longest:
            raise argparse.ArgumentTypeError(f"expected 0 <= A <= B, got {part!r}")
        thinks.append(think)
    if not thinks:
        raise argparse.ArgumentTypeError(f"expected N or A-B seconds, got {value!r}")
    return thinks


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options of this benchmark; others are left alone (`bench.run` gives every benchmark the same argv)."""
    parser = argparse.ArgumentParser(prog="bench.claims", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engines",
        type=engine_names(ENGINES),
        default="postgresql,sqlite",
        help="comma-separated engines (default: %(default)s)",
    )
    parser.add_argument(
        "--families",
        type=positive(int),
        default=100_000,
        help="at least this many families in the queue (default: %(default)s)",
    )
    parser.add_argument(
        "--agents", type=positive(int), default=20, help="concurrent telecollectors claiming (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds",
        type=positive(float),
        default=60,
        help="how long the agents claim, per engine (default: %(default)s)",
    )
    parser.add_argument(
        "--think",
        type=_thinks,
        default=[Think(0, 0), Think(1, 3)],
        help="seconds an agent spends on each call, one run per value: N or A-B (uniform), "
        "comma-separated (default: 0,1-3: flat out, then paced)",
    )
    parser.add_argument(
        "--client",
        choices=("processes", "threads"),
        default="processes",
        help="run the agents as processes or as threads of one process (default: %(default)s)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / "bench" / "out",
        help="where SQLite databases, logs and results go (default: bench/out)",
    )
    parser.add_argument(
        "--during-import",
        type=int,
        default=0,
        metavar="ROWS",
        help="meanwhile a second branch (another zone) imports a participant file of ROWS rows "
        "(issue 16: claims of one branch while another imports; default: 0, none)",
    )
    args, _others = parser.parse_known_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    engines = [ENGINES[name](workdir) for name in args.engines]
    results: list[Result] = []
    notes: list[str] = []
    try:
        if skipped_for_holiday():
            return 0
        for engine in engines:
            engine.check()
        print(FLOORS)
        print(heading_line(TABLE), flush=True)
        for engine in engines:
            for think in args.think:
                if results and skipped_for_holiday():  # the day may have turned into one meanwhile
                    break
                results.append(measure(engine, args, workdir, think))
                print(row_line(results[-1], TABLE), flush=True)
                notes.extend(result_notes(results[-1]))
                write_json(workdir / "claims.json", results, args)
        if results:
            print("\n".join(notes))
            print(METHOD)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


def skipped_for_holiday() -> bool:
    """Say so when a run starting now would fall on a holiday that closes contact (every claim would be empty)."""
    now = datetime.now(UTC)
    holiday = holiday_today([now, now + timedelta(minutes=15)])
    if holiday:
        print(
            f"claims: skipped: {holiday} is a holiday in Indonesia (Asia/Jakarta); the contact "
            "policy lets nobody be called then, so every claim would be empty and the figures meaningless.",
            flush=True,
        )
    return holiday is not None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
