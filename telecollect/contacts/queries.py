"""Reading contacts: a person's counters, promises and the family's history, for the queue pages."""

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from telecollect import clock
from telecollect.auth.models import User
from telecollect.contacts.models import Channel, Consent, ConsentState, ContactAttempt, Promise, PromiseState
from telecollect.participants.models import Family


def opted_out_channels(session, phones) -> dict[str, set[Channel]]:
    """Number → the channels it opted out of, for many numbers in one query (a page's or an answer's
    numbers; `policy.contactable_phones` asks the same about one family)."""
    wanted = list({phone for phone in phones if phone})
    if not wanted:
        return {}
    found: dict[str, set[Channel]] = {}
    rows = session.execute(
        select(Consent.phone, Consent.channel).where(Consent.phone.in_(wanted), Consent.state == ConsentState.opted_out)
    )
    for phone, channel in rows:
        # The ledger's channels as a person's contact sees them (telecollect.policy.optouts.STOPPED_BY):
        # an opt-out of business WhatsApp or of cadres' wa.me both stop the WhatsApp button.
        if channel.value in ("whatsapp", "cadre_whatsapp"):
            found.setdefault(phone, set()).add(Channel.whatsapp)
        else:
            found.setdefault(phone, set()).add(Channel(channel.value))
    return found


def consent_ledger(session, phones, family_id: int) -> list[Consent]:
    """Where the family's numbers (and its visits) stand in the consent ledger, each with its history."""
    wanted = [p for p in dict.fromkeys(phones) if p]
    return list(
        session.scalars(
            select(Consent)
            .where((Consent.phone.in_(wanted)) | (Consent.family_id == family_id))
            .options(selectinload(Consent.events))
            .order_by(Consent.phone, Consent.channel)
        )
    )


def today_counters(session, user: User, now: datetime) -> dict:
    """Calls, contacts and promises the user recorded since local midnight."""
    since = clock.day_start(clock.local_day(now, user.timezone), user.timezone)
    calls, contacts = session.execute(
        select(func.count(), func.count().filter(ContactAttempt.is_reached.is_(True))).where(
            ContactAttempt.user_id == user.id, ContactAttempt.at >= since
        )
    ).one()
    promises = session.scalar(
        select(func.count()).select_from(Promise).where(Promise.user_id == user.id, Promise.created_at >= since)
    )
    return {"calls": calls, "contacts": contacts, "promises": promises}


def my_promises(session, user: User) -> list[Promise]:
    """Pending promises this user took, soonest first."""
    return session.scalars(
        select(Promise)
        .where(Promise.user_id == user.id, Promise.state == PromiseState.pending)
        .options(selectinload(Promise.family).selectinload(Family.members))
        .order_by(Promise.promised_on, Promise.id)
    ).all()


def family_attempts(session, family_id: int, limit: int = 50) -> list[ContactAttempt]:
    return session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.family_id == family_id)
        .options(selectinload(ContactAttempt.user))
        .order_by(ContactAttempt.at.desc())
        .limit(limit)
    ).all()


def last_contact(session, family_ids: list[int]) -> dict[int, datetime]:
    """When each family was last reached by anyone, on any channel."""
    if not family_ids:
        return {}
    return dict(
        session.execute(
            select(ContactAttempt.family_id, func.max(ContactAttempt.at))
            .where(ContactAttempt.family_id.in_(family_ids), ContactAttempt.is_reached.is_(True))
            .group_by(ContactAttempt.family_id)
        ).all()
    )


def promise_status(promise: Promise, today: date) -> str:
    """due (today), overdue (past) or upcoming, for the promise list."""
    if promise.promised_on < today:
        return "overdue"
    return "due" if promise.promised_on == today else "upcoming"


def open_promises(session, family_ids: list[int]) -> dict[int, Promise]:
    """The earliest open promise of each of these families (why a family that owes nothing stays listed)."""
    if not family_ids:
        return {}
    found: dict[int, Promise] = {}
    for promise in session.scalars(
        select(Promise)
        .where(Promise.family_id.in_(family_ids), Promise.state == PromiseState.pending)
        .order_by(Promise.promised_on.desc())
    ):
        found[promise.family_id] = promise
    return found
