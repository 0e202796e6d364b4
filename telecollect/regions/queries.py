"""Places for pickers and filters."""
from sqlalchemy import select

from telecollect.regions.models import City, District, Village


def place_options(session):
    """Cities, districts and villages that hold participants' places, by name."""
    return {
        "cities": session.scalars(select(City).order_by(City.name)).all(),
        "districts": session.scalars(select(District).order_by(District.name)).all(),
        "villages": session.scalars(select(Village).order_by(Village.name)).all(),
    }
