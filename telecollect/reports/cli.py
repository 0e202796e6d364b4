"""`flask report arrears`, `flask report outcomes` and `flask report messages`."""

import click

from telecollect.branch_commands import branch_option, command_settings, enter_branch
from telecollect.cli import report_group
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.reports.dashboard import report_period
from telecollect.reports.export import render
from telecollect.reports.funnel import CSV_COLUMNS, GROUPINGS, RATES, Scope, outcome_funnel
from telecollect.reports.messages import COST_COLUMNS, MESSAGE_COLUMNS, PAYMENT_COLUMNS, messages_report
from telecollect.reports.queries import ARREARS_GROUPINGS, arrears_by, arrears_columns


@report_group.command("arrears")
@click.option("--by", "by", required=True, type=click.Choice(ARREARS_GROUPINGS))
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
@branch_option
def arrears(by, fmt, branch_code):
    """Participants in arrears and the amount owed, per group (a place with its code and parents), largest first.
    Without --branch in an installation of several branches: every branch."""
    enter_branch(branch_code, every_branch_without=True)
    rows = arrears_by(db.session, by)
    click.echo(render(rows, arrears_columns(by), fmt), nl=fmt != "csv")


@report_group.command("outcomes")
@click.option("--by", "by", required=True, type=click.Choice(GROUPINGS))
@click.option("--from", "date_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--queue", type=click.Choice(["telecollect", "cadre"]))
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
@branch_option
def outcomes(by, date_from, date_to, queue, fmt, branch_code):
    """The outcome funnel for a date range (branch days, in the branch's zone), one row per group. Without
    --branch in an installation of several branches: every branch, in the installation's BRANCH_TIMEZONE."""
    branch = enter_branch(branch_code, every_branch_without=True)
    try:
        period = report_period(date_from.date(), date_to.date(), command_settings(branch).branch_timezone)
    except ServiceError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    rows = outcome_funnel(db.session, by, period, Scope(queue=queue))
    columns = [by, *CSV_COLUMNS] if fmt != "json" else [by, *CSV_COLUMNS, *RATES]
    click.echo(render(rows, columns, fmt), nl=fmt != "csv")


@report_group.command("messages")
@click.option("--from", "date_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option(
    "--table",
    "table",
    default="kinds",
    type=click.Choice(["kinds", "payments", "costs"]),
    help="kinds: messages by channel and kind; payments: payments within 7 days of a delivered reminder, by "
    "channel; costs: what Twilio charged, per kind.",
)
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
@branch_option
def messages(date_from, date_to, table, fmt, branch_code):
    """Messages by channel and kind (delivered and read rates, cost), for a date range (branch days). Without
    --branch in an installation of several branches: every branch, in the installation's BRANCH_TIMEZONE."""
    branch = enter_branch(branch_code, every_branch_without=True)
    try:
        period = report_period(date_from.date(), date_to.date(), command_settings(branch).branch_timezone)
    except ServiceError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    report = messages_report(db.session, period)
    rows, columns = {
        "kinds": (report.messages, MESSAGE_COLUMNS),
        "payments": (report.payments, PAYMENT_COLUMNS),
        "costs": (report.costs, COST_COLUMNS),
    }[table]
    click.echo(render(rows, list(columns), fmt), nl=fmt != "csv")
