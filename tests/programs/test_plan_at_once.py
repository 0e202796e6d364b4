"""Two REHAB registrations for one family at the same moment leave one active plan (issue 12 item 19)."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from telecollect.errors import ServiceError
from telecollect.extensions import db as _db
from telecollect.participants.models import Family
from telecollect.programs import services as programs
from telecollect.programs.models import InstallmentPlan, PlanState
from tests.helpers import SETTINGS
from tests.payments.test_payments import family
from tests.queues.test_concurrency import run_together


def _register(family_id: int, user_id: int, installments: int):
    def work():
        from telecollect.auth.models import User

        try:
            plan = programs.register_plan(
                _db.session,
                _db.session.get(Family, family_id),
                installments=installments,
                start_month=date(2026, 3, 1),
                on=date(2026, 3, 5),
                user=_db.session.get(User, user_id),
                due_day=SETTINGS.installment_due_day,
            )
            _db.session.commit()
            return plan.installments
        except ServiceError as exc:
            _db.session.rollback()
            return exc.code

    return work


@pytest.mark.committing  # two threads, each with its own connection, must see each other's commits
def test_two_registrations_at_once_leave_one_active_plan(app, db, make_user):
    fam = family(db, (1, 8, 3))
    users = [make_user("telecollector"), make_user("cadre", areas=["Kec. Koja"])]
    for _round in range(3):  # the race can fall either way
        results = run_together(app, [_register(fam.id, u.id, n) for u, n in zip(users, (4, 2), strict=True)])
        assert sorted(results, key=str).count("plan_exists") == 1, results
        db.session.expire_all()
        active = db.session.scalars(
            select(InstallmentPlan).where(
                InstallmentPlan.family_id == fam.id, InstallmentPlan.state == PlanState.active
            )
        ).all()
        assert len(active) == 1
        active[0].state = PlanState.broken  # the next round registers afresh
        db.session.commit()


def test_the_database_refuses_a_second_active_plan(db, make_user):
    """Even a writer that skips the service's check cannot leave two active plans."""
    fam = family(db, (1, 8, 3))
    user = make_user("telecollector")
    first = programs.register_plan(
        db.session, fam, installments=2, start_month=date(2026, 3, 1), on=date(2026, 3, 5), user=user, due_day=10
    )
    db.session.add(
        InstallmentPlan(
            family_id=fam.id,
            program_id=first.program_id,
            registered_on=first.registered_on,
            installments=2,
            total_amount=first.total_amount,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
