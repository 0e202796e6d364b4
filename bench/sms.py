"""Benchmark the SMS dispatcher against a fake Twilio, next to a bare loop of SDK calls to the same fake.

For each database engine it:

1. makes a fresh, migrated database holding N participants, imported with the
   real `flask import participants` from a demo file in which every participant
   has a number of their own (cached in the work directory), and queues one due
   reminder per participant straight into the outbox tables (`sms_messages`, and
   the `queued` event `queue_sms` writes beside each), with the body rendered
   from the default template (not timed);
2. starts the fake Twilio (tests/fake_twilio.py) in this process, on
   127.0.0.1, and points the app's own Twilio gateway (the official SDK) at it;
3. times `dispatch_due` until every message is sent, batch by batch, at a fixed
   business moment (a Tuesday, 10:00 WIB, not a holiday) with a contact window
   open all day and every day, so nothing is deferred; then checks that every
   message ended `accepted` with a Twilio id of its own, and that the fake got
   exactly N requests, one to each participant's number;
4. times a bare loop of N `client.messages.create(...)` calls through the same
   SDK client, to the same fake, with the same numbers and bodies and no
   database at all: the practical limit. The ratio is how many times slower
   than that loop the dispatcher is.

The fake server runs as threads of this process, so it shares the CPU (and
Python's GIL) with whatever calls it: the dispatcher and the bare loop pay that
cost alike, which keeps the ratio fair, but the rates are lower than against a
server on a machine of its own.

Run from the repository root:
    .venv/bin/python -m bench.sms --messages 500
"""

import argparse
import csv
import json
import math
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench import claims
from bench.common import engine_names, heading_line, positive, row_line
from bench.import_participants import (
    AS_OF,
    ROOT,
    SEED,
    BenchError,
    Sqlite,
    migrated,
    note,
    recreate_database,
)
from bench.import_participants import Postgresql as _Postgresql
from bench.payments import import_participants
from telecollect.demo.services import demo_rows
from telecollect.participants.importing import COLUMNS

PG_DATABASES = {"sms": "telecollect_bench_sms"}

#: The moment the dispatcher runs at: a Tuesday, 10:00 WIB, not a national holiday.
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
#: The messages were queued (and fell due) an hour earlier.
QUEUED_AT = NOW - timedelta(hours=1)
DUE_ON = date(2026, 12, 10)
#: Every minute of every day, caps the run never reaches: the window never defers.
WINDOW = (0, 1440, frozenset(range(7)), 3, 7)
#: Where the status callbacks would go (the fake never calls them).
PUBLIC_BASE_URL = "https://telecollect.example.id"
#: Untimed SDK calls before the clock starts: the first connection, lazily imported SDK modules.
WARMUP = 20

SETUP = (
    f"Setup: one due reminder (GSM-7, 1 segment) per participant, each to a number of its own; "
    f"dispatched at {NOW.isoformat()} (Tuesday 10:00 WIB), window open 24/7; "
    "fake Twilio in-process, TCP_NODELAY"
)
METHOD = (
    "dispatch: `dispatch_due` with the app's Twilio gateway (official SDK), timed until all are sent.\n"
    "  bare: a loop of `client.messages.create(...)` through the same SDK client to the same fake, with the\n"
    "  same numbers and bodies, no database: the practical limit. ratio = bare rate / dispatch rate.\n"
    "  The fake runs as threads of this process: both share its CPU with it alike. Its connections are\n"
    "  set TCP_NODELAY: otherwise each answer's body waits ~40 ms for a delayed ACK, whoever sends."
)


# --- engines ---------------------------------------------------------------
# The participant benchmark's engines, with a database of this benchmark's own
# (it may run next to the others) and timestamps as the app stores them.


@dataclass
class SqliteEngine(Sqlite):
    """The database is `<workdir>/sms.db`."""

    @staticmethod
    def timestamp(moment: datetime) -> str:
        return claims.Sqlite.timestamp(moment)


@dataclass
class PostgresqlEngine(_Postgresql):
    @staticmethod
    def fresh(label: str) -> str:
        return recreate_database(PG_DATABASES[label])

    @staticmethod
    def timestamp(moment: datetime) -> datetime:
        return moment


ENGINES = {"sqlite": SqliteEngine, "postgresql": lambda _workdir: PostgresqlEngine()}


# --- the steps ---------------------------------------------------------------


def phone_of(number: int) -> str:
    """The `number`-th participant's own mobile number, written as the demo writes them."""
    return f"0812-{number // 10_000:04d}-{number % 10_000:04d}"


def participant_file(workdir: Path, rows: int) -> Path:
    """Demo participants, each with a number of their own, generated only when missing.

    Demo numbers are random and many members have none; here every participant
    has one, so one message per participant means N different recipients. Written
    under another name first, so an interrupted run never leaves a truncated file.
    """
    path = workdir / f"sms-participants-{rows}.csv"
    if path.exists():
        return path
    note(f"generating {path.name}")
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for number, row in enumerate(demo_rows(rows, random.Random(SEED), AS_OF), 1):
            writer.writerow({**row, "phone": phone_of(number)})
    partial.replace(path)
    return path


def queue_messages(engine, url: str, rows: int) -> int:
    """One due reminder per participant, as `queue_sms` would write it, bulk-inserted; how many."""
    from telecollect.messaging import templates
    from telecollect.messaging.encoding import encoding_of, segment_count

    template = templates.SMS_DEFAULTS["sms_due_reminder"]
    due_on = f"{DUE_ON.day:02d}/{DUE_ON.month:02d}/{DUE_ON.year}"
    at = engine.timestamp(QUEUED_AT)
    with engine.connect(url) as connection:
        participants = connection.execute(
            "SELECT id, family_id, phone, name FROM participants WHERE phone IS NOT NULL ORDER BY id"
        ).fetchall()
        if len(participants) != rows:
            raise BenchError(f"expected {rows} participants with a number, found {len(participants)}")
        messages = []
        for participant_id, family_id, phone, name in participants:
            body = templates.render(
                template, {"nama": name, "jatuh_tempo": due_on, "kanal": templates.OFFICIAL_CHANNELS}
            )
            messages.append(
                (
                    f"due:{family_id}:{participant_id}:{DUE_ON:%Y-%m}",
                    "due_reminder",
                    "sms_due_reminder",
                    body,
                    phone,
                    family_id,
                    participant_id,
                    "WIB",
                    at,
                    at,
                    "queued",
                    0,
                    encoding_of(body),
                    segment_count(body),
                    at,
                    at,
                )
            )
        engine.insert(
            connection,
            "sms_messages",
            [
                "idempotency_key",
                "kind",
                "template_key",
                "body",
                "to_phone",
                "family_id",
                "participant_id",
                "timezone",
                "scheduled_at",
                "next_attempt_at",
                "status",
                "attempts",
                "encoding",
                "segments",
                "created_at",
                "updated_at",
            ],
            messages,
        )
        ids = [row[0] for row in connection.execute("SELECT id FROM sms_messages ORDER BY id").fetchall()]
        engine.insert(
            connection,
            "sms_events",
            ["message_id", "status", "detail", "at"],
            [(message_id, "queued", "due_reminder", at) for message_id in ids],
        )
        connection.commit()
    return len(ids)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def new_requests(fake, since: int) -> list[dict]:
    with fake._lock:
        return list(fake.requests[since:])


def timed_dispatch(engine, url: str, fake, rows: int, batch_size: int) -> tuple[float, float, dict, object]:
    """Dispatch every due message; its wall seconds, CPU seconds, the outcome counts, and the gateway used."""
    from telecollect import create_app
    from telecollect.extensions import db
    from telecollect.messaging.dispatch import dispatch_due
    from telecollect.messaging.gateways import TwilioGateway, gateway_from_config
    from telecollect.policy import rules as policy

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **fake.config(), "PUBLIC_BASE_URL": PUBLIC_BASE_URL})
    rules = policy.ContactRules(*WINDOW)
    with app.app_context():
        try:
            if not policy.window_decision(db.session, rules, "WIB", NOW).allowed:
                raise BenchError(f"the contact window is closed at {NOW.isoformat()}: the dispatcher would defer")
            gateway = gateway_from_config(app.config)
            if not isinstance(gateway, TwilioGateway):
                raise BenchError(f"expected the Twilio gateway, got {type(gateway).__name__}")
            warm_up(gateway, fake)
            since = len(fake.requests)
            cpu, start = _cpu(), time.perf_counter()
            result = dispatch_due(
                db.session, gateway, rules, now=NOW, batch_size=batch_size, max_batches=math.ceil(rows / batch_size) + 1
            )
            seconds, cpu = time.perf_counter() - start, _cpu() - cpu
            check_dispatch(engine, url, fake, since, rows, result.counts)
        finally:
            db.session.remove()
            db.engine.dispose()
    return seconds, cpu, result.counts, gateway


def warm_up(gateway, fake) -> None:
    for number in range(WARMUP):
        gateway.send(f"+6281299{number:06d}", "warm-up")


def check_dispatch(engine, url: str, fake, since: int, rows: int, counts: dict) -> None:
    """Every message accepted with an id of its own; the fake got one request per message, to its number."""
    expected = {**dict.fromkeys(counts, 0), "sent": rows}
    if counts != expected:
        raise BenchError(f"dispatch_due reported {counts}, expected {expected}")
    with engine.connect(url) as connection:
        statuses = dict(connection.execute("SELECT status, count(*) FROM sms_messages GROUP BY status").fetchall())
        sids = connection.execute("SELECT count(DISTINCT twilio_sid) FROM sms_messages").fetchone()[0]
        phones = Counter(row[0] for row in connection.execute("SELECT to_phone FROM sms_messages").fetchall())
    if statuses != {"accepted": rows}:
        raise BenchError(f"messages by status after the dispatch: {statuses}, expected {{'accepted': {rows}}}")
    if sids != rows:
        raise BenchError(f"{sids} distinct Twilio ids for {rows} messages")
    received = new_requests(fake, since)
    recipients = Counter(request.get("To") for request in received)
    if len(received) != rows or len(recipients) != rows or recipients != phones:
        raise BenchError(
            f"the fake got {len(received)} requests to {len(recipients)} numbers; expected {rows} "
            f"requests, one to each of the {len(phones)} numbers in the outbox"
        )


def outbox(engine, url: str) -> list[tuple[str, str]]:
    """(number, body) of every message, in id order: what the bare loop sends."""
    with engine.connect(url) as connection:
        return connection.execute("SELECT to_phone, body FROM sms_messages ORDER BY id").fetchall()


def bare_loop(gateway, fake, messages: list[tuple[str, str]]) -> tuple[float, float]:
    """Wall and CPU seconds of one SDK call per message, through the dispatcher's own client."""
    client, sender, callback = gateway.client, gateway.sender, gateway.status_callback
    since = len(fake.requests)
    accepted = 0
    cpu, start = _cpu(), time.perf_counter()
    for to, body in messages:
        message = client.messages.create(to=to, body=body, status_callback=callback, **sender)
        accepted += message.status == "accepted" and bool(message.sid)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    received = len(new_requests(fake, since))
    if accepted != len(messages) or received != len(messages):
        raise BenchError(f"bare loop: {accepted} accepted, {received} requests received, for {len(messages)} calls")
    return seconds, cpu


@dataclass
class Result:
    engine: str
    messages: int
    batch_size: int
    dispatch_seconds: float
    messages_per_second: float
    bare_seconds: float
    bare_per_second: float
    ratio: float
    # Not in the table; in the JSON.
    dispatch_cpu_cores: float = 0.0
    bare_cpu_cores: float = 0.0
    counts: dict | None = None
    setup_seconds: float = 0.0


def measure(engine, fake, path: Path, rows: int, batch_size: int) -> Result:
    """One benchmark point: the outbox filled, the dispatcher timed, then the bare SDK loop."""
    label = f"{engine.name} {rows:,}"
    note(f"{label}: migrating; importing {path.name}; queueing (not timed)")
    started = time.perf_counter()
    url = migrated(engine, "sms")
    import_participants(url, path, rows)
    queued = queue_messages(engine, url, rows)
    setup_seconds = time.perf_counter() - started
    note(f"{label}: dispatching {queued:,} messages")
    seconds, cpu, counts, gateway = timed_dispatch(engine, url, fake, rows, batch_size)
    note(f"{label}: bare SDK loop")
    bare_seconds, bare_cpu = bare_loop(gateway, fake, outbox(engine, url))
    rate, bare_rate = rows / seconds, rows / bare_seconds
    return Result(
        engine.name,
        rows,
        batch_size,
        seconds,
        rate,
        bare_seconds,
        bare_rate,
        bare_rate / rate,
        cpu / seconds,
        bare_cpu / bare_seconds,
        counts,
        setup_seconds,
    )


# --- output ------------------------------------------------------------------

#: (field, heading, width, how a value is shown): the table's columns.
TABLE = (
    ("engine", "engine", 10, "{}"),
    ("messages", "messages", 9, "{:,}"),
    ("batch_size", "batch", 5, "{:,}"),
    ("dispatch_seconds", "dispatch s", 10, "{:.2f}"),
    ("messages_per_second", "msg/s", 8, "{:,.0f}"),
    ("bare_seconds", "bare s", 8, "{:.2f}"),
    ("bare_per_second", "bare req/s", 10, "{:,.0f}"),
    ("ratio", "ratio", 7, "{:.1f}x"),
)


def result_note(result: Result) -> str:
    """What the row alone does not say: the checks passed, and how busy this process was."""
    return (
        f"{result.engine} {result.messages:,}: all accepted, {result.messages:,} requests to "
        f"{result.messages:,} numbers; this process (dispatcher + fake) used {result.dispatch_cpu_cores:.2f} "
        f"cores dispatching, {result.bare_cpu_cores:.2f} in the bare loop; setup {result.setup_seconds:.0f} s"
    )


def write_json(path: Path, results: list[Result]) -> None:
    """Rewritten after every point, so a run that fails late still leaves its figures."""
    document = {
        "setup": SETUP,
        "method": METHOD,
        "seed": SEED,
        "now": NOW.isoformat(),
        "results": [asdict(result) for result in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# --- command line --------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options of this benchmark; others are left alone (`bench.run` gives every benchmark the same argv)."""
    parser = argparse.ArgumentParser(prog="bench.sms", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages",
        type=positive(int),
        default=10_000,
        help="due messages to dispatch, one per participant (default: %(default)s)",
    )
    parser.add_argument(
        "--engines",
        type=engine_names(ENGINES),
        default="sqlite,postgresql",
        help="comma-separated engines (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive(int),
        default=100,
        help="messages the dispatcher claims at a time (default: %(default)s)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / "bench" / "out",
        help="where files, SQLite databases and results go (default: bench/out)",
    )
    args, _others = parser.parse_known_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    from tests.fake_twilio import FakeTwilio

    args = parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    engines = [ENGINES[name](workdir) for name in args.engines]
    results: list[Result] = []
    fake = None
    try:
        for engine in engines:
            engine.check()
        path = participant_file(workdir, args.messages)
        fake = FakeTwilio()  # its handler sets TCP_NODELAY (see tests/fake_twilio.py)
        fake.start()
        print(SETUP)
        print(heading_line(TABLE), flush=True)
        for engine in engines:
            results.append(measure(engine, fake, path, args.messages, args.batch_size))
            print(row_line(results[-1], TABLE), flush=True)
            write_json(workdir / "sms.json", results)
        for result in results:
            print(result_note(result))
        print(METHOD)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if fake is not None:
            fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
