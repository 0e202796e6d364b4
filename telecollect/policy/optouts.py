"""Who asked not to be contacted, per channel: the one writer of opt-out records.

The opt-out page, the inbound-message webhook (STOP / MULAI) and the dispatcher
(a number the carrier says is unreachable) all go through here, so one rule
decides what an opt-out is and two at once cannot fail on the unique
(phone, channel) pair.
"""

from sqlalchemy import delete, select

from telecollect.contacts.models import Channel, OptOut
from telecollect.db import lock_for


def opt_out(session, phone: str, channel: Channel, reason: str) -> bool:
    """Record that `phone` must not be contacted on `channel`; returns False when it already was.

    Another request may record the same pair at the same moment: the lock makes
    the second wait for the first and then find its record."""
    lock_for(session, f"opt-out:{phone}:{channel.value}")
    if is_opted_out(session, phone, channel):
        return False
    session.add(OptOut(phone=phone, channel=channel, reason=(reason or "")[:200]))
    session.flush()
    return True


def opt_in(session, phone: str, channel: Channel) -> bool:
    """Lift an opt-out; returns whether there was one."""
    return session.execute(delete(OptOut).where(OptOut.phone == phone, OptOut.channel == channel)).rowcount > 0


def is_opted_out(session, phone: str, channel: Channel) -> bool:
    return session.scalar(select(OptOut.id).where(OptOut.phone == phone, OptOut.channel == channel)) is not None
