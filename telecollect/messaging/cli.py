"""`flask messaging content-sid KIND SID`: the approved WhatsApp template a kind is sent with."""

import click
from flask.cli import AppGroup

from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.messaging import whatsapp
from telecollect.messaging.models import ContentCategory, SmsKind

messaging_group = AppGroup("messaging", help="SMS and WhatsApp messages.")


@messaging_group.command("content-sid")
@click.argument("kind", type=click.Choice([k.value for k in SmsKind if k != SmsKind.agent_reply]))
@click.argument("sid")
@click.option("--variables", help="Our variable names in the order of {{1}}, {{2}} … (default: the kind's standard).")
@click.option("--body", help="The body Meta approved, with {{1}} … (default: the kind's standard body).")
@click.option("--category", type=click.Choice([c.value for c in ContentCategory]), help="Meta's category.")
def content_sid(kind, sid, variables, body, category):
    """Send KIND on WhatsApp with the approved template SID (HX…; "-" takes KIND off WhatsApp)."""
    try:
        row = whatsapp.save_content(
            db.session,
            SmsKind(kind),
            None if sid == "-" else sid,
            variables=variables.split(",") if variables else None,
            body=body,
            category=ContentCategory(category) if category else None,
        )
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"{kind}: {row.content_sid or '-'} ({row.category.value}) {row.variables}")
