"""Recording a registered REHAB plan and following its installments like promises."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from telecollect.db import lock_for, one_of
from telecollect.errors import ServiceError
from telecollect.participants.models import Family
from telecollect.payments.models import Payment
from telecollect.programs.models import Installment, InstallmentPlan, InstallmentState, PlanState
from telecollect.programs.rules import rehab_quote, split
from telecollect.queues.models import RequeueReason


def register_plan(
    session, family: Family, *, installments: int, start_month: date, on: date, user, due_day: int
) -> InstallmentPlan:
    """Record the plan the participant registered (Mobile JKN, Care Center 165 or the branch).

    Checks it against the program in force on `on`: eligible family, open
    registration window, an offered number of installments, a start this month
    or next. Installments fall due on the branch's due day (the 10th) of each
    month and add up exactly to the family's arrears. Raises `ServiceError`.

    Two registrations for one family at once: the lock makes the second wait for the first's commit and
    then find its plan (`plan_exists`); the partial unique index on active plans stops any writer that
    skips this function.
    """
    lock_for(session, f"plan:{family.id}")
    if session.scalar(
        select(InstallmentPlan.id).where(
            InstallmentPlan.family_id == family.id, InstallmentPlan.state == PlanState.active
        )
    ):
        raise ServiceError("plan_exists", "installments")
    quote = rehab_quote(session, family.members, on)
    if not quote.eligible:
        raise ServiceError("not_eligible", "installments", reasons=" ".join(str(reason) for reason in quote.reasons))
    if not quote.registration_open:
        raise ServiceError(
            "registration_closed", "installments", reasons=" ".join(str(reason) for reason in quote.reasons)
        )
    option = next((o for o in quote.options if o["installments"] == installments), None)
    if option is None:
        raise ServiceError("bad_installments", "installments", n=quote.max_installments)
    first_month = start_month.replace(day=1)
    this_month = on.replace(day=1)
    if first_month not in (this_month, _add_months(this_month, 1)):
        raise ServiceError("bad_start_month", "start_month")
    plan = InstallmentPlan(
        family_id=family.id,
        program_id=quote.program.id,
        registered_on=on,
        installments=installments,
        total_amount=option["total"],
        recorded_by_id=user.id,
    )
    plan.schedule = [
        Installment(seq=k + 1, due_on=_add_months(first_month, k).replace(day=due_day), amount=amount)
        for k, amount in enumerate(split(option["total"], installments))
    ]
    session.add(plan)
    session.flush()
    return plan


def check_after_plan(plan: InstallmentPlan) -> datetime:
    """While the family pays by plan, nobody chases it: look again the morning after its last due date."""
    return _morning_after(plan.schedule[-1].due_on)


def count_toward_plans(session, family_ids) -> None:
    """Mark installments paid as the family's payments since registration cover them, in order; a plan whose
    every installment is paid is completed. Read and written as rows, set-based (an UPDATE by id for what
    changes): a payment import's plans as ORM objects cost it a flush on every later statement."""
    plans = session.execute(
        select(InstallmentPlan.id, InstallmentPlan.family_id).where(
            one_of(session, InstallmentPlan.family_id, family_ids), InstallmentPlan.state == PlanState.active
        )
    ).all()
    if not plans:
        return
    plan_ids = [plan.id for plan in plans]
    paid = dict(
        session.execute(
            select(InstallmentPlan.id, func.coalesce(func.sum(Payment.amount), 0))
            .join(
                Payment,
                (Payment.family_id == InstallmentPlan.family_id) & (Payment.paid_on >= InstallmentPlan.registered_on),
            )
            # The payments of these families only, by index (a join on the plans alone may read every payment).
            .where(
                one_of(session, InstallmentPlan.id, plan_ids),
                one_of(session, Payment.family_id, {plan.family_id for plan in plans}),
            )
            .group_by(InstallmentPlan.id)
        ).all()
    )
    schedules: dict[int, list] = {}
    for installment in session.execute(
        select(Installment.id, Installment.plan_id, Installment.amount, Installment.state)
        .where(one_of(session, Installment.plan_id, plan_ids))
        .order_by(Installment.plan_id, Installment.seq)
    ):
        schedules.setdefault(installment.plan_id, []).append(installment)
    now_paid, completed = [], []
    for plan_id in plan_ids:
        running, all_paid = 0, True
        for installment in schedules.get(plan_id, ()):
            running += installment.amount
            if paid.get(plan_id, 0) >= running:
                if installment.state != InstallmentState.paid:
                    now_paid.append({"id": installment.id, "state": InstallmentState.paid})
            elif installment.state != InstallmentState.paid:
                all_paid = False
        if all_paid:
            completed.append({"id": plan_id, "state": PlanState.completed})
    if now_paid:
        session.execute(update(Installment), now_paid)  # by primary key, executemany
    if completed:
        session.execute(update(InstallmentPlan), completed)


def settle_installments(session, today: date, *, grace: timedelta) -> tuple[dict, list[tuple[int, RequeueReason]]]:
    """An installment unpaid past its due date plus grace is missed and its plan breaks. Returns the counts
    and the families to send back to the collection queue."""
    missed = session.scalars(
        select(Installment)
        .join(InstallmentPlan)
        .where(
            InstallmentPlan.state == PlanState.active,
            Installment.state == InstallmentState.pending,
            Installment.due_on < today - grace,
        )
    ).all()
    broken, requeues = set(), []
    for installment in missed:
        installment.state = InstallmentState.missed
        plan = installment.plan
        if plan.id not in broken:
            plan.state = PlanState.broken
            broken.add(plan.id)
            requeues.append((plan.family_id, RequeueReason.rehab_missed))
    return {"installments_missed": len(missed), "plans_broken": len(broken)}, requeues


def _add_months(first_of_month: date, months: int) -> date:
    month_index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(month_index // 12, month_index % 12 + 1, 1)


def _morning_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(1, 0), UTC)  # 08:00 WIB
