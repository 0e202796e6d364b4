"""The monthly partitions of PostgreSQL's history tables: the scheduler's job and `flask db partitions`.

The rules live in telecollect.partitions; on SQLite both do nothing.
"""

from datetime import datetime

import click
from flask_migrate.cli import db as db_group

from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.partitions import MONTHS_AHEAD, ensure_partitions, list_partitions


def create_partitions_ahead(now: datetime) -> dict:
    """Daily (a missed month is caught the next day): create this month's and the next months' partitions,
    and move rows waiting in a default partition into their month's. Idempotent."""
    created = ensure_partitions(db.session, now.date(), MONTHS_AHEAD)
    db.session.commit()
    return {"created": len(created)}


#: (job id, function, seconds between runs), run by the scheduler beside `scheduler.jobs.JOBS`.
PARTITION_JOBS = (("create_partitions_ahead", create_partitions_ahead, 24 * 3600),)


@db_group.command("partitions")
@click.option(
    "--ahead", type=click.IntRange(0, 120), default=MONTHS_AHEAD, show_default=True, help="Months after this one."
)
@click.option("--list-only", is_flag=True, help="Only list the partitions; create nothing.")
def partitions(ahead, list_only):
    """Create the monthly partitions of the coming months (PostgreSQL), then list them all."""
    if db.engine.dialect.name != "postgresql":
        click.echo("SQLite: no partitions (PostgreSQL only).")
        return
    if not list_only:
        for name in ensure_partitions(db.session, now_utc().date(), ahead):
            click.echo(f"created {name}")
        db.session.commit()
    for partition in list_partitions(db.session):
        month = f"{partition.month:%Y-%m}" if partition.month else "default"
        click.echo(f"{partition.table:<20} {partition.name:<32} {month:>8} {partition.rows:>12,} rows")
