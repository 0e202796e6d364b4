"""`flask report arrears` and `flask report outcomes`."""

import click

from telecollect.cli import report_group
from telecollect.errors import ServiceError
from telecollect.extensions import reports_session
from telecollect.reports.dashboard import report_period
from telecollect.reports.export import render
from telecollect.reports.funnel import CSV_COLUMNS, GROUPINGS, RATES, Scope, outcome_funnel
from telecollect.reports.queries import ARREARS_GROUPINGS, arrears_by, arrears_columns
from telecollect.settings import installation


@report_group.command("arrears")
@click.option("--by", "by", required=True, type=click.Choice(ARREARS_GROUPINGS))
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
def arrears(by, fmt):
    """Participants in arrears and the amount owed, per group (a place with its code and parents), largest first."""
    rows = arrears_by(reports_session(), by)
    click.echo(render(rows, arrears_columns(by), fmt), nl=fmt != "csv")


@report_group.command("outcomes")
@click.option("--by", "by", required=True, type=click.Choice(GROUPINGS))
@click.option("--from", "date_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--queue", type=click.Choice(["telecollect", "cadre"]))
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
def outcomes(by, date_from, date_to, queue, fmt):
    """The outcome funnel for a date range (branch days, in BRANCH_TIMEZONE), one row per group."""
    try:
        period = report_period(date_from.date(), date_to.date(), installation().branch_timezone)
    except ServiceError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    rows = outcome_funnel(reports_session(), by, period, Scope(queue=queue))
    columns = [by, *CSV_COLUMNS] if fmt != "json" else [by, *CSV_COLUMNS, *RATES]
    click.echo(render(rows, columns, fmt), nl=fmt != "csv")
