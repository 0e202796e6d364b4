"""Sending rates: one token bucket per sender in the database, shared by every dispatcher.

Twilio queues what a sender cannot send at once (SMS from an alphanumeric sender: about 10 messages a
second; WhatsApp: 80 by default) and fails what waits too long, so the dispatchers, however many, keep under
the sender's rate themselves. A bucket holds at most one second's worth of tokens; each message takes one.
The bucket's row is locked (PostgreSQL: FOR UPDATE; SQLite: its single writer) from the take to the
dispatcher's next commit, which follows at once (the attempt is recorded before the call).

Time here is the wall clock (`clock`, Unix seconds), not the business `now`: a rate is about real seconds.
"""

import time

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from telecollect.db import is_postgresql, lock_for
from telecollect.messaging.models import MessageChannel, SendBucket, SmsMessage, SmsStatus


def bucket_name(channel: str, sender: str) -> str:
    """The bucket of one sender on one channel ("sms:+62411800165", "whatsapp:MG…"): a sender's rate is its own,
    whichever branches send through it."""
    return f"{channel}:{sender.removeprefix('whatsapp:')}"


def take(session, name: str, rate: float, *, clock=time.time) -> float:
    """Take one token from sender `name`'s bucket (refilled at `rate` a second): 0.0 if taken, else the
    seconds to wait before one is there (nothing taken). The caller commits soon after, releasing the row."""
    if rate <= 0:
        return 0.0
    if is_postgresql(session):
        session.execute(
            postgresql.insert(SendBucket)
            .values(name=name, tokens=float(rate), refilled_at=clock())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        bucket = session.scalar(
            select(SendBucket)
            .where(SendBucket.name == name)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    else:
        lock_for(session, f"send-bucket:{name}")
        bucket = session.scalar(
            select(SendBucket).where(SendBucket.name == name).execution_options(populate_existing=True)
        )
        if bucket is None:
            bucket = SendBucket(name=name, tokens=float(rate), refilled_at=clock())
            session.add(bucket)
    assert bucket is not None
    now = clock()
    tokens = min(float(rate), bucket.tokens + max(0.0, now - bucket.refilled_at) * rate)
    if tokens >= 1.0:
        bucket.tokens, bucket.refilled_at = tokens - 1.0, now
        session.flush()
        return 0.0
    return (1.0 - tokens) / rate


def backlog(session, now, rates: dict) -> list[dict]:
    """What waits to be sent now, per channel, and how long the sender's rate needs for it (seconds; None:
    no limit set). Messages planned for later (an SMS window that opens tomorrow) are not counted."""
    counts = dict(
        session.execute(
            select(SmsMessage.channel, func.count())
            .where(
                SmsMessage.status.in_((SmsStatus.queued, SmsStatus.sending)),
                SmsMessage.next_attempt_at <= now,
            )
            .group_by(SmsMessage.channel)
        ).all()
    )
    rows = []
    for channel in MessageChannel:
        waiting = counts.get(channel, 0)
        rate = rates.get(channel.value) or 0
        seconds = waiting / rate if rate else None
        rows.append({"channel": channel.value, "waiting": waiting, "rate": rate, "seconds": seconds})
    return rows
