"""Two agents and one family at once: a call is placed only by the family's holder, even when another agent
claims it at the same moment; one agent pressing Panggil twice at once places one call."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from telecollect.auth.models import User
from telecollect.errors import Conflict
from telecollect.extensions import db as _db
from telecollect.policy.rules import ContactRules
from telecollect.queues.models import QueueName, WorkItem
from telecollect.telephony.models import Call, CallStatus
from telecollect.workflows import calls, queue_work
from tests.helpers_queue import families, queue_up
from tests.queues.test_concurrency import run_together

RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # Tuesday 10:00 WIB
LEASE = timedelta(minutes=15)
pytestmark = pytest.mark.committing  # threads, each with its own connection


def _place(user_id, item_id, now):
    def work():
        user = _db.session.get(User, user_id)
        item = _db.session.get(WorkItem, item_id)
        try:
            call = calls.place_call(
                _db.session, item, user, phone=None, rules=RULES, lease=LEASE, record_calls=False, now=now
            )
        except Conflict as exc:
            _db.session.rollback()
            return exc.code
        _db.session.commit()
        return call.id

    return work


def _claim(user_id, now):
    def work():
        user = _db.session.get(User, user_id)
        item = queue_work.claim(_db.session, user, RULES, lease=LEASE, now=now)
        _db.session.commit()
        return item.id if item is not None else None

    return work


def test_a_lapsed_holder_calling_while_another_agent_claims_never_both_get_the_family(app, db, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect, now=NOW)
    first = make_user("telecollector", agent_phone="+6281299990001")
    second = make_user("telecollector", agent_phone="+6281299990002")
    item = queue_work.claim(db.session, first, RULES, lease=LEASE, now=NOW)
    db.session.commit()
    later = NOW + LEASE  # her lease ends at this very moment: the family is anyone's
    for round_ in range(3):
        placed, claimed = run_together(app, [_place(first.id, item.id, later), _claim(second.id, later)])
        calls_placed = db.session.scalar(select(func.count()).select_from(Call))
        # The lapsed holder never calls: refused because her lease lapsed, or, when the other agent's claim
        # landed first, because the family is his now (which of the two wins the race is the scheduler's).
        assert placed in ("outcome_lease_lapsed", "outcome_claimed_by_other") and calls_placed == round_
        assert claimed == item.id
        db.session.expire_all()
        # Give the family back to the first agent, live, and race again: now she calls and he gets nothing.
        held = db.session.get(WorkItem, item.id)
        held.claimed_by_id, held.lease_expires_at = first.id, later + LEASE
        db.session.commit()
        placed, claimed = run_together(app, [_place(first.id, item.id, later), _claim(second.id, later)])
        assert isinstance(placed, int) and claimed is None
        db.session.expire_all()
        assert db.session.get(WorkItem, item.id).claimed_by_id == first.id
        db.session.execute(  # that call is over: the next round starts clean
            update(Call).where(Call.twilio_sid.is_(None)).values(status=CallStatus.ended, twilio_sid=f"CA{round_:032d}")
        )
        held = db.session.get(WorkItem, item.id)
        held.claimed_by_id, held.lease_expires_at = first.id, NOW + LEASE
        db.session.commit()


def test_two_presses_at_once_place_one_call(app, db, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect, now=NOW)
    agent = make_user("telecollector", agent_phone="+6281299990001")
    item = queue_work.claim(db.session, agent, RULES, lease=LEASE, now=NOW)
    db.session.commit()
    results = run_together(app, [_place(agent.id, item.id, NOW), _place(agent.id, item.id, NOW)])
    assert sorted(results, key=str)[-1] == "call_in_progress" and sum(isinstance(r, int) for r in results) == 1
    assert db.session.scalar(select(func.count()).select_from(Call)) == 1
