"""Benchmark calls through Twilio Voice (issue 15) against the fake Twilio, with 20 agents at once.

For each database engine it makes a fresh, migrated database with `--call-agents` telecollectors (each with
a phone for calls and an API token) and `--calls-per-agent` one-member families per agent in the call
queue, serves the app on 127.0.0.1 (werkzeug, threaded) with VOICE_BACKEND=twilio pointed at the fake
Twilio (tests/fake_twilio.py, in this process), and then, all agents at once, each in its own thread:

1. claims a family (POST /api/v1/queue/claim) and presses Panggil (POST /api/v1/work-items/<id>/call):
   the time from sending that request to the fake receiving Twilio's create-call request (the re-checks,
   the call row written and committed, then the SDK's request) is one sample; p50 and p95 over all;
2. then has the fake play that call to its end, over HTTP, signed (status initiated and ringing, the TwiML
   fetch, status in-progress, the Gather action, the Dial action "no-answer", status completed: 7 requests),
   which records the attempt without typing and frees the family; and claims the next. The agents' calls
   are played at the same time: callbacks handled per second = every callback handled / the agents' mean
   time spent playing calls.

The fake runs in this process and shares its CPU (and GIL) with the server and the agents: the figures are
lower than against a Twilio of its own, and say what this machine's server can do, not what Twilio does.

Run from the repository root:  .venv/bin/python -m bench.calls --call-agents 20 --calls-per-agent 10
"""

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.common import engine_names, heading_line, positive, row_line

#: A Tuesday, 09:00 WIB: inside every default calling window (the server's clock is moved there).
WORKDAY_MORNING = "2026-11-24T02:00:00+00:00"
PG_DATABASE = "telecollect_bench_calls"
CALLBACKS_PER_CALL = 7  # status initiated, ringing, TwiML, status in-progress, Gather action, Dial action, completed

TABLE = (
    ("engine", "engine", 11, "{}"),
    ("agents", "agents", 7, "{}"),
    ("calls", "calls", 6, "{}"),
    ("p50_ms", "button→Twilio p50 ms", 21, "{:.1f}"),
    ("p95_ms", "p95 ms", 8, "{:.1f}"),
    ("worst_ms", "worst ms", 9, "{:.1f}"),
    ("callbacks", "callbacks", 10, "{}"),
    ("callbacks_per_s", "callbacks/s", 12, "{:.0f}"),
    ("lost", "not answered in 15 s or refused", 32, "{}"),
)


@dataclass
class Result:
    engine: str
    agents: int
    calls: int
    p50_ms: float
    p95_ms: float
    worst_ms: float
    callbacks: int
    callbacks_per_s: float
    lost: int


def _seed(url: str, agents: int, families: int, fake, public: str):
    import io

    from flask_migrate import upgrade

    from bench.common import koja_families_csv
    from telecollect import create_app
    from telecollect.auth.services import create_user, issue_token
    from telecollect.db import now_utc
    from telecollect.extensions import db
    from telecollect.imports.reader import TableReader
    from telecollect.queues.models import QueueName
    from telecollect.queues.services import AssignFilters, assign
    from telecollect.regions.services import ensure_provinces
    from telecollect.settings import Settings
    from telecollect.workflows.imports import import_participants

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SMS_BACKEND": "outbox",
            **fake.voice_config(PUBLIC_BASE_URL=public, SMS_BACKEND="outbox"),
        }
    )
    tokens = []
    with app.app_context():
        upgrade()
        ensure_provinces(db.session)
        db.session.commit()
        reader = TableReader(io.BytesIO(koja_families_csv(families)), "peserta.csv")
        import_participants(db.session, reader, filename="peserta.csv", settings=Settings())
        db.session.commit()
        assign(db.session, queue=QueueName.telecollect, filters=AssignFilters())
        for n in range(agents):
            user = create_user(
                db.session,
                username=f"bench.tc{n}",
                role="telecollector",
                password="bench-password-1",
                agent_phone=f"+62812999{n:05d}",
            )
            tokens.append(issue_token(db.session, user, now=now_utc()))
        db.session.commit()
    return app, tokens


def _agent(base: str, token: str, calls: int, fake, samples: list, delivered: list, errors: list, barrier):
    """One agent: claim, Panggil, the call played to its end by the fake; `calls` times."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    barrier.wait()
    try:
        for _ in range(calls):
            claimed = session.post(f"{base}/api/v1/queue/claim", timeout=60)
            if claimed.status_code != 200:
                raise RuntimeError(f"claim: {claimed.status_code} {claimed.text[:200]}")
            item_id = claimed.json()["work_item"]["id"]
            sent = time.perf_counter()
            placed = session.post(f"{base}/api/v1/work-items/{item_id}/call", json={}, timeout=60)
            if placed.status_code != 201:
                raise RuntimeError(f"call: {placed.status_code} {placed.text[:200]}")
            call = placed.json()["call"]
            samples.append(fake.call_received_at[str(call["id"])] - sent)
            start = time.perf_counter()
            fake.run_call(call["twilio_sid"])
            delivered.append((time.perf_counter() - start, CALLBACKS_PER_CALL))
    except Exception as exc:  # reported after the run
        errors.append(RuntimeError(f"{type(exc).__name__}: {exc} (after {len(samples)} calls placed in all)"))


def measure(engine: str, agents: int, per_agent: int, workdir: Path) -> Result:
    import time_machine
    from werkzeug.serving import make_server

    from bench.import_participants import recreate_database
    from tests.fake_twilio import FakeTwilio, VoiceScript

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    fake = FakeTwilio().start()
    fake.default_voice_script = VoiceScript(dial="no-answer")
    if engine == "sqlite":
        path = workdir / "calls.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = recreate_database(PG_DATABASE)
    with time_machine.travel(WORKDAY_MORNING, tick=True):
        server = make_server("127.0.0.1", 0, None, threaded=True)
        public = f"http://127.0.0.1:{server.server_port}"
        app, tokens = _seed(url, agents, agents * per_agent + agents, fake, public)
        server.app = app
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        samples: list[float] = []
        delivered: list[tuple[float, int]] = []
        errors: list[Exception] = []
        barrier = threading.Barrier(agents)
        workers = [
            threading.Thread(target=_agent, args=(public, token, per_agent, fake, samples, delivered, errors, barrier))
            for token in tokens
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(600)
        server.shutdown()
        thread.join(10)
    fake.stop()
    if errors:
        raise RuntimeError(f"{len(errors)} agents failed; the first: {errors[0]}")
    callbacks = sum(1 for d in fake.delivered if d.status in (200, 204))
    lost = len(fake.delivered) - callbacks
    # Callbacks per second: all agents' calls are played at once, so the rate is the callbacks handled
    # over the wall time the agents spent playing calls (the time of the busiest agent's share).
    playing = max(sum(seconds for seconds, _n in delivered) / agents, 1e-9)
    ordered = sorted(samples)
    return Result(
        engine,
        agents,
        len(samples),
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
        ordered[-1] * 1000,
        callbacks,
        callbacks / playing,
        lost,
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench.calls", description=__doc__.split("\n")[0])
    parser.add_argument("--call-agents", dest="agents", type=positive(), default=20)
    parser.add_argument("--calls-per-agent", dest="per_agent", type=positive(), default=10)
    parser.add_argument(
        "--call-engines",
        dest="engines",
        type=engine_names(("sqlite", "postgresql")),
        default=["sqlite", "postgresql"],
        help="comma-separated engines (default: %(default)s)",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    return parser.parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        print(heading_line(TABLE), flush=True)
        for engine in args.engines:
            print(row_line(measure(engine, args.agents, args.per_agent, workdir), TABLE), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
