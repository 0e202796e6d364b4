"""`flask users …`: accounts and API tokens from the terminal."""

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from telecollect.auth.models import ApiToken, Role, User
from telecollect.auth.services import (
    TOKEN_DAYS,
    areas_named,
    create_user,
    issue_token,
    revoke_token,
    revoke_tokens_of,
    set_agent_phone,
    tokens_of,
)
from telecollect.branches.models import DeputyRegion
from telecollect.branches.queries import named_branch
from telecollect.cli import fail
from telecollect.db import now_utc
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
@click.option("--phone", "agent_phone", help="The phone the system rings when this telecollector calls (+62… or sip:).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@click.option(
    "--branch", "branch_code", metavar="CODE", help="The branch of a branch role (not needed with one branch)."
)
@click.option("--deputy", help="A regional supervisor's regional deputy (Kedeputian Wilayah), by name.")
@click.option("--installation-admin", is_flag=True, help="An admin of the whole installation (every branch).")
def create(username, role, name, areas, timezone, agent_phone, password_stdin, branch_code, deputy, installation_admin):
    """Create an account."""
    placement = _placement(role, branch_code, deputy, installation_admin)
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
            agent_phone=agent_phone,
            **placement,
        )
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    area_text = f" areas: {', '.join(a.label for a in user.areas)}" if user.areas else ""
    click.echo(f"Created {user.username} ({user.role.value}).{area_text}")


@users_group.command("set-phone")
@click.argument("username")
@click.argument("number")
def set_phone(username, number):
    """Set the phone the system rings when USERNAME places a call: an Indonesian number or a sip: URI
    ("" clears it)."""
    user = _user(username)
    try:
        set_agent_phone(db.session, user, number)
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"{user.username}: {user.agent_phone or '-'}")


@users_group.command("token")
@click.argument("username")
@click.option(
    "--days", type=click.IntRange(1, 3660), default=TOKEN_DAYS, show_default=True, help="Days until it expires."
)
def token(username, days):
    """Print a new personal API token for USERNAME (shown once, stored hashed)."""
    user = _user(username)
    if not user.is_active:
        fail(f"user {username!r} is deactivated")
    raw = issue_token(db.session, user, now=now_utc(), days=days)
    db.session.commit()
    click.echo(raw)


@users_group.command("tokens")
@click.argument("username")
def list_tokens(username):
    """List USERNAME's API tokens: id, made, expires, last used, state."""
    now = now_utc()
    for item in tokens_of(db.session, _user(username)):
        state = _("revoked") if item.revoked_at else _("expired") if not item.is_live(now) else _("live")
        used = f"{item.last_used_at:%Y-%m-%d %H:%M}" if item.last_used_at else "-"
        click.echo(f"{item.id:6} {item.created_at:%Y-%m-%d} {item.expires_at:%Y-%m-%d} {used:16} {state}")


@users_group.command("revoke-token")
@click.argument("token_id", type=int, required=False)
@click.option("--user", "username", help="Revoke every live token of this user instead.")
def revoke(token_id, username):
    """Revoke one API token by its id (`flask users tokens`), or all of a user's with --user."""
    now = now_utc()
    if (token_id is None) == (username is None):
        fail(_("Give a token id or --user, not both."))
    if username is not None:
        count = revoke_tokens_of(db.session, _user(username), now=now)
        db.session.commit()
        click.echo(_("%(count)s token(s) revoked.", count=count))
        return
    found = db.session.get(ApiToken, token_id) if -(2**63) <= token_id < 2**63 else None
    if found is None:
        fail(_("No API token %(id)s.", id=token_id))
    revoked = revoke_token(db.session, found, now=now)
    db.session.commit()
    click.echo(
        _("Token %(id)s revoked.", id=token_id) if revoked else _("Token %(id)s was already revoked.", id=token_id)
    )


def _placement(role: str, branch_code: str | None, deputy: str | None, installation_admin: bool) -> dict:
    """Where the new account belongs: `--branch` (a branch role), `--deputy` (a regional supervisor)."""
    if installation_admin and role != Role.admin.value:
        fail(_("--installation-admin is for the admin role."))
    try:
        if role == Role.regional_supervisor.value:
            if not deputy:
                fail(_("A regional supervisor needs --deputy NAME."))
            region = db.session.scalar(select(DeputyRegion).where(DeputyRegion.name.ilike(" ".join(deputy.split()))))
            if region is None:
                fail(
                    _("No regional deputy named %(name)s (flask branches add … --deputy NAME creates it).", name=deputy)
                )
            return {"deputy_region_id": region.id}
        if role == Role.national_viewer.value:
            return {}
        if installation_admin and not branch_code:
            return {"is_installation_admin": True}
        return {"branch_id": named_branch(db.session(), branch_code).id, "is_installation_admin": installation_admin}
    except ServiceError as exc:
        fail(exc.message, 2)


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        fail(f"no user {username!r}")
    return user


@users_group.command("list")
def list_users():
    """List accounts."""
    for user in db.session.scalars(select(User).order_by(User.role, User.username)):
        state = "" if user.is_active else " (deactivated)"
        areas = ", ".join(a.label for a in user.areas)
        click.echo(f"{user.username:20} {user.role.value:14} {user.name}{state} {areas}")
