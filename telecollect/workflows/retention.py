"""Retention: erase or delete personal data older than its period (UU PDP 27/2022; SECURITY.md).

One function, called by `flask retention purge` and the scheduler's daily job. Each domain erases its own
rows (its `retention` module); this decides the cut-off of each kind from the installation's periods and
writes the one audit event that says what went. Opt-outs are never purged: they protect the person.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from telecollect import throttle
from telecollect.audit import retention as audit_retention
from telecollect.audit import services as audit
from telecollect.auth import retention as auth_retention
from telecollect.contacts import retention as contacts_retention
from telecollect.imports import retention as imports_retention
from telecollect.messaging import retention as messaging_retention
from telecollect.settings import Retention

Purge = Callable[..., int]

#: (kind, the period's field in Retention, the domain's purge), in the order they run and are reported.
KINDS: tuple[tuple[str, str, Purge], ...] = (
    ("contact_notes", "contact_notes_days", contacts_retention.erase_details_before),
    ("sms_messages", "sms_days", messaging_retention.purge_messages_before),
    ("sms_replies", "sms_days", messaging_retention.purge_replies_before),
    ("whatsapp_media", "whatsapp_media_days", messaging_retention.purge_media_before),
    ("whatsapp_conversations", "sms_days", messaging_retention.purge_conversations_before),
    ("import_rejects", "import_rejects_days", imports_retention.erase_rejects_before),
    ("login_attempts", "login_attempts_days", auth_retention.forget_attempts_before),
    ("throttle_counters", "throttle_days", throttle.forget_before),
    ("audit_events", "audit_days", audit_retention.forget_before),
)


def cutoffs(periods: Retention, now: datetime) -> dict[str, datetime]:
    """The moment before which each kind goes."""
    return {kind: now - timedelta(days=getattr(periods, field)) for kind, field, _purge in KINDS}


def purge(session: Session, periods: Retention, *, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Erase or delete what each kind keeps past its period, as of `now`; returns the count per kind.

    A dry run counts and changes nothing. A real run adds one audit event (`retention.purge`) with the
    counts, after the audit log's own purge, so the record of this run is never its own victim."""
    before = cutoffs(periods, now)
    counts = {kind: purge_kind(session, before[kind], dry_run=dry_run) for kind, _field, purge_kind in KINDS}
    if not dry_run:
        audit.record(session, "retention.purge", detail=", ".join(f"{kind}={n}" for kind, n in counts.items()))
    session.flush()
    return counts
