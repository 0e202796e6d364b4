"""`flask programs list|add`: relief programs are data with effective dates."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from telecollect.cli import Day, fail
from telecollect.extensions import db
from telecollect.programs.models import ProgramKind, ReliefProgram

programs_group = AppGroup("programs", help="Relief programs (REHAB, relaxations).")
DATE = Day()
#: Bounds no program comes near (REHAB: 4–24 months, at most 12 installments), which keep a typo such as
#: 99999999999999999999 from reaching the database.
MAX_MONTHS, MAX_INSTALLMENTS = 600, 120


@programs_group.command("list")
def list_programs():
    """List programs and their rules."""
    for p in db.session.scalars(select(ReliefProgram).order_by(ReliefProgram.effective_from)):
        until = p.effective_to.isoformat() if p.effective_to else "…"
        click.echo(
            f"{p.code:16} {p.kind.value:12} {p.effective_from}–{until} segments={p.segments} "
            f"months={p.min_months}–{p.max_months or '…'} installments≤{p.max_installments} ÷{p.installment_divisor} "
            f"register≤{p.registration_last_day} (Feb ≤{p.registration_last_day_february}) "
            f"current_month={'yes' if p.includes_current_month else 'no'}"
        )


@programs_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice([k.value for k in ProgramKind]), default="installment", show_default=True)
@click.option("--from", "effective_from", type=DATE, required=True, help="First day the rules apply.")
@click.option("--to", "effective_to", type=DATE, help="Last day (empty: until replaced).")
@click.option("--segments", default="PBPU,BP", show_default=True)
@click.option("--min-months", type=click.IntRange(1, MAX_MONTHS), required=True)
@click.option("--max-months", type=click.IntRange(1, MAX_MONTHS))
@click.option("--max-installments", type=click.IntRange(1, MAX_INSTALLMENTS))
@click.option(
    "--divisor",
    "installment_divisor",
    type=click.IntRange(1, MAX_INSTALLMENTS),
    help="At most months ÷ this installments.",
)
@click.option("--last-day", "registration_last_day", type=click.IntRange(1, 31), default=31, show_default=True)
@click.option(
    "--last-day-february", "registration_last_day_february", type=click.IntRange(1, 29), default=29, show_default=True
)
@click.option("--includes-current-month", is_flag=True)
@click.option("--pay-months", type=click.IntRange(1, MAX_MONTHS), help="Relaxation: months to pay to reactivate.")
@click.option("--settle-by", type=DATE, help="Relaxation: the rest paid by this date.")
def add(code, kind, effective_from, effective_to, segments, **rules):
    """Add a program (for example New REHAB 2.0) without changing code."""
    if db.session.scalar(select(ReliefProgram.id).where(ReliefProgram.code == code)):
        fail(f"program {code} exists")
    if kind == "installment" and not rules["max_installments"]:
        fail("an installment program needs --max-installments")
    if kind == "relaxation" and not (rules["pay_months"] and rules["settle_by"]):
        fail("a relaxation needs --pay-months and --settle-by")
    if rules["max_months"] is not None and rules["min_months"] > rules["max_months"]:
        raise click.BadParameter(
            _(
                "must not be more than --max-months (%(low)s > %(high)s)",
                low=rules["min_months"],
                high=rules["max_months"],
            ),
            param_hint="--min-months",
        )
    if effective_to is not None and effective_to < effective_from:
        raise click.BadParameter(_("must not be before --from"), param_hint="--to")
    bad = set(segments.upper().split(",")) - {"PBPU", "BP", "PPU", "PBI"}
    if bad:
        fail(f"unknown segment(s): {', '.join(sorted(bad))}")
    db.session.add(
        ReliefProgram(
            code=code,
            kind=ProgramKind(kind),
            effective_from=effective_from,
            effective_to=effective_to,
            segments=segments.upper(),
            **rules,
        )
    )
    db.session.commit()
    click.echo(f"Added {code}")
