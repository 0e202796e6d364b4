"""The agent desktop's writes (issue 13, part A): skip with a reason, a cadre visit asked for, a number heard
on the call, working a family from the promise and callback lists, the call script, and the dashboard's skips."""

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.participants.models import Participant
from telecollect.queues.models import CloseReason, QueueName, WorkItem, WorkState
from telecollect.runtime import contact_rules, lease
from telecollect.workflows import queue_work
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import families, queue_up


def _claimed(db, client, login, make_user, count=1, **changes):
    families(db, count, **changes)
    queue_up(db, QueueName.telecollect)
    agent = make_user("telecollector")
    login(agent)
    page = client.get("/queue")
    answer = client.post("/queue/next", data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 302, answer.text
    item_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    return agent, item_id


def _token(client, item_id):
    return csrf_token(client.get(f"/queue/items/{item_id}").text)


def test_the_call_screen_says_why_in_words_and_fills_the_script(clock, db, client, login, make_user):
    _agent, item_id = _claimed(db, client, login, make_user, count=1)
    page = client.get(f"/queue/items/{item_id}").text
    assert "Keluarga ini belum pernah terhubung" in page or "Nobody has reached this family yet" in page
    assert "poin" not in page and " points" not in page
    assert "Rp100.000" in page and "Peserta 1" in page  # the script carries the family's figures


def test_needs_a_cadre_visit_skips_without_an_attempt_and_opens_a_cadre_item(clock, db, client, login, make_user):
    agent, item_id = _claimed(db, client, login, make_user, count=1)
    answer = client.post(
        f"/queue/items/{item_id}/skip", data={"reason": "needs_visit", "csrf_token": _token(client, item_id)}
    )
    assert answer.status_code == 302
    db.session.expire_all()
    call = db.session.get(WorkItem, item_id)
    assert (call.attempts, call.claimed_by_id, call.state) == (0, None, WorkState.open)
    visit = db.session.scalar(select(WorkItem).where(WorkItem.queue == QueueName.cadre))
    assert visit is not None and (visit.family_id, visit.village_id, visit.assigned_user_id) == (
        call.family_id,
        call.village_id,
        None,
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "work_item.skip"))
    assert (event.user_id, event.detail) == (agent.id, "needs_visit")
    # Next does not bring it straight back.
    again = client.post("/queue/next", data={"csrf_token": csrf_token(client.get("/queue").text)})
    assert again.headers["Location"].endswith("/queue")


def test_a_skip_needs_a_known_reason_and_the_claim(clock, db, client, login, make_user):
    _agent, item_id = _claimed(db, client, login, make_user, count=1)
    client.post(f"/queue/items/{item_id}/skip", data={"reason": "bosan", "csrf_token": _token(client, item_id)})
    db.session.expire_all()
    assert db.session.get(WorkItem, item_id).claimed_by_id is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "work_item.skip")) is None


def test_a_family_closed_for_having_no_phone_goes_to_the_cadres(clock, db, make_user):
    run_import(db, csv_bytes([row(phone="")]))
    queue_up(db, QueueName.telecollect)
    agent = make_user("telecollector")
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    assert queue_work.claim(db.session, agent, contact_rules(), lease=lease(), now=now) is None
    call = db.session.scalar(select(WorkItem).where(WorkItem.queue == QueueName.telecollect))
    assert call.close_reason == CloseReason.no_phone
    visit = db.session.scalar(select(WorkItem).where(WorkItem.queue == QueueName.cadre))
    assert visit is not None and visit.family_id == call.family_id and visit.state == WorkState.open


def test_a_number_heard_on_the_call_goes_to_phone2_validated_and_audited(clock, db, client, login, make_user):
    agent, item_id = _claimed(db, client, login, make_user, count=1)
    token = _token(client, item_id)
    bad = client.post(
        f"/queue/items/{item_id}/numbers",
        data={"card_no": "0000000000001", "phone": "0812-abc", "csrf_token": token},
        follow_redirects=True,
    )
    assert 'value="0812-abc"' in bad.text  # what was typed stays
    db.session.expire_all()
    assert db.session.scalar(select(Participant)).phone2 is None
    client.post(
        f"/queue/items/{item_id}/numbers",
        data={"card_no": "0000000000001", "phone": "0813 9999 0001", "csrf_token": token},
    )
    db.session.expire_all()
    assert db.session.scalar(select(Participant)).phone2 == "+6281399990001"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "participant.phone_added"))
    assert event.user_id == agent.id and "source=telepon" in event.detail and "9990001" not in event.detail


def test_a_callback_from_the_list_is_worked_from_the_call_screen(clock, db, client, login, make_user):
    _agent, item_id = _claimed(db, client, login, make_user, count=1)
    token = _token(client, item_id)
    saved = client.post(
        f"/queue/items/{item_id}/outcome",
        data={"outcome": "callback_requested", "callback_at": "2026-11-24T14:00", "csrf_token": token},
    )
    assert saved.status_code == 302
    listing = client.get("/queue/callbacks").text
    assert f"/queue/items/{item_id}/work" in listing
    worked = client.post(f"/queue/items/{item_id}/work", data={"csrf_token": csrf_token(listing)})
    assert worked.headers["Location"].endswith(f"/queue/items/{item_id}")
    db.session.expire_all()
    assert db.session.get(WorkItem, item_id).claimed_by_id is not None
    assert 'id="outcome-form"' in client.get(f"/queue/items/{item_id}").text


def test_the_dashboard_counts_skips_per_agent_and_reason(clock, db, client, login, make_user):
    _agent, item_id = _claimed(db, client, login, make_user, count=1)
    client.post(f"/queue/items/{item_id}/skip", data={"reason": "wrong_time", "csrf_token": _token(client, item_id)})
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/queue").text)})
    login(make_user("supervisor", username="spv"))
    page = client.get("/reports/dashboard").text
    assert 'data-testid="skips"' in page
    panel = page.split('data-testid="skips"', 1)[1].split("</section>", 1)[0]
    assert "Telecollector" in panel and ">1<" in panel


def test_a_supervisor_edits_the_call_script(clock, db, client, login, make_user):
    login(make_user("supervisor", username="spv"))
    token = csrf_token(client.get("/queue/call-script").text)
    refused = client.post("/queue/call-script", data={"body": "Halo {nama}, {nik}", "csrf_token": token})
    assert refused.status_code == 400 and "Halo {nama}, {nik}" in refused.text
    saved = client.post("/queue/call-script", data={"body": "Halo {nama}, tunggakan {jumlah}.", "csrf_token": token})
    assert saved.status_code == 302
    assert "Halo {nama}, tunggakan {jumlah}." in client.get("/queue/call-script").text


def test_a_promise_from_the_list_opens_the_call_screen_and_is_worked(clock, db, client, login, make_user):
    _agent, item_id = _claimed(db, client, login, make_user, count=1)
    saved = client.post(
        f"/queue/items/{item_id}/outcome",
        data={
            "outcome": "promise_to_pay",
            "promise_date": "2026-11-27",
            "promise_amount": "100000",
            "csrf_token": _token(client, item_id),
        },
    )
    assert saved.status_code == 302
    listing = client.get("/queue/promises").text
    assert f'href="/queue/items/{item_id}"' in listing and f"/queue/items/{item_id}/work" in listing
    worked = client.post(f"/queue/items/{item_id}/work", data={"csrf_token": csrf_token(listing)})
    assert worked.headers["Location"].endswith(f"/queue/items/{item_id}")
    screen = client.get(f"/queue/items/{item_id}").text
    db.session.expire_all()
    held = db.session.get(WorkItem, item_id)
    assert held.claimed_by_id == _agent.id and 'id="outcome-form"' in screen


def test_a_family_held_by_another_agent_is_not_taken_from_the_list(clock, db, client, login, make_user):
    _agent, item_id = _claimed(db, client, login, make_user, count=1)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/participants").text)})
    login(make_user("telecollector", username="tc.other"))
    page = client.get(f"/queue/items/{item_id}").text
    assert 'id="outcome-form"' not in page and f"/queue/items/{item_id}/work" not in page
    client.post(f"/queue/items/{item_id}/work", data={"csrf_token": csrf_token(page)})
    db.session.expire_all()
    assert db.session.get(WorkItem, item_id).claimed_by_id == _agent.id


def test_an_api_client_skips_with_a_reason_and_claims_the_next_itself(clock, db, client, runner, make_user):
    """The JSON API can skip too: the family is free, no attempt counted, the skip audited, and it does not come
    straight back on the next claim. On a workday morning (`clock`): after 20:00 WIB nothing may be claimed."""
    from sqlalchemy import func

    from telecollect.contacts.models import ContactAttempt

    families(db, 2)
    queue_up(db, QueueName.telecollect)
    make_user("telecollector", username="tc.api")
    headers = {"Authorization": f"Bearer {runner.invoke(args=['users', 'token', 'tc.api']).output.strip()}"}
    held = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]
    refused = client.post(f"/api/v1/work-items/{held['id']}/skip", json={"reason": "bored"}, headers=headers)
    assert refused.status_code == 400
    skipped = client.post(f"/api/v1/work-items/{held['id']}/skip", json={"reason": "wrong_time"}, headers=headers)
    assert skipped.status_code == 200 and skipped.json["work_item"]["state"] != "claimed"
    assert db.session.scalar(select(func.count()).select_from(ContactAttempt)) == 0
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "work_item.skip")) == "wrong_time"
    following = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]
    assert following["id"] != held["id"]
