"""The scheduled jobs. Each is idempotent and safe if two schedulers run by mistake.

Every job takes `now`, the business time all rules use (the contact policy
included), so `flask jobs run-once --now …` replays any moment. Branch days
(settling, reminders) are local days in `BRANCH_TIMEZONE`.
"""

from datetime import datetime

from flask import current_app

from telecollect.clock import local_day
from telecollect.extensions import db
from telecollect.messaging.dispatch import dispatch_due
from telecollect.messaging.reminders import plan_reminders
from telecollect.metrics import DISPATCHED
from telecollect.queues import lifecycle
from telecollect.runtime import contact_rules, sms_gateway
from telecollect.settings import installation
from telecollect.workflows.settlement import settle


def settle_promises(now: datetime) -> dict:
    """Detect broken promises and missed installments (families go back to the queue)."""
    settings = installation()
    counts = settle(db.session, local_day(now, settings.branch_timezone), now=now, settings=settings)
    db.session.commit()
    return counts


def plan_sms(now: datetime) -> dict:
    """Queue the reminders due now (before the due day, promises, broken promises, installments, autodebit)."""
    settings = installation()
    counts = plan_reminders(
        db.session, contact_rules(), now, settings.branch_timezone, due_day=settings.installment_due_day
    )
    db.session.commit()
    return counts


def dispatch_sms(now: datetime) -> dict:
    """Send what is due through the configured gateway."""
    counts = dispatch_due(
        db.session, sms_gateway(), contact_rules(), now=now, batch_size=current_app.config["SMS_BATCH_SIZE"]
    ).counts
    for outcome, count in counts.items():
        if count:
            DISPATCHED.labels("sms", outcome).inc(count)  # each message was committed on its own
    return counts


def release_expired_claims(now: datetime) -> dict:
    """Clear claims whose lease ran out, so screens and counts show the truth."""
    released = lifecycle.free_lapsed_leases(db.session, now)
    db.session.commit()
    return {"released": released}


def return_follow_ups(now: datetime) -> dict:
    """Callbacks nobody took within the grace period become anyone's in the lists too."""
    returned = lifecycle.return_overdue_callbacks(db.session, now)
    db.session.commit()
    return {"returned": returned}


#: (job id, function, seconds between runs); the order of one round of `run-once`.
JOBS = (
    ("settle_promises", settle_promises, 3600),
    ("plan_sms", plan_sms, 900),
    ("dispatch_sms", dispatch_sms, 30),
    ("release_expired_claims", release_expired_claims, 300),
    ("return_follow_ups", return_follow_ups, 300),
)
