"""Read-only questions about participants: search, filters, scope."""

import contextlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, false, func, or_, select

from telecollect.auth.models import User
from telecollect.auth.scoping import scope_of
from telecollect.db import now_utc
from telecollect.formatting import ZONES
from telecollect.participants.models import BUCKETS, ArrearsSnapshot, Participant, Segment
from telecollect.phones import InvalidPhone, normalize_mobile


def bucket_label_expression(months):
    """SQL CASE giving each row its months-in-arrears bucket label ("0" when paid up)."""
    whens = [((months >= low) if high is None else months.between(low, high), label) for label, low, high in BUCKETS]
    return case(*whens, else_="0")


def bucket_condition(label: str):
    for name, low, high in BUCKETS:
        if name == label:
            months = Participant.months_in_arrears
            return months >= low if high is None else months.between(low, high)
    return None


def scope_to_user(stmt, user: User):
    """Limit a participant query to what `user` may see: cadres see their areas only."""
    scope = scope_of(user)
    return stmt if scope.everywhere else stmt.where(scope.condition(Participant.district_id, Participant.village_id))


def may_view(user: User, participant: Participant) -> bool:
    return scope_of(user).covers(participant.district_id, participant.village_id)


@dataclass
class ParticipantFilters:
    q: str = ""
    city_id: int | None = None
    district_id: int | None = None
    village_id: int | None = None
    segment: str = ""
    bucket: str = ""
    autodebit: str = ""  # "", "yes" or "no"

    def apply(self, stmt, *, by_nik: bool = False):
        if self.q:
            stmt = stmt.where(search_condition(self.q, by_nik=by_nik))
        for column, value in (
            (Participant.city_id, self.city_id),
            (Participant.district_id, self.district_id),
            (Participant.village_id, self.village_id),
        ):
            if value:
                stmt = stmt.where(column == value)
        if self.segment in Segment.__members__:
            stmt = stmt.where(Participant.segment == Segment(self.segment))
        condition = bucket_condition(self.bucket)
        if condition is not None:
            stmt = stmt.where(condition)
        if self.autodebit in ("yes", "no"):
            stmt = stmt.where(Participant.is_autodebit.is_(self.autodebit == "yes"))
        return stmt


def search_kind(q: str) -> str:
    """What a search looks for: "nik" (16 digits), "card" (13 digits or a prefix), "phone" or "name"."""
    compact = _compact(q)
    if not compact.lstrip("+").isdigit():
        return "name"
    if len(compact) == 16:
        return "nik"
    if compact.isdigit() and len(compact) <= 13:
        return "card"
    return "phone"


def _compact(q: str) -> str:
    return q.strip().replace(" ", "").replace("-", "").replace(".", "")


def search_condition(q: str, *, by_nik: bool = False):
    """Name (contains), card number (13 digits or a prefix), NIK (16 digits, only `by_nik`: for whoever
    sees full NIKs, else a masked NIK could be recovered by guessing its hidden digits) or phone."""
    q = q.strip()
    compact = _compact(q)
    if compact.lstrip("+").isdigit():
        conditions = []
        if len(compact) == 13:
            conditions.append(Participant.card_no == compact)
        if len(compact) == 16 and by_nik:
            conditions.append(Participant.nik == compact)
        with contextlib.suppress(InvalidPhone):  # not every number written is a phone number
            conditions.append(Participant.phone == normalize_mobile(compact))
        if compact.isdigit() and len(compact) < 13:
            conditions.append(Participant.card_no.startswith(compact))
        return or_(*conditions) if conditions else false()
    return Participant.name.ilike(f"%{q}%")


def list_participants(session, user: User, filters: ParticipantFilters, page: int, per_page: int):
    """One page of participants, largest arrears first, and the total count. Only a user who sees
    full NIKs (`User.is_privileged`, as every page and the API show them) finds anyone by NIK."""
    base = filters.apply(scope_to_user(select(Participant), user), by_nik=user.is_privileged)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery()))
    rows = session.scalars(
        base.order_by(Participant.arrears_amount.desc(), Participant.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return rows, total


def family_members(session, participant: Participant):
    return session.scalars(
        select(Participant).where(Participant.family_id == participant.family_id).order_by(Participant.card_no)
    ).all()


def family_arrears(members) -> tuple[int, int]:
    """(amount, months) the family owes: amounts add up, months are the longest.

    The one rule; `family_amount_owed` and `family_months_owed` are its SQL form.
    """
    return sum(m.arrears_amount for m in members), max((m.months_in_arrears for m in members), default=0)


def family_amount_owed():
    """What a family owes, in a query grouped by family: its members' amounts added up (`family_arrears`)."""
    return func.sum(Participant.arrears_amount)


def family_months_owed():
    """How long a family owes, in a query grouped by family: its longest member (`family_arrears`)."""
    return func.max(Participant.months_in_arrears)


def arrears_history(session, participant: Participant):
    return session.scalars(
        select(ArrearsSnapshot)
        .where(ArrearsSnapshot.participant_id == participant.id)
        .order_by(ArrearsSnapshot.as_of.desc())
    ).all()


def local_today(participant: Participant) -> date:
    """Today's date where the participant lives."""
    return now_utc().astimezone(ZONES[participant.province.timezone]).date()


def owing_family_ids():
    """The families that owe anything, as a subquery."""
    return select(Participant.family_id).group_by(Participant.family_id).having(family_amount_owed() > 0)


def families_with_number(session, phone: str, *, limit: int = 3) -> list[int]:
    """The families a number (E.164) is registered on, as any member's first or second number: at most
    `limit` of them (the self-service line only asks whether it is exactly one)."""
    return list(
        session.scalars(
            select(Participant.family_id)
            .where(or_(Participant.phone == phone, Participant.phone2 == phone))
            .distinct()
            .order_by(Participant.family_id)
            .limit(limit)
        )
    )
