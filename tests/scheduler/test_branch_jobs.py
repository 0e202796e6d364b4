"""Jobs across branches (issue 16, item 4): each branch settles and is reminded on its own local day, and one
branch's failure does not stop the others."""

import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
from telecollect.branches.services import add_branch
from telecollect.branches.stamping import act_in_branch
from telecollect.contacts.models import Channel, ContactAttempt, Promise, PromiseState
from telecollect.messaging.models import SmsKind, SmsMessage
from telecollect.participants.models import Family
from telecollect.scheduler.cli import schedule_jobs
from telecollect.scheduler.jobs import FAILED, plan_sms, settle_promises
from tests.helpers import csv_bytes, row, run_import

#: Makassar's (WITA) 1 December begins at 16:00 UTC on 30 November; North Jakarta's (WIB) an hour later.
WITA_MIDNIGHT = datetime(2026, 11, 30, 16, 1, tzinfo=UTC)
WIB_MIDNIGHT = datetime(2026, 11, 30, 17, 1, tzinfo=UTC)
GRACE = 3  # PROMISE_GRACE_DAYS, the installation's
#: The last day a promise made for this date still counts is 30 November: on 1 December it is broken.
SETTLES_ON_1_DECEMBER = date(2026, 11, 30) - timedelta(days=GRACE)
#: A promise for 2 December is reminded on 1 December (one day before).
REMINDED_ON_1_DECEMBER = date(2026, 12, 2)


@pytest.fixture
def two_branches(db, make_user):
    """North Jakarta (the first branch, WIB) and Makassar (WITA), each with one family holding two pending
    promises: one that breaks on 1 December, one reminded on 1 December."""
    user = make_user("telecollector")
    north = db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))
    north.name, north.zone = "Jakarta Utara", "WIB"
    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    session = db.session()
    for branch, card in ((north, "0000000000001"), (makassar, "0000000000002")):
        act_in_branch(session, branch.id)
        run_import(db, csv_bytes([row(card_no=card, phone=f"0812{card[-8:]}")]))
        family = db.session.scalar(select(Family).where(Family.branch_id == branch.id))
        for promised_on in (SETTLES_ON_1_DECEMBER, REMINDED_ON_1_DECEMBER):
            attempt = ContactAttempt(
                family_id=family.id,
                user_id=user.id,
                channel=Channel.phone,
                outcome="promise_to_pay",
                is_reached=True,
                is_right_party=True,
                at=datetime(2026, 11, 20, 3, tzinfo=UTC),
            )
            db.session.add(attempt)
            db.session.flush()
            db.session.add(
                Promise(
                    family_id=family.id,
                    attempt_id=attempt.id,
                    user_id=user.id,
                    made_on=date(2026, 11, 20),
                    promised_on=promised_on,
                    amount=100_000,
                )
            )
    act_in_branch(session, None)
    db.session.commit()
    return {"north": north.id, "makassar": makassar.id}


def broken_in(db, branches) -> set[str]:
    db.session.expire_all()
    broken = set(db.session.scalars(select(Promise.branch_id).where(Promise.state == PromiseState.broken)))
    return {name for name, branch_id in branches.items() if branch_id in broken}


def reminded_in(db, branches) -> set[str]:
    sent = set(db.session.scalars(select(SmsMessage.branch_id).where(SmsMessage.kind == SmsKind.promise_reminder)))
    return {name for name, branch_id in branches.items() if branch_id in sent}


def test_each_branch_settles_and_is_reminded_at_its_own_local_midnight(db, two_branches):
    before = WITA_MIDNIGHT - timedelta(minutes=2)  # 23:59 in Makassar, 22:59 in Jakarta
    settle_promises(before)
    plan_sms(before)
    assert broken_in(db, two_branches) == set() and reminded_in(db, two_branches) == set()

    result = settle_promises(WITA_MIDNIGHT)
    plan_sms(WITA_MIDNIGHT)
    assert result["1701"]["broken"] == 1 and result[FIRST_BRANCH_CODE]["broken"] == 0
    assert broken_in(db, two_branches) == {"makassar"}
    assert reminded_in(db, two_branches) == {"makassar"}

    settle_promises(WIB_MIDNIGHT)
    plan_sms(WIB_MIDNIGHT)
    assert broken_in(db, two_branches) == {"makassar", "north"}
    assert reminded_in(db, two_branches) == {"makassar", "north"}
    # Each reminder once, however many rounds ran.
    assert len(db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.promise_reminder)).all()) == 2


def test_the_scheduler_runs_the_branch_jobs_at_each_zones_midnight(app, db, two_branches):
    """The scheduler's own wiring, in frozen time: the WITA run fires at 16:01 UTC and settles Makassar only."""
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_jobs(app, scheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    noon = datetime(2026, 11, 30, 12, tzinfo=UTC)
    fires = {
        zone: jobs[f"settle_promises@{zone}"].trigger.get_next_fire_time(None, noon).astimezone(UTC)
        for zone in ("WIB", "WITA", "WIT")
    }
    assert fires == {
        "WIT": datetime(2026, 11, 30, 15, 1, tzinfo=UTC),
        "WITA": WITA_MIDNIGHT,
        "WIB": WIB_MIDNIGHT,
    }
    assert "plan_sms@WITA" in jobs
    with time_machine.travel(WITA_MIDNIGHT, tick=False):
        jobs["settle_promises@WIT"].func()  # no branch in WIT: nothing happens
        assert broken_in(db, two_branches) == set()
        jobs["settle_promises@WITA"].func()
    assert broken_in(db, two_branches) == {"makassar"}


def test_one_branch_failing_does_not_stop_the_others_and_is_retried_next_round(db, two_branches, caplog):
    north = db.session.get(Branch, two_branches["north"])
    north.settings = json.dumps({"PROMISE_GRACE_DAYS": "tiga"})  # a broken override: North's round fails
    db.session.commit()

    with caplog.at_level(logging.ERROR, logger="telecollect.scheduler"):
        result = settle_promises(WIB_MIDNIGHT)

    assert result[FAILED] == [FIRST_BRANCH_CODE]
    assert broken_in(db, two_branches) == {"makassar"}  # North came first, failed, and Makassar still ran
    assert any("settle_promises failed in branch 0000" in r.getMessage() for r in caplog.records)

    north = db.session.get(Branch, two_branches["north"])
    north.settings = "{}"
    db.session.commit()
    result = settle_promises(WIB_MIDNIGHT + timedelta(hours=1))  # the next round
    assert FAILED not in result
    assert broken_in(db, two_branches) == {"makassar", "north"}


def test_run_once_reports_each_branch(db, runner, two_branches):
    result = runner.invoke(args=["jobs", "run-once", "--now", "2026-12-01T00:01:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "settle_promises [1701]: {'kept': 0, 'partly_kept': 0, 'broken': 1" in result.output
    assert "settle_promises [0000]: {'kept': 0, 'partly_kept': 0, 'broken': 0" in result.output


def test_run_once_for_one_branch_runs_its_branch_jobs_only(db, runner, two_branches):
    result = runner.invoke(args=["jobs", "run-once", "--now", "2026-12-01T00:05:00+07:00", "--branch", "1701"])
    assert result.exit_code == 0, result.output
    assert "settle_promises [1701]: {'kept': 0, 'partly_kept': 0, 'broken': 1" in result.output
    assert "[0000]" not in result.output and "dispatch_sms" not in result.output
    assert broken_in(db, two_branches) == {"makassar"}
    unknown = runner.invoke(args=["jobs", "run-once", "--branch", "9999"])
    assert unknown.exit_code == 2 and "9999" in unknown.output


def test_settling_by_hand_in_one_branch_takes_its_local_day(db, runner, two_branches):
    """`flask payments settle --branch 1701` at 00:01 in Makassar (23:01 in Jakarta) settles Makassar's
    1 December, and Makassar's only; with two branches the command asks which."""
    with time_machine.travel(WITA_MIDNIGHT, tick=False):
        settled = runner.invoke(args=["payments", "settle", "--branch", "1701"])
        assert settled.exit_code == 0, settled.output
        assert broken_in(db, two_branches) == {"makassar"}
        unnamed = runner.invoke(args=["payments", "settle"])
    assert unnamed.exit_code == 2 and "--branch" in unnamed.output
    assert broken_in(db, two_branches) == {"makassar"}
