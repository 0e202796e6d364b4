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
from prometheus_client import start_http_server
from sqlalchemy import text

from telecollect.branches.queries import branch_count, named_branch
from telecollect.cli import fail, within_years
from telecollect.clock import ZONES
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.metrics import SCHEDULER_LEADER, timed_job
from telecollect.ops.logs import configure_logging
from telecollect.scheduler.housekeeping import RETENTION_JOBS
from telecollect.scheduler.jobs import BRANCH_JOBS, FAILED, JOBS
from telecollect.scheduler.partitions import PARTITION_JOBS

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
    for job_id, job, _every in JOBS + RETENTION_JOBS + PARTITION_JOBS:
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
    _start_process(app, "scheduler")
    _wait_for_leadership(app)
    _schedule(app, JOBS + RETENTION_JOBS + PARTITION_JOBS, "scheduler")


@scheduler_group.command("dispatch")
def dispatch():
    """Only send the outbox (job dispatch_sms), as many of these as the traffic needs, on any node.

    Dispatchers need no leader: each claims its own rows (FOR UPDATE SKIP LOCKED), so two never send a
    message twice. They say at start which scheduler leads."""
    app = current_app._get_current_object()
    _start_process(app, "dispatcher")
    leader = leader_status()
    log.info("dispatcher started; scheduler leader: %s", leader["leader"] or "none", extra=_identity("dispatcher"))
    _schedule(app, [job for job in JOBS if job[0] == "dispatch_sms"], "dispatcher")


@scheduler_group.command("status")
def status():
    """Which scheduler leads now (PostgreSQL: the holder of the leader lock), and the standbys waiting."""
    found = leader_status()
    if found["engine"] != "postgresql":
        click.echo("SQLite: one scheduler, no election (run a single `flask scheduler run`).")
        return
    click.echo(f"leader: {found['leader'] or 'none (no scheduler runs, or none has taken the lock yet)'}")
    for standby in found["standbys"]:
        click.echo(f"standby: {standby}")


def leader_status() -> dict:
    """The scheduler holding the leader lock and those waiting, by the name each gives its connection
    (`telecollect-scheduler <host> pid <pid>`); read from pg_stat_activity, so from any node."""
    if db.engine.dialect.name != "postgresql":
        return {"engine": db.engine.dialect.name, "leader": None, "standbys": []}
    rows = db.session.execute(
        text(
            "SELECT a.application_name, l.granted FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1"
        ),
        {"key": LEADER_LOCK},
    ).all()
    standbys = db.session.scalars(
        text("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE :standby"),
        {"standby": f"{_APPLICATION} standby %"},
    ).all()
    db.session.rollback()
    leader = next((name for name, granted in rows if granted), None)
    return {"engine": "postgresql", "leader": leader, "standbys": list(standbys)}


#: How a scheduler names its connection on PostgreSQL (pg_stat_activity.application_name).
_APPLICATION = "telecollect-scheduler"


def _identity(role: str) -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "role": role}


def _start_process(app, role: str) -> None:
    """Logs as the web app does (LOG_FORMAT), and this process's metrics on SCHEDULER_METRICS_LISTEN."""
    configure_logging(app.config["LOG_FORMAT"])
    listen = app.config.get("SCHEDULER_METRICS_LISTEN") or ""
    if listen:
        host, _, port = listen.rpartition(":")
        start_http_server(int(port), addr=host or "127.0.0.1")
        log.info("metrics on http://%s/metrics", listen, extra=_identity(role))


def _schedule(app, jobs, role: str) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    schedule_jobs(app, scheduler, jobs, at_branch_midnights=role == "scheduler")
    midnights = [f"{job_id} at 00:01 {zone}" for job_id in BRANCH_JOBS for zone in ZONES] if role == "scheduler" else []
    click.echo(
        f"{role} running on {socket.gethostname()} (pid {os.getpid()}): "
        + ", ".join([*(f"{job_id} every {every}s" for job_id, _job, every in jobs), *midnights])
    )
    scheduler.start()


def schedule_jobs(
    app, scheduler: BaseScheduler, jobs=JOBS + RETENTION_JOBS + PARTITION_JOBS, *, at_branch_midnights=True
) -> None:
    """Every job on its interval (the first run at once); and each branch job (settling, reminders) also at
    a minute past each zone's local midnight, for that zone's branches: a branch's new day is settled and
    reminded as it begins, in its own time, not up to an interval later."""
    for job_id, job, every in jobs:
        scheduler.add_job(
            _in_app(app, job_id, job),
            "interval",
            seconds=every,
            id=job_id,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=max(30, every // 2),
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
    if not at_branch_midnights:
        return
    by_id = {job_id: job for job_id, job, _every in JOBS}
    for job_id in BRANCH_JOBS:
        for zone, tz in ZONES.items():
            scheduler.add_job(
                _in_app(app, job_id, by_id[job_id], zones=(zone,)),
                CronTrigger(hour=0, minute=1, timezone=tz),
                id=f"{job_id}@{zone}",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=3600,
                max_instances=1,
            )


def _in_app(app, job_id, job, **options):
    def run_job():
        with app.app_context():
            try:
                with timed_job(job_id):
                    outcome = job(now_utc(), **options)
                log.info("%s: %s", job_id, outcome, extra={"job": job_id})
            except Exception:  # one failed round must not stop the scheduler
                db.session.rollback()
                log.exception("%s failed", job_id, extra={"job": job_id})

    return run_job


def _wait_for_leadership(app) -> None:
    """On PostgreSQL one scheduler leads (a session-level advisory lock); others wait as standby.

    The jobs are safe to run twice anyway (claims and unique keys); the lock
    only avoids doing the work twice. SQLite deployments run one scheduler.
    Each says what it is in its log, in the metric `telecollect_scheduler_leader`, and in its connection's
    name, which `flask scheduler status` reads from any node.
    """
    identity = _identity("scheduler")
    me = f"{identity['host']} pid {identity['pid']}"
    if db.engine.dialect.name != "postgresql":
        SCHEDULER_LEADER.labels(identity["host"], str(identity["pid"]), "scheduler").set(1)
        log.info("scheduler leads (SQLite: a single scheduler, no election)", extra=identity)
        return
    connection = db.engine.connect()  # kept open for the life of the process: it holds the lock
    app.extensions["telecollect.leader_connection"] = connection
    name = text("SELECT set_config('application_name', :name, false)")
    connection.execute(name, {"name": f"{_APPLICATION} standby {me}"})
    announced = False
    while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK}).scalar():
        connection.commit()
        if not announced:
            SCHEDULER_LEADER.labels(identity["host"], str(identity["pid"]), "scheduler").set(0)
            log.info("another scheduler leads; standing by", extra=identity)
            click.echo("another scheduler leads; standing by")
            announced = True
        time.sleep(30)
    connection.execute(name, {"name": f"{_APPLICATION} leader {me}"})
    connection.commit()
    SCHEDULER_LEADER.labels(identity["host"], str(identity["pid"]), "scheduler").set(1)
    log.info("this scheduler leads", extra=identity)


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
