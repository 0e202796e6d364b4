"""The installation's and the branches' own days off: loading them from a file, adding and removing one
(national holidays and cuti bersama come built in). The installation's rows (no branch) are every branch's;
a branch's own (a regional holiday) are its alone (`rules.branch_holidays` reads both)."""

import csv
from datetime import date

from sqlalchemy import select

from telecollect.audit import services as audit
from telecollect.branches.stamping import only_of, own_or_installation
from telecollect.contacts.models import Holiday
from telecollect.errors import ServiceError
from telecollect.policy.rules import forget_branch_holidays
from telecollect.reasons import Refusal, RowError, quoted


def import_holidays(session, stream, branch_id: int | None = None) -> int:
    """Load extra holidays from `date,name` CSV lines (ISO dates), all-or-nothing, as the installation's
    (`branch_id` None) or a branch's own; returns how many were new.

    Raises `ServiceError("bad_holidays")` listing every bad row (`RowError`s, in the reader's language)."""
    rows, errors = [], []
    for line, record in enumerate(csv.reader(stream), start=1):
        if not record or not "".join(record).strip():
            continue
        if line == 1 and record[0].strip().lower() in {"date", "tanggal"}:
            continue
        try:
            day = date.fromisoformat(record[0].strip())
        except ValueError:
            errors.append(RowError(line, "date", Refusal("iso_date", value=quoted(record[0]))))
            continue
        name = (record[1] if len(record) > 1 else "").strip()
        if not name:
            errors.append(RowError(line, "name", Refusal("required")))
            continue
        rows.append((day, name))
    if errors:
        raise ServiceError("bad_holidays", "file", rows="\n".join(str(error) for error in errors))
    existing = {
        h.on: h
        for h in session.scalars(
            select(Holiday).where(Holiday.on.in_([d for d, _ in rows]), only_of(Holiday.branch_id, branch_id))
        )
    }
    created = 0
    for day, name in rows:
        if day in existing:
            existing[day].name = name
        else:
            session.add(Holiday(on=day, name=name, branch_id=branch_id))
            created += 1
    session.flush()
    forget_branch_holidays(session)
    return created


def holidays_of(session, branch_id: int | None, *, since: date) -> list[Holiday]:
    """The saved days off from `since` a branch has: the installation's and its own (the installation's
    alone for None), by date."""
    where, _first = own_or_installation(Holiday.branch_id, branch_id)
    return list(session.scalars(select(Holiday).where(where, Holiday.on >= since).order_by(Holiday.on, Holiday.id)))


def add_holiday(session, branch_id: int | None, on: date, name: str, *, user) -> Holiday:
    """A day off of the branch's own (a regional holiday), or the installation's (None: every branch's); the
    same day again renames it. Audited. ServiceError("required") without a name."""
    name = " ".join(name.split())
    if not name:
        raise ServiceError("holiday_name_required", "name")
    if len(name) > 120:
        raise ServiceError("holiday_name_long", "name", limit=120)
    row = session.scalar(select(Holiday).where(Holiday.on == on, only_of(Holiday.branch_id, branch_id)))
    if row is None:
        row = Holiday(on=on, name=name, branch_id=branch_id)
        session.add(row)
    row.name = name
    session.flush()
    audit.record(
        session,
        "holiday.save",
        user=user,
        target=row,
        branch_id=branch_id,
        detail=f"{'branch' if branch_id else 'installation'} {on.isoformat()} {name}",
    )
    forget_branch_holidays(session)
    return row


def remove_holiday(session, holiday: Holiday, *, user) -> None:
    """Delete a saved day off (the caller checked it is the user's branch's, or the installation's). Audited."""
    audit.record(
        session,
        "holiday.delete",
        user=user,
        target=holiday,
        branch_id=holiday.branch_id,
        detail=f"{holiday.on.isoformat()} {holiday.name}",
    )
    session.delete(holiday)
    session.flush()
    forget_branch_holidays(session)
