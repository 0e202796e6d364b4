"""The dashboard's other panels: people, programs and channels, arrears by district, trends."""

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import Role, User
from telecollect.clock import day_start, local_day
from telecollect.contacts.models import ContactAttempt, Promise, PromiseState
from telecollect.errors import ServiceError
from telecollect.imports.models import ImportRun, ImportStatus
from telecollect.messaging.models import InboundSms, SmsMessage
from telecollect.participants.models import Participant
from telecollect.programs.models import Installment, InstallmentPlan
from telecollect.queues.models import FollowUp, WorkItem, WorkState
from telecollect.queues.queries import whatsapp_families_on
from telecollect.reasons import quoted
from telecollect.regions.queries import place_names
from telecollect.reports.funnel import Period, totals
from telecollect.reports.models import ArrearsDistrictTotal

#: The longest date range a report reads at once (a year, leap day included) and the years it may cover:
#: a range from year 1000 to 9998 once took 13.6 s and 1 GB of one worker for any signed-in user.
MAX_RANGE_DAYS = 366
FIRST_YEAR, LAST_YEAR = 2000, 2100


def report_period(start: date | str, end: date | str, zone: str) -> Period:
    """The report's date range (branch days, both included), bounded so that no request or command can
    ask for centuries of figures. Dates may arrive as YYYY-MM-DD text (a URL, a CLI option).

    Raises `ServiceError` with code `report_date_format`, `report_range_order`, `report_range_years`
    or `report_range_too_long`."""
    start_day, end_day = _report_day(start, "from"), _report_day(end, "to")
    for day, field in ((start_day, "from"), (end_day, "to")):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ServiceError("report_range_years", field, low=FIRST_YEAR, high=LAST_YEAR, day=day.isoformat())
    if end_day < start_day:
        raise ServiceError("report_range_order", "from")
    if (end_day - start_day).days + 1 > MAX_RANGE_DAYS:
        raise ServiceError("report_range_too_long", "to", days=MAX_RANGE_DAYS)
    return Period(start_day, end_day, zone)


def _report_day(value: date | str, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ServiceError("report_date_format", field, value=quoted(value)) from None


#: The audit action of a skip on the agent desktop (`workflows.queue_work.SKIP_ACTION`); its detail is the reason.
SKIP_ACTION = "work_item.skip"


def skips_today(session, now: datetime, zone: str) -> list[tuple[str, str, int]]:
    """Dilewati hari ini: families skipped without an attempt today (the branch's local day), per agent and
    reason, most first: (name, reason code, count)."""
    today = day_start(local_day(now, zone), zone)
    rows = session.execute(
        select(User.name, AuditEvent.detail, func.count())
        .join(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.action == SKIP_ACTION, AuditEvent.at >= today)
        .group_by(User.name, AuditEvent.detail)
    ).all()
    return sorted(((name, reason or "", n) for name, reason, n in rows), key=lambda r: (-r[2], r[0], r[1]))


def people(
    session,
    now: datetime,
    zone: str,
    *,
    call_target: int,
    cadre_weekly_target: int,
    quiet_days: int,
    whatsapp_limit: int = 50,
) -> dict:
    """Per telecollector: today's calls against target, callbacks pending, promises open.
    Per cadre: families contacted this week against target, families she opened WhatsApp for today against
    the daily soft limit, last activity. And who has gone quiet.
    "Today" and "this week" are the branch's local days in `zone`."""
    staff = session.scalars(
        select(User)
        .where(User.role.in_([Role.telecollector, Role.cadre]), User.is_active.is_(True))
        .order_by(User.username)
    ).all()
    today = day_start(local_day(now, zone), zone)
    week = today - timedelta(days=today.weekday())
    calls = _by_user(session, select(ContactAttempt.user_id, func.count()).where(ContactAttempt.at >= today))
    reached_today = _by_user(
        session,
        select(ContactAttempt.user_id, func.count()).where(
            ContactAttempt.at >= today, ContactAttempt.is_reached.is_(True)
        ),
    )
    families = func.count(func.distinct(ContactAttempt.family_id))
    week_families = _by_user(session, select(ContactAttempt.user_id, families).where(ContactAttempt.at >= week))
    last = dict(
        session.execute(
            select(ContactAttempt.user_id, func.max(ContactAttempt.at)).group_by(ContactAttempt.user_id)
        ).all()
    )
    callbacks = _by_user(
        session,
        select(WorkItem.callback_user_id, func.count()).where(
            WorkItem.follow_up == FollowUp.callback, WorkItem.state != WorkState.closed
        ),
    )
    promises = _by_user(session, select(Promise.user_id, func.count()).where(Promise.state == PromiseState.pending))
    whatsapp_today = whatsapp_families_on(session, local_day(now, zone))
    quiet_since = now - timedelta(days=quiet_days)
    rows = []
    for user in staff:
        target = user.daily_call_target or call_target
        rows.append(
            {
                "user": user,
                "calls_today": calls.get(user.id, 0),
                "target": target,
                "contacts_today": reached_today.get(user.id, 0),
                "callbacks": callbacks.get(user.id, 0),
                "promises_open": promises.get(user.id, 0),
                "families_this_week": week_families.get(user.id, 0),
                "weekly_target": cadre_weekly_target,
                "whatsapp_today": whatsapp_today.get(user.id, 0),
                "whatsapp_limit": whatsapp_limit,
                "last_activity": last.get(user.id),
                "is_quiet": last.get(user.id) is None or last[user.id] < quiet_since,
            }
        )
    return {
        "telecollectors": [r for r in rows if r["user"].role == Role.telecollector],
        "cadres": [r for r in rows if r["user"].role == Role.cadre],
        "quiet": [r for r in rows if r["is_quiet"]],
    }


def _by_user(session, stmt) -> dict:
    return dict(session.execute(stmt.group_by(stmt.selected_columns[0])).all())


def programs_and_channels(session, period: Period) -> dict:
    """REHAB plans and installments, autodebit prompts and enrolments, SMS by kind and status."""
    plans = dict(
        session.execute(
            select(InstallmentPlan.state, func.count())
            .where(InstallmentPlan.registered_on.between(period.start, period.end))
            .group_by(InstallmentPlan.state)
        ).all()
    )
    installments = dict(
        session.execute(
            select(Installment.state, func.count())
            .where(Installment.due_on.between(period.start, period.end))
            .group_by(Installment.state)
        ).all()
    )
    sms = session.execute(
        select(SmsMessage.kind, SmsMessage.status, func.count(), func.sum(SmsMessage.segments))
        .where(SmsMessage.created_at >= period.starts_at, SmsMessage.created_at < period.ends_before)
        .group_by(SmsMessage.kind, SmsMessage.status)
    ).all()
    cost = session.scalars(
        select(SmsMessage.price).where(
            SmsMessage.price.is_not(None),
            SmsMessage.created_at >= period.starts_at,
            SmsMessage.created_at < period.ends_before,
        )
    ).all()
    prompted = (
        select(SmsMessage.family_id)
        .where(
            SmsMessage.kind == "autodebit_prompt",
            SmsMessage.created_at >= period.starts_at,
            SmsMessage.created_at < period.ends_before,
        )
        .distinct()
    )
    prompted_count = session.scalar(select(func.count()).select_from(prompted.subquery()))
    enrolled = session.scalar(
        select(func.count(func.distinct(Participant.family_id))).where(
            Participant.is_autodebit.is_(True), Participant.family_id.in_(prompted)
        )
    )
    replies = dict(
        session.execute(
            select(InboundSms.action, func.count())
            .where(InboundSms.received_at >= period.starts_at, InboundSms.received_at < period.ends_before)
            .group_by(InboundSms.action)
        ).all()
    )
    return {
        "plans": {state.value: n for state, n in plans.items()},
        "installments": {state.value: n for state, n in installments.items()},
        "autodebit": {
            "prompted": prompted_count,
            "enrolled": enrolled,
            "conversion": round(enrolled / prompted_count, 4) if prompted_count else None,
        },
        "sms": [
            {"kind": kind.value, "status": status.value, "messages": n, "segments": int(segments or 0)}
            for kind, status, n, segments in sms
        ],
        "sms_cost": round(sum(abs(float(p)) for p in cost), 4) if cost else None,
        "replies": replies,
    }


def arrears_by_district_with_change(session) -> list[dict]:
    """Arrears per kecamatan after the last participant import, and the change since the one before.

    Each branch imports its own participants: the comparison is per branch (its last import against its own
    previous one), summed per kecamatan across the branches the reader sees. Comparing the last two imports
    of the installation would set one branch's file against another's. A kecamatan's change is None when no
    branch had it in a previous import.

    One row per kecamatan id, labelled with its city: names repeat across regencies.
    """
    kept = (ImportRun.kind == "participants", ImportRun.status == ImportStatus.committed)
    last_run = func.max(ImportRun.id)
    per_branch = select(ImportRun.branch_id, last_run).where(*kept).group_by(ImportRun.branch_id)
    last_two: dict[int, list[int]] = {branch_id: [run_id] for branch_id, run_id in session.execute(per_branch)}
    if not last_two:
        return []
    latest = [runs[0] for runs in last_two.values()]
    for branch_id, run_id in session.execute(per_branch.where(ImportRun.id.not_in(latest))):
        last_two[branch_id].append(run_id)
    by_run = _district_totals(session, [run for runs in last_two.values() for run in runs])
    current: dict[int, tuple[int, int]] = {}
    change: dict[int, tuple[int, int]] = {}
    for runs in last_two.values():
        now_totals = by_run.get(runs[0], {})
        before = by_run.get(runs[1], {}) if len(runs) > 1 else {}
        for district_id, (p, a) in now_totals.items():
            current[district_id] = _plus(current.get(district_id), (p, a))
        for district_id, (before_p, before_a) in before.items():
            # As before: a kecamatan new to the branch (not in its previous import) has no change to show.
            now_p, now_a = now_totals.get(district_id, (0, 0))
            change[district_id] = _plus(change.get(district_id), (now_p - before_p, now_a - before_a))
    places = place_names(session, "kecamatan", set(current) | set(change))
    rows = []
    for district_id in set(current) | set(change):
        now_p, now_a = current.get(district_id, (0, 0))
        moved = change.get(district_id)
        rows.append(
            {
                "district_id": district_id,
                "kecamatan": places[district_id].label,
                "participants": now_p,
                "arrears_amount": now_a,
                "participants_change": None if moved is None else moved[0],
                "amount_change": None if moved is None else moved[1],
            }
        )
    return sorted(rows, key=lambda r: (-r["arrears_amount"], r["kecamatan"]))


def _plus(total: tuple[int, int] | None, more: tuple[int, int]) -> tuple[int, int]:
    return more if total is None else (total[0] + more[0], total[1] + more[1])


def _district_totals(session, run_ids: list[int]) -> dict[int, dict[int, tuple[int, int]]]:
    """run id → {kecamatan id: (participants, amount)}, in one query."""
    found: dict[int, dict[int, tuple[int, int]]] = {}
    for run_id, district_id, p, a in session.execute(
        select(
            ArrearsDistrictTotal.import_run_id,
            ArrearsDistrictTotal.district_id,
            ArrearsDistrictTotal.participants,
            ArrearsDistrictTotal.amount,
        ).where(ArrearsDistrictTotal.import_run_id.in_(run_ids))
    ):
        found.setdefault(run_id, {})[district_id] = (p, int(a))
    return found


def key_figures(current: list[dict], previous: list[dict]) -> dict:
    """The period's totals (from its funnel by month) next to the previous period's."""
    now_totals, before = totals(current), totals(previous)
    return {name: {"value": now_totals[name], "previous": before[name]} for name in now_totals}


#: The figures the daily trend charts.
TREND_MEASURES = frozenset({"attempts", "contacts", "promises", "collected_amount"})


def daily_trend(period: Period, by_day: list[dict]) -> list[dict]:
    """Every day of the period (zero when nothing happened), from its funnel by day."""
    rows = {r["day"]: r for r in by_day}
    days = [(period.start + timedelta(days=n)).isoformat() for n in range((period.end - period.start).days + 1)]
    return [{"day": day, **{m: rows.get(day, {}).get(m, 0) for m in sorted(TREND_MEASURES)}} for day in days]
