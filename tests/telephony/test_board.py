"""Agents' states on the desktop, pause reasons, and the supervisor's live board (issue 15, item 5)."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.queues.models import QueueName, WorkItem
from telecollect.telephony.models import AgentState, Call, CallStatus, Disposition
from telecollect.telephony.services import current_state, set_agent_state
from tests.conftest import csrf_token
from tests.helpers_queue import families, queue_up

_sids = itertools.count(1)


def a_call(db, agent, item: WorkItem, *, started: datetime, talk: int | None, status=CallStatus.ended, **extra) -> Call:
    """A call row as the call flow leaves it (the voice branch writes them; here they are written directly)."""
    values = {"twilio_sid": f"CA{next(_sids):032d}", **extra}
    call = Call(
        user_id=agent.id,
        work_item_id=item.id,
        family_id=item.family_id,
        phone="+6281200000001",
        agent_phone="+6221555000",
        status=status,
        started_at=started,
        answered_at=started + timedelta(seconds=5),
        dial_status="completed" if talk is not None else "no-answer",
        talk_seconds=talk,
        ended_at=started + timedelta(seconds=20 + (talk or 0)),
        **values,
    )
    db.session.add(call)
    db.session.flush()
    return call


def post_state(client, **form):
    # An owed outcome (a connected call) sends /queue on to that family's page: the form is there too.
    token = csrf_token(client.get("/queue", follow_redirects=True).text)
    return client.post("/agent/state", data={**form, "csrf_token": token, "next": "/queue"})


def test_the_telecollector_sets_ready_and_pauses_with_a_reason_every_change_audited(
    db, client, login, make_user, clock
):
    agent = make_user("telecollector")
    login(agent)
    page = client.get("/queue").text
    assert 'data-testid="agent-state"' in page and 'data-shortcut="s"' in page and 'data-shortcut="j"' in page
    assert post_state(client, state="ready").headers["Location"] == "/queue"
    assert post_state(client, state="paused", reason_code="rapat").status_code == 302
    db.session.expire_all()
    row = current_state(db.session, agent)
    assert (row.state, row.reason_code) == (AgentState.paused, "rapat")
    audited = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "agent.state", AuditEvent.target_id == agent.id)
    ).all()
    assert audited == ["- → ready", "ready → paused rapat"]
    # The desktop shows the state, its reason and the time in it.
    desk = client.get("/queue").text
    assert 'data-testid="agent-state-now"' in desk and "Rapat" in desk and "data-elapsed-since" in desk


def test_a_pause_needs_a_known_active_reason_and_nothing_changes_otherwise(db, client, login, make_user, clock):
    agent = make_user("telecollector")
    login(agent)
    post_state(client, state="ready")
    post_state(client, state="paused", reason_code="tidur")
    post_state(client, state="on_call")  # not hers to choose
    db.session.expire_all()
    assert current_state(db.session, agent).state == AgentState.ready


def test_while_a_call_goes_on_or_owes_its_outcome_the_state_follows_the_call(db, client, login, make_user, clock):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    agent = make_user("telecollector")
    item = db.session.scalar(select(WorkItem))
    now = datetime.now(UTC)
    call = a_call(db, agent, item, started=now, talk=60, disposition=Disposition.pending)
    set_agent_state(db.session, agent, AgentState.wrap_up, now=now, call_id=call.id)
    db.session.commit()
    login(agent)
    post_state(client, state="paused", reason_code="istirahat")
    db.session.expire_all()
    assert current_state(db.session, agent).state == AgentState.wrap_up
    # Once the outcome is recorded (the call flow's part), she may pause.
    call = db.session.get(Call, call.id)
    call.disposition = Disposition.not_recorded
    db.session.commit()
    post_state(client, state="paused", reason_code="istirahat")
    db.session.expire_all()
    assert current_state(db.session, agent).state == AgentState.paused


def test_a_supervisor_adds_renames_and_retires_pause_reasons(db, client, login, make_user, clock):
    login(make_user("supervisor"))
    token = csrf_token(client.get("/pause-reasons").text)
    assert (
        client.post("/pause-reasons", data={"code": "Bad Code!", "label": "x", "csrf_token": token}).status_code == 400
    )
    added = client.post("/pause-reasons", data={"code": "konseling", "label": "Konseling", "csrf_token": token})
    assert added.status_code == 302
    page = client.get("/pause-reasons").text
    assert "konseling" in page
    from telecollect.telephony.models import PauseReason

    reason = db.session.scalar(select(PauseReason).where(PauseReason.code == "konseling"))
    client.post(
        f"/pause-reasons/{reason.id}", data={"label": "Konseling peserta", "sort_order": "9", "csrf_token": token}
    )  # is_active unticked: retired
    db.session.expire_all()
    reason = db.session.get(PauseReason, reason.id)
    assert (reason.label, reason.sort_order, reason.is_active) == ("Konseling peserta", 9, False)
    agent = make_user("telecollector")
    with pytest.raises(Exception) as refused:
        set_agent_state(db.session, agent, "paused", now=datetime.now(UTC), reason_code="konseling")
    assert getattr(refused.value, "code", None) == "pause_reason_unknown"


def test_the_board_shows_states_time_in_state_calls_talk_time_cadres_and_callable_families(
    db, client, login, make_user, clock
):
    families(db, 3)  # DKI Jakarta: WIB
    queue_up(db, QueueName.telecollect)
    now = datetime.now(UTC)
    rina = make_user("telecollector", name="Rina")
    agus = make_user("telecollector", name="Agus")
    make_user("telecollector", name="Baru")  # never set a state
    cadre = make_user("cadre", name="Kader Ani", areas=["Kec. Koja"])
    item = db.session.scalar(select(WorkItem))
    a_call(db, rina, item, started=now - timedelta(minutes=30), talk=125)
    a_call(db, rina, item, started=now - timedelta(minutes=20), talk=None)
    a_call(db, rina, item, started=now - timedelta(days=1), talk=999)  # yesterday: not today's
    a_call(db, agus, item, started=now - timedelta(minutes=10), talk=None, status=CallStatus.failed, twilio_sid=None)
    set_agent_state(db.session, rina, AgentState.ready, now=now - timedelta(minutes=12))
    set_agent_state(db.session, agus, AgentState.paused, now=now - timedelta(minutes=3), reason_code="sholat")
    db.session.commit()
    login(make_user("supervisor"))
    page = client.get("/board")
    assert page.status_code == 200 and "board.js" in page.text and 'data-testid="board-agents"' in page.text
    board = client.get("/board.json").get_json()
    agents = {a["name"]: a for a in board["telecollectors"]}
    assert (agents["Rina"]["state"], agents["Rina"]["calls_today"], agents["Rina"]["talk_seconds_today"]) == (
        "ready",
        2,
        125,
    )
    assert 12 * 60 <= agents["Rina"]["seconds_in_state"] < 13 * 60
    assert (agents["Agus"]["state"], agents["Agus"]["reason_code"], agents["Agus"]["reason_label"]) == (
        "paused",
        "sholat",
        "Sholat",
    )
    assert agents["Agus"]["calls_today"] == 0  # Twilio refused it: never placed, no call
    assert agents["Baru"]["state"] is None and agents["Baru"]["seconds_in_state"] is None
    assert [c["name"] for c in board["cadres"]] == ["Kader Ani"] and board["cadres"][0]["id"] == cadre.id
    zones = {z["zone"]: z for z in board["zones"]}
    assert zones["WIB"] == {"zone": "WIB", "is_open": True, "callable": 3}
    assert zones["WIT"]["callable"] == 0


def test_the_board_counts_no_family_callable_where_calling_hours_are_over(db, client, login, make_user, clock):
    families(db, 2)
    queue_up(db, QueueName.telecollect)
    clock.move_to(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))  # 21:00 WIB
    login(make_user("supervisor"))
    zones = {z["zone"]: z for z in client.get("/board.json").get_json()["zones"]}
    assert zones["WIB"] == {"zone": "WIB", "is_open": False, "callable": 0}


@pytest.mark.parametrize("role", ["telecollector", "cadre"])
def test_the_board_is_for_supervisors_and_admins_only(db, client, login, make_user, role):
    login(make_user(role))
    assert client.get("/board").status_code == 403
    assert client.get("/board.json").status_code == 403
