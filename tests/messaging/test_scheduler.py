"""`flask scheduler run` as its own process: it dispatches through the configured Twilio."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

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
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not fake.requests:
            time.sleep(0.5)
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
        fake.stop()
    assert fake.requests, output
    assert fake.requests[0]["To"] == siti.phone and "Rp210.000" in fake.requests[0]["Body"]
    db.session.expire_all()
    assert db.session.scalar(select(SmsMessage.status)) == SmsStatus.accepted
    assert "scheduler running" in output and "dispatch_sms every 30s" in output
