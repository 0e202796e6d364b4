"""Places for pickers, filters and reports."""

from dataclasses import dataclass

from sqlalchemy import or_, select

from telecollect.regions.models import City, District, Province, Village
from telecollect.regions.names import format_code

PLACE_LEVELS = ("city", "kecamatan", "kelurahan")
#: Ids per query: SQLite allows 32,766 parameters at most.
_CHUNK = 1000


def place_options(session, district_ids=None, village_ids=None):
    """Cities, districts and villages by name; limited to the given areas when any are given.

    `district_ids`/`village_ids` of None mean "everywhere" (staff); a cadre's
    pickers offer only the kecamatan and kelurahan she covers.
    """
    if district_ids is None and village_ids is None:
        return {
            "cities": session.scalars(select(City).order_by(City.name)).all(),
            "districts": session.scalars(select(District).order_by(District.name)).all(),
            "villages": session.scalars(select(Village).order_by(Village.name)).all(),
        }
    villages = session.scalars(
        select(Village)
        .where(or_(Village.id.in_(village_ids or []), Village.district_id.in_(district_ids or [])))
        .order_by(Village.name)
    ).all()
    districts = session.scalars(
        select(District)
        .where(or_(District.id.in_(district_ids or []), District.id.in_({v.district_id for v in villages})))
        .order_by(District.name)
    ).all()
    cities = session.scalars(select(City).where(City.id.in_({d.city_id for d in districts})).order_by(City.name)).all()
    return {"cities": cities, "districts": districts, "villages": villages}


@dataclass(frozen=True)
class PlaceName:
    """A place as reports show it: a name is a label, the code and the parents tell same-named places apart."""

    name: str
    #: Kemendagri code as shown (31.72.01.1001), or "" when unknown.
    code: str
    #: Province for a city; city for a kecamatan; kecamatan and city for a kelurahan.
    parents: tuple[str, ...]

    @property
    def label(self) -> str:
        """One cell's worth: "Waena (91.71.05.1002) — Heram, Kota Jayapura"."""
        shown = f"{self.name} ({self.code})" if self.code else self.name
        parents = ", ".join(p for p in self.parents if p)
        return f"{shown} — {parents}" if parents else shown


def place_names(session, level: str, ids) -> dict[int, PlaceName]:
    """Place id → its name, code and parents, for cities, kecamatan or kelurahan."""
    if level == "city":
        columns, joins = [City.id, City.name, City.code, Province.name], [(Province, Province.id == City.province_id)]
    elif level == "kecamatan":
        columns, joins = [District.id, District.name, District.code, City.name], [(City, City.id == District.city_id)]
    elif level == "kelurahan":
        columns = [Village.id, Village.name, Village.code, District.name, City.name]
        joins = [(District, District.id == Village.district_id), (City, City.id == District.city_id)]
    else:
        raise ValueError(f"level must be one of {', '.join(PLACE_LEVELS)}")
    ids = sorted({i for i in ids if i is not None})
    names = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = select(*columns)
        for target, condition in joins:
            stmt = stmt.join(target, condition)
        for place_id, name, code, *parents in session.execute(stmt.where(columns[0].in_(ids[start : start + _CHUNK]))):
            names[place_id] = PlaceName(name, format_code(code) if code else "", tuple(parents))
    return names
