"""Reading plans."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from telecollect.programs.models import InstallmentPlan, PlanState


def active_plan(session, family_id: int) -> InstallmentPlan | None:
    return session.scalar(
        select(InstallmentPlan)
        .where(InstallmentPlan.family_id == family_id, InstallmentPlan.state == PlanState.active)
        .options(selectinload(InstallmentPlan.schedule))
    )
