"""The national-scale benchmark on PostgreSQL (issue 16): many branches, partitioned history, big numbers.

Generation (`--scale 1.0`: 10,000,000 participants in 128 branches under 12 deputy regions across WIB, WITA
and WIT, 50,000,000 contact attempts over six months, about 20 GB) goes with COPY into its own database
(`--database`, default telecollect_national), built by the app's migrations (monthly partitions included).
It is resumable: each branch is one transaction that also records the branch as done in
`bench_national_progress`, so a run interrupted at any point continues where it stopped
(`--fresh` starts over). Then it measures:

- the funnel (attempts, promises made and due, payments, families assigned) of one branch-month
  (floor: 1 s) and of the nation-month grouped by deputy region (floor: 10 s), warm, best of three;
- the size of the database on disk, and of the partitioned tables;
- the participant import of one branch's monthly file (100,000 rows) into the national database, and of
  the national file (every participant of the scale) into a fresh database: rows/s, peak memory, ratio to
  a bare COPY of the rows it wrote.

Run from the repository root (outside CI, minutes to hours depending on the scale):
    .venv/bin/python -m bench.national --scale 0.1
"""

import argparse
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from bench import import_participants as imports
from bench.common import heading_line, positive, row_line

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = imports.PG_SERVER

NATIONAL_PARTICIPANTS = 10_000_000
BRANCHES = 128
#: The Kedeputian Wilayah: (code, zone); branches are spread over them in turn.
DEPUTIES = tuple((f"KW{n:02d}", "WIB" if n <= 7 else "WITA" if n <= 10 else "WIT") for n in range(1, 13))
AGENTS_PER_BRANCH = 20
#: Attempts per participant: 0 to 10, 5 on average (50 M at scale 1).
MAX_ATTEMPTS = 10
#: The six months of history; the funnel is measured on FUNNEL_MONTH.
MONTHS = tuple(date(2026, m, 1) for m in range(6, 12))
FUNNEL_MONTH = date(2026, 10, 1)
AS_OF = date(2026, 10, 31)
FAMILY_SIZES = (1, 2, 3, 4)  #: in turn: 10 participants in 4 families
SEED = 16_2026
OUTCOMES = (
    ("no_answer", 40, False, False),
    ("busy", 9, False, False),
    ("unreachable", 10, False, False),
    ("wrong_number", 3, False, False),
    ("wrong_party", 3, True, False),
    ("callback_requested", 9, True, True),
    ("promise_to_pay", 9, True, True),
    ("refused", 6, True, True),
    ("cannot_pay", 6, True, True),
    ("already_paid", 5, True, True),
)
BUCKETS = ((3, "1-3"), (6, "4-6"), (12, "7-12"), (24, "13-24"), (10**6, ">24"))
FUNNEL_BRANCH_FLOOR, FUNNEL_NATION_FLOOR = 1.0, 10.0
BRANCH_FILE_ROWS = 100_000


def note(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def pg_url(database: str) -> str:
    return f"{PG_SERVER}/{database}"


def app_url(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


# --- generation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where each branch's rows go: equal branches, ids in disjoint ranges (so a resumed branch
    writes exactly the ids it would have written the first time)."""

    scale: float

    @property
    def per_branch(self) -> int:
        return max(10, round(NATIONAL_PARTICIPANTS * self.scale / BRANCHES))

    def first_id(self, index: int, per_participant: int = 1) -> int:
        return index * self.per_branch * per_participant + 1


def ensure_database(name: str, fresh: bool) -> None:
    with psycopg.connect(pg_url("postgres"), autocommit=True) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def flask(database: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": app_url(database), "FLASK_APP": "wsgi.py", "DEFAULT_LOCALE": "en"}
    env.setdefault("SECRET_KEY", "bench-national")
    result = subprocess.run([str(imports.FLASK), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`flask {' '.join(args)}` failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout


def done_steps(connection) -> set[str]:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS bench_national_progress "
        "(step text PRIMARY KEY, seconds double precision NOT NULL, done_at timestamptz NOT NULL DEFAULT now())"
    )
    connection.commit()
    return {step for (step,) in connection.execute("SELECT step FROM bench_national_progress")}


def mark_done(connection, step: str, started: float) -> None:
    connection.execute(
        "INSERT INTO bench_national_progress (step, seconds) VALUES (%s, %s)", (step, time.perf_counter() - started)
    )
    connection.commit()


def generate(database: str, layout: Layout, fresh: bool) -> None:
    ensure_database(database, fresh)
    note(f"{database}: migrating")
    flask(database, "db", "upgrade")
    with psycopg.connect(pg_url(database)) as connection:
        done = done_steps(connection)
        if "reference" not in done:
            started = time.perf_counter()
            reference(connection)
            mark_done(connection, "reference", started)
        branches = connection.execute(
            "SELECT b.id, b.code, b.zone, d.code FROM branches b JOIN deputy_regions d ON d.id = b.deputy_region_id "
            "WHERE b.code LIKE 'N%%' ORDER BY b.code"
        ).fetchall()
        for index, (branch_id, code, zone, _deputy) in enumerate(branches):
            if f"branch {code}" in done:
                continue
            started = time.perf_counter()
            load_branch(connection, layout, index, branch_id, zone)
            mark_done(connection, f"branch {code}", started)
            note(f"branch {code} ({index + 1}/{len(branches)}): {time.perf_counter() - started:.1f} s")
        if "finish" not in done:
            started = time.perf_counter()
            for table in ("families", "participants", "arrears_snapshots", "work_items", "contact_attempts"):
                connection.execute(f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))")
            for table in ("promises", "payments"):
                connection.execute(f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))")
            connection.commit()
            connection.autocommit = True
            note("VACUUM ANALYZE")
            connection.execute("VACUUM ANALYZE")
            connection.autocommit = False
            mark_done(connection, "finish", started)


def reference(connection) -> None:
    """Deputy regions, 128 branches (one city, eight kecamatan, four kelurahan each), 20 agents and one
    supervisor per branch, and the partitions of the six months."""
    _in_app(connection.info.dbname, "provinces")
    provinces = {
        zone: [
            pid for (pid,) in connection.execute("SELECT id FROM provinces WHERE timezone = %s ORDER BY id", (zone,))
        ]
        for zone in ("WIB", "WITA", "WIT")
    }
    now = datetime(2026, 11, 30, tzinfo=UTC)
    deputy_ids = {}
    for code, _zone in DEPUTIES:
        deputy_ids[code] = connection.execute(
            "INSERT INTO deputy_regions (code, name, created_at) VALUES (%s, %s, %s) RETURNING id",
            (code, f"Kedeputian Wilayah {code[2:]}", now),
        ).fetchone()[0]
    for n in range(BRANCHES):
        deputy, zone = DEPUTIES[n % len(DEPUTIES)]
        branch_id = connection.execute(
            "INSERT INTO branches (code, name, zone, deputy_region_id, settings, is_active, created_at) "
            "VALUES (%s, %s, %s, %s, '{}', true, %s) RETURNING id",
            (f"N{n:03d}", f"Kantor Cabang {n:03d}", zone, deputy_ids[deputy], now),
        ).fetchone()[0]
        province = provinces[zone][n % len(provinces[zone])]
        city = connection.execute(
            "INSERT INTO cities (province_id, code, name, name_key) VALUES (%s, %s, %s, %s) RETURNING id",
            (province, f"N{n:03d}", f"Kota Bench {n:03d}", f"kota bench {n:03d}"),
        ).fetchone()[0]
        for d in range(8):
            district = connection.execute(
                "INSERT INTO districts (city_id, code, name, name_key) VALUES (%s, %s, %s, %s) RETURNING id",
                (city, f"N{n:03d}.{d}", f"Kecamatan {n:03d}-{d}", f"kecamatan {n:03d}-{d}"),
            ).fetchone()[0]
            for v in range(4):
                connection.execute(
                    "INSERT INTO villages (district_id, code, name, name_key) VALUES (%s, %s, %s, %s)",
                    (district, f"N{n:03d}.{d}.{v}", f"Kelurahan {n:03d}-{d}-{v}", f"kelurahan {n:03d}-{d}-{v}"),
                )
        users = [(f"n{n:03d}.spv", "supervisor")] + [
            (f"n{n:03d}.tc{a:02d}", "telecollector") for a in range(AGENTS_PER_BRANCH)
        ]
        for username, role in users:
            connection.execute(
                "INSERT INTO users (username, name, role, password_hash, is_active, timezone, created_at, "
                "session_version, branch_id, is_installation_admin) "
                "VALUES (%s, %s, %s, 'bench:no-login', true, %s, %s, 0, %s, false)",
                (username, username, role, zone, now, branch_id),
            )
    connection.commit()
    # The six months' partitions, and the coming ones, before any row arrives (else: the default partition).
    _in_app(connection.info.dbname, "partitions")


def _in_app(database: str, what: str) -> None:
    """The app's own provinces list, or the partitions of the six months and the next ones."""
    from telecollect import create_app
    from telecollect.extensions import db
    from telecollect.partitions import ensure_partitions
    from telecollect.regions.services import ensure_provinces

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url(database), "SECRET_KEY": "bench-national"})
    with app.app_context():
        if what == "provinces":
            ensure_provinces(db.session)
        else:
            ensure_partitions(db.session, MONTHS[0], ahead=len(MONTHS) + 3)
        db.session.commit()
        db.engine.dispose()


def _copy(connection, table: str, columns: str, lines: list[str]) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(lines), 20_000):
            copy.write("".join(lines[start : start + 20_000]))


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


def load_branch(connection, layout: Layout, index: int, branch_id: int, zone: str) -> None:
    """One branch's families, participants, snapshots, work items, attempts, promises and payments, in one
    transaction (with its progress row): an interrupted branch leaves nothing and is done again."""
    rng = random.Random(SEED + index)
    # Generated rows are consistent by construction: skip the per-row foreign-key and trigger checks
    # (a superuser's session setting, for this transaction only), as a restore does.
    connection.execute("SET LOCAL session_replication_role = replica")
    users = [
        uid
        for (uid,) in connection.execute(
            "SELECT id FROM users WHERE branch_id = %s AND role = 'telecollector' ORDER BY id", (branch_id,)
        )
    ]
    places = connection.execute(
        "SELECT d.id, v.id FROM districts d JOIN villages v ON v.district_id = d.id JOIN cities c ON c.id = d.city_id "
        "WHERE c.code = %s ORDER BY v.id",
        (f"N{index:03d}",),
    ).fetchall()
    province, city = connection.execute(
        "SELECT province_id, id FROM cities WHERE code = %s", (f"N{index:03d}",)
    ).fetchone()
    count = layout.per_branch
    participant_id = layout.first_id(index)
    family_id = layout.first_id(index)
    attempt_id = layout.first_id(index, MAX_ATTEMPTS)
    promise_id = payment_id = attempt_id
    families, participants, snapshots, items, attempts, promises, payments = [], [], [], [], [], [], []
    outcome_names = [o[0] for o in OUTCOMES]
    outcome_weights = [o[1] for o in OUTCOMES]
    outcome_flags = {o[0]: (o[2], o[3]) for o in OUTCOMES}
    start, end = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    span = int((end - start).total_seconds())
    made, turn = 0, 0
    while made < count:
        size = min(FAMILY_SIZES[turn % len(FAMILY_SIZES)], count - made)
        turn += 1
        district, village = places[rng.randrange(len(places))]
        months = min(int(rng.expovariate(1 / 8)) + 1, 60)
        bucket = next(label for limit, label in BUCKETS if months <= limit)
        amount_each = min(months, 24) * 35_000
        head = f"{participant_id:013d}"
        created = _ts(start - timedelta(days=rng.randrange(30, 400)))
        families.append(f"{family_id}\t{head}\t{created}\t0\t\\N\t{district}\t{village}\t{branch_id}\n")
        agent = users[rng.randrange(len(users))]
        closed = rng.random() < 0.1
        state, reason, closed_at = ("closed", "already_paid", _ts(end)) if closed else ("open", "\\N", "\\N")
        next_action = _ts(start + timedelta(seconds=rng.randrange(span)))
        items.append(
            f"{family_id}\t{family_id}\ttelecollect\t{state}\t{reason}\t\\N\t\\N\t\\N\t{next_action}\t"
            f"none\t\\N\t{zone}\t{district}\t{village}\t{rng.randrange(1000)}\t0\t0\t\\N\t\\N\t{created}\t"
            f"{closed_at}\t\\N\t{amount_each * size}\t{branch_id}\n"
        )
        for _member in range(size):
            phone = f"+628{rng.randrange(10**9, 10**10)}"
            participants.append(
                f"{participant_id}\t{participant_id:013d}\t{3100000000000000 + participant_id}\t"
                f"Peserta {participant_id}\t"
                f"{phone}\tPBPU\t3\t{family_id}\t{province}\t{city}\t{district}\t{village}\t001\t002\tJl. Bench\t"
                f"f\t{months}\t{amount_each}\t{AS_OF}\t{created}\t{created}\tf\t\\N\t{branch_id}\n"
            )
            snapshots.append(
                f"{participant_id}\t{participant_id}\t{AS_OF}\t{months}\t{amount_each}\t\\N\t{branch_id}\n"
            )
            for _n in range(rng.randint(0, MAX_ATTEMPTS)):
                outcome = rng.choices(outcome_names, outcome_weights)[0]
                reached, right_party = outcome_flags[outcome]
                at = start + timedelta(seconds=rng.randrange(span))
                attempts.append(
                    f"{attempt_id}\t{family_id}\t{family_id}\t{participant_id}\t{agent}\tphone\t{outcome}\t"
                    f"{'t' if reached else 'f'}\t{'t' if right_party else 'f'}\t{phone}\t\\N\t\\N\t{_ts(at)}\t"
                    "\\N\t\\N\t"
                    f"telecollect\t{district}\t{village}\t{bucket}\t{branch_id}\n"
                )
                if outcome == "promise_to_pay":
                    promised_on = (at + timedelta(days=rng.randrange(1, 14))).date()
                    kept = rng.random() < 0.5
                    state = "kept" if kept and promised_on < end.date() else "pending"
                    promises.append(
                        f"{promise_id}\t{family_id}\t{attempt_id}\t{agent}\t{at.date()}\t{promised_on}\t"
                        f"{amount_each}\t{state}\t{_ts(at)}\t{amount_each if kept else 0}\t\\N\t{branch_id}\n"
                    )
                    promise_id += 1
                    if kept:
                        payments.append(
                            f"{payment_id}\tN{payment_id}\t{family_id}\t{participant_id}\t{amount_each}\t{promised_on}\t"
                            f"bank\t{min(months, 24)}\t{attempt_id}\t{agent}\tphone\t\\N\t{_ts(at)}\t{branch_id}\n"
                        )
                        payment_id += 1
                attempt_id += 1
            participant_id += 1
            made += 1
        family_id += 1
    _copy(
        connection,
        "families",
        "id, key, created_at, credit, reactivated_on, district_id, village_id, branch_id",
        families,
    )
    _copy(
        connection,
        "participants",
        "id, card_no, nik, name, phone, segment, klass, family_id, province_id, city_id, district_id, village_id, "
        "rt, rw, address, is_autodebit, months_in_arrears, arrears_amount, arrears_as_of, created_at, updated_at, "
        "is_phone_invalid, phone2, branch_id",
        participants,
    )
    _copy(
        connection,
        "arrears_snapshots",
        "id, participant_id, as_of, months_in_arrears, amount, import_run_id, branch_id",
        snapshots,
    )
    _copy(
        connection,
        "work_items",
        "id, family_id, queue, state, close_reason, assigned_user_id, claimed_by_id, lease_expires_at, "
        "next_action_at, follow_up, callback_user_id, timezone, district_id, village_id, priority, attempts, "
        "contacts, last_attempt_at, last_contact_at, created_at, closed_at, requeue_reason, assigned_amount, branch_id",
        items,
    )
    _copy(
        connection,
        "contact_attempts",
        "id, work_item_id, family_id, participant_id, user_id, channel, outcome, is_reached, is_right_party, phone, "
        "note, callback_at, at, outside_policy, client_ref, queue, district_id, village_id, bucket, branch_id",
        attempts,
    )
    _copy(
        connection,
        "promises",
        "id, family_id, attempt_id, user_id, made_on, promised_on, amount, state, created_at, paid_amount, "
        "resolved_on, branch_id",
        promises,
    )
    _copy(
        connection,
        "payments",
        "id, reference, family_id, participant_id, amount, paid_on, channel, months_covered, attributed_attempt_id, "
        "attributed_user_id, attributed_channel, import_run_id, created_at, branch_id",
        payments,
    )


# --- measures --------------------------------------------------------------------------------


@dataclass
class Figure:
    measure: str
    value: float
    unit: str
    floor: str | None = None
    verdict: str | None = None


def _funnel_sources(branch_id: int | None, by_deputy: bool):
    """The funnel's own sources (telecollect.reports.funnel.SOURCES) for FUNNEL_MONTH, each narrowed to one
    branch, or grouped by deputy region: what the branch scoping and the roll-ups will run."""
    import dataclasses

    from telecollect.contacts.models import ContactAttempt, Promise
    from telecollect.payments.models import Payment
    from telecollect.queues.models import WorkItem
    from telecollect.reports import funnel
    from telecollect.telephony.models import Call

    primary = {
        funnel._attempts: ContactAttempt,
        funnel._promises_made: Promise,
        funnel._promises_due: Promise,
        funnel._payments: Payment,
        funnel._reactivated: Payment,
        funnel._assigned: WorkItem,
        funnel._calls: Call,
        funnel._wrap_ups: Call,  # its branch is its call's
    }
    last = date(FUNNEL_MONTH.year, FUNNEL_MONTH.month + 1, 1) - timedelta(days=1)
    period = funnel.Period(FUNNEL_MONTH, last, "WIB")
    for build in funnel.SOURCES:
        if by_deputy:  # the roll-up's own source: its join to `branches` and its key
            yield funnel._aggregate(build("deputy", period, funnel.Scope(), "postgresql"))
            continue
        source = build("user", period, funnel.Scope(), "postgresql")
        if branch_id is not None:
            narrowed = source.statement.where(primary[build].branch_id == branch_id)
            source = dataclasses.replace(source, statement=narrowed)
        yield funnel._aggregate(source)


def time_funnel(database: str, branch_id: int | None, by_deputy: bool) -> tuple[float, int]:
    """Best of three warm runs (the first warms the cache): seconds, and the rows the attempts source gave.
    Read with the reports' sort memory (REPORTS_WORK_MEM_MB), as `telecollect.replica.reports_session` reads."""
    from sqlalchemy import create_engine, text

    from telecollect.settings import load_config

    engine = create_engine(app_url(database))
    statements = list(_funnel_sources(branch_id, by_deputy))
    best, groups = float("inf"), 0
    with engine.connect() as connection:
        if megabytes := load_config()["REPORTS_WORK_MEM_MB"]:
            connection.execute(text(f"SET work_mem = '{megabytes}MB'"))
        for _run in range(4):
            started = time.perf_counter()
            results = [connection.execute(statement).all() for statement in statements]
            best = min(best, time.perf_counter() - started)
            groups = len(results[0])
    engine.dispose()
    return best, groups


def sizes_on_disk(database: str) -> list[Figure]:
    with psycopg.connect(pg_url(database)) as connection:
        total = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        figures = [Figure("database size on disk", total / 2**30, "GB")]
        for table in ("contact_attempts", "participants", "arrears_snapshots", "families", "work_items", "payments"):
            size = connection.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "WHERE c.oid = to_regclass(%s) OR c.oid IN "
                "(SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))",
                (table, table),
            ).fetchone()[0]
            rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            figures.append(Figure(f"  {table}: {rows:,} rows", float(size) / 2**30, "GB"))
    return figures


def funnel_figures(database: str) -> list[Figure]:
    with psycopg.connect(pg_url(database)) as connection:
        branch_id = connection.execute("SELECT id FROM branches WHERE code = 'N000'").fetchone()[0]
    seconds, groups = time_funnel(database, branch_id, by_deputy=False)
    branch = Figure(
        f"funnel, one branch-month ({groups} officers)",
        seconds,
        "s",
        f"<= {FUNNEL_BRANCH_FLOOR:.0f} s",
        "ok" if seconds <= FUNNEL_BRANCH_FLOOR else "MISS",
    )
    seconds, groups = time_funnel(database, None, by_deputy=True)
    nation = Figure(
        f"funnel, nation-month by deputy region ({groups} regions)",
        seconds,
        "s",
        f"<= {FUNNEL_NATION_FLOOR:.0f} s",
        "ok" if seconds <= FUNNEL_NATION_FLOOR else "MISS",
    )
    return [branch, nation]


class OwnPostgresql(imports.Postgresql):
    """bench.import_participants' PostgreSQL engine, on databases of this benchmark's own."""

    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def fresh(self, label: str) -> str:  # type: ignore[override]
        return imports.recreate_database(f"{self.prefix}_{label}")


def national_file_import(database: str, rows: int, workdir: Path) -> list[Figure]:
    """The national file (every participant of the scale) into a fresh, migrated, partitioned database,
    against a bare COPY of what it wrote. At 10 M rows the written rows do not fit in memory as Python
    tuples (bench.import_participants' way): they are dumped to files with COPY, and the bare COPY reads
    those files into a second fresh database (server-side parsing only: a stricter baseline)."""
    path = imports.participant_file(workdir, rows)
    engine = OwnPostgresql(database)
    note(f"national file: migrating; importing {path.name}")
    url = imports.migrated(engine, "import")
    seconds, peak_mb = imports.timed_import(url, path, rows, workdir)
    note("national file: bare COPY of what it wrote")
    bare = bare_copy_from_files(url, imports.migrated(engine, "bare"), workdir)
    ratio = seconds / bare
    return [
        Figure(f"national file import, {rows:,} rows", rows / seconds, "rows/s"),
        Figure("  its time", seconds, "s"),
        Figure("  its peak memory", peak_mb, "MB"),
        Figure("  bare COPY of the rows it wrote", bare, "s"),
        Figure("  its ratio to a bare COPY", ratio, "x", "<= 4x", "ok" if ratio <= 4 else "MISS"),
    ]


def bare_copy_from_files(source_url: str, target_url: str, workdir: Path) -> float:
    """Seconds to COPY the rows the import wrote (dumped to files first, untimed) into `target_url` and
    commit; the places and the import run they refer to are copied before the clock starts."""
    source = psycopg.connect(source_url.replace("postgresql+psycopg://", "postgresql://", 1))
    target = psycopg.connect(target_url.replace("postgresql+psycopg://", "postgresql://", 1))
    try:
        files = {}
        for table in imports.PREREQUISITE_TABLES + imports.TIMED_TABLES:
            columns = [d.name for d in source.execute(f"SELECT * FROM {table} LIMIT 0").description]
            files[table] = (columns, workdir / f"bare-{table}.copy")
            with (
                files[table][1].open("wb") as out,
                source.cursor().copy(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT") as copy,
            ):
                for block in copy:
                    out.write(block)
        for table in imports.PREREQUISITE_TABLES:
            _copy_file(target, table, *files[table])
        target.commit()
        started = time.perf_counter()
        for table in imports.TIMED_TABLES:
            _copy_file(target, table, *files[table])
        target.commit()
        return time.perf_counter() - started
    finally:
        source.close()
        target.close()
        for _columns, path in files.values():
            path.unlink(missing_ok=True)


def _copy_file(connection, table: str, columns: list[str], path: Path) -> None:
    with path.open("rb") as stream, connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while block := stream.read(1 << 20):
            copy.write(block)


def branch_file_import(database: str, workdir: Path) -> list[Figure]:
    """One branch's monthly file (100,000 rows) into branch 0000 of the national database, beside every
    other branch's rows; then a bare COPY of the same rows (ids and card numbers shifted, so they are new
    rows) into the same database, timed to its commit point and rolled back."""
    path = imports.participant_file(workdir, BRANCH_FILE_ROWS)
    with psycopg.connect(pg_url(database)) as connection:
        _delete_branch_rows(connection)  # an earlier run's import, if any
        connection.commit()
    note(f"importing {path.name} into {database}")
    seconds, peak_mb = import_into_branch(database, path, workdir)
    with psycopg.connect(pg_url(database)) as connection:
        dumped = {}
        for table in imports.TIMED_TABLES:
            cursor = connection.execute(f"SELECT * FROM {table} WHERE branch_id = 1 ORDER BY id")
            columns = [d[0] for d in cursor.description]
            dumped[table] = (columns, [_shifted(table, columns, r) for r in cursor.fetchall()])
        note("bare COPY of the same rows")
        started = time.perf_counter()
        for table in imports.TIMED_TABLES:
            columns, rows = dumped[table]
            imports.Postgresql.insert(connection, table, columns, rows)
        connection.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what a commit would check
        bare = time.perf_counter() - started
        connection.rollback()
    ratio = seconds / bare
    return [
        Figure(f"branch file import, {BRANCH_FILE_ROWS:,} rows, national db", BRANCH_FILE_ROWS / seconds, "rows/s"),
        Figure("  its peak memory", peak_mb, "MB"),
        Figure("  its ratio to a bare COPY", ratio, "x", "<= 4x", "ok" if ratio <= 4 else "MISS"),
    ]


#: Offset for the bare COPY's copies of the imported rows (above every generated id).
SHIFT = 900_000_000


def _shifted(table: str, columns: list[str], values: tuple) -> tuple:
    """The row as new: ids and references moved by SHIFT, unique texts marked."""
    row = dict(zip(columns, values, strict=True))
    for name in ("id", "family_id", "participant_id"):
        if row.get(name) is not None:
            row[name] += SHIFT
    for name in ("key", "card_no"):
        if row.get(name) is not None:
            row[name] = "B" + row[name][1:]
    return tuple(row[name] for name in columns)


def import_into_branch(database: str, path: Path, workdir: Path) -> tuple[float, float]:
    """`flask import participants FILE` in branch 0000, in a child process under GNU time (wall seconds,
    peak RSS in MB)."""
    rss_file = workdir / "branch-import.rss"
    command = [imports.GNU_TIME, "-f", "%M", "-o", str(rss_file), sys.executable, "-m", "bench.national"]
    command += ["--database", database, "--import-file", str(path)]
    env = {**os.environ, "DEFAULT_LOCALE": "en", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-national")}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0 or f"created {BRANCH_FILE_ROWS}," not in result.stdout:
        raise SystemExit(f"the branch import failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return seconds, int(rss_file.read_text().split()[-1]) / 1024


def _import_file(database: str, path: str) -> int:
    """The child of `import_into_branch`: the real command, in branch 0000 (`--branch`)."""
    from telecollect import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url(database)})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["import", "participants", path, "--branch", "0000"])
        print(result.output)
        return result.exit_code


def _delete_branch_rows(connection) -> None:
    """Branch 0000's rows (an earlier run's import), without the per-row foreign-key checks (a superuser's
    setting; nothing else refers to them)."""
    connection.execute("SET LOCAL session_replication_role = replica")
    for table in ("arrears_snapshots", "participants", "families", "import_runs"):
        connection.execute(f"DELETE FROM {table} WHERE branch_id = 1")


TABLE = (
    ("measure", "measure", 58, "{}"),
    ("value", "value", 12, "{:,.2f}"),
    ("unit", "unit", 6, "{}"),
    ("floor", "floor", 8, "{}"),
    ("verdict", "", 0, "{}"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.national", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=positive(float),
        default=0.01,
        help="1.0 = 10 M participants, 50 M attempts, ~20 GB (default: %(default)s; the issue's figures: 1.0)",
    )
    parser.add_argument("--database", default="telecollect_national", help="its own database (default: %(default)s)")
    parser.add_argument("--fresh", action="store_true", help="drop the database and generate again")
    parser.add_argument("--only", choices=("generate", "funnel", "size", "imports"), help="one step only")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--import-file", help=argparse.SUPPRESS)  # the child of import_into_branch
    args, _others = parser.parse_known_args(argv)  # bench.run gives every benchmark the same argv
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.import_file:
        return _import_file(args.database, args.import_file)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    layout = Layout(args.scale)
    participants = layout.per_branch * BRANCHES
    steps = [args.only] if args.only else ["generate", "funnel", "size", "imports"]
    figures: list[Figure] = []
    print(f"National benchmark, scale {args.scale}: {participants:,} participants in {BRANCHES} branches")
    if "generate" in steps:
        started = time.perf_counter()
        generate(args.database, layout, args.fresh)
        note(f"generated (or found) in {time.perf_counter() - started:.0f} s")
    print(heading_line(TABLE), flush=True)

    def show(new: list[Figure]) -> None:
        for figure in new:
            figures.append(figure)
            print(row_line(figure, TABLE), flush=True)
        out = workdir / f"national-{args.scale}.json"
        out.write_text(
            __import__("json").dumps({"scale": args.scale, "figures": [asdict(f) for f in figures]}, indent=2)
        )

    if "size" in steps:
        show(sizes_on_disk(args.database))
    if "funnel" in steps:
        show(funnel_figures(args.database))
    if "imports" in steps:
        show(branch_file_import(args.database, workdir))
        show(national_file_import(args.database, participants, workdir))
    return 0 if all(f.verdict in (None, "ok") for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
