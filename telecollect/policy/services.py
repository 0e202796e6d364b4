"""Changing the contact policy's settings."""

from datetime import datetime

from sqlalchemy import select

from telecollect.audit import services as audit
from telecollect.branches.stamping import only_of
from telecollect.db import forget_read
from telecollect.errors import ServiceError
from telecollect.imports import fields
from telecollect.policy.models import ContactSetting
from telecollect.policy.rules import PolicyConfigError, parse_days, parse_hours
from telecollect.reasons import Refusal, quoted

#: The key under which a unit of work keeps the rules it read (`runtime.contact_rules`).
RULES_KEY = "contact_rules"


def save_contact_settings(
    session,
    *,
    calling_hours: str,
    calling_days: str,
    max_per_day,
    max_per_week,
    is_cuti_bersama_closed: bool,
    user,
    now: datetime,
    branch_id: int | None = None,
) -> ContactSetting:
    """Check and save the contact settings of `branch_id` (its own row, made on its first save), or the
    installation's (None); the next request of every process uses them.
    Raises `ServiceError` naming the field, with the reason in the reader's language."""
    hours = (calling_hours or "").strip()
    days = (calling_days or "").strip().lower()
    try:
        parse_hours(hours)
    except PolicyConfigError:
        raise _refused("calling_hours", Refusal("calling_hours_format", value=quoted(hours))) from None
    if not days:  # no day box ticked
        raise _refused("calling_days", Refusal("calling_days_none"))
    try:
        parse_days(days)
    except PolicyConfigError:
        raise _refused("calling_days", Refusal("calling_days_format", value=quoted(days))) from None
    per_day = _count("max_per_day", max_per_day, 20)
    per_week = _count("max_per_week", max_per_week, 100)
    row = session.scalar(select(ContactSetting).where(only_of(ContactSetting.branch_id, branch_id)))
    if row is None:
        row = ContactSetting(branch_id=branch_id)
        session.add(row)
    row.calling_hours, row.calling_days = hours, days
    row.max_attempts_per_day, row.max_attempts_per_week = per_day, per_week
    row.is_cuti_bersama_closed, row.updated_at, row.updated_by_id = is_cuti_bersama_closed, now, user.id
    session.flush()
    forget_read(session, RULES_KEY)
    audit.record(
        session,
        "contact_settings.update",
        user=user,
        target=row,
        branch_id=branch_id,
        detail=f"{'branch' if branch_id else 'installation'} {hours} {days} {per_day}/day {per_week}/week "
        f"cuti_bersama_closed={is_cuti_bersama_closed}",
    )
    return row


def has_own_contact_settings(session, branch_id: int) -> bool:
    """Whether the branch saved contact settings of its own (else the installation's apply)."""
    return session.scalar(select(ContactSetting.id).where(only_of(ContactSetting.branch_id, branch_id))) is not None


def revert_contact_settings(session, branch_id: int, *, user) -> bool:
    """The branch follows the installation's contact settings again: its own row goes (audited).
    False when it had none."""
    row = session.scalar(select(ContactSetting).where(only_of(ContactSetting.branch_id, branch_id)))
    if row is None:
        return False
    audit.record(session, "contact_settings.revert", user=user, target=row, branch_id=branch_id, detail="branch")
    session.delete(row)
    session.flush()
    forget_read(session, RULES_KEY)
    return True


def _count(field: str, value, high: int) -> int:
    try:
        return fields.whole_number(value, 1, high)
    except Refusal as refusal:
        raise _refused(field, refusal) from None


def _refused(field: str, refusal: Refusal) -> ServiceError:
    return ServiceError.of(refusal, field)
