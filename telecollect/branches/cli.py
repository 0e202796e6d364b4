"""`flask branches …`: the installation's branches from the terminal."""

import click
from flask.cli import AppGroup

from telecollect.branches.models import ZONES
from telecollect.branches.queries import all_branches, branch_by_code
from telecollect.branches.services import add_branch, edit_branch, set_branch_setting
from telecollect.cli import fail
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.runtime import check_branch_setting
from telecollect.settings import installation

branches_group = AppGroup("branches", help="Manage the installation's branches (Kantor Cabang).")


@branches_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The branch's name, e.g. 'Jakarta Utara'.")
@click.option("--zone", required=True, type=click.Choice(ZONES))
@click.option("--deputy", help="Its regional deputy (Kedeputian Wilayah); a new name creates it.")
@click.option("--address", help="The office's address.")
def add(code, name, zone, deputy, address):
    """Add a branch."""
    try:
        branch = add_branch(db.session, code=code, name=name, zone=zone, deputy=deputy, address=address)
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"Added branch {branch.code} {branch.name} ({branch.zone}).")


@branches_group.command("edit")
@click.argument("code")
@click.option("--code", "new_code", help="A new code.")
@click.option("--name")
@click.option("--zone", type=click.Choice(ZONES))
@click.option("--deputy", help="Its regional deputy (a new name creates it; '' clears it).")
@click.option("--address")
def edit(code, new_code, name, zone, deputy, address):
    """Change a branch (what is not given stays)."""
    try:
        branch = edit_branch(
            db.session,
            branch_by_code(db.session, code),
            code=new_code,
            name=name,
            zone=zone,
            deputy=deputy,
            address=address,
        )
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"Changed branch {branch.code}.")


@branches_group.command("list")
def list_branches():
    """List the branches: code, name, zone, deputy region."""
    settings = installation()
    for branch in all_branches(db.session):
        name = branch.name or settings.branch_name or "-"
        zone = branch.zone or settings.branch_timezone
        deputy = branch.deputy_region.name if branch.deputy_region else "-"
        click.echo(f"{branch.code}\t{name}\t{zone}\t{deputy}")


@branches_group.command("set")
@click.argument("code")
@click.argument("key")
@click.argument("value", required=False, default="")
def set_setting(code, key, value):
    """Set one of the branch's own settings (VA_PREFIXES, TWILIO_FROM_NUMBER, DAILY_CALL_TARGET…); without
    VALUE, back to the installation's."""
    try:
        branch = branch_by_code(db.session, code)
        if value:
            check_branch_setting(key, value)
        set_branch_setting(branch, key.upper(), value)
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"{branch.code} {key.upper()} = {value or '(installation)'}")
