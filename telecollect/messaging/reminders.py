"""Planning reminders: which families get which SMS, and when.

Every planned message has an idempotency key (kind + family + period, or the
promise/installment id), so planning can run as often as the scheduler likes,
from two schedulers at once, and never queue the same reminder twice. Each
message is scheduled for the next opening of the recipient's SMS window; the
dispatcher checks the window again when it sends.
"""

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from telecollect.branches.stamping import acting_branch_or_none
from telecollect.clock import local_day
from telecollect.contacts.models import Channel, ContactAttempt, Promise, PromiseState
from telecollect.db import read_once
from telecollect.formatting import rupiah
from telecollect.messaging.models import SmsKind
from telecollect.messaging.outbox import queue_sms, route
from telecollect.messaging.reminder_settings import setting_of
from telecollect.participants.models import Family, Participant
from telecollect.participants.queries import family_months_owed
from telecollect.policy import rules as policy
from telecollect.programs.models import Installment, InstallmentPlan, InstallmentState, PlanState


def setting(session, kind: SmsKind) -> tuple[bool, int]:
    """(on, days) of `kind` in the acting branch."""
    return setting_of(session, kind, acting_branch_or_none(session))


def pre_call_setting(session) -> tuple[bool, int]:
    """The pre-call switch, read once per unit of work: every claim asks it (a claim is one query
    lighter than a read per question), and the next unit of work sees a change saved anywhere."""
    return read_once(session, ("reminder_setting", SmsKind.pre_call), lambda: setting(session, SmsKind.pre_call))


def plan_reminders(session, rules: policy.ContactRules, now: datetime, zone: str, *, due_day: int) -> dict[str, int]:
    """Queue every reminder due at `now`; returns how many of each kind were new.

    Which day it is (before the due day, the day before a promise …) is the
    branch's local day in `zone` (`BRANCH_TIMEZONE`). `due_day` is the day of the
    month payments fall due (`INSTALLMENT_DUE_DAY`, the 10th): the due reminder
    counts back from it, as installments fall due on it.
    """
    planned = {}
    for kind, planner in (
        (SmsKind.due_reminder, partial(_due_reminders, due_day=due_day)),
        (SmsKind.promise_reminder, _promise_reminders),
        (SmsKind.promise_broken, _broken_promises),
        (SmsKind.installment_reminder, _installments),
        (SmsKind.autodebit_prompt, _autodebit_prompts),
    ):
        enabled, days = setting(session, kind)
        planned[kind.value] = planner(session, rules, now, local_day(now, zone), days) if enabled else 0
    session.flush()
    return planned


def _send(session, rules, now, *, kind, key, members, **values) -> int:
    """Queue one message to the family, by the first channel of the kind's order it may get (WhatsApp: a
    number with a standing opt-in; SMS: a number not opted out); 1 if new."""
    routed = route(session, kind, members)
    if routed is None:
        return 0
    channel, phone = routed
    zone = members[0].province.timezone
    when = policy.next_opening(session, rules, zone, now)
    return (
        1
        if queue_sms(
            session,
            kind=kind,
            key=key,
            to_phone=phone,
            members=members,
            timezone=zone,
            scheduled_at=when,
            channel=channel,
            **values,
        )
        else 0
    )


def _families_with_members(session, family_ids):
    if not family_ids:
        return {}
    families = session.scalars(
        select(Family)
        .where(Family.id.in_(family_ids))
        .options(selectinload(Family.members).selectinload(Participant.province))
    )
    return {f.id: f.members for f in families}


def _due_reminders(session, rules, now, today, days_before, *, due_day: int) -> int:
    """Before the due day: families 1–24 months in arrears who do not pay by autodebit."""
    if today.day != due_day - days_before:
        return 0
    due = today.replace(day=due_day)
    owing = session.scalars(
        select(Participant.family_id)
        .group_by(Participant.family_id)
        .having(
            family_months_owed().between(1, 24),
            func.sum(case((Participant.is_autodebit.is_(True), 1), else_=0)) == 0,
        )
    ).all()
    count = 0
    for family_id, members in _families_with_members(session, owing).items():
        count += _send(
            session,
            rules,
            now,
            kind=SmsKind.due_reminder,
            key=f"due:{family_id}:{due:%Y-%m}",
            members=members,
            jatuh_tempo=due,
        )
    return count


def _promise_reminders(session, rules, now, today, days_before) -> int:
    target = today + timedelta(days=days_before)
    promises = session.scalars(
        select(Promise).where(Promise.state == PromiseState.pending, Promise.promised_on == target)
    ).all()
    return _about_promises(session, rules, now, promises, kind=SmsKind.promise_reminder, key_prefix="promise")


def _broken_promises(session, rules, now, today, days_after) -> int:
    """The day after a promise's last counting day (the settle job also put the family back in the queue).

    Promises found broken more than a week ago are left alone: a late first
    run of the planner must not message old news.
    """
    last_counting_day = today - timedelta(days=days_after)
    promises = session.scalars(
        select(Promise).where(
            Promise.state == PromiseState.broken,
            Promise.resolved_on <= last_counting_day,
            Promise.resolved_on >= last_counting_day - timedelta(days=7),
        )
    ).all()
    return _about_promises(session, rules, now, promises, kind=SmsKind.promise_broken, key_prefix="broken")


def _about_promises(session, rules, now, promises, *, kind: SmsKind, key_prefix: str) -> int:
    """One message of `kind` to each promise's family, keyed by the promise (so never twice)."""
    members = _families_with_members(session, {p.family_id for p in promises})
    return sum(
        _send(
            session,
            rules,
            now,
            kind=kind,
            key=f"{key_prefix}:{p.id}",
            members=members[p.family_id],
            tanggal_janji=p.promised_on,
        )
        for p in promises
    )


def _installments(session, rules, now, today, days_before) -> int:
    target = today + timedelta(days=days_before)
    due = session.scalars(
        select(Installment)
        .join(InstallmentPlan)
        .where(
            InstallmentPlan.state == PlanState.active,
            Installment.state == InstallmentState.pending,
            Installment.due_on == target,
        )
        .options(selectinload(Installment.plan))
    ).all()
    members = _families_with_members(session, {i.plan.family_id for i in due})
    return sum(
        _send(
            session,
            rules,
            now,
            kind=SmsKind.installment_reminder,
            key=f"installment:{i.id}",
            members=members[i.plan.family_id],
            jatuh_tempo=i.due_on,
            cicilan=rupiah(i.amount),
        )
        for i in due
    )


def _autodebit_prompts(session, rules, now, _today, _days) -> int:
    """Families reached by phone or a cadre in the last week who still pay by hand: once a quarter."""
    since = now - timedelta(days=7)
    reached = session.scalars(
        select(ContactAttempt.family_id)
        .where(
            ContactAttempt.at >= since,
            ContactAttempt.is_right_party.is_(True),
            ContactAttempt.channel.in_((Channel.phone, Channel.whatsapp, Channel.visit)),
        )
        .distinct()
    ).all()
    quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    count = 0
    for family_id, members in _families_with_members(session, reached).items():
        if any(m.is_autodebit for m in members):
            continue
        count += _send(
            session, rules, now, kind=SmsKind.autodebit_prompt, key=f"autodebit:{family_id}:{quarter}", members=members
        )
    return count


def prompt_autodebit_now(session, rules, members, now: datetime, *, zone: str) -> int:
    """Right after an `interested_autodebit` outcome: the enrolment steps, at the next SMS opening.

    Once per family and calendar month of the branch (`zone`): the key is the family and the month, so
    six such outcomes in a row queue one text."""
    enabled, _days = setting(session, SmsKind.autodebit_prompt)
    if not enabled or any(m.is_autodebit for m in members):
        return 0
    month = local_day(now, zone).strftime("%Y-%m")
    key = f"autodebit-now:{members[0].family_id}:{month}"
    return _send(session, rules, now, kind=SmsKind.autodebit_prompt, key=key, members=members)


def pre_call_notice(session, rules, members, now: datetime) -> int:
    """Optional: a short notice before a telecollector's first call of the day to this family."""
    enabled, _days = pre_call_setting(session)
    if not enabled:
        return 0
    today = local_day(now, members[0].province.timezone)
    return _send(
        session, rules, now, kind=SmsKind.pre_call, key=f"precall:{members[0].family_id}:{today}", members=members
    )
