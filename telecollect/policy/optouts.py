"""The consent ledger's one writer: who opted out of (or into) which channel, from what source, and when.

Every opt-out and opt-in goes through here (the inbound-message webhooks'
keywords, Twilio's errors, outcomes, cadres' reports, imports, supervisors), so
one rule decides what each means, each change is kept in the history, and two
at once cannot fail on the unique (phone, channel) pair.

The rules:
- SMS, calls, visits and cadres' wa.me chats need no opt-in: no record, or an
  opt-in, allows them; an opt-out stops them.
- Business WhatsApp (our Twilio sender) needs a recorded opt-in (WhatsApp's
  policy for business-initiated messages).
- An opt-out of business WhatsApp stops cadres' wa.me chats too (whoever blocked
  the branch's WhatsApp or wrote BERHENTI to it does not want the branch's staff
  on WhatsApp either); an opt-out of `cadre_whatsapp` alone leaves business
  WhatsApp as it was.

`channel` may be a `ConsentChannel` or a `contacts.models.Channel` (same values:
`Channel.whatsapp` is the business sender).
"""

from datetime import datetime

from sqlalchemy import select

from telecollect.contacts.models import Channel, Consent, ConsentChannel, ConsentEvent, ConsentSource, ConsentState
from telecollect.db import lock_for, now_utc

#: What a channel is stopped by: its own opt-out, and for cadres' wa.me chats the business WhatsApp's.
STOPPED_BY = {c: {c} for c in ConsentChannel} | {
    ConsentChannel.cadre_whatsapp: {ConsentChannel.cadre_whatsapp, ConsentChannel.whatsapp}
}
#: Channels that need a recorded opt-in before anyone writes first.
NEEDS_OPT_IN = {ConsentChannel.whatsapp}


def ledger_channel(channel: Channel | ConsentChannel | str) -> ConsentChannel:
    return ConsentChannel(getattr(channel, "value", channel))


def for_contact(channel: Channel) -> ConsentChannel:
    """The ledger channel of a contact a person makes (a call, their own WhatsApp, a visit, an SMS)."""
    return ConsentChannel.cadre_whatsapp if channel == Channel.whatsapp else ledger_channel(channel)


def opt_out(
    session,
    phone: str,
    channel,
    reason: str,
    *,
    source: ConsentSource = ConsentSource.keyword,
    now: datetime | None = None,
    by_user_id: int | None = None,
) -> bool:
    """Record that `phone` must not be contacted on `channel`; returns False when it already was opted out.

    `source` defaults to a keyword (BERHENTI/STOP), the historic caller. Another request may record the same
    pair at the same moment: the lock makes the second wait for the first and then find its record."""
    channel = ledger_channel(channel)
    return _record(session, channel, ConsentState.opted_out, source, reason, now, by_user_id, phone=phone)


def opt_in(
    session,
    phone: str,
    channel,
    *,
    source: ConsentSource = ConsentSource.keyword,
    reason: str = "",
    now: datetime | None = None,
    by_user_id: int | None = None,
) -> bool:
    """Record that `phone` agreed to `channel` (or lifted its opt-out); returns whether there was an opt-out.

    An opt-in for business WhatsApp is what allows it at all; for the other channels it lifts an opt-out."""
    was_out = is_opted_out(session, phone, channel, exact=True)
    _record(session, ledger_channel(channel), ConsentState.opted_in, source, reason, now, by_user_id, phone=phone)
    return was_out


def family_opt_out(session, family_id: int, reason: str, *, source, now=None, by_user_id=None) -> bool:
    """No visits to this family (visits are per family, not per number)."""
    return _record(
        session, ConsentChannel.visit, ConsentState.opted_out, source, reason, now, by_user_id, family_id=family_id
    )


def family_opt_in(session, family_id: int, *, source, reason: str = "", now=None, by_user_id=None) -> bool:
    return _record(
        session, ConsentChannel.visit, ConsentState.opted_in, source, reason, now, by_user_id, family_id=family_id
    )


def is_opted_out(session, phone: str, channel, *, exact: bool = False) -> bool:
    """Whether `phone` must not be contacted on `channel` (for cadres' wa.me: nor on business WhatsApp).
    `exact`: that channel's own record only."""
    wanted = {ledger_channel(channel)} if exact else STOPPED_BY[ledger_channel(channel)]
    return (
        session.scalar(
            select(Consent.id).where(
                Consent.phone == phone, Consent.channel.in_(wanted), Consent.state == ConsentState.opted_out
            )
        )
        is not None
    )


def has_opted_in(session, phone: str, channel) -> bool:
    """Whether `phone` has a recorded opt-in on `channel`, still standing (what business WhatsApp needs)."""
    channel = ledger_channel(channel)
    return phone in opted_in_phones(session, [phone], channel)


def is_family_opted_out(session, family_id: int) -> bool:
    return (
        session.scalar(
            select(Consent.id).where(
                Consent.family_id == family_id,
                Consent.channel == ConsentChannel.visit,
                Consent.state == ConsentState.opted_out,
            )
        )
        is not None
    )


def blocked_phones(session, phones, channel) -> set[str]:
    """Of `phones`, those that must not be contacted on `channel` (one query)."""
    wanted = list({p for p in phones if p})
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(Consent.phone).where(
                Consent.phone.in_(wanted),
                Consent.channel.in_(STOPPED_BY[ledger_channel(channel)]),
                Consent.state == ConsentState.opted_out,
            )
        )
    )


def opted_in_phones(session, phones, channel) -> set[str]:
    """Of `phones`, those with a standing opt-in on `channel` (one query; opt-outs that stop it excluded)."""
    wanted = list({p for p in phones if p})
    if not wanted:
        return set()
    channel = ledger_channel(channel)
    agreed = set(
        session.scalars(
            select(Consent.phone).where(
                Consent.phone.in_(wanted), Consent.channel == channel, Consent.state == ConsentState.opted_in
            )
        )
    )
    return agreed - blocked_phones(session, agreed, channel)


def _record(session, channel, state, source, reason, now, by_user_id, *, phone=None, family_id=None) -> bool:
    """Set the current state and append the history; returns whether the state changed."""
    now = now or now_utc()
    source = ConsentSource(source)
    lock_for(session, f"consent:{phone or family_id}:{channel.value}")
    where = Consent.phone == phone if phone is not None else Consent.family_id == family_id
    consent = session.scalar(select(Consent).where(where, Consent.channel == channel))
    if consent is not None and consent.state == state:
        return False
    if consent is None:
        consent = Consent(phone=phone, family_id=family_id, channel=channel)
        session.add(consent)
    consent.state, consent.source, consent.reason = state, source, (reason or "")[:200]
    consent.at, consent.by_user_id = now, by_user_id
    consent.events.append(
        ConsentEvent(state=state, source=source, reason=consent.reason, at=now, by_user_id=by_user_id)
    )
    session.flush()
    return True
