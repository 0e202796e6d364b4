"""The scheduled jobs. Each is idempotent and safe if two schedulers run by mistake.

Every job takes `now`, the business time all rules use (the contact policy
included), so `flask jobs run-once --now …` replays any moment.

The branch jobs (settling, reminders: `BRANCH_JOBS`) run once per branch, each branch in its own unit of
work: in its scope (it reads and writes only its own rows), with its own settings, and on its own local
day (its zone: a WITA branch settles an hour before a WIB one). A branch whose round fails is rolled back
and logged with its code; the other branches go on, and the next round tries it again. The other jobs act
on instants, not days (claims, callbacks, sending), and serve every branch at once.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from telecollect.auth.scoping import BranchScope, current_branch_scope, enter_branch_scope
from telecollect.branches.models import Branch
from telecollect.branches.settings import branch_settings
from telecollect.branches.stamping import act_in_branch, acting_branch_or_none
from telecollect.clock import local_day
from telecollect.extensions import db
from telecollect.messaging.dispatch import Pace, dispatch_due
from telecollect.messaging.reminders import plan_reminders
from telecollect.metrics import DISPATCHED
from telecollect.queues import lifecycle
from telecollect.runtime import BranchSenders, branch_rules, contact_rules, sms_gateway
from telecollect.settings import Settings
from telecollect.telephony.cli import CALL_JOBS
from telecollect.workflows.settlement import settle

log = logging.getLogger("telecollect.scheduler")
#: The key of a branch job's answer that lists the branches whose round failed (tried again next round).
FAILED = "failed"


def each_branch(
    job: str,
    now: datetime,
    work: Callable[[Settings], dict],
    zones: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
) -> dict:
    """Run `work(settings)` once per active branch (only those in `zones`, or of `codes`, when given), each
    in its own unit of work and scope; returns {branch code: counts}, plus FAILED: [codes] when some failed."""
    session = db.session()
    stmt = select(Branch.id, Branch.code).where(Branch.is_active.is_(True)).order_by(Branch.code)
    if codes is not None:
        stmt = stmt.where(Branch.code.in_(list(codes)))
    branches = session.execute(stmt).all()
    wanted = set(zones) if zones is not None else None
    results: dict = {}
    failed: list[str] = []
    before_scope, before_acting = current_branch_scope(session), acting_branch_or_none(session)
    for branch_id, code in branches:
        try:
            settings = branch_settings(session, branch_id, current_app.config)
            if wanted is not None and settings.branch_timezone not in wanted:
                continue
            act_in_branch(session, branch_id)
            enter_branch_scope(session, BranchScope((branch_id,)))
            results[code] = work(settings)
            session.commit()
        except Exception:  # one branch's failure must not stop the others: logged, retried next round
            session.rollback()
            log.exception("%s failed in branch %s at %s; the other branches go on", job, code, now.isoformat())
            failed.append(code)
        finally:
            act_in_branch(session, before_acting)
            enter_branch_scope(session, before_scope)
    if failed:
        results[FAILED] = failed
    return results


def settle_promises(now: datetime, zones: Iterable[str] | None = None, codes: Iterable[str] | None = None) -> dict:
    """Per branch, on its local day: detect broken promises and missed installments (families go back to
    the queue)."""
    session = db.session()

    def work(settings: Settings) -> dict:
        return settle(session, local_day(now, settings.branch_timezone), now=now, settings=settings)

    return each_branch("settle_promises", now, work, zones, codes)


def plan_sms(now: datetime, zones: Iterable[str] | None = None, codes: Iterable[str] | None = None) -> dict:
    """Per branch, on its local day and with its switches and contact rules: queue the reminders due now
    (before the due day, promises, broken promises, installments, autodebit)."""
    session = db.session()

    def work(settings: Settings) -> dict:
        rules = branch_rules(session, acting_branch_or_none(session))
        return plan_reminders(session, rules, now, settings.branch_timezone, due_day=settings.installment_due_day)

    return each_branch("plan_sms", now, work, zones, codes)


def dispatch_sms(now: datetime) -> dict:
    """Send what is due through the configured gateway, each message from its branch's sender and under its
    branch's contact rules (the messages of every branch in one run)."""
    counts = dispatch_due(
        db.session,
        sms_gateway(),
        contact_rules(),
        now=now,
        batch_size=current_app.config["SMS_BATCH_SIZE"],
        pace=Pace.from_config(current_app.config),
        senders=BranchSenders(db.session(), current_app.config),
    ).counts
    for outcome, count in counts.items():
        if count:
            DISPATCHED.labels("sms", outcome).inc(count)  # each message was committed on its own
    return counts


def release_expired_claims(now: datetime) -> dict:
    """Clear claims whose lease ran out, so screens and counts show the truth."""
    released = lifecycle.free_lapsed_leases(db.session, now)
    db.session.commit()
    return {"released": released}


def return_follow_ups(now: datetime) -> dict:
    """Callbacks nobody took within the grace period become anyone's in the lists too."""
    returned = lifecycle.return_overdue_callbacks(db.session, now)
    db.session.commit()
    return {"returned": returned}


#: (job id, function, seconds between runs); the order of one round of `run-once`.
JOBS = (
    ("settle_promises", settle_promises, 3600),
    ("plan_sms", plan_sms, 900),
    ("dispatch_sms", dispatch_sms, 30),
    ("release_expired_claims", release_expired_claims, 300),
    ("return_follow_ups", return_follow_ups, 300),
    *CALL_JOBS,
)
#: The jobs about a branch's day: besides their interval, the scheduler runs them for each zone's branches
#: at a minute past that zone's local midnight (`flask scheduler run`), so a new day is settled at once.
BRANCH_JOBS = ("settle_promises", "plan_sms")
