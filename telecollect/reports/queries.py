"""Reports read, never write."""

from sqlalchemy import func, select

from telecollect.participants.models import Participant
from telecollect.participants.queries import bucket_label_expression
from telecollect.regions.queries import PlaceName, place_names

ARREARS_GROUPINGS = ("city", "kecamatan", "kelurahan", "segment", "bucket")
#: Each grouping's columns before the figures: a place carries its code and parents,
#: because names repeat (Batu Ampar is a kecamatan in four regencies).
ARREARS_COLUMNS = {
    "city": ("city", "city_code", "province"),
    "kecamatan": ("kecamatan", "kecamatan_code", "city"),
    "kelurahan": ("kelurahan", "kelurahan_code", "kecamatan", "city"),
    "segment": ("segment",),
    "bucket": ("bucket",),
}
#: The participant's place at each level, grouped by id: a place is its id, not its name.
_PLACE_KEYS = {"city": Participant.city_id, "kecamatan": Participant.district_id, "kelurahan": Participant.village_id}


def arrears_columns(by: str) -> list[str]:
    """The report's columns, as the page shows them and the CSV and JSON carry them."""
    return [*ARREARS_COLUMNS[by], "participants", "arrears_amount"]


def arrears_by(session, by: str) -> list[dict]:
    """Participants with arrears above zero and what they owe, per group.

    Places are grouped by id, one row per place with its code and parents.
    Sorted by amount owed, largest first, then by name. Participants without a
    kelurahan are one group with empty names rather than dropped: the report
    shows what the data hold, gaps included.
    """
    if by not in ARREARS_GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(ARREARS_GROUPINGS)}")
    key = _PLACE_KEYS[by] if by in _PLACE_KEYS else _label(by)
    stmt = (
        select(key, func.count(), func.sum(Participant.arrears_amount))
        .where(Participant.arrears_amount > 0)
        .group_by(key)
        .order_by(func.sum(Participant.arrears_amount).desc(), key)
    )
    totals = session.execute(stmt).all()
    if by not in _PLACE_KEYS:
        return [
            {by: group if group is not None else "", "participants": count, "arrears_amount": int(amount)}
            for group, count, amount in totals
        ]
    places = place_names(session, by, [place_id for place_id, _count, _amount in totals])
    name, code, *parents = ARREARS_COLUMNS[by]
    nowhere = PlaceName("", "", ("",) * len(parents))
    rows = []
    for place_id, count, amount in totals:  # already by amount, then id: the sort below keeps that for ties
        place = places.get(place_id, nowhere)
        rows.append(
            {
                name: place.name,
                code: place.code,
                **dict(zip(parents, place.parents, strict=True)),
                "participants": count,
                "arrears_amount": int(amount),
            }
        )
    return sorted(rows, key=lambda r: (-r["arrears_amount"], *(r[c] for c in ARREARS_COLUMNS[by])))


def _label(by: str):
    if by == "segment":
        return Participant.segment
    return bucket_label_expression(Participant.months_in_arrears)
