"""`flask users …`: accounts and API tokens from the terminal."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from telecollect.auth.models import Role, User
from telecollect.auth.services import areas_named, create_user, issue_token
from telecollect.cli import fail
from telecollect.errors import ServiceError
from telecollect.extensions import db

users_group = AppGroup("users", help="Manage staff accounts.")


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", help="Full name (defaults to the username).")
@click.option(
    "--area", "areas", multiple=True, help="Cadre area: kecamatan or kelurahan name or Kemendagri code. Repeatable."
)
@click.option("--timezone", default="WIB", type=click.Choice(["WIB", "WITA", "WIT"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
def create(username, role, name, areas, timezone, password_stdin):
    """Create an account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            db.session,
            username=username,
            role=role,
            name=name,
            password=password,
            areas=areas_named(db.session, list(areas)),
            timezone=timezone,
        )
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    area_text = f" areas: {', '.join(a.label for a in user.areas)}" if user.areas else ""
    click.echo(f"Created {user.username} ({user.role.value}).{area_text}")


@users_group.command("token")
@click.argument("username")
def token(username):
    """Print a new personal API token for USERNAME (shown once, stored hashed)."""
    user = db.session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        fail(f"no user {username!r}")
    if not user.is_active:
        fail(f"user {username!r} is deactivated")
    raw = issue_token(db.session, user)
    db.session.commit()
    click.echo(raw)


@users_group.command("list")
def list_users():
    """List accounts."""
    for user in db.session.scalars(select(User).order_by(User.role, User.username)):
        state = "" if user.is_active else " (deactivated)"
        areas = ", ".join(a.label for a in user.areas)
        click.echo(f"{user.username:20} {user.role.value:14} {user.name}{state} {areas}")
