"""Recording outcomes through the API: validation, follow-ups, idempotency, lists."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from telecollect.contacts.models import ContactAttempt, Promise
from telecollect.contacts.outcomes import OUTCOMES, Outcome
from telecollect.participants.models import Participant
from telecollect.queues.models import FollowUp, QueueName, WorkItem, WorkState
from tests.helpers_queue import families, queue_up

UTC = UTC


def setup_call(db, client, login, make_user, count=1):
    families(db, count)
    user = make_user("telecollector")
    queue_up(db, QueueName.telecollect)
    login(user)
    claimed = client.post("/api/v1/queue/claim", headers=_csrf(client))
    assert claimed.status_code == 200, claimed.text
    return user, claimed.json["work_item"]


def _csrf(client):
    from tests.conftest import csrf_token

    return {"X-CSRFToken": csrf_token(client.get("/participants").text)}


def post_outcome(client, item_id, **body):
    return client.post(f"/api/v1/work-items/{item_id}/outcome", json=body, headers=_csrf(client))


def item(db, item_id):
    db.session.expire_all()
    return db.session.get(WorkItem, item_id)


def test_claim_answers_with_the_family(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user)
    assert work["family"][0]["card_no"] == "0000000000001"
    assert work["family"][0]["phone"] == "+6281200000001"
    assert work["family"][0]["nik"].startswith("••••")
    assert work["state"] == "claimed" and set(work["priority_parts"]) == {"amount", "months", "staleness", "reach"}
    assert client.post("/api/v1/queue/claim", headers=_csrf(client)).json["work_item"]["id"] == work["id"]


def test_no_answer_retries_in_two_hours(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user)
    response = post_outcome(client, work["id"], outcome="no_answer", channel="phone")
    assert response.status_code == 201, response.text
    saved = item(db, work["id"])
    assert saved.state == WorkState.waiting and saved.claimed_by_id is None
    assert saved.next_action_at == saved.last_attempt_at + timedelta(hours=2)
    assert (saved.attempts, saved.contacts) == (1, 0)
    assert client.post("/api/v1/queue/claim", headers=_csrf(client)).status_code == 204  # nothing due now


def test_promise_needs_date_and_amount_and_follows_up_the_day_after(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user)
    missing = post_outcome(client, work["id"], outcome="promise_to_pay", channel="phone", promise_amount=100000)
    assert missing.status_code == 400
    assert missing.json["error"] == {
        "code": "promise_date_required",
        "field": "promise_date",
        "message": "Janji bayar memerlukan tanggal (YYYY-MM-DD).",
    }
    too_far = post_outcome(
        client, work["id"], outcome="promise_to_pay", channel="phone", promise_date="2027-01-30", promise_amount=100000
    )
    assert too_far.json["error"]["code"] == "promise_date_out_of_range"
    no_amount = post_outcome(client, work["id"], outcome="promise_to_pay", channel="phone", promise_date="2026-11-28")
    assert no_amount.json["error"]["field"] == "promise_amount"
    ok = post_outcome(
        client,
        work["id"],
        outcome="promise_to_pay",
        channel="phone",
        promise_date="2026-11-28",
        promise_amount="Rp100.000",
    )
    assert ok.status_code == 201
    saved = item(db, work["id"])
    assert (saved.state, saved.follow_up) == (WorkState.promised, FollowUp.promise)
    # The day after the promise, when the window opens: Sunday 29th is closed, so Monday 08:00 WIB.
    assert saved.next_action_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    promise = db.session.scalar(select(Promise))
    assert (promise.amount, str(promise.promised_on)) == (100_000, "2026-11-28")
    assert db.session.scalar(select(func.count()).select_from(ContactAttempt)) == 1  # refusals wrote nothing


def test_a_callback_comes_back_to_its_owner_at_the_time_asked(clock, db, client, login, make_user):
    user, work = setup_call(db, client, login, make_user)
    past = post_outcome(
        client, work["id"], outcome="callback_requested", channel="phone", callback_at="2026-11-24T08:30:00"
    )
    assert past.json["error"]["code"] == "callback_at_out_of_range"
    ok = post_outcome(
        client, work["id"], outcome="callback_requested", channel="phone", callback_at="2026-11-24T14:00:00"
    )
    assert ok.status_code == 201
    saved = item(db, work["id"])
    assert saved.next_action_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 14:00 WIB
    assert saved.callback_user_id == user.id
    assert client.post("/api/v1/queue/claim", headers=_csrf(client)).status_code == 204
    clock.move_to("2026-11-24T07:01:00+00:00")
    assert client.post("/api/v1/queue/claim", headers=_csrf(client)).json["work_item"]["id"] == work["id"]


def test_a_callback_asked_for_after_hours_is_recorded_and_moved_to_the_next_opening(
    clock, db, client, login, make_user
):
    """The contact happened: it is never refused; the callback (a contact yet to start) waits for the window."""
    user, work = setup_call(db, client, login, make_user)
    late = post_outcome(
        client, work["id"], outcome="callback_requested", channel="phone", callback_at="2026-11-24T21:00:00"
    )
    assert late.status_code == 201, late.text
    saved = item(db, work["id"])
    assert saved.next_action_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # Wednesday 08:00 WIB
    assert late.json["attempt"]["callback_at"] == "2026-11-25T01:00:00+00:00"
    assert saved.callback_user_id == user.id


def test_final_outcome_closes_and_wrong_number_marks_the_phone(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user, count=2)
    assert post_outcome(client, work["id"], outcome="wrong_number", channel="phone").status_code == 201
    member = db.session.scalar(select(Participant).where(Participant.card_no == "0000000000002"))
    db.session.refresh(member)
    assert member.is_phone_invalid
    nxt = client.post("/api/v1/queue/claim", headers=_csrf(client)).json["work_item"]
    assert nxt["id"] != work["id"]  # the family with no valid number left is set aside
    assert post_outcome(client, nxt["id"], outcome="already_paid", channel="phone").status_code == 201
    closed = item(db, nxt["id"])
    assert (closed.state, closed.close_reason) == (WorkState.closed, "already_paid")


def test_same_client_ref_records_once(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user)
    ref = str(uuid.uuid4())
    first = post_outcome(client, work["id"], outcome="busy", channel="phone", client_ref=ref)
    again = post_outcome(client, work["id"], outcome="busy", channel="phone", client_ref=ref)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["attempt"]["id"] == first.json["attempt"]["id"] and again.json["duplicate"] is True
    assert item(db, work["id"]).attempts == 1


def test_validation_errors_are_json_with_field(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user)
    assert post_outcome(client, work["id"], outcome="ringing", channel="phone").json["error"]["field"] == "outcome"
    assert post_outcome(client, work["id"], outcome="busy", channel="sms").json["error"]["field"] == "channel"
    bad = client.post(
        f"/api/v1/work-items/{work['id']}/outcome",
        data="not json",
        headers={**_csrf(client), "Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_json"


def test_role_rules(clock, db, client, login, make_user):
    families(db, 2)
    from tests.helpers import csv_bytes, row, run_import

    run_import(db, csv_bytes([row(card_no="0000000000099", kecamatan="Cilincing", arrears_amount="0")]))
    queue_up(db, QueueName.cadre)
    cadre_item = db.session.scalar(select(WorkItem))
    login(make_user("telecollector"))
    assert post_outcome(client, cadre_item.id, outcome="busy", channel="phone").status_code == 403
    client.post("/logout", data={"csrf_token": _csrf(client)["X-CSRFToken"]})
    login(make_user("cadre", areas=["Kec. Cilincing"]))  # not her area
    assert post_outcome(client, cadre_item.id, outcome="busy", channel="whatsapp").status_code == 404
    client.post("/logout", data={"csrf_token": _csrf(client)["X-CSRFToken"]})
    login(make_user("supervisor"))
    assert client.get(f"/api/v1/work-items/{cadre_item.id}").status_code == 200
    assert client.post("/api/v1/queue/claim", headers=_csrf(client)).status_code == 403
    assert client.post("/api/v1/work-items/999999/release", headers=_csrf(client)).status_code == 404


def test_renew_and_release(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user)
    renewed = client.post(f"/api/v1/work-items/{work['id']}/renew", headers=_csrf(client))
    assert renewed.status_code == 200
    released = client.post(f"/api/v1/work-items/{work['id']}/release", headers=_csrf(client))
    assert released.json["work_item"]["state"] == "open"
    assert client.post(f"/api/v1/work-items/{work['id']}/renew", headers=_csrf(client)).status_code == 409


def test_api_token_works_without_csrf(clock, db, client, runner, make_user):
    families(db, 1)
    make_user("telecollector", username="tc.api")
    queue_up(db, QueueName.telecollect)
    token = runner.invoke(args=["users", "token", "tc.api"]).output.strip()
    claimed = client.post("/api/v1/queue/claim", headers={"Authorization": f"Bearer {token}"})
    assert claimed.status_code == 200
    done = client.post(
        f"/api/v1/work-items/{claimed.json['work_item']['id']}/outcome",
        json={"outcome": "no_answer", "channel": "phone"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert done.status_code == 201


def test_cookie_session_needs_csrf_on_api_posts(clock, db, client, login, make_user):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    assert client.post("/api/v1/queue/claim").status_code == 400


def test_promise_amount_is_read_as_written_through_the_api(clock, db, client, login, make_user):
    _user, work = setup_call(db, client, login, make_user)
    promise = {"outcome": "promise_to_pay", "channel": "phone", "promise_date": "2026-11-28"}
    for amount, code in [
        ("1,5", "amount_fraction"),
        (1.5, "amount_fraction"),
        ("1.50.000", "amount_format"),
        (True, "json_field_type"),  # neither a number nor text, as the OpenAPI document says
        ("0", "amount_not_positive"),
        ("-50.000", "amount_negative"),
    ]:
        refused = post_outcome(client, work["id"], **promise, promise_amount=amount)
        assert refused.status_code == 400, amount
        assert (refused.json["error"]["code"], refused.json["error"]["field"]) == (code, "promise_amount")
    assert "'1,5'" in post_outcome(client, work["id"], **promise, promise_amount="1,5").json["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Promise)) == 0
    ok = post_outcome(client, work["id"], **promise, promise_amount="1.500.000,00")
    assert ok.status_code == 201, ok.text
    assert db.session.scalar(select(Promise.amount)) == 1_500_000


def test_promise_amount_typed_on_the_call_screen(clock, db, client, login, make_user):
    import html

    from tests.conftest import csrf_token

    _user, work = setup_call(db, client, login, make_user)
    screen = f"/queue/items/{work['id']}"
    form = {
        "csrf_token": csrf_token(client.get(screen).text),
        "outcome": "promise_to_pay",
        "channel": "phone",
        "promise_date": "2026-11-28",
    }
    refused = client.post(f"{screen}/outcome", data={**form, "promise_amount": "1,5"}, follow_redirects=True)
    assert "'1,5'" in html.unescape(refused.text)  # the flash names what was typed and why it is refused
    assert db.session.scalar(select(func.count()).select_from(Promise)) == 0
    saved = client.post(f"{screen}/outcome", data={**form, "promise_amount": "Rp 1.500.000,00"})
    assert saved.status_code == 302
    assert db.session.scalar(select(Promise.amount)) == 1_500_000


def test_an_attempt_holds_one_of_the_outcome_codes(db, make_user):
    """The column takes the codes of the outcome table and nothing else; a plain code still reads as itself."""
    assert set(OUTCOMES) == {outcome.value for outcome in Outcome}
    families(db, 1)
    user = make_user("telecollector")
    family_id = db.session.scalar(select(Participant.family_id))
    db.session.add(
        ContactAttempt(
            family_id=family_id,
            user_id=user.id,
            channel="phone",
            outcome="busy",
            is_reached=False,
            is_right_party=False,
        )
    )
    db.session.commit()
    stored = db.session.scalar(select(ContactAttempt))
    assert stored.outcome is Outcome.busy and stored.outcome == "busy" and f"{stored.outcome}" == "busy"
    assert OUTCOMES[stored.outcome].retry_after == timedelta(minutes=30)
    db.session.add(
        ContactAttempt(
            family_id=family_id,
            user_id=user.id,
            channel="phone",
            outcome="maybe",
            is_reached=False,
            is_right_party=False,
        )
    )
    with pytest.raises(StatementError, match="maybe"):
        db.session.flush()
    db.session.rollback()
