"""The branch's own days off: loading them from a file (national holidays and cuti bersama come built in)."""

import csv
from datetime import date

from sqlalchemy import select

from telecollect.contacts.models import Holiday
from telecollect.errors import ServiceError
from telecollect.policy.rules import forget_branch_holidays
from telecollect.reasons import Refusal, RowError, quoted


def import_holidays(session, stream) -> int:
    """Load extra holidays from `date,name` CSV lines (ISO dates), all-or-nothing; returns how many were new.

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
    existing = {h.on: h for h in session.scalars(select(Holiday).where(Holiday.on.in_([d for d, _ in rows])))}
    created = 0
    for day, name in rows:
        if day in existing:
            existing[day].name = name
        else:
            session.add(Holiday(on=day, name=name))
            created += 1
    session.flush()
    forget_branch_holidays(session)
    return created
