"""Command groups shared by several domains; each domain adds its commands."""
import click
from flask.cli import AppGroup

import_group = AppGroup("import", help="Import participants, regions and other files.")
report_group = AppGroup("report", help="Print reports as a table, CSV or JSON.")


def register_commands(app) -> None:
    from telecollect.auth.cli import users_group
    from telecollect.demo.cli import demo_group
    from telecollect.participants import cli as participants_cli  # noqa: F401  (adds to import)
    from telecollect.payments.cli import payments_group
    from telecollect.programs.cli import programs_group
    from telecollect.scheduler.cli import jobs_group, scheduler_group
    from telecollect.queues.cli import holidays_group, queue_group
    from telecollect.regions import cli as regions_cli  # noqa: F401
    from telecollect.reports import cli as reports_cli  # noqa: F401

    for group in (import_group, report_group, users_group, demo_group, queue_group, holidays_group,
                  payments_group, programs_group, scheduler_group, jobs_group):
        app.cli.add_command(group)


def fail(message: str, code: int = 1):
    """Stop a command with a message on standard error and a non-zero exit."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)
