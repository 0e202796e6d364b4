"""`flask import payments FILE` and `flask payments settle`."""

import click
from flask.cli import AppGroup

from telecollect.branch_commands import branch_option, command_settings, enter_branch
from telecollect.cli import Day
from telecollect.clock import local_day
from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.imports.cli import register_import_command
from telecollect.workflows import settlement
from telecollect.workflows.imports import import_payments

register_import_command(
    "payments",
    import_payments,
    "Import payments (card_no or family_id, amount, paid_on, reference, channel) from FILE.",
)

payments_group = AppGroup("payments", help="Promises and installment plans that fall due.")


@payments_group.command("settle")
@click.option(
    "--on",
    "on",
    type=Day(),
    help="As of this day (default: today in the branch's zone).",
)
@branch_option
def settle(on, branch_code):
    """Mark promises past their grace as partly kept or broken, and installments as missed, in one branch
    (--branch; not needed in an installation of one branch), on its local day and with its grace days."""
    now = now_utc()
    settings = command_settings(enter_branch(branch_code))
    zone = settings.branch_timezone
    counts = settlement.settle(db.session, on if on else local_day(now, zone), now=now, settings=settings)
    db.session.commit()
    click.echo(", ".join(f"{name} {count}" for name, count in counts.items()))
