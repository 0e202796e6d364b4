"""Places for pickers and filters."""
from sqlalchemy import or_, select

from telecollect.regions.models import City, District, Village


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
    villages = session.scalars(select(Village).where(or_(
        Village.id.in_(village_ids or []), Village.district_id.in_(district_ids or []))).order_by(Village.name)).all()
    districts = session.scalars(select(District).where(or_(
        District.id.in_(district_ids or []), District.id.in_({v.district_id for v in villages}))).order_by(District.name)).all()
    cities = session.scalars(select(City).where(City.id.in_({d.city_id for d in districts})).order_by(City.name)).all()
    return {"cities": cities, "districts": districts, "villages": villages}
