"""Calls through the system in the reports (issue 15, item 6): dials, connects, talk time, wrap-up and average
handle time per agent and day, on a known set of calls; and each call, with its legs, on the family's timeline."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect.queues.models import QueueName, WorkItem
from telecollect.reports.funnel import Period, Scope, calls_by_agent_and_day, outcome_funnel, totals
from telecollect.telephony.models import AgentState, Call, CallStatus, Disposition
from telecollect.telephony.services import set_agent_state
from tests.helpers_queue import families, queue_up

PERIOD = Period(date(2026, 11, 24), date(2026, 11, 25), "WIB")


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour - 7, minute, tzinfo=UTC)


@pytest.fixture
def calls(db, make_user):
    """rina, 24 Nov: connected 120 s talk + 30 s wrap-up; no answer; connected 60 s + 90 s wrap-up.
    agus, 24 Nov: connected 300 s + 60 s. rina, 25 Nov: connected 200 s + 40 s. Also: a call Twilio refused
    (never placed) and a call of 23 Nov (outside the period)."""
    families(db, 2)
    queue_up(db, QueueName.telecollect)
    rina, agus = make_user("telecollector", username="rina"), make_user("telecollector", username="agus")
    item = db.session.scalar(select(WorkItem).order_by(WorkItem.id))
    n = 0

    def call(agent, start: datetime, talk: int | None, wrap: int | None, *, placed=True) -> Call:
        nonlocal n
        n += 1
        row = Call(
            user_id=agent.id,
            work_item_id=item.id,
            family_id=item.family_id,
            phone="+6281200000001",
            agent_phone="+6221555000",
            twilio_sid=f"CA{n:032d}" if placed else None,
            status=CallStatus.ended if placed else CallStatus.failed,
            started_at=start,
            answered_at=start + timedelta(seconds=8) if placed else None,
            dial_status=("completed" if talk is not None else "no-answer") if placed else None,
            talk_seconds=talk,
            ended_at=start + timedelta(seconds=30 + (talk or 0)) if placed else None,
            disposition=Disposition.recorded if talk is not None else None,
            attempt_id=None,
        )
        if talk is not None:
            row.disposition = Disposition.not_recorded  # recorded needs an attempt; the figures do not care
        db.session.add(row)
        db.session.flush()
        set_agent_state(db.session, agent, AgentState.on_call, now=start, call_id=row.id)
        if talk is not None:
            wrap_start = start + timedelta(seconds=30 + talk)
            set_agent_state(db.session, agent, AgentState.wrap_up, now=wrap_start, call_id=row.id)
            set_agent_state(
                db.session, agent, AgentState.ready, now=wrap_start + timedelta(seconds=wrap), call_id=row.id
            )
        else:
            set_agent_state(db.session, agent, AgentState.ready, now=start + timedelta(seconds=40), call_id=row.id)
        return row

    call(rina, wib(23, 10), 500, 500)
    call(rina, wib(24, 9), 120, 30)
    call(rina, wib(24, 10), None, None)
    call(rina, wib(24, 11), 60, 90)
    call(agus, wib(24, 9, 30), 300, 60)
    call(agus, wib(24, 12), None, None, placed=False)
    call(rina, wib(25, 9), 200, 40)
    db.session.commit()
    return rina, agus


FIGURES = ("dials", "connects", "talk_seconds", "wrap_up_seconds", "avg_handle_seconds")


def figures(row: dict) -> tuple:
    return tuple(row[name] for name in FIGURES)


def test_per_agent_and_per_day(db, calls):
    by_user = {r["user"]: figures(r) for r in outcome_funnel(db.session, "user", PERIOD)}
    assert by_user["rina"] == (4, 3, 380, 160, 180)  # (380 + 160) / 3
    assert by_user["agus"] == (1, 1, 300, 60, 360)
    by_day = {r["day"]: figures(r) for r in outcome_funnel(db.session, "day", PERIOD)}
    assert by_day == {"2026-11-24": (4, 3, 480, 180, 220), "2026-11-25": (1, 1, 200, 40, 240)}
    assert figures(totals(outcome_funnel(db.session, "user", PERIOD))) == (5, 4, 680, 220, 225)


def test_per_agent_and_day_together(db, calls):
    rows = [(r["day"], r["user"], *figures(r)) for r in calls_by_agent_and_day(db.session, PERIOD)]
    assert rows == [
        ("2026-11-24", "agus", 1, 1, 300, 60, 360),
        ("2026-11-24", "rina", 3, 2, 180, 120, 150),
        ("2026-11-25", "rina", 1, 1, 200, 40, 240),
    ]


def test_a_telecollector_sees_her_own_calls_and_the_cadre_queue_none(db, calls):
    rina, _agus = calls
    own = outcome_funnel(db.session, "user", PERIOD, Scope(user_id=rina.id))
    assert [(r["user"], r["dials"]) for r in own] == [("rina", 4)]
    cadre_queue = outcome_funnel(db.session, "user", PERIOD, Scope(queue="cadre"))
    assert sum(r["dials"] for r in cadre_queue) == 0


def test_the_dashboard_and_its_download_show_them(db, client, login, make_user, calls):
    login(make_user("supervisor"))
    page = client.get("/reports/dashboard?from=2026-11-24&to=2026-11-25&by=user").text
    table = page.split('data-testid="calls-per-agent-day"')[1].split("</table>")[0]
    assert "2026-11-24" in table and "rina" in table and "2:30" in table  # rina's AHT on the 24th: 150 s
    funnel = page.split('data-testid="funnel"')[1].split("</table>")[0]
    assert "6:20" in funnel  # rina's talk time over the period: 380 s
    csv_text = client.get("/reports/dashboard.csv?from=2026-11-24&to=2026-11-25&by=user").text.replace("\r", "")
    rina_row = next(line for line in csv_text.splitlines() if line.startswith("rina,"))
    assert rina_row.endswith(",4,3,380,180,160")


def test_the_family_timeline_shows_each_call_with_its_legs_and_durations(db, client, login, make_user, calls):
    login(make_user("supervisor"))
    page = client.get("/participants/0000000000001").text
    events = page.split('data-testid="timeline"')[1].split("</ol>")[0]
    assert events.count('data-testid="call-event"') == 7  # the refused one too: it was requested
    first = events.split('data-testid="call-event"')[-2]  # 24 Nov 09:00, rina's first
    assert 'data-dial-status="completed"' in first and 'data-talk-seconds="120"' in first
    assert 'data-agent-ring-seconds="8"' in first and 'data-call-seconds="150"' in first
    assert "+62812•••••001" in first and "Telecollector Test" in first
    unanswered = events.split('data-testid="call-event"')[-4]  # 24 Nov 10:00
    assert 'data-dial-status="no-answer"' in unanswered and 'data-talk-seconds=""' in unanswered
