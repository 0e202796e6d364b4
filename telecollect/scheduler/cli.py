"""`flask scheduler run` (the long-running scheduler) and `flask jobs run-once`."""

import logging
import os
import socket
import time
from datetime import UTC, datetime

import click
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from telecollect.branches.queries import branch_count, named_branch
from telecollect.cli import fail, within_years
from telecollect.clock import ZONES
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.scheduler.housekeeping import RETENTION_JOBS
from telecollect.scheduler.jobs import BRANCH_JOBS, FAILED, JOBS

scheduler_group = AppGroup("scheduler", help="The job scheduler (its own process, never in web workers).")
jobs_group = AppGroup("jobs", help="Run the scheduled jobs by hand.")
LEADER_LOCK = 727_0001
log = logging.getLogger("telecollect.scheduler")


@jobs_group.command("run-once")
@click.option("--now", "at", help="Business time, ISO 8601 (default: the clock). Every rule uses it.")
@click.option(
    "--branch",
    "branch_code",
    metavar="CODE",
    help="Only the branch jobs (settling, reminders), for this branch only: e.g. again after its round failed.",
)
def run_once(at, branch_code):
    """Run each job once, in order, as of NOW."""
    now = _parse_now(at)
    if branch_code:
        try:
            named_branch(db.session, branch_code)
        except ServiceError as exc:
            fail(exc.message, 2)
    for job_id, job, _every in JOBS + RETENTION_JOBS:
        if branch_code and job_id not in BRANCH_JOBS:
            continue
        result = job(now, codes=(branch_code,)) if branch_code else job(now)
        for line in _result_lines(job_id, result):
            click.echo(line)


def _result_lines(job_id: str, result: dict) -> list[str]:
    """`job: counts`; a branch job's counts branch by branch (`job [CODE]: counts`), but an installation of
    one branch reads as before; the branches whose round failed last (they run again next round)."""
    if job_id not in BRANCH_JOBS:
        return [f"{job_id}: {result}"]
    failed = result.get(FAILED, [])
    done = {code: counts for code, counts in result.items() if code != FAILED}
    if len(done) == 1 and not failed and branch_count(db.session) == 1:
        return [f"{job_id}: {next(iter(done.values()))}"]
    lines = [f"{job_id} [{code}]: {counts}" for code, counts in done.items()]
    return lines + ([f"{job_id}: failed in {', '.join(failed)}"] if failed else [])


@scheduler_group.command("run")
def run():
    """Run the jobs on their intervals until stopped (start it beside the web server)."""
    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _wait_for_leadership(app)
    scheduler = BlockingScheduler(timezone=UTC)
    schedule_jobs(app, scheduler)
    click.echo(
        f"scheduler running on {socket.gethostname()} (pid {os.getpid()}): "
        + ", ".join(f"{job_id} every {every}s" for job_id, _job, every in JOBS + RETENTION_JOBS)
        + "; "
        + ", ".join(f"{job_id} at 00:01 {zone}" for job_id in BRANCH_JOBS for zone in ZONES)
    )
    scheduler.start()


def schedule_jobs(app, scheduler: BaseScheduler) -> None:
    """Every job on its interval (the first run at once); and each branch job (settling, reminders) also at
    a minute past each zone's local midnight, for that zone's branches: a branch's new day is settled and
    reminded as it begins, in its own time, not up to an interval later."""
    for job_id, job, every in JOBS + RETENTION_JOBS:
        scheduler.add_job(
            _in_app(app, job),
            "interval",
            seconds=every,
            id=job_id,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=max(30, every // 2),
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
    by_id = {job_id: job for job_id, job, _every in JOBS}
    for job_id in BRANCH_JOBS:
        for zone, tz in ZONES.items():
            scheduler.add_job(
                _in_app(app, by_id[job_id], zones=(zone,)),
                CronTrigger(hour=0, minute=1, timezone=tz),
                id=f"{job_id}@{zone}",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=3600,
                max_instances=1,
            )


def _in_app(app, job, **options):
    def run_job():
        with app.app_context():
            try:
                log.info("%s: %s", job.__name__, job(now_utc(), **options))
            except Exception:  # one failed round must not stop the scheduler
                db.session.rollback()
                log.exception("%s failed", job.__name__)

    return run_job


def _wait_for_leadership(app) -> None:
    """On PostgreSQL one scheduler leads (a session-level advisory lock); others wait as standby.

    The jobs are safe to run twice anyway (claims and unique keys); the lock
    only avoids doing the work twice. SQLite deployments run one scheduler.
    """
    if db.engine.dialect.name != "postgresql":
        return
    connection = db.engine.connect()  # kept open for the life of the process: it holds the lock
    app.extensions["telecollect.leader_connection"] = connection
    while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK}).scalar():
        connection.commit()
        click.echo("another scheduler leads; standing by")
        time.sleep(30)
    connection.commit()


def _parse_now(at: str | None) -> datetime:
    if not at:
        return now_utc()
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise click.BadParameter(
            f"expected ISO 8601 like 2026-11-24T09:00:00+07:00, got {at!r}", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a time zone offset, e.g. +07:00", param_hint="--now")
    within_years(moment.date(), param_hint="--now")
    return moment.astimezone(UTC)
