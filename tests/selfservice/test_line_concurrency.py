"""Two calls of one family asking for a call back at the same instant: one callback, one work item."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from telecollect.extensions import db as _db
from telecollect.policy.rules import ContactRules
from telecollect.queues.models import FollowUp, QueueName, WorkItem
from telecollect.selfservice.models import LineCall
from telecollect.workflows import selfservice
from tests.helpers import SETTINGS, csv_bytes, row, run_import

pytestmark = pytest.mark.committing  # threads, each with its own connection

RULES = ContactRules(0, 1440, frozenset(range(7)), 50, 50)
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PHONE, CARD = "+6281200000011", "0000000000011"


def test_two_calls_asking_for_a_call_back_at_once_make_one(app, db):
    run_import(db, csv_bytes([row(card_no=CARD, family_id=CARD, phone="081200000011", arrears_amount="500000")]))
    db.session.commit()  # the family is in no queue yet: each call would open its item
    sids = ["CA" + "7" * 32, "CA" + "8" * 32]
    for sid in sids:
        selfservice.greet(db.session, sid=sid, number=PHONE, secret="s", branch="", now=NOW)
    db.session.commit()
    barrier, errors = threading.Barrier(2), []

    def ask(sid):
        try:
            with app.app_context():
                call = _db.session.scalar(select(LineCall).where(LineCall.twilio_sid == sid))
                barrier.wait()
                selfservice.verify(_db.session, call, CARD[-4:], "3", rules=RULES, settings=SETTINGS, now=NOW)
                _db.session.commit()
                _db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(sid,)) for sid in sids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    db.session.expire_all()
    items = db.session.scalars(select(WorkItem).where(WorkItem.queue == QueueName.telecollect)).all()
    assert len(items) == 1 and items[0].follow_up == FollowUp.callback
    asked = select(func.count()).select_from(LineCall).where(LineCall.is_callback_requested)
    assert db.session.scalar(asked) == 2
