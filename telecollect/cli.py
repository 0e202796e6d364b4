"""Command groups shared by several domains; each domain adds its commands."""
import click
from flask.cli import AppGroup

from telecollect.money import parse_positive_rupiah
from telecollect.reasons import Refusal

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


class PositiveRupiah(click.ParamType):
    """An amount option written as people write it (1000000, 1.000.000, Rp1.000.000), above 0."""

    name = "rupiah"

    def convert(self, value, param, ctx):
        try:
            return parse_positive_rupiah(value)
        except Refusal as exc:
            self.fail(str(exc), param, ctx)
