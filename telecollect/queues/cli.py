"""`flask queue …` and `flask holidays import`."""

import io
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from telecollect.auth.models import User
from telecollect.branch_commands import branch_option, enter_branch
from telecollect.cli import PositiveRupiah, fail
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.participants.models import BUCKETS
from telecollect.policy.holidays import import_holidays
from telecollect.queues.models import QueueName
from telecollect.queues.services import AssignFilters, assign, balance
from telecollect.reasons import Refusal

queue_group = AppGroup("queue", help="Hand out work to telecollectors and cadres.")
holidays_group = AppGroup("holidays", help="Days on which nobody is contacted.")


@queue_group.command("assign")
@click.option("--queue", "queue_name", required=True, type=click.Choice([q.value for q in QueueName]))
@click.option("--user", "username", help="Give the families to this person; without it they go to the team pool.")
@click.option("--city")
@click.option("--kecamatan")
@click.option("--kelurahan")
@click.option("--segment", type=click.Choice(["PBPU", "BP", "PPU", "PBI"], case_sensitive=False))
@click.option("--bucket", type=click.Choice([b[0] for b in BUCKETS]), help="Months in arrears.")
@click.option("--min-amount", type=PositiveRupiah(), help="Families owing at least this much (1000000, Rp1.000.000).")
@branch_option
def assign_command(queue_name, username, city, kecamatan, kelurahan, segment, bucket, min_amount, branch_code):
    """Put the branch's families matching the filters in a queue (all filters combine)."""
    branch = enter_branch(branch_code)
    user = _user(username) if username else None
    if user is not None and user.branch_id != branch.id:
        fail(_("%(user)s does not work for branch %(code)s.", user=user.username, code=branch.code))
    filters = AssignFilters(
        city=city, kecamatan=kecamatan, kelurahan=kelurahan, segment=segment, bucket=bucket, min_amount=min_amount
    )
    try:
        result = assign(db.session, queue=QueueName(queue_name), filters=filters, user=user)
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    owner = user.username if user else "the team pool"
    click.echo(
        f"{len(result.family_ids)} families to {owner} ({queue_name}): created {result.created}, "
        f"reassigned {result.reassigned}, unchanged {result.unchanged}"
    )
    if result.outside_areas:
        click.echo(_("%(n)d families outside %(user)s's areas stay in the pool.", n=result.outside_areas, user=owner))


@queue_group.command("balance")
@click.option("--queue", "queue_name", required=True, type=click.Choice([q.value for q in QueueName]))
@click.argument("usernames", nargs=-1, required=True)
@branch_option
def balance_command(queue_name, usernames, branch_code):
    """Share the branch's queue pool evenly among USERNAMES (of that branch)."""
    branch = enter_branch(branch_code)
    users = [_user(name) for name in usernames]
    for user in users:
        if user.branch_id != branch.id:
            fail(_("%(user)s does not work for branch %(code)s.", user=user.username, code=branch.code))
    try:
        shared = balance(db.session, QueueName(queue_name), users)
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    for user in users:
        click.echo(f"{user.username}: +{shared.received[user.id]}")
    if shared.returned:
        click.echo(_("%(n)d families held outside their holders' areas went back to the pool.", n=shared.returned))
    if shared.left_in_pool:
        click.echo(_("%(n)d families stay in the pool: outside every area of these cadres.", n=shared.left_in_pool))


@holidays_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def holidays_import(path):
    """Add holidays from a CSV of `date,name` (ISO dates), on top of the built-in national holidays and cuti bersama."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(str(Refusal("file_encoding", line=data[: exc.start].count(b"\n") + 1)))
    try:
        created = import_holidays(db.session, io.StringIO(text, newline=""))
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(_("%(count)s new holiday(s)", count=created))


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.lower(), User.is_active.is_(True)))
    if user is None:
        fail(f"no active user {username!r}")
    return user
