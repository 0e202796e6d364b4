"""Two people at once: claiming, recording outcomes, resubmitting the same outcome."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect.contacts.models import Channel, ContactAttempt
from telecollect.contacts.outcomes import OUTCOMES
from telecollect.contacts.services import OutcomeInput
from telecollect.extensions import db as _db
from telecollect.policy.rules import ContactRules
from telecollect.queues import lifecycle
from telecollect.queues.models import QueueName, WorkItem
from telecollect.workflows import queue_work
from telecollect.workflows.queue_work import record_outcome
from tests.helpers import SETTINGS
from tests.helpers_queue import families, queue_up

RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
pytestmark = pytest.mark.committing  # threads, each with its own connection


def run_together(app, workers):
    """Start every worker at the same instant, each with its own app context and session."""
    barrier = threading.Barrier(len(workers))
    results, errors = [None] * len(workers), []

    def run(index, work):
        try:
            with app.app_context():
                barrier.wait()
                results[index] = work()
                _db.session.remove()
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def test_many_claimers_never_share_an_item_and_drain_the_queue(app, db, make_user):
    families(db, 40)
    queue_up(db, QueueName.telecollect, now=NOW)
    users = [make_user("telecollector") for _ in range(12)]
    user_ids = [u.id for u in users]

    def claimer(user_id):
        def work():
            from telecollect.auth.models import User

            user = _db.session.get(User, user_id)
            taken = []
            while True:
                item = queue_work.claim(_db.session, user, RULES, lease=timedelta(minutes=15), now=NOW)
                _db.session.commit()
                if item is None:
                    return taken
                taken.append(item.id)
                lifecycle.release(item, user)  # as an outcome would: free it, due again tomorrow
                lifecycle.retry_later(item, NOW + timedelta(days=1))
                _db.session.commit()

        return work

    results = run_together(app, [claimer(uid) for uid in user_ids])
    claimed = [item_id for taken in results for item_id in taken]
    assert len(claimed) == len(set(claimed)) == 40  # nobody got an item twice; none left behind


def test_simultaneous_claims_each_get_a_different_item(app, db, make_user):
    families(db, 8)
    queue_up(db, QueueName.telecollect, now=NOW)
    users = [make_user("telecollector") for _ in range(8)]

    def claimer(user_id):
        def work():
            from telecollect.auth.models import User

            item = queue_work.claim(
                _db.session, _db.session.get(User, user_id), RULES, lease=timedelta(minutes=15), now=NOW
            )
            _db.session.commit()
            return item.id if item else None

        return work

    results = run_together(app, [claimer(u.id) for u in users])
    assert None not in results  # eight due items, eight claimers: nobody told "empty"
    assert len(set(results)) == 8


def test_two_people_recording_on_one_family_lose_no_count(app, db, make_user):
    families(db, 1)
    queue_up(db, QueueName.cadre, now=NOW)
    cadres = [make_user("cadre", areas=["Kec. Koja"]) for _ in range(6)]
    item_id = db.session.scalar(select(WorkItem.id))

    def recorder(user_id):
        def work():
            from telecollect.auth.models import User

            user = _db.session.get(User, user_id)
            item = _db.session.get(WorkItem, item_id)
            given = OutcomeInput(kind=OUTCOMES["no_answer"], channel=Channel.whatsapp, client_ref=str(uuid.uuid4()))
            record_outcome(_db.session, item, user, given, rules=RULES, retry_delays={}, now=NOW, settings=SETTINGS)
            _db.session.commit()

        return work

    run_together(app, [recorder(c.id) for c in cadres])
    db.session.expire_all()
    assert db.session.get(WorkItem, item_id).attempts == 6
    assert len(db.session.scalars(select(ContactAttempt)).all()) == 6


def test_the_same_submission_twice_at_once_is_recorded_once(app, db, make_user, clock):
    families(db, 1)
    queue_up(db, QueueName.cadre)
    cadre = make_user("cadre", areas=["Kec. Koja"])
    item_id = db.session.scalar(select(WorkItem.id))
    from telecollect.api.routes import bp  # noqa: F401  (the API under test)

    app.config["WTF_CSRF_ENABLED"] = False
    try:
        clients = []
        for _ in range(4):
            from tests.conftest import PASSWORD, IsolatedClient

            app.test_client_class = IsolatedClient
            c = app.test_client()
            c.post("/login", data={"username": cadre.username, "password": PASSWORD})
            clients.append(c)
        body = {
            "outcome": "promise_to_pay",
            "channel": "whatsapp",
            "promise_date": "2026-11-30",
            "promise_amount": 50000,
            "client_ref": "offline-7f3a",
        }
        responses = run_together(
            app, [(lambda c=c: c.post(f"/api/v1/work-items/{item_id}/outcome", json=body)) for c in clients]
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json["attempt"]["id"] for r in responses}) == 1
    assert len(db.session.scalars(select(ContactAttempt)).all()) == 1


def test_the_call_screen_form_sent_twice_at_once_is_saved_once(app, db, make_user, clock, monkeypatch):
    """A double press (or a resent form) on the call screen: both answers are the saved outcome, never a 500."""
    from telecollect.contacts import services as contacts
    from telecollect.queues import routes

    # Both requests look for the client_ref before either writes it: the race the unique key settles.
    both_looked, looked = threading.Barrier(2), threading.local()
    original = contacts.find_recorded

    def find_recorded_together(*args):
        found = original(*args)
        if not getattr(looked, "once", False):
            looked.once = True
            both_looked.wait(10)
        return found

    monkeypatch.setattr(contacts, "find_recorded", find_recorded_together)
    monkeypatch.setattr(routes, "find_recorded", find_recorded_together, raising=False)
    families(db, 1)
    queue_up(db, QueueName.cadre)
    cadre = make_user("cadre", areas=["Kec. Koja"])
    item_id = db.session.scalar(select(WorkItem.id))
    from tests.conftest import PASSWORD, IsolatedClient

    app.config["WTF_CSRF_ENABLED"] = False
    try:
        app.test_client_class = IsolatedClient
        clients = [app.test_client() for _ in range(2)]
        for c in clients:
            c.post("/login", data={"username": cadre.username, "password": PASSWORD})
        form = {
            "outcome": "promise_to_pay",
            "channel": "whatsapp",
            "promise_date": "2026-11-30",
            "promise_amount": "50000",
            "client_ref": "screen-5b1e",
        }
        responses = run_together(
            app, [(lambda c=c: c.post(f"/queue/items/{item_id}/outcome", data=form)) for c in clients]
        )
        pages = [c.get("/cadre").text for c in clients]
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert [(r.status_code, r.location) for r in responses] == [(302, "/cadre")] * 2
    assert all("Tersimpan: Janji bayar." in page for page in pages)
    assert len(db.session.scalars(select(ContactAttempt)).all()) == 1
