"""Reports read, never write."""
from sqlalchemy import func, select

from telecollect.participants.models import Participant
from telecollect.participants.queries import bucket_label_expression
from telecollect.regions.models import City, District, Village

ARREARS_GROUPINGS = ("city", "kecamatan", "kelurahan", "segment", "bucket")


def arrears_by(session, by: str) -> list[dict]:
    """Participants with arrears above zero and what they owe, per group.

    Sorted by amount owed, largest first. Participants without a kelurahan
    are grouped under an empty kelurahan rather than dropped: the report shows
    what the data hold, gaps included.
    """
    if by not in ARREARS_GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(ARREARS_GROUPINGS)}")
    label, joins = _grouping(by)
    stmt = select(label.label("group"), func.count().label("participants"),
                  func.sum(Participant.arrears_amount).label("arrears_amount"))
    for target, condition in joins:
        stmt = stmt.outerjoin(target, condition)
    stmt = (stmt.where(Participant.arrears_amount > 0).group_by(label)
            .order_by(func.sum(Participant.arrears_amount).desc(), label))
    return [
        {by: group if group is not None else "", "participants": count, "arrears_amount": int(amount)}
        for group, count, amount in session.execute(stmt)
    ]


def _grouping(by: str):
    if by == "city":
        return City.name, [(City, City.id == Participant.city_id)]
    if by == "kecamatan":
        return District.name, [(District, District.id == Participant.district_id)]
    if by == "kelurahan":
        return Village.name, [(Village, Village.id == Participant.village_id)]
    if by == "segment":
        return Participant.segment, []
    return bucket_label_expression(Participant.months_in_arrears), []
