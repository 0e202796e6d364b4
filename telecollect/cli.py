"""What every command module shares: the groups several domains add to, `fail`, option types.

Imports nothing of the domains: `telecollect.commands` gathers the domains' commands.
"""

from typing import NoReturn

import click
from flask.cli import AppGroup

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
