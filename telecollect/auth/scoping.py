"""Where a user may work: the one rule for cadre areas.

A cadre covers the kecamatan and kelurahan of her areas; staff see everywhere.
Participant lists, the cadre work list, claims and page access all ask here,
so a cadre never sees or touches a family outside her areas on one screen and
inside them on another.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, or_, true

from telecollect.auth.models import Role, User


@dataclass(frozen=True)
class AreaScope:
    """The kecamatan and kelurahan ids a user covers; `everywhere` for staff."""

    everywhere: bool
    district_ids: tuple[int, ...] = ()
    village_ids: tuple[int, ...] = ()

    def condition(self, district_column, village_column):
        """A SQL condition on a row's kecamatan and kelurahan columns."""
        if self.everywhere:
            return true()
        if not self.district_ids and not self.village_ids:
            return false()
        return or_(district_column.in_(self.district_ids), village_column.in_(self.village_ids))

    def covers(self, district_id: int | None, village_id: int | None) -> bool:
        """Whether a row in that kecamatan and kelurahan is inside the scope."""
        return (
            self.everywhere
            or district_id in self.district_ids
            or (village_id is not None and village_id in self.village_ids)
        )

    def visible(self, members: Iterable[Any]) -> list[Any]:
        """The members of a family she may see: a family can span areas, and a member outside hers
        (with their number and RT/RW) does not exist for her, whatever screen or endpoint shows the family."""
        return [m for m in members if self.covers(m.district_id, m.village_id)]

    def as_lists(self) -> tuple[list[int] | None, list[int] | None]:
        """(district ids, village ids), or (None, None) for everywhere: what place pickers take."""
        if self.everywhere:
            return None, None
        return list(self.district_ids), list(self.village_ids)


def areas_of(user: User) -> AreaScope:
    """Her own areas, whatever the role (a cadre's work list and claims)."""
    return AreaScope(
        False,
        tuple(a.district_id for a in user.areas if a.district_id),
        tuple(a.village_id for a in user.areas if a.village_id),
    )


def scope_of(user: User) -> AreaScope:
    """What `user` may see: a cadre her areas, staff everywhere."""
    return areas_of(user) if user.role == Role.cadre else AreaScope(True)


def work_scope(user: User | None) -> AreaScope:
    """Where `user` may be given work: a cadre only families she can see and claim (her areas),
    a telecollector (or the team pool, `None`) anywhere."""
    return AreaScope(True) if user is None else scope_of(user)
