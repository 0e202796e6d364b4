"""Promises and installments that fell due: settle them and send their families back to the queue."""

from datetime import date, datetime

from sqlalchemy.orm import Session

from telecollect.payments import services as payments
from telecollect.programs import services as programs
from telecollect.queues import lifecycle
from telecollect.settings import Settings


def settle(session: Session, today: date, *, now: datetime, settings: Settings) -> dict:
    """Close what fell due by `today` (the branch's local day): promises past their grace, missed
    installments. A broken promise or a missed installment sends the family back to the collection queue,
    due at `now` (the business time of the job or command). Safe to run often."""
    counts, requeues = payments.settle_promises(session, today, grace=settings.promise_grace)
    plan_counts, plan_requeues = programs.settle_installments(session, today, grace=settings.promise_grace)
    counts.update(plan_counts)
    for family_id, reason in requeues + plan_requeues:
        lifecycle.requeue(session, [family_id], reason, now)
    session.flush()
    return counts
