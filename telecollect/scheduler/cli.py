"""`flask scheduler run` (the long-running scheduler) and `flask jobs run-once`."""

import logging
import os
import socket
import time
from datetime import UTC, datetime

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from telecollect.cli import within_years
from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.scheduler.housekeeping import RETENTION_JOBS
from telecollect.scheduler.jobs import JOBS
from telecollect.scheduler.partitions import PARTITION_JOBS

scheduler_group = AppGroup("scheduler", help="The job scheduler (its own process, never in web workers).")
jobs_group = AppGroup("jobs", help="Run the scheduled jobs by hand.")
LEADER_LOCK = 727_0001
log = logging.getLogger("telecollect.scheduler")


@jobs_group.command("run-once")
@click.option("--now", "at", help="Business time, ISO 8601 (default: the clock). Every rule uses it.")
def run_once(at):
    """Run each job once, in order, as of NOW."""
    now = _parse_now(at)
    for job_id, job, _every in JOBS + RETENTION_JOBS + PARTITION_JOBS:
        click.echo(f"{job_id}: {job(now)}")


@scheduler_group.command("run")
def run():
    """Run the jobs on their intervals until stopped (start it beside the web server)."""
    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _wait_for_leadership(app)
    scheduler = BlockingScheduler(timezone=UTC)
    for job_id, job, every in JOBS + RETENTION_JOBS + PARTITION_JOBS:
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
    click.echo(
        f"scheduler running on {socket.gethostname()} (pid {os.getpid()}): "
        + ", ".join(f"{job_id} every {every}s" for job_id, _job, every in JOBS + RETENTION_JOBS + PARTITION_JOBS)
    )
    scheduler.start()


def _in_app(app, job):
    def run_job():
        with app.app_context():
            try:
                log.info("%s: %s", job.__name__, job(now_utc()))
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
