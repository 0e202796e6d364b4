"""A cadre's entry carries the phone's time (issue 13, item 2): the contact is recorded at that time and
its dates are checked against it; at most 72 hours old, never in the future beyond a small clock skew.
The cadre's own outcomes (not at home, WhatsApp sent, visited and explained) are hers, not the call queue's."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from telecollect.contacts.models import ContactAttempt
from telecollect.contacts.outcomes import CADRE_OUTCOMES, OUTCOMES
from telecollect.queues.models import QueueName, WorkItem
from tests.conftest import csrf_token
from tests.helpers_queue import families, queue_up


def _outcome(client, item_id, **body):
    token = csrf_token(client.get("/participants").text)
    return client.post(f"/api/v1/work-items/{item_id}/outcome", json=body, headers={"X-CSRFToken": token})


@pytest.fixture
def listed(clock, db):
    families(db, 1)
    queue_up(db, QueueName.cadre, now=datetime(2026, 11, 20, 1, tzinfo=UTC))  # listed four days ago
    return db.session.scalar(select(WorkItem.id))


def test_the_contact_is_recorded_at_the_phones_time(listed, db, client, login, make_user):
    login(make_user("cadre", areas=["Kec. Koja"]))
    sent = _outcome(client, listed, outcome="not_at_home", channel="visit", occurred_at="2026-11-22T10:00:00+07:00")
    assert sent.status_code == 201, sent.text
    assert sent.json["attempt"]["at"] == "2026-11-22T03:00:00+00:00"


@pytest.mark.parametrize(
    ("occurred_at", "code"),
    [
        ("2026-11-21T01:59:00+00:00", "occurred_at_too_old"),  # 72 hours and a minute before 2026-11-24 02:00Z
        ("2026-11-24T02:10:00+00:00", "occurred_at_in_future"),  # ten minutes ahead of the server
        ("kemarin", "json_field_format"),  # the API document refuses it before the service
    ],
)
def test_too_old_future_or_nonsense_times_are_refused(listed, db, client, login, make_user, occurred_at, code):
    login(make_user("cadre", areas=["Kec. Koja"]))
    sent = _outcome(client, listed, outcome="not_at_home", channel="visit", occurred_at=occurred_at)
    assert (sent.status_code, sent.json["error"]["code"], sent.json["error"]["field"]) == (400, code, "occurred_at")
    assert db.session.scalar(select(ContactAttempt)) is None


def test_a_time_just_ahead_counts_as_now_and_72_hours_back_is_accepted(listed, db, client, login, make_user):
    login(make_user("cadre", areas=["Kec. Koja"]))
    ahead = _outcome(client, listed, outcome="whatsapp_sent", channel="whatsapp", occurred_at="2026-11-24T02:03:00Z")
    assert ahead.status_code == 201, ahead.text
    assert ahead.json["attempt"]["at"] < "2026-11-24T02:03"
    old = _outcome(client, listed, outcome="visited_explained", channel="visit", occurred_at="2026-11-21T02:05:00Z")
    assert old.status_code == 201, old.text


def test_a_promise_and_a_callback_are_checked_against_the_time_of_the_contact(listed, db, client, login, make_user):
    login(make_user("cadre", areas=["Kec. Koja"]))
    # Made on Saturday for Sunday, sent on Tuesday: the promise date was ahead when it was made.
    promise = _outcome(
        client,
        listed,
        outcome="promise_to_pay",
        channel="visit",
        promise_date="2026-11-22",
        promise_amount="Rp 150.000",
        occurred_at="2026-11-21T10:00:00+07:00",
    )
    assert promise.status_code == 201, promise.text
    # A callback asked for on Sunday evening for Monday.
    callback = _outcome(
        client,
        listed,
        outcome="callback_requested",
        channel="visit",
        callback_at="2026-11-23T10:00",
        occurred_at="2026-11-22T18:00:00+07:00",
    )
    assert callback.status_code == 201, callback.text
    # Before the contact: refused.
    early = _outcome(
        client,
        listed,
        outcome="callback_requested",
        channel="visit",
        callback_at="2026-11-22T10:00",
        occurred_at="2026-11-22T18:00:00+07:00",
    )
    assert (early.status_code, early.json["error"]["code"]) == (400, "callback_at_out_of_range")


def test_visit_outcomes_are_the_cadres_not_the_call_queues(clock, db, client, login, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    token = csrf_token(client.get("/participants").text)
    work = client.post("/api/v1/queue/claim", headers={"X-CSRFToken": token}).json["work_item"]
    refused = _outcome(client, work["id"], outcome="not_at_home", channel="phone")
    assert (refused.status_code, refused.json["error"]["code"]) == (400, "invalid_outcome")
    assert {o.code for o in CADRE_OUTCOMES} >= {"not_at_home", "whatsapp_sent", "visited_explained"}
    assert all(o.cadre for o in CADRE_OUTCOMES) and not OUTCOMES["not_at_home"].call
    call_screen = client.get(f"/queue/items/{work['id']}").text
    assert 'value="not_at_home"' not in call_screen and 'value="no_answer"' in call_screen
