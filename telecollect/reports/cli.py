"""`flask report arrears`, `flask report outcomes` and `flask report messages`."""

import click

from telecollect.branch_commands import branch_option, command_settings, enter_branch
from telecollect.branches.queries import branches_of_deputy, deputy_by_code_or_name
from telecollect.cli import fail, report_group
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.replica import reports_session
from telecollect.reports.dashboard import report_period
from telecollect.reports.export import render
from telecollect.reports.funnel import CSV_COLUMNS, GROUPINGS, RATES, ROLLUPS, Scope
from telecollect.reports.messages import COST_COLUMNS, MESSAGE_COLUMNS, PAYMENT_COLUMNS, messages_report
from telecollect.reports.queries import ARREARS_GROUPINGS, arrears_by, arrears_columns
from telecollect.reports.rollups import branch_zones, funnel_across


@report_group.command("arrears")
@click.option("--by", "by", required=True, type=click.Choice(ARREARS_GROUPINGS))
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
@branch_option
def arrears(by, fmt, branch_code):
    """Participants in arrears and the amount owed, per group (a place with its code and parents), largest first.
    Without --branch in an installation of several branches: every branch."""
    enter_branch(branch_code, every_branch_without=True)
    rows = arrears_by(reports_session(), by)
    click.echo(render(rows, arrears_columns(by), fmt), nl=fmt != "csv")


@report_group.command("outcomes")
@click.option("--by", "by", required=True, type=click.Choice(GROUPINGS + ROLLUPS))
@click.option("--from", "date_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--queue", type=click.Choice(["telecollect", "cadre"]))
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
@click.option("--deputy", "deputy", metavar="CODE|NAME", help="Only the branches of this regional deputy.")
@branch_option
def outcomes(by, date_from, date_to, queue, fmt, deputy, branch_code):
    """The outcome funnel for a date range, one row per group (--by branch or deputy: the roll-ups). Dates are
    each branch's local days, in its zone. Without --branch in an installation of several branches: every
    branch (or, with --deputy, that regional deputy's)."""
    if deputy and branch_code:
        fail(ServiceError("rollup_branch_and_deputy", "deputy").message, 2)
    branch = enter_branch(branch_code, every_branch_without=True)
    settings = command_settings(branch)
    try:
        period = report_period(date_from.date(), date_to.date(), settings.branch_timezone)
    except ServiceError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    scope = Scope(queue=queue)
    if branch is not None:  # one branch: its own zone, its scope already entered
        zones = {settings.branch_timezone: (branch.id,)}
    else:
        ids = None
        if deputy:
            try:
                ids = tuple(branches_of_deputy(db.session, deputy_by_code_or_name(db.session, deputy).id))
            except ServiceError as exc:
                fail(exc.message, 2)
            scope = Scope(queue=queue, branch_ids=ids)
        zones = branch_zones(db.session, settings.branch_timezone, ids)
    rows = funnel_across(reports_session(), by, period, scope, zones)
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
    report = messages_report(reports_session(), period)
    rows, columns = {
        "kinds": (report.messages, MESSAGE_COLUMNS),
        "payments": (report.payments, PAYMENT_COLUMNS),
        "costs": (report.costs, COST_COLUMNS),
    }[table]
    click.echo(render(rows, list(columns), fmt), nl=fmt != "csv")
