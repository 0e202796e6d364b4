"""Retention of personal data: `flask retention purge [--dry-run]` and the scheduler's daily job."""

from datetime import datetime

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.settings import installation
from telecollect.workflows import retention

retention_group = AppGroup("retention", help="Erase personal data kept past its period (see SECURITY.md).")

#: How each kind's count is worded.
LABELS = {
    "contact_notes": _l("contact attempts whose note and number were erased"),
    "sms_messages": _l("SMS deleted (body and number)"),
    "sms_replies": _l("SMS replies deleted"),
    "whatsapp_media": _l("links to participants' WhatsApp photos and files deleted"),
    "whatsapp_conversations": _l("WhatsApp conversations deleted"),
    "import_rejects": _l("imports whose rejected rows were erased"),
    "login_attempts": _l("sign-in attempts deleted"),
    "throttle_counters": _l("throttle counters deleted"),
    "audit_events": _l("audit events deleted"),
}


def purge_personal_data(now: datetime) -> dict:
    """Daily: erase or delete personal data past its retention period (the counts go to the audit log)."""
    counts = retention.purge(db.session, installation().retention, now=now)
    db.session.commit()
    return counts


#: (job id, function, seconds between runs), run by the scheduler beside `scheduler.jobs.JOBS`.
RETENTION_JOBS = (("purge_personal_data", purge_personal_data, 24 * 3600),)


@retention_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
def purge(dry_run):
    """Erase or delete what is older than its retention period (RETENTION_*_DAYS)."""
    now = now_utc()
    periods = installation().retention
    counts = retention.purge(db.session, periods, now=now, dry_run=dry_run)
    db.session.commit()
    before = retention.cutoffs(periods, now)
    if dry_run:
        click.echo(_("Dry run, nothing changed. Would purge:"))
    for kind, count in counts.items():
        older_than = f"{before[kind]:%Y-%m-%d}"
        click.echo(_("%(label)s: %(count)d (older than %(date)s)", label=LABELS[kind], count=count, date=older_than))
