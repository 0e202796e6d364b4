"""What every command module shares: the groups several domains add to, `fail`, option types.

Imports nothing of the domains: `telecollect.commands` gathers the domains' commands.
"""

from datetime import date
from typing import NoReturn

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from telecollect.money import parse_positive_rupiah
from telecollect.reasons import Refusal

import_group = AppGroup("import", help="Import participants, regions and other files.")
report_group = AppGroup("report", help="Print reports as a table, CSV or JSON.")


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop a command with a message on standard error and a non-zero exit."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


class PositiveRupiah(click.ParamType):
    """An amount option written as people write it (1000000, 1.000.000, Rp1.000.000), above 0."""

    name = "rupiah"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return parse_positive_rupiah(value)
        except Refusal as exc:
            self.fail(str(exc), param, ctx)


#: The years a business date given to a command may fall in: beyond them the rules' date arithmetic
#: overflows (year 1 or 9999) and no branch has business there anyway.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class Day(click.ParamType):
    """A day written YYYY-MM-DD, in the years 2000–2100."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                self.fail(_("expected a date as YYYY-MM-DD, got %(value)s", value=repr(value)), param, ctx)
        return within_years(day, param, ctx)


def within_years(
    day: date, param: click.Parameter | None = None, ctx: click.Context | None = None, *, param_hint: str | None = None
) -> date:
    """`day`, or a usage error (exit 2) when it is outside FIRST_YEAR–LAST_YEAR."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise click.BadParameter(
            _("%(day)s is outside the years %(low)s–%(high)s", day=day.isoformat(), low=FIRST_YEAR, high=LAST_YEAR),
            ctx,
            param,
            param_hint,
        )
    return day
