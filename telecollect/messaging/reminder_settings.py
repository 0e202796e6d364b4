"""A reminder kind's settings (switch, days, channel order): the installation's row (no branch) and the
branch's own, which replaces it whole in that branch. Read here by the planner, the outbox and the pages;
written only here (add and flush; the caller commits)."""

from sqlalchemy import select

from telecollect.audit import services as audit
from telecollect.branches.stamping import only_of, own_or_installation
from telecollect.db import forget_read
from telecollect.errors import ServiceError
from telecollect.messaging.models import MessageChannel, ReminderSetting, SmsKind

#: kind → (on by default, days before its event)
DEFAULT_SETTINGS = {
    SmsKind.due_reminder: (True, 3),
    SmsKind.promise_reminder: (True, 1),
    SmsKind.promise_broken: (True, 1),
    SmsKind.installment_reminder: (True, 2),
    SmsKind.autodebit_prompt: (True, 0),
    SmsKind.pre_call: (False, 0),
}


#: The channels a kind tries, in order, until a row says otherwise (as the column's default).
DEFAULT_CHANNEL_ORDER = "whatsapp,sms"


def reminder_row(session, kind: SmsKind, branch_id: int | None) -> ReminderSetting | None:
    """The row that applies to `kind` in `branch_id`: the branch's own, else the installation's, else None."""
    mine, first = own_or_installation(ReminderSetting.branch_id, branch_id)
    return session.scalar(select(ReminderSetting).where(ReminderSetting.kind == kind, mine).order_by(first).limit(1))


def setting_of(session, kind: SmsKind, branch_id: int | None) -> tuple[bool, int]:
    """(on, days) of `kind` in `branch_id` (defaults without a saved row)."""
    row = reminder_row(session, kind, branch_id)
    return (row.is_enabled, row.days_before) if row else DEFAULT_SETTINGS.get(kind, (True, 0))


def channel_order_of(session, kind: SmsKind, branch_id: int | None) -> tuple[MessageChannel, ...]:
    """`kind`'s channels in `branch_id`, in the order to try them (its row's `channel_order`, else the default)."""
    row = reminder_row(session, kind, branch_id)
    saved = (row.channel_order if row is not None else None) or DEFAULT_CHANNEL_ORDER
    return tuple(MessageChannel(c) for c in saved.split(",") if c in MessageChannel.__members__)


def save_channel_order(session, kind: SmsKind, written: str, branch_id: int | None, *, user) -> None:
    """`kind`'s channel order as typed ("whatsapp,sms", "sms" …, each channel once) for `branch_id` (None: the
    installation's). Unchanged, nothing is written: a branch does not take the installation's row as its own
    for nothing. ServiceError("channel_order") for anything else."""
    names = [n.strip() for n in written.split(",") if n.strip()]
    if not names or len(set(names)) != len(names) or not set(names) <= set(MessageChannel.__members__):
        raise ServiceError("channel_order", "channel_order", value=written[:40])
    order = ",".join(names)
    current = reminder_row(session, kind, branch_id)
    if current is not None and current.channel_order == order and (branch_id is None or current.branch_id):
        return
    if current is None and order == DEFAULT_CHANNEL_ORDER:
        return
    save_reminder(session, kind, branch_id, user=user, channel_order=order)


def own_reminder_kinds(session, branch_id: int) -> set[SmsKind]:
    """The kinds the branch set for itself (the others follow the installation)."""
    return set(session.scalars(select(ReminderSetting.kind).where(ReminderSetting.branch_id == branch_id)))


def save_reminder(
    session,
    kind: SmsKind,
    branch_id: int | None,
    *,
    user,
    is_enabled: bool | None = None,
    days_before: int | None = None,
    channel_order: str | None = None,
) -> ReminderSetting:
    """Change what is given of `kind`'s settings in `branch_id`'s own row (None: the installation's). A
    branch's first change starts from what applied to it (the installation's row, else the defaults), so
    what it did not change stays as it was. Audited."""
    row = session.scalar(
        select(ReminderSetting).where(ReminderSetting.kind == kind, only_of(ReminderSetting.branch_id, branch_id))
    )
    if row is None:
        base = reminder_row(session, kind, branch_id)
        enabled, days = DEFAULT_SETTINGS.get(kind, (True, 0))
        row = ReminderSetting(
            kind=kind,
            branch_id=branch_id,
            is_enabled=base.is_enabled if base else enabled,
            days_before=base.days_before if base else days,
            channel_order=base.channel_order if base else DEFAULT_CHANNEL_ORDER,
        )
        session.add(row)
    if is_enabled is not None:
        row.is_enabled = is_enabled
    if days_before is not None:
        row.days_before = days_before
    if channel_order is not None:
        row.channel_order = channel_order
    session.flush()
    forget_read(session, ("reminder_setting", SmsKind.pre_call))
    audit.record(
        session,
        "reminder_settings.update",
        user=user,
        target=row,
        branch_id=branch_id,
        detail=f"{'branch' if branch_id else 'installation'} {kind.value} on={row.is_enabled} "
        f"days={row.days_before} order={row.channel_order}",
    )
    return row


def revert_reminder(session, kind: SmsKind, branch_id: int, *, user) -> bool:
    """The branch follows the installation's settings of `kind` again: its own row goes (audited)."""
    row = session.scalar(
        select(ReminderSetting).where(ReminderSetting.kind == kind, only_of(ReminderSetting.branch_id, branch_id))
    )
    if row is None:
        return False
    audit.record(session, "reminder_settings.revert", user=user, target=row, branch_id=branch_id, detail=kind.value)
    session.delete(row)
    session.flush()
    forget_read(session, ("reminder_setting", SmsKind.pre_call))
    return True
