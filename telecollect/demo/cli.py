"""`flask demo seed`."""

import click
from flask.cli import AppGroup

from telecollect.clock import local_day
from telecollect.db import now_utc, refresh_planner_statistics
from telecollect.demo.services import existing_demo_logins, is_empty, seed_demo, seed_second_branch
from telecollect.extensions import db
from telecollect.settings import installation

demo_group = AppGroup("demo", help="Demo data for trying the system.")


@demo_group.command("seed")
@click.option("--participants", default=3000, type=click.IntRange(1, 2_000_000), show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds users or participants.")
@click.option("--no-activity", is_flag=True, help="Only people and places: no simulated weeks of work.")
@click.option(
    "--two-branches",
    is_flag=True,
    help="Also Makassar (WITA) beside North Jakarta (WIB), with its staff, and a regional and a national viewer.",
)
def seed(participants, if_empty, no_activity, two_branches):
    """Create North Jakarta's districts, participants in arrears and one login per role."""
    if if_empty and not is_empty(db.session):
        click.echo("Database already has data; demo seed skipped.")
        logins = existing_demo_logins(db.session)
    else:
        settings = installation()
        today = local_day(now_utc(), settings.branch_timezone)
        logins = seed_demo(
            db.session, today, settings=settings, participants=participants, with_activity=not no_activity
        )
        db.session.commit()
        click.echo(f"Demo branch ready: {participants} participants in North Jakarta.")
        if two_branches:
            logins += seed_second_branch(db.session(), today, participants=max(1, participants // 3))
            db.session.commit()
            click.echo(f"Second branch ready: {max(1, participants // 3)} participants in Makassar (WITA).")
        refresh_planner_statistics(db.session())  # the simulated weeks of work were written after the import
        db.session.commit()
    if logins:
        click.echo("Demo logins (role, username, password):")
        for username, role, password in logins:
            click.echo(f"  {role:14} {username:12} {password}")
