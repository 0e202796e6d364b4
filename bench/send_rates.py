"""Benchmark the dispatcher's sending rate limit: messages per second through `dispatch_due` with no limit,
and with one sender's token bucket in the database at a given rate, by one dispatcher and by two at once.

For each database engine and each case it makes a fresh outbox the way bench.sms does (a migrated database,
N participants imported, one due reminder each, not timed), starts the fake Twilio in this process, and
times the dispatchers until every message is sent; then checks that every message left once. With a limit,
the rate measured should sit just under the limit (the bucket starts full: one second's worth goes at once),
whatever the number of dispatchers; without one, it is the dispatcher's own speed.

Run from the repository root:
    .venv/bin/python -m bench.send_rates --messages 400 --rates 0,10,80
"""

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import engine_names, heading_line, positive, row_line
from bench.import_participants import ROOT, BenchError, migrated, note
from bench.payments import import_participants
from bench.sms import ENGINES, NOW, PG_DATABASES, PUBLIC_BASE_URL, WINDOW, participant_file, queue_messages

PG_DATABASES["send_rates"] = "telecollect_bench_send_rates"  # a database of its own: it may run beside bench.sms


@dataclass
class Result:
    engine: str
    messages: int
    dispatchers: int
    limit: str
    seconds: float
    messages_per_second: float


TABLE = (
    ("engine", "engine", 10, "{}"),
    ("messages", "messages", 9, "{:,}"),
    ("dispatchers", "dispatchers", 11, "{}"),
    ("limit", "limit msg/s", 11, "{}"),
    ("seconds", "seconds", 8, "{:.2f}"),
    ("messages_per_second", "msg/s", 8, "{:,.1f}"),
)


def timed(url: str, fake, rows: int, rate: int, dispatchers: int) -> float:
    from telecollect import create_app
    from telecollect.extensions import db
    from telecollect.messaging.dispatch import Pace, dispatch_due
    from telecollect.messaging.gateways import gateway_from_config
    from telecollect.policy import rules as policy

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **fake.config(), "PUBLIC_BASE_URL": PUBLIC_BASE_URL})
    rules = policy.ContactRules(*WINDOW)
    pace = Pace(rates={"sms": rate})
    sent, errors = [], []
    gateway = gateway_from_config(app.config)
    for number in range(5):  # warm up: the first connection, lazily imported SDK modules
        gateway.send(f"+6281299{number:06d}", "warm-up")
    since = len(fake.requests)
    barrier = threading.Barrier(dispatchers)

    def work():
        try:
            with app.app_context():
                barrier.wait()
                sent.append(dispatch_due(db.session, gateway, rules, now=NOW, batch_size=20, pace=pace).counts["sent"])
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(dispatchers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    with app.app_context():
        db.engine.dispose()
    if errors:
        raise BenchError(f"a dispatcher failed: {errors[0]!r}")
    if sum(sent) != rows or len(fake.requests) - since != rows:
        raise BenchError(f"sent {sum(sent)} and Twilio got {len(fake.requests) - since} for {rows} messages")
    return seconds


def main(argv: list[str] | None = None) -> int:
    from tests.fake_twilio import FakeTwilio

    parser = argparse.ArgumentParser(prog="bench.send_rates", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=positive(int), default=400)
    parser.add_argument("--rates", default="0,80", help="limits to try, msg/s; 0: none (default: %(default)s)")
    parser.add_argument("--engines", type=engine_names(ENGINES), default="sqlite,postgresql")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    args, _others = parser.parse_known_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    engines = [ENGINES[name](workdir) for name in args.engines]
    fake = FakeTwilio().start()
    try:
        for engine in engines:
            engine.check()
        path = participant_file(workdir, args.messages)
        print(heading_line(TABLE), flush=True)
        for engine in engines:
            for rate in (int(r) for r in args.rates.split(",")):
                for dispatchers in (1, 2):
                    note(f"{engine.name}: fresh outbox of {args.messages} (not timed)")
                    url = migrated(engine, "send_rates")
                    import_participants(url, path, args.messages)
                    queue_messages(engine, url, args.messages)
                    seconds = timed(url, fake, args.messages, rate, dispatchers)
                    result = Result(
                        engine.name, args.messages, dispatchers, str(rate or "none"), seconds, args.messages / seconds
                    )
                    print(row_line(result, TABLE), flush=True)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
