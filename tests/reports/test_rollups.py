"""Roll-ups (issue 16, item 5): branch → regional deputy → nation, on the dashboard and the CLI.

Three branches: North Jakarta (WIB, Kedeputian Wilayah I), Makassar and Pare-Pare (WITA, Kedeputian Wilayah
IX). Each has one family, worked by its own telecollector in November: a missed call, a right-party call with
a promise, a call through the system (talk and wrap-up), and (North Jakarta and Makassar) a payment credited
to it. North Jakarta and Makassar also have a
call at 16:30 UTC on 30 November: 23:30 in Jakarta (November) but 00:30 on 1 December in Makassar.
"""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect.auth.models import Role
from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
from telecollect.branches.services import add_branch, deputy_named
from telecollect.branches.stamping import act_in_branch
from telecollect.contacts.models import Channel, ContactAttempt, Promise
from telecollect.imports.reader import TableReader
from telecollect.participants.models import Family
from telecollect.queues.models import QueueName, WorkItem
from telecollect.reports.funnel import COUNTS, Period, Scope, outcome_funnel, totals
from telecollect.reports.rollups import branch_zones, funnel_across
from telecollect.telephony.models import AgentState, Call, CallStatus, Disposition
from telecollect.telephony.services import set_agent_state
from telecollect.workflows.imports import import_payments
from tests.helpers import SETTINGS, csv_bytes, row, run_import
from tests.helpers_queue import queue_up

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), "WIB")
EDGE = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 23:30 WIB on the 30th, 00:30 WITA on 1 December
NORTH, MAKASSAR, PAREPARE = "Jakarta Utara (0000)", "Makassar (1701)", "Pare-Pare (1702)"
MONTH = "from=2026-11-01&to=2026-11-30"


def _attempt(db, family, user, at, *, reached: bool) -> ContactAttempt:
    attempt = ContactAttempt(
        family_id=family.id,
        user_id=user.id,
        channel=Channel.phone,
        outcome="promise_to_pay" if reached else "no_answer",
        is_reached=reached,
        is_right_party=reached,
        at=at,
        queue="telecollect",
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _call(db, family, user, at, *, talk: int, wrap: int) -> Call:
    """A connected call through the system, then `wrap` seconds in wrap-up (the roll-ups' call figures)."""
    item = db.session.scalar(select(WorkItem).where(WorkItem.family_id == family.id))
    call = Call(
        user_id=user.id,
        work_item_id=item.id,
        family_id=family.id,
        phone="+6281200000001",
        agent_phone="+6221555000",
        twilio_sid=f"CA{family.id:032d}",
        status=CallStatus.ended,
        started_at=at,
        answered_at=at + timedelta(seconds=8),
        dial_status="completed",
        talk_seconds=talk,
        ended_at=at + timedelta(seconds=30 + talk),
        disposition=Disposition.not_recorded,
    )
    db.session.add(call)
    db.session.flush()
    set_agent_state(db.session, user, AgentState.on_call, now=at, call_id=call.id)
    set_agent_state(db.session, user, AgentState.wrap_up, now=call.ended_at, call_id=call.id)
    set_agent_state(db.session, user, AgentState.ready, now=call.ended_at + timedelta(seconds=wrap), call_id=call.id)
    return call


@pytest.fixture
def nation(db, make_user):
    north = db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))
    north.name, north.zone = "Jakarta Utara", "WIB"
    north.deputy_region_id = deputy_named(db.session, "Kedeputian Wilayah I").id
    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA", deputy="Kedeputian Wilayah IX")
    parepare = add_branch(db.session, code="1702", name="Pare-Pare", zone="WITA", deputy="Kedeputian Wilayah IX")
    db.session.commit()
    world = {"branches": {}, "users": {}, "cards": {}}
    session = db.session()
    for n, (branch, pays) in enumerate(((north, True), (makassar, True), (parepare, False)), start=1):
        card = f"{n:013d}"
        act_in_branch(session, branch.id)
        run_import(db, csv_bytes([row(card_no=card, phone=f"0812{n:08d}")]))
        user = make_user("telecollector", username=f"tc{branch.code}", branch_id=branch.id)
        queue_up(db, QueueName.telecollect, user=user, now=datetime(2026, 11, 1, 1, tzinfo=UTC))
        family = db.session.scalar(select(Family).where(Family.branch_id == branch.id))
        _attempt(db, family, user, datetime(2026, 11, 3, 3, tzinfo=UTC), reached=False)
        promised = _attempt(db, family, user, datetime(2026, 11, 4, 3, tzinfo=UTC), reached=True)
        db.session.add(
            Promise(
                family_id=family.id,
                attempt_id=promised.id,
                user_id=user.id,
                made_on=date(2026, 11, 4),
                promised_on=date(2026, 11, 10),
                amount=70_000 * n,
            )
        )
        if branch is not parepare:
            _attempt(db, family, user, EDGE, reached=False)
        _call(db, family, user, datetime(2026, 11, 4, 3, tzinfo=UTC), talk=100 * n, wrap=10 * n)
        db.session.commit()
        if pays:
            payments = csv_bytes(
                [{"card_no": card, "amount": str(50_000 * n), "paid_on": "2026-11-09", "reference": f"P{n}"}],
                columns=("card_no", "amount", "paid_on", "reference"),
            )
            import_payments(
                db.session,
                TableReader(io.BytesIO(payments), "p.csv"),
                filename="p.csv",
                today=date(2026, 11, 30),
                settings=SETTINGS,
            )
            db.session.commit()
        world["branches"][branch.code] = branch.id
        world["users"][branch.code] = user
        world["cards"][branch.code] = card
    act_in_branch(session, None)
    world["regions"] = {"I": north.deputy_region_id, "IX": makassar.deputy_region_id}
    db.session.commit()
    return world


def test_branches_add_up_to_their_region_and_the_regions_to_the_nation(db, nation):
    zones = branch_zones(db.session, "WIB")
    assert zones == {
        "WIB": (nation["branches"]["0000"],),
        "WITA": (nation["branches"]["1701"], nation["branches"]["1702"]),
    }
    by_branch = funnel_across(db.session, "branch", NOVEMBER, Scope(), zones)
    by_deputy = funnel_across(db.session, "deputy", NOVEMBER, Scope(), zones)
    whole = totals(funnel_across(db.session, "month", NOVEMBER, Scope(), zones))

    assert {r["branch"]: r["attempts"] for r in by_branch} == {NORTH: 3, MAKASSAR: 2, PAREPARE: 2}
    assert {r["deputy"]: r["attempts"] for r in by_deputy} == {"Kedeputian Wilayah I": 3, "Kedeputian Wilayah IX": 4}
    for name in COUNTS:  # no family moved: every count adds up, the distinct ones too
        assert totals(by_branch)[name] == totals(by_deputy)[name] == whole[name], name
    region = {r["deputy"]: r for r in by_deputy}["Kedeputian Wilayah IX"]
    branches = {r["branch"]: r for r in by_branch}
    for name in COUNTS:
        assert region[name] == branches[MAKASSAR][name] + branches[PAREPARE][name], name
    assert whole["collected_amount"] == 50_000 + 100_000 and whole["promises"] == 3
    # Calls through the system count in their branch too (talk 100 s × n, wrap-up 10 s × n).
    assert {r["branch"]: (r["dials"], r["talk_seconds"], r["wrap_up_seconds"]) for r in by_branch} == {
        NORTH: (1, 100, 10),
        MAKASSAR: (1, 200, 20),
        PAREPARE: (1, 300, 30),
    }
    # Each branch's row is its own funnel, on its own days (Makassar's 30 November ends at 16:00 UTC).
    for code, label in (("0000", NORTH), ("1701", MAKASSAR), ("1702", PAREPARE)):
        zone = "WIB" if code == "0000" else "WITA"
        own = totals(
            outcome_funnel(
                db.session,
                "month",
                Period(NOVEMBER.start, NOVEMBER.end, zone),
                Scope(branch_ids=(nation["branches"][code],)),
            )
        )
        assert {name: branches[label][name] for name in COUNTS} == {name: own[name] for name in COUNTS}


def test_a_family_that_moved_counts_in_each_branch_it_was_worked_in(db, nation):
    """History keeps its branch, so attempts add up; the family's distinct count does not, as the page says."""
    act_in_branch(db.session(), nation["branches"]["1701"])
    run_import(db, csv_bytes([row(card_no=nation["cards"]["0000"], phone="081200000001", as_of="2026-11-20")]))
    moved = db.session.scalar(select(Family).where(Family.key == nation["cards"]["0000"]))
    assert moved is not None and moved.branch_id == nation["branches"]["1701"]
    _attempt(db, moved, nation["users"]["1701"], datetime(2026, 11, 25, 3, tzinfo=UTC), reached=False)
    act_in_branch(db.session(), None)
    db.session.commit()
    zones = branch_zones(db.session, "WIB")
    by_branch = {r["branch"]: r for r in funnel_across(db.session, "branch", NOVEMBER, Scope(), zones)}
    whole = totals(funnel_across(db.session, "month", NOVEMBER, Scope(), zones))
    assert by_branch[NORTH]["attempts"] == 3 and by_branch[MAKASSAR]["attempts"] == 3
    assert sum(r["attempts"] for r in by_branch.values()) == whole["attempts"] == 8
    assert by_branch[NORTH]["families_attempted"] == 1 and by_branch[MAKASSAR]["families_attempted"] == 2


def _table(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</table>")[0]


def test_a_national_viewer_sees_every_region_and_drills_down_to_a_family(db, nation, client, login, make_user):
    login(make_user(Role.national_viewer.value))
    page = client.get(f"/reports/dashboard?{MONTH}")
    assert page.status_code == 200
    deputies, branches = _table(page.text, "rollup-deputies"), _table(page.text, "rollup-branches")
    assert "Kedeputian Wilayah I<" in deputies and "Kedeputian Wilayah IX<" in deputies
    assert all(name in branches for name in (NORTH, MAKASSAR, PAREPARE))
    assert 'data-testid="rollup-note"' in page.text
    # region → its branches
    region = client.get(f"/reports/dashboard?{MONTH}&by=branch&deputy={nation['regions']['IX']}")
    assert region.status_code == 200
    side_by_side = _table(region.text, "rollup-branches")
    assert MAKASSAR in side_by_side and PAREPARE in side_by_side and NORTH not in side_by_side
    assert 'data-testid="rollup-deputies"' not in region.text
    # branch → its officers
    makassar = nation["branches"]["1701"]
    branch = client.get(f"/reports/dashboard?{MONTH}&by=user&branch={makassar}")
    funnel = _table(branch.text, "funnel")
    assert "tc1701" in funnel and "tc0000" not in funnel and "tc1702" not in funnel
    assert 'data-testid="rollups"' not in branch.text
    # officer → families
    tc = nation["users"]["1701"].id
    families = client.get(f"/reports/families?{MONTH}&by=user&key={tc}&metric=attempts&branch={makassar}")
    assert families.status_code == 200 and nation["cards"]["1701"] in families.text
    assert nation["cards"]["0000"] not in families.text


def test_a_regional_supervisor_sees_her_regions_branches_only(db, nation, client, login):
    from telecollect.auth.services import create_user
    from tests.conftest import PASSWORD

    supervisor = create_user(
        db.session,
        username="dw9",
        role=Role.regional_supervisor.value,
        password=PASSWORD,
        deputy_region_id=nation["regions"]["IX"],
    )
    db.session.commit()
    login(supervisor)
    page = client.get(f"/reports/dashboard?{MONTH}").text
    branches = _table(page, "rollup-branches")
    assert MAKASSAR in branches and PAREPARE in branches and NORTH not in branches
    assert 'data-testid="rollup-deputies"' not in page  # one region: her branches side by side
    total = page.split('data-testid="rollup-branches-total"')[1].split("</tr>")[0]
    assert ">4<" in total  # attempts: Makassar 2 + Pare-Pare 2
    # Another region, or a branch of it, is not hers: 404, whatever the drill-down asks.
    assert client.get(f"/reports/dashboard?{MONTH}&branch={nation['branches']['0000']}").status_code == 404
    assert client.get(f"/reports/dashboard?{MONTH}&deputy={nation['regions']['I']}").status_code == 404
    tc = nation["users"]["0000"].id
    other = client.get(
        f"/reports/families?{MONTH}&by=user&key={tc}&metric=attempts&branch={nation['branches']['0000']}"
    )
    assert other.status_code == 404
    assert client.get(f"/reports/dashboard.csv?{MONTH}&by=branch").text.count("\n") == 3  # header + 2 branches


def test_a_branch_supervisor_cannot_drill_into_another_branch(db, nation, client, login, make_user):
    login(make_user("supervisor", branch_id=nation["branches"]["1701"]))
    page = client.get(f"/reports/dashboard?{MONTH}")
    assert page.status_code == 200 and 'data-testid="rollups"' not in page.text
    assert client.get(f"/reports/dashboard?{MONTH}&branch={nation['branches']['1702']}").status_code == 404


def test_report_outcomes_by_deputy_and_by_branch(db, nation, runner):
    def outcomes(*extra):
        result = runner.invoke(
            args=["report", "outcomes", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json", *extra]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    by_deputy = {r["deputy"]: r for r in outcomes("--by", "deputy")}
    assert {name: r["attempts"] for name, r in by_deputy.items()} == {
        "Kedeputian Wilayah I": 3,
        "Kedeputian Wilayah IX": 4,
    }
    assert by_deputy["Kedeputian Wilayah IX"]["collected_amount"] == 100_000
    region = outcomes("--by", "branch", "--deputy", "kedeputian wilayah ix")
    assert [(r["branch"], r["attempts"]) for r in region] == [(MAKASSAR, 2), (PAREPARE, 2)]
    assert [(r["branch"], r["attempts"]) for r in outcomes("--by", "branch", "--branch", "1701")] == [(MAKASSAR, 2)]
    nation_by_branch = outcomes("--by", "branch")
    assert sum(r["attempts"] for r in nation_by_branch) == sum(r["attempts"] for r in by_deputy.values()) == 7
    unknown = runner.invoke(
        args=["report", "outcomes", "--by", "branch", "--from", "2026-11-01", "--to", "2026-11-30", "--deputy", "DW-X"]
    )
    assert unknown.exit_code == 2 and "DW-X" in unknown.output
