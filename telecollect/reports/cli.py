"""`flask report arrears`."""
import click

from telecollect.cli import report_group
from telecollect.extensions import db
from telecollect.reports.export import render
from telecollect.reports.queries import ARREARS_GROUPINGS, arrears_by


@report_group.command("arrears")
@click.option("--by", "by", required=True, type=click.Choice(ARREARS_GROUPINGS))
@click.option("--format", "fmt", default="table", type=click.Choice(["csv", "json", "table"]))
def arrears(by, fmt):
    """Participants in arrears and the amount owed, per group, largest first."""
    rows = arrears_by(db.session, by)
    click.echo(render(rows, [by, "participants", "arrears_amount"], fmt), nl=fmt != "csv")
