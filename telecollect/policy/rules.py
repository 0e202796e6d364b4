"""The contact policy: when, how often and whom we may contact.

One module that every channel asks (calls now; SMS and WhatsApp later), so
the rules live in one place. Defaults follow POJK 22/2023 art. 62: Monday to
Saturday, 08:00–20:00 in the participant's local time (from their province),
never on national holidays, cuti bersama (a setting) or the branch's own days,
at most 3 attempts a day and 7 in any 7 days per family, and never a number
that asked not to be contacted on that channel.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays as holiday_calendars
from sqlalchemy import select

from telecollect.branches.stamping import acting_branch_or_none, own_or_installation
from telecollect.contacts.models import Channel, ContactAttempt, Holiday
from telecollect.db import forget_read, read_once
from telecollect.formatting import ZONES
from telecollect.policy import optouts
from telecollect.reasons import WEEKDAYS, describe

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Channels that count towards the per-family attempt caps (a person reaching out).
CAPPED_CHANNELS = (Channel.phone, Channel.whatsapp, Channel.visit)


class PolicyConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ContactRules:
    start_minute: int  #: opening, minutes after local midnight
    end_minute: int  #: closing, minutes after local midnight (1440 = midnight)
    days: frozenset  #: weekday numbers, Monday = 0
    max_per_day: int
    max_per_week: int
    #: Whether cuti bersama close contact like national holidays (CUTI_BERSAMA_BLOCKS_CONTACT).
    cuti_bersama_blocks: bool = True

    @classmethod
    def from_setting(cls, row) -> "ContactRules":
        """From a `policy.models.ContactSetting` row (checked when it was saved)."""
        start, end = parse_hours(row.calling_hours)
        return cls(
            start,
            end,
            parse_days(row.calling_days),
            row.max_attempts_per_day,
            row.max_attempts_per_week,
            row.is_cuti_bersama_closed,
        )

    def hours_written(self) -> str:
        """ "08:00-20:00": the hours as a person writes them."""
        start, end = divmod(self.start_minute, 60), divmod(self.end_minute, 60)
        return f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"

    def days_written(self) -> str:
        """ "mon,tue,wed,thu,fri,sat": the days as a list."""
        return ",".join(DAY_NAMES[day] for day in sorted(self.days))

    @classmethod
    def from_config(cls, config) -> "ContactRules":
        start, end = parse_hours(config.get("CALLING_HOURS", "08:00-20:00"))
        return cls(
            start,
            end,
            parse_days(config.get("CALLING_DAYS", "mon-sat")),
            int(config.get("MAX_ATTEMPTS_PER_DAY", 3)),
            int(config.get("MAX_ATTEMPTS_PER_WEEK", 7)),
            parse_flag("CUTI_BERSAMA_BLOCKS_CONTACT", config.get("CUTI_BERSAMA_BLOCKS_CONTACT", True)),
        )


@dataclass(frozen=True)
class Decision:
    """May a contact start? A refusal carries a code and its parameters (`reason` words them, in
    the reader's language, from `telecollect.reasons.REASONS` under `policy_<code>`)."""

    allowed: bool
    code: str | None = None
    params: dict = field(default_factory=dict)
    #: The earliest time asking again could succeed, when the refusal is about time.
    retry_at: datetime | None = None

    @property
    def reason(self) -> str | None:
        return None if self.code is None else describe(f"policy_{self.code}", self.params)


ALLOWED = Decision(True)


def parse_hours(text: str) -> tuple[int, int]:
    """ "08:00-20:00" → (480, 1200); the end may be 24:00."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start, end = _minutes(start_text), _minutes(end_text)
    except ValueError:
        raise PolicyConfigError(f"CALLING_HOURS must look like 08:00-20:00, got {text!r}") from None
    if not 0 <= start < end <= 1440:
        raise PolicyConfigError(f"CALLING_HOURS must open before it closes within one day, got {text!r}")
    return start, end


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    value = int(hours) * 60 + int(minutes)
    if not (0 <= int(minutes) < 60 and 0 <= value <= 1440):
        raise ValueError(text)
    return value


def parse_flag(name: str, value) -> bool:
    """True/False, or the words an environment variable carries ("true", "0", "no", "on"…)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise PolicyConfigError(f"{name} must be true or false, got {value!r}")


def parse_days(text: str) -> frozenset:
    """ "mon-sat", "mon,wed,fri" or a mix ("mon-wed,sat") → weekday numbers."""
    days = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _sep, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise PolicyConfigError(f"CALLING_DAYS takes mon..sun as a range or a list, got {text!r}")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        if end < start:
            raise PolicyConfigError(f"CALLING_DAYS range runs backwards: {part!r}")
        days.update(range(start, end + 1))
    return frozenset(days)


#: Kinds of day off (the holidays page shows which is which).
NATIONAL = "national"  #: libur nasional (the package's `public` category)
CUTI_BERSAMA = "cuti_bersama"  #: collective leave (the package's `government` category)
BRANCH = "branch"  #: the branch's own days (`flask holidays import`)
#: How the `holidays` package marks an estimated date in Bahasa Indonesia (its label "%s (perkiraan)").
ESTIMATED_MARK = "(perkiraan)"
_ESTIMATED_SUFFIX = re.compile(r"\s*\(perkiraan\)$")


@dataclass(frozen=True)
class DayOff:
    on: date
    name: str  #: in Bahasa Indonesia, without the estimated mark
    kind: str  #: NATIONAL, CUTI_BERSAMA or BRANCH
    is_estimated: bool = False  #: the date is the package's estimate (lunar calendars, years ahead)

    @property
    def label(self) -> str:
        """The name as shown in a refusal: "Hari Raya Idul Fitri (perkiraan)" when estimated."""
        return f"{self.name} {ESTIMATED_MARK}" if self.is_estimated else self.name


@lru_cache(maxsize=16)
def built_in_holidays(year: int) -> dict[date, DayOff]:
    """Indonesia's national holidays and cuti bersama from the `holidays` package (SKB-based, maintained upstream).

    Always in Bahasa Indonesia: without `language` the package follows the
    server's LANG and a Jakarta screen would read "Eid al-Fitr".
    """
    days: dict[date, DayOff] = {}
    for kind, category in ((CUTI_BERSAMA, holiday_calendars.GOVERNMENT), (NATIONAL, holiday_calendars.PUBLIC)):
        calendar = holiday_calendars.Indonesia(years=year, categories=(category,), language="id")
        for day, joined in calendar.items():
            # Two holidays on one day come joined with "; ", each with its own mark.
            names = [_ESTIMATED_SUFFIX.sub("", part) for part in joined.split("; ")]
            # A national holiday wins over cuti bersama on the same day: it closes whatever the setting.
            days[day] = DayOff(day, "; ".join(names), kind, is_estimated="; ".join(names) != joined)
    return days


def blocks_contact(rules: ContactRules, holiday: DayOff) -> bool:
    """Cuti bersama close contact only when the setting says so; every other day off always does."""
    return holiday.kind != CUTI_BERSAMA or rules.cuti_bersama_blocks


#: `read_once`'s key for the branch's own holidays (year → {day: name}).
_BRANCH_HOLIDAYS = "branch_holidays"


def day_off(session, rules: ContactRules, day: date) -> DayOff | None:
    """The day off that closes contact on `day` (national, cuti bersama, the branch's own), or None."""
    built_in = built_in_holidays(day.year).get(day)
    if built_in is not None and blocks_contact(rules, built_in):
        return built_in
    name = branch_holidays(session, day.year).get(day)
    return DayOff(day, name, BRANCH) if name else None


def holiday_name(session, rules: ContactRules, day: date) -> str | None:
    found = day_off(session, rules, day)
    return found.label if found else None


def year_days_off(session, year: int) -> list[DayOff]:
    """Every day off of `year`, by date: the built-in ones and the branch's.

    A branch day on a built-in one is listed as well: it still closes contact
    when the built-in one does not (cuti bersama with the setting off).
    """
    branch = [DayOff(day, name, BRANCH) for day, name in branch_holidays(session, year).items()]
    return sorted([*built_in_holidays(year).values(), *branch], key=lambda d: (d.on, d.kind != NATIONAL))


def branch_holidays(session, year: int) -> dict[date, str]:
    """The year's imported holidays, read once per unit of work (request, command, job).

    Every claim asks about today in three zones, and a pre-call notice looks for
    the next opening: one query per claim, not one per question. The next unit
    of work reads them again, so every process sees an import at once.
    """
    by_branch: dict[int | None, dict[int, dict[date, str]]] = read_once(session, _BRANCH_HOLIDAYS, dict)
    branch_id = acting_branch_or_none(session)
    years = by_branch.setdefault(branch_id, {})
    if year not in years:
        # The installation's days (NULL) and the acting branch's own (issue 16).
        mine, _first = own_or_installation(Holiday.branch_id, branch_id)
        years[year] = dict(
            session.execute(
                select(Holiday.on, Holiday.name)
                .where(Holiday.on >= date(year, 1, 1), Holiday.on <= date(year, 12, 31), mine)
                .order_by(Holiday.branch_id.is_not(None))  # a branch's name for a day wins
            ).all()
        )
    return years[year]


def forget_branch_holidays(session) -> None:
    """This unit of work changed the holidays: its next question reads them again."""
    forget_read(session, _BRANCH_HOLIDAYS)


def local_now(zone: str, now: datetime) -> datetime:
    return now.astimezone(ZONES[zone])


def window_decision(session, rules: ContactRules, zone: str, at: datetime) -> Decision:
    """Is `at` inside the contact window of `zone` (day, hours, holiday)?"""
    local = local_now(zone, at)
    minute = local.hour * 60 + local.minute
    if local.weekday() not in rules.days:
        return Decision(False, "day", {"day": WEEKDAYS[local.weekday()]}, next_opening(session, rules, zone, at))
    holiday = holiday_name(session, rules, local.date())
    if holiday:
        return Decision(False, "holiday", {"name": holiday}, next_opening(session, rules, zone, at))
    if not rules.start_minute <= minute < rules.end_minute:
        return Decision(False, "hours", {"zone": zone}, next_opening(session, rules, zone, at))
    return ALLOWED


def next_opening(session, rules: ContactRules, zone: str, after: datetime) -> datetime:
    """The first moment at or after `after` inside the window of `zone`."""
    local = local_now(zone, after)
    for offset in range(60):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in rules.days or day_off(session, rules, day):
            continue
        opens = _at(day, rules.start_minute, zone)
        closes = _at(day, rules.end_minute, zone)
        candidate = max(opens, after)
        if candidate < closes:
            return candidate.astimezone(UTC)
    raise PolicyConfigError("no contact window in the next 60 days: check CALLING_DAYS and holidays")


def _at(day: date, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZONES[zone]) + timedelta(minutes=minute)


def zones_open(session, rules: ContactRules, now: datetime) -> list[str]:
    """The zones whose participants may be contacted right now."""
    return [zone for zone in ZONES if window_decision(session, rules, zone, now).allowed]


def cap_decision(session, rules: ContactRules, family_id: int, zone: str, now: datetime) -> Decision:
    """Has the family had as many attempts as the caps allow (today, rolling 7 days)?"""
    local = local_now(zone, now)
    day_start = _at(local.date(), 0, zone)
    week_start = now - timedelta(days=7)
    # Local midnight is never more than a day back, so one read of the week answers both caps.
    attempts = _attempt_times(session, family_id, min(day_start, week_start))
    today = sum(1 for at in attempts if at >= day_start)
    if today >= rules.max_per_day:
        tomorrow = next_opening(session, rules, zone, day_start + timedelta(days=1))
        return Decision(False, "daily_cap", {"n": rules.max_per_day}, tomorrow)
    in_week = [at for at in attempts if at > week_start]
    if len(in_week) >= rules.max_per_week:
        frees_at = in_week[len(in_week) - rules.max_per_week] + timedelta(days=7)
        return Decision(False, "weekly_cap", {"n": rules.max_per_week}, next_opening(session, rules, zone, frees_at))
    return ALLOWED


def _attempt_times(session, family_id: int, since: datetime) -> list[datetime]:
    """When the family's capped attempts since `since` were made, oldest first."""
    return session.scalars(
        select(ContactAttempt.at)
        .where(
            ContactAttempt.family_id == family_id,
            ContactAttempt.at >= since,
            ContactAttempt.channel.in_(CAPPED_CHANNELS),
        )
        .order_by(ContactAttempt.at)
    ).all()


def contactable_phones(session, members, channel: Channel) -> list[str]:
    """Members' numbers that may be used on `channel`: valid and not opted out."""
    phones = [m.phone for m in members if m.phone and not m.is_phone_invalid]
    if not phones:
        return []
    blocked = optouts.blocked_phones(session, phones, optouts.for_contact(channel))
    return [phone for phone in dict.fromkeys(phones) if phone not in blocked]


def decide(
    session,
    rules: ContactRules,
    *,
    family_id: int,
    members,
    zone: str,
    channel: Channel,
    now: datetime,
    is_closed: bool = False,
) -> Decision:
    """May this family be contacted on this channel now? The one question every channel asks."""
    if is_closed:
        return Decision(False, "closed")
    window = window_decision(session, rules, zone, now)
    if not window.allowed:
        return window
    if channel in (Channel.phone, Channel.whatsapp, Channel.sms) and not contactable_phones(session, members, channel):
        return Decision(False, "no_phone", {"channel": channel.value})
    if channel == Channel.visit and optouts.is_family_opted_out(session, family_id):
        return Decision(False, "opt_out", {"channel": channel.value})
    if channel in CAPPED_CHANNELS:
        return cap_decision(session, rules, family_id, zone, now)
    return ALLOWED


def next_action_time(session, item, given, *, rules: ContactRules, retry_delays, now: datetime) -> datetime:
    """When a work item is due again after an outcome (`given`: the recorded outcome input), inside the
    contact policy: the day after a promise, the asked-for callback, else the outcome's retry delay pushed past
    today's or this week's cap and into the calling window."""
    kind = given.kind
    with session.no_autoflush:  # the policy's reads must not flush half of a new schedule
        if kind.final:
            return item.next_action_at
        if kind.promise:
            day_after = datetime.combine(given.promise_date + timedelta(days=1), time(0), ZONES[item.timezone])
            return next_opening(session, rules, item.timezone, day_after)
        if kind.callback:
            return given.callback_at
        return _retry_time(session, item, kind, rules, retry_delays, now)


def _retry_time(session, item, kind, rules, retry_delays, now) -> datetime:
    """The retry delay for the outcome, pushed past today's or this week's cap and into the window."""
    wanted = now + retry_delays.get(kind.code, kind.retry_after or timedelta(hours=2))
    cap = cap_decision(session, rules, item.family_id, item.timezone, now)
    if not cap.allowed and cap.retry_at and cap.retry_at > wanted:
        wanted = cap.retry_at
    return next_opening(session, rules, item.timezone, wanted)
