"""The few figures reports keep (everything else is computed from the raw rows)."""

from sqlalchemy import func, insert, select

from telecollect.imports.models import ImportRun
from telecollect.participants.models import Participant
from telecollect.reports.models import ArrearsDistrictTotal


def record_district_totals(session, import_run_id: int) -> None:
    """Store arrears per kecamatan as this import left its branch's participants (one INSERT … SELECT): an
    import is one branch's file, and the other branches' participants are not its to count (an INSERT … SELECT
    is not filtered by the reader's branch scope)."""
    run_branch = select(ImportRun.branch_id).where(ImportRun.id == import_run_id).scalar_subquery()
    totals = (
        select(
            func.cast(import_run_id, ArrearsDistrictTotal.import_run_id.type),
            Participant.district_id,
            func.count(),
            func.sum(Participant.arrears_amount),
        )
        .where(Participant.arrears_amount > 0, Participant.branch_id == run_branch)
        .group_by(Participant.district_id)
    )
    session.execute(
        insert(ArrearsDistrictTotal).from_select(["import_run_id", "district_id", "participants", "amount"], totals)
    )
