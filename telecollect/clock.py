"""Indonesia's zones and local days: the one owner of "which day is it, and where".

Nothing here reads the clock: `now` enters at the edge (a request, a command,
a job's `--now`) and the zone with it (the branch's `BRANCH_TIMEZONE`, a
user's or a participant's zone); both are passed down to these functions.
"""

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Date, cast, func
from sqlalchemy.sql.elements import ColumnElement

#: Indonesia has three zones and no daylight saving time.
ZONES = {
    "WIB": timezone(timedelta(hours=7), "WIB"),
    "WITA": timezone(timedelta(hours=8), "WITA"),
    "WIT": timezone(timedelta(hours=9), "WIT"),
}
#: The same zones by their IANA names, for PostgreSQL.
IANA_NAMES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


def local_day(moment: datetime, zone: str) -> date:
    """The calendar day an instant falls on in `zone`."""
    return moment.astimezone(ZONES[zone]).date()


def day_start(day: date, zone: str) -> datetime:
    """The instant local midnight begins `day` in `zone` (aware; compare it with UTC columns)."""
    return datetime.combine(day, time(0), ZONES[zone])


def day_bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) instants covering the local days `first`..`last` (inclusive) in `zone`."""
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


def local_day_sql(column: Any, zone: str, dialect: str) -> ColumnElement[Any]:
    """SQL for the local calendar day in `zone` of a UTC timestamp column, on either engine."""
    if dialect == "postgresql":
        return cast(func.timezone(IANA_NAMES[zone], column), Date)
    hours = int(ZONES[zone].utcoffset(None).total_seconds() // 3600)
    return func.date(column, f"+{hours} hours")
