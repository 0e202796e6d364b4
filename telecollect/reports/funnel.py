"""The outcome funnel: who was worked, reached, promised and paid, grouped one way.

Each measure is one aggregate query over its own raw table (attempts,
promises, payments, families, work items) for the date range, grouped by the
same key; the rows are merged in Python. Dates are the branch's local days
(in the period's zone, the branch's `BRANCH_TIMEZONE`). Definitions, as the dashboard shows them:

- families attempted: distinct families with at least one attempt
- attempts, contacts (someone answered), rpc (right-party contacts)
- promises and promised amount: promises made in the range
- promises due / kept / partly kept / broken: promises whose date falls in the range, by their result
- payments and collected amount: payments in the range credited to a contact (not self-cure)
- reactivated: families reactivated in the range (credited like the payment that did it)
- families assigned and arrears assigned: work items live during the range (one per family and queue;
  a family in both queues counts in each), and what they owed when assigned
- contact rate = contacts ÷ attempts; RPC rate = rpc ÷ attempts; PTP rate = promises ÷ rpc;
  kept rate = kept ÷ promises due; recovery rate = collected ÷ arrears assigned;
  attempts per family = attempts ÷ families attempted
- calls through the system (issue 15), per agent and day: dials (calls Twilio placed), connects (the
  participant's leg answered), talk time (seconds), wrap-up time (seconds in wrap-up after a connected call,
  from the agents' state history, on the day it ended), average handle time = (talk + wrap-up) ÷ connects

Grouped by branch or deputy region (the roll-ups, issue 16), every row counts in the branch it happened
in (a family that moved keeps its history where it was worked), so the branches add up to their region
and the regions to the nation, except the distinct-family counts of a family worked in two branches.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Float, Integer, String, cast, false, func, literal, or_, select

from telecollect.auth.models import User
from telecollect.auth.scoping import AreaScope
from telecollect.branches.models import Branch, DeputyRegion
from telecollect.clock import day_bounds, local_day_sql
from telecollect.contacts.models import ContactAttempt, Promise, PromiseState
from telecollect.participants.models import Family
from telecollect.payments.models import SELF_CURE, Payment
from telecollect.queues.models import QueueName, WorkItem
from telecollect.regions.queries import place_names
from telecollect.telephony.models import AgentState, AgentStateEvent, Call

GROUPINGS = ("user", "kecamatan", "kelurahan", "day", "week", "month", "bucket")
#: The roll-up groupings (issue 16): by branch, by deputy region. Rows without a deputy region are kept.
ROLLUPS = ("branch", "deputy")
#: The CLI's CSV columns, after the grouping column (the issue's contract).
CSV_COLUMNS = (
    "families_attempted",
    "attempts",
    "contacts",
    "rpc",
    "promises",
    "promised_amount",
    "promises_due",
    "promises_kept",
    "promises_broken",
    "payments",
    "collected_amount",
    "reactivated",
)
#: Calls placed through the system (issue 15); durations in seconds.
CALL_COUNTS = ("dials", "connects", "talk_seconds", "wrap_up_seconds", "wrap_ups")
COUNTS = (*CSV_COLUMNS, "promises_partly_kept", "families_assigned", "arrears_assigned", *CALL_COUNTS)
RATES = ("contact_rate", "rpc_rate", "ptp_rate", "kept_rate", "recovery_rate", "attempts_per_family")
#: The call figures the dashboard shows per agent and day (average handle time is a rate: seconds per connect).
CALL_COLUMNS = ("dials", "connects", "talk_seconds", "avg_handle_seconds", "wrap_up_seconds")


@dataclass(frozen=True)
class Period:
    """Local days `start`..`end` of the branch, in its zone (WIB, WITA or WIT)."""

    start: date
    end: date  #: inclusive
    zone: str

    @property
    def starts_at(self) -> datetime:
        return day_bounds(self.start, self.end, self.zone)[0]

    @property
    def ends_before(self) -> datetime:
        return day_bounds(self.start, self.end, self.zone)[1]

    def previous(self) -> "Period":
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - timedelta(days=1), self.zone)


@dataclass(frozen=True)
class Scope:
    """Whose figures: everyone's (supervisors), or one person's own."""

    user_id: int | None = None
    queue: str | None = None
    #: A cadre's areas: the families assigned to her are those of her work list, hers and the pool's
    #: cadre-queue families inside her areas (issue 13, D26), not only the items handed to her by name.
    cadre_areas: AreaScope | None = None
    #: Only these branches' rows (a roll-up's zone, a drill-down into a region or a branch); None: every
    #: branch the session's scope lets it read.
    branch_ids: tuple[int, ...] | None = None


def outcome_funnel(
    session, by: str, period: Period, scope: Scope = Scope(), *, measures: frozenset[str] | None = None
) -> list[dict]:
    """One row per group with every count and rate, sorted by group label.

    Kecamatan and kelurahan are grouped by id and labelled with their parents
    ("Batu Ampar — Kota Batam"); `key` is the id, for the drill-down. With
    `measures`, only the sources giving those are read (a chart of one
    figure); the other counts are then zero.
    """
    if by not in GROUPINGS + ROLLUPS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS + ROLLUPS)}")
    dialect = session.get_bind().dialect.name
    rows: dict = {}
    for build in SOURCES:
        source = build(by, period, scope, dialect)
        if measures is not None and not measures & source.measures.keys():
            continue
        for key, *values in session.execute(_aggregate(source)):
            rows.setdefault(key, dict.fromkeys(COUNTS, 0)).update(
                {name: int(value or 0) for name, value in zip(source.measures, values, strict=True)}
            )
    labels = _labels(session, by, rows)
    result = [
        {by: labels.get(key, key), "key": key, **counts, **rates(counts)}
        for key, counts in rows.items()
        if key is not None or by in ("bucket", "deputy")
    ]
    return sorted(result, key=lambda r: str(r[by] or ""))


def totals(rows: list[dict]) -> dict:
    """The same counts over all rows. Distinct families cannot be summed across groups, so
    `families_attempted` here is the sum of the groups' counts (a family worked by two people counts twice)."""
    summed = {name: sum(r[name] for r in rows) for name in COUNTS}
    return {**summed, **rates(summed)}


def rates(c: dict) -> dict:
    return {
        "contact_rate": _ratio(c["contacts"], c["attempts"]),
        "rpc_rate": _ratio(c["rpc"], c["attempts"]),
        "ptp_rate": _ratio(c["promises"], c["rpc"]),
        "kept_rate": _ratio(c["promises_kept"], c["promises_due"]),
        "recovery_rate": _ratio(c["collected_amount"], c["arrears_assigned"]),
        "attempts_per_family": _ratio(c["attempts"], c["families_attempted"]),
        "avg_handle_seconds": round((c["talk_seconds"] + c["wrap_up_seconds"]) / c["connects"])
        if c["connects"]
        else None,
    }


def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


# --- group keys -------------------------------------------------------------------


def _period_key(day_expression, by: str, dialect: str):
    """day → 'YYYY-MM-DD'; week → its Monday; month → 'YYYY-MM' (strings on both engines)."""
    if dialect == "postgresql":
        if by == "day":
            return func.to_char(day_expression, "YYYY-MM-DD")
        if by == "week":
            return func.to_char(func.date_trunc("week", day_expression), "YYYY-MM-DD")
        return func.to_char(day_expression, "YYYY-MM")
    if by == "day":
        return func.date(day_expression)
    if by == "week":
        return func.date(day_expression, "-6 days", "weekday 1")
    return func.strftime("%Y-%m", day_expression)


def _key(by: str, *, user, district, village, bucket, day, dialect, branch=None):
    """The group expression for one source table (`branch`: the table's branch column; by deputy region
    the source joins `branches`, see `_in_branches`)."""
    if by in ("day", "week", "month"):
        return _period_key(day, by, dialect)
    if by == "branch":
        return _in_no_index_order(branch)
    if by == "deputy":
        return _in_no_index_order(Branch.deputy_region_id)
    return _without_index({"user": user, "kecamatan": district, "kelurahan": village, "bucket": bucket}[by], dialect)


def _without_index(column, dialect: str):
    """Keep SQLite from grouping through an index on the key.

    SQLite would walk e.g. (user_id, at) to skip the GROUP BY sort and then read
    every row through it, two to three times slower than scanning the month by
    date and sorting; a no-op expression (x + 0, x || '') stops it. PostgreSQL
    plans this well on its own.
    """
    if dialect != "sqlite":
        return column
    return column + 0 if isinstance(column.type, Integer) else column.concat("")


def _in_no_index_order(column):
    """A roll-up's key (an integer id) that no index is ordered by, on both engines.

    Grouped by branch or deputy region, PostgreSQL skips the sort for the GROUP BY by reading the month's
    attempts through (branch_id, at), branch after branch: a nation-month's 8.5 million rows fetched one by
    one, 12.2 s. A seq scan and one sort took 8.8 s (scale 1.0, 2 cores). SQLite is kept off its indexes
    the same way (`_without_index`).
    """
    return column + 0


def _in_branches(stmt, branch_column, by: str, scope: "Scope"):
    """The source's rows of the scope's branches; joined to their branch when grouped by deputy region."""
    if by == "deputy":
        stmt = stmt.join(Branch, Branch.id == branch_column)
    if scope.branch_ids is not None:
        stmt = stmt.where(branch_column.in_(scope.branch_ids))
    return stmt


# --- one source per raw table ---------------------------------------------------------
# Each source gives (statement with its FROM and WHERE, group key, family column,
# aggregates by measure name). The funnel adds the aggregates and GROUP BY; the
# drill-down selects the families behind one measure of one group instead.


@dataclass(frozen=True)
class Source:
    statement: object
    key: object
    family: object
    measures: dict  #: measure name → (aggregate, extra condition for the drill-down or None)


def _attempts(by, period, scope, dialect) -> Source:
    a = ContactAttempt
    key = _key(
        by,
        user=a.user_id,
        district=a.district_id,
        village=a.village_id,
        bucket=a.bucket,
        day=local_day_sql(a.at, period.zone, dialect),
        dialect=dialect,
        branch=a.branch_id,
    )
    stmt = select().select_from(a).where(a.at >= period.starts_at, a.at < period.ends_before)
    stmt = _in_branches(stmt, a.branch_id, by, scope)
    if scope.user_id:
        stmt = stmt.where(a.user_id == scope.user_id)
    if scope.queue:
        stmt = stmt.where(a.queue == scope.queue)
    return Source(
        stmt,
        key,
        a.family_id,
        {
            "families_attempted": (func.count(func.distinct(a.family_id)), None),
            "attempts": (func.count(), None),
            "contacts": (func.count().filter(a.is_reached.is_(True)), a.is_reached.is_(True)),
            "rpc": (func.count().filter(a.is_right_party.is_(True)), a.is_right_party.is_(True)),
        },
    )


def _promise_source(by, day_column, dialect, scope):
    p, a, f = Promise, ContactAttempt, Family
    key = _key(
        by,
        user=p.user_id,
        district=f.district_id,
        village=f.village_id,
        bucket=a.bucket,
        day=day_column,
        dialect=dialect,
        branch=p.branch_id,
    )
    # Each promise has its attempt and family (foreign keys, not null): they are joined only when the
    # group or the scope needs them, so a region's or the nation's month reads no attempts (issue 16).
    stmt = select().select_from(p)
    if by == "bucket" or scope.queue:
        stmt = stmt.join(a, a.id == p.attempt_id)
    if by in ("kecamatan", "kelurahan"):
        stmt = stmt.join(f, f.id == p.family_id)
    stmt = _in_branches(stmt, p.branch_id, by, scope)
    if scope.user_id:
        stmt = stmt.where(p.user_id == scope.user_id)
    if scope.queue:
        stmt = stmt.where(a.queue == scope.queue)
    return stmt, key


def _promises_made(by, period, scope, dialect) -> Source:
    stmt, key = _promise_source(by, Promise.made_on, dialect, scope)
    return Source(
        stmt.where(Promise.made_on.between(period.start, period.end)),
        key,
        Promise.family_id,
        {
            "promises": (func.count(), None),
            "promised_amount": (func.coalesce(func.sum(Promise.amount), 0), None),
        },
    )


def _promises_due(by, period, scope, dialect) -> Source:
    p = Promise
    stmt, key = _promise_source(by, p.promised_on, dialect, scope)
    state = {
        name: p.state == value
        for name, value in (
            ("promises_kept", PromiseState.kept),
            ("promises_partly_kept", PromiseState.partly_kept),
            ("promises_broken", PromiseState.broken),
        )
    }
    return Source(
        stmt.where(p.promised_on.between(period.start, period.end)),
        key,
        p.family_id,
        {
            "promises_due": (func.count(), None),
            **{name: (func.count().filter(condition), condition) for name, condition in state.items()},
        },
    )


def _payment_source(by, dialect, scope, period, *, with_family: bool = False):
    pay, a, f = Payment, ContactAttempt, Family
    key = _key(
        by,
        user=pay.attributed_user_id,
        district=f.district_id,
        village=f.village_id,
        bucket=a.bucket,
        day=pay.paid_on,
        dialect=dialect,
        branch=pay.branch_id,
    )
    stmt = (
        select()
        .select_from(pay)
        .where(pay.attributed_channel != SELF_CURE, pay.paid_on.between(period.start, period.end))
    )
    # As for promises: the family and the attempt only when the group or the scope needs them (a
    # credited payment names its attempt; the inner join's "has one" stays as a condition).
    if with_family or by in ("kecamatan", "kelurahan"):
        stmt = stmt.join(f, f.id == pay.family_id)
    if by == "bucket" or scope.queue:
        stmt = stmt.join(a, a.id == pay.attributed_attempt_id)
    else:
        stmt = stmt.where(pay.attributed_attempt_id.is_not(None))
    stmt = _in_branches(stmt, pay.branch_id, by, scope)
    if scope.user_id:
        stmt = stmt.where(pay.attributed_user_id == scope.user_id)
    if scope.queue:
        stmt = stmt.where(a.queue == scope.queue)
    return stmt, key


def _payments(by, period, scope, dialect) -> Source:
    stmt, key = _payment_source(by, dialect, scope, period)
    return Source(
        stmt,
        key,
        Payment.family_id,
        {
            "payments": (func.count(), None),
            "collected_amount": (func.coalesce(func.sum(Payment.amount), 0), None),
        },
    )


def _reactivated(by, period, scope, dialect) -> Source:
    """Families reactivated in the range, credited like the payment that reactivated them."""
    stmt, key = _payment_source(by, dialect, scope, period, with_family=True)
    return Source(
        stmt.where(Family.reactivated_on == Payment.paid_on),
        key,
        Payment.family_id,
        {
            "reactivated": (func.count(func.distinct(Payment.family_id)), None),
        },
    )


def _assigned(by, period, scope, dialect) -> Source:
    """Work items live during the range; by day/week/month they count where they were created."""
    w = WorkItem
    key = _key(
        by,
        user=w.assigned_user_id,
        district=w.district_id,
        village=w.village_id,
        bucket=literal(None, String),
        day=local_day_sql(w.created_at, period.zone, dialect),
        dialect=dialect,
        branch=w.branch_id,
    )
    stmt = (
        select()
        .select_from(w)
        .where(w.created_at < period.ends_before, or_(w.closed_at.is_(None), w.closed_at >= period.starts_at))
    )
    stmt = _in_branches(stmt, w.branch_id, by, scope)
    if by in ("day", "week", "month"):
        stmt = stmt.where(w.created_at >= period.starts_at)
    if scope.user_id and scope.cadre_areas is not None:
        stmt = stmt.where(
            w.queue == QueueName.cadre,
            or_(w.assigned_user_id == scope.user_id, w.assigned_user_id.is_(None)),
            scope.cadre_areas.condition(w.district_id, w.village_id),
        )
    elif scope.user_id:
        stmt = stmt.where(w.assigned_user_id == scope.user_id)
    if scope.queue:
        stmt = stmt.where(w.queue == scope.queue)
    # A family has one live item per queue, so items are families within a queue;
    # counting rows rather than distinct families keeps this off a sort of every item.
    return Source(
        stmt,
        key,
        w.family_id,
        {
            "families_assigned": (func.count(), None),
            "arrears_assigned": (func.coalesce(func.sum(w.assigned_amount), 0), None),
        },
    )


def _calls(by, period, scope, dialect) -> Source:
    """Calls placed through the system in the range (by when they started): dials, connects, talk time."""
    c, f = Call, Family
    key = _key(
        by,
        user=c.user_id,
        district=f.district_id,
        village=f.village_id,
        bucket=literal(None, String),
        day=local_day_sql(c.started_at, period.zone, dialect),
        dialect=dialect,
        branch=c.branch_id,
    )
    stmt = (
        select()
        .select_from(c)
        .join(f, f.id == c.family_id)
        .where(c.started_at >= period.starts_at, c.started_at < period.ends_before, c.twilio_sid.is_not(None))
    )
    stmt = _in_branches(stmt, c.branch_id, by, scope)
    stmt = _call_scope(stmt, c.user_id, scope)
    connected = c.dial_status == "completed"
    return Source(
        stmt,
        key,
        c.family_id,
        {
            "dials": (func.count(), None),
            "connects": (func.count().filter(connected), connected),
            "talk_seconds": (func.coalesce(func.sum(c.talk_seconds), 0), None),
        },
    )


def _wrap_ups(by, period, scope, dialect) -> Source:
    """Time in wrap-up after connected calls, from the agents' state history: each change that left
    wrap_up is one wrap-up, as long as it lasted, on the day it ended."""
    e, c, f = AgentStateEvent, Call, Family
    key = _key(
        by,
        user=e.user_id,
        district=f.district_id,
        village=f.village_id,
        bucket=literal(None, String),
        day=local_day_sql(e.at, period.zone, dialect),
        dialect=dialect,
        branch=c.branch_id,
    )
    stmt = (
        select()
        .select_from(e)
        .outerjoin(c, c.id == e.call_id)
        .outerjoin(f, f.id == c.family_id)
        .where(
            e.previous_state == AgentState.wrap_up,
            e.previous_since.is_not(None),
            e.at >= period.starts_at,
            e.at < period.ends_before,
        )
    )
    # A wrap-up counts in its call's branch, like the call's talk time (its handle time stays whole).
    stmt = _in_branches(stmt, c.branch_id, by, scope)
    stmt = _call_scope(stmt, e.user_id, scope)
    return Source(
        stmt,
        key,
        c.family_id,
        {
            "wrap_up_seconds": (func.coalesce(func.sum(_seconds_between(e.previous_since, e.at, dialect)), 0), None),
            "wrap_ups": (func.count(), None),
        },
    )


def _call_scope(stmt, user_column, scope: Scope):
    """Calls are the call queue's, made by telecollectors: a person sees her own, the cadre queue none."""
    if scope.user_id:
        stmt = stmt.where(user_column == scope.user_id)
    if scope.queue == QueueName.cadre.value:
        stmt = stmt.where(false())
    return stmt


def _seconds_between(start, end, dialect: str):
    """Whole seconds from `start` to `end` (two UTC timestamp columns), on either engine."""
    if dialect == "postgresql":
        return func.round(func.extract("epoch", end - start))
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0).cast(Float)


SOURCES = (_attempts, _promises_made, _promises_due, _payments, _reactivated, _assigned, _calls, _wrap_ups)


def calls_by_agent_and_day(session, period: Period, scope: Scope = Scope()) -> list[dict]:
    """The call figures (`CALL_COUNTS` and average handle time) per agent and local day: one row per
    (day, agent) with any call or wrap-up, by day then agent name."""
    dialect = session.get_bind().dialect.name
    rows: dict = {}
    for build in (_calls, _wrap_ups):
        by_user, by_day = build("user", period, scope, dialect), build("day", period, scope, dialect)
        aggregates = [aggregate for aggregate, _condition in by_user.measures.values()]
        statement = by_user.statement.add_columns(by_day.key, by_user.key, *aggregates).group_by(
            by_day.key, by_user.key
        )
        for day, user_id, *values in session.execute(statement):
            rows.setdefault((str(day), user_id), dict.fromkeys(CALL_COUNTS, 0)).update(
                {name: int(value or 0) for name, value in zip(by_user.measures, values, strict=True)}
            )
    names = _labels(session, "user", {user_id: None for _day, user_id in rows})
    result = [
        {
            "day": day,
            "user": names.get(user_id, user_id),
            "key": user_id,
            **counts,
            "avg_handle_seconds": round((counts["talk_seconds"] + counts["wrap_up_seconds"]) / counts["connects"])
            if counts["connects"]
            else None,
        }
        for (day, user_id), counts in rows.items()
    ]
    return sorted(result, key=lambda r: (r["day"], str(r["user"])))


def _aggregate(source: Source):
    aggregates = [aggregate for aggregate, _condition in source.measures.values()]
    return source.statement.add_columns(source.key, *aggregates).group_by(source.key)


def families_behind(session, metric: str, by: str, key: str, period: Period, scope: Scope = Scope()) -> list[int]:
    """The family ids behind one figure of one group (the dashboard's drill-down)."""
    dialect = session.get_bind().dialect.name
    for build in SOURCES:
        source = build(by, period, scope, dialect)
        if metric in source.measures:
            condition = source.measures[metric][1]
            stmt = source.statement.add_columns(source.family).where(cast(source.key, String) == key).distinct()
            if condition is not None:
                stmt = stmt.where(condition)
            return list(session.scalars(stmt))
    raise ValueError(f"unknown figure {metric!r}")


def branch_label(code: str, name: str) -> str:
    """A branch as the roll-ups name it: its name and code (the first branch may have no name of its own)."""
    return f"{name} ({code})" if name else code


def _labels(session, by: str, rows: dict) -> dict:
    ids = [k for k in rows if k is not None]
    if by == "user":
        return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    if by in ("kecamatan", "kelurahan"):  # names repeat: the label carries the code and parents
        return {place_id: place.label for place_id, place in place_names(session, by, ids).items()}
    if by == "branch":
        found = session.execute(select(Branch.id, Branch.code, Branch.name).where(Branch.id.in_(ids))).all()
        return {branch_id: branch_label(code, name) for branch_id, code, name in found}
    if by == "deputy":
        return dict(session.execute(select(DeputyRegion.id, DeputyRegion.name).where(DeputyRegion.id.in_(ids))).all())
    return {k: str(k) for k in ids}
