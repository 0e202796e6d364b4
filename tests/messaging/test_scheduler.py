"""`flask scheduler run` as its own process: it dispatches through the configured Twilio, and on PostgreSQL
one scheduler leads while another stands by."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from telecollect.messaging.models import SmsKind, SmsMessage, SmsStatus
from telecollect.messaging.outbox import queue_sms
from telecollect.participants.models import Participant
from tests.fake_twilio import FakeTwilio
from tests.helpers import csv_bytes, row, run_import

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.committing
def test_scheduler_process_sends_due_messages(app, db):
    run_import(db, csv_bytes([row()]))
    siti = db.session.scalar(select(Participant))
    # An INFO answer goes out whatever the hour, so the test does not depend on the clock.
    queue_sms(db.session, kind=SmsKind.info_reply, key="info:test", to_phone=siti.phone, members=[siti], timezone="WIB")
    db.session.commit()
    fake = FakeTwilio().start()
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PUBLIC_BASE_URL": "https://telecollect.example.id",
        **{k: str(v) for k, v in fake.config().items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "scheduler", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Until Twilio has the message and the scheduler has recorded its answer: stopping the process
        # between the two would leave the row mid-send (another test covers that case).
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not (fake.requests and _status(db) == SmsStatus.accepted):
            time.sleep(0.5)
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
        fake.stop()
    assert fake.requests, output
    assert fake.requests[0]["To"] == siti.phone and "Rp210.000" in fake.requests[0]["Body"]
    assert _status(db) == SmsStatus.accepted
    assert "scheduler running" in output and "dispatch_sms every 30s" in output


def _status(db):
    db.session.rollback()  # a fresh look at what the scheduler process committed
    return db.session.scalar(select(SmsMessage.status))


#: `flask scheduler run`, with the standby's 30 s between tries cut to 0.2 s (the module's `time` only).
FAST_STANDBY = (
    "import time, types; import telecollect.scheduler.cli as cli; "
    "cli.time = types.SimpleNamespace(sleep=lambda _seconds: time.sleep(0.2)); "
    "from flask.cli import main; main()"
)


class Scheduler:
    """One `flask scheduler run` process, its output read line by line as it comes."""

    def __init__(self, database_url: str):
        env = {**os.environ, "FLASK_APP": "wsgi.py", "DATABASE_URL": database_url, "SMS_BACKEND": "outbox"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", FAST_STANDBY, "scheduler", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    @property
    def as_leader(self) -> str:
        """The name this scheduler gives its lock's connection once it leads (`flask scheduler status` reads
        it): its host and pid (`python -c` runs flask in the process Popen started)."""
        return f"telecollect-scheduler leader {socket.gethostname()} pid {self.process.pid}"

    def said(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def wait_until_it_says(self, text: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not self.said(text):
            assert self.process.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline, f"never said {text!r}:\n" + "".join(self.lines)
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(20)
        self.reader.join(20)
        self.process.stdout.close()


LEADS, STANDS_BY = "scheduler running", "another scheduler leads; standing by"


@pytest.mark.committing
def test_a_second_scheduler_stands_by_and_takes_over_when_the_leader_dies(app, db, engine_name):
    """PostgreSQL: a session-level advisory lock elects one leader; a second scheduler waits and leads
    once the first process is gone (killed: no clean shutdown). SQLite has no election: the code lets
    every scheduler run its jobs (they are safe twice; one scheduler per SQLite deployment)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    first = Scheduler(url)
    second = None
    try:
        first.wait_until_it_says(LEADS)
        second = Scheduler(url)
        if engine_name == "sqlite":
            second.wait_until_it_says(LEADS)
            assert not first.said(STANDS_BY) and not second.said(STANDS_BY)
            return
        second.wait_until_it_says(STANDS_BY)
        time.sleep(1)  # several more tries, all refused while the leader lives
        assert not second.said(LEADS) and leaders(db) == [first.as_leader]

        first.process.kill()
        first.stop()
        second.wait_until_it_says(LEADS)
        assert leaders(db) == [second.as_leader]
    finally:
        first.stop()
        if second is not None:
            second.stop()


def leaders(db) -> list[str]:
    """The application names of the connections that hold the leader lock (each scheduler names its lock's
    connection, see `Scheduler.as_leader`)."""
    from telecollect.scheduler.cli import LEADER_LOCK

    with db.engine.connect() as connection:
        return (
            connection.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted"
                ),
                {"key": LEADER_LOCK},
            )
            .scalars()
            .all()
        )
