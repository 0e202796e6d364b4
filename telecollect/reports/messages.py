"""The messages report (issue 14, item 9): what left by channel and kind, how much of it was delivered and
read, what it cost where Twilio reports a price, and how many delivered reminders a payment followed within
seven days, by channel.

Counted over messages created in the period (branch days). A message "left" once Twilio took it (accepted,
sent, delivered, read, undelivered, failed); the delivered rate is delivered (or read) over left; the read rate
is read over delivered (WhatsApp only: SMS has no read receipts). A reminder is followed by a payment when
the family paid on the day it was delivered or in the seven days after (branch days), whatever the payment's
channel; a family reminded on both channels counts on both.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from telecollect.clock import local_day
from telecollect.messaging.models import MessageChannel, SmsEvent, SmsKind, SmsMessage, SmsStatus
from telecollect.payments.models import Payment
from telecollect.reports.funnel import Period

#: Days after a delivered reminder within which a payment counts as following it.
PAYMENT_DAYS = 7
LEFT = frozenset(
    {
        SmsStatus.accepted,
        SmsStatus.sent,
        SmsStatus.delivered,
        SmsStatus.read,
        SmsStatus.undelivered,
        SmsStatus.failed,
    }
)
DELIVERED = frozenset({SmsStatus.delivered, SmsStatus.read})
FAILED = frozenset({SmsStatus.undelivered, SmsStatus.failed})
#: The kinds that remind a family to pay (not answers to a participant).
REMINDERS = tuple(k for k in SmsKind if k not in (SmsKind.info_reply, SmsKind.agent_reply))

MESSAGE_COLUMNS = (
    "channel",
    "kind",
    "messages",
    "left",
    "delivered",
    "read",
    "failed",
    "delivered_rate",
    "read_rate",
    "priced",
    "cost",
    "currency",
)
PAYMENT_COLUMNS = (
    "channel",
    "reminders_delivered",
    "followed_by_payment",
    "payment_rate",
    "families_paid",
    "paid_amount",
)
COST_COLUMNS = ("kind", "priced", "cost", "currency")


@dataclass
class MessagesReport:
    messages: list[dict]
    payments: list[dict]
    costs: list[dict]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _price(value: str | None) -> Decimal | None:
    """Twilio reports what it charged as a negative decimal text ("-0.04150"); None when it has not (yet)."""
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(value))
    except InvalidOperation:
        return None


def messages_report(session, period: Period) -> MessagesReport:
    created = (SmsMessage.created_at >= period.starts_at, SmsMessage.created_at < period.ends_before)
    rows = session.execute(
        select(SmsMessage.channel, SmsMessage.kind, SmsMessage.status, SmsMessage.price, SmsMessage.price_unit).where(
            *created
        )
    ).all()
    figures: dict[tuple[MessageChannel, SmsKind], dict] = {}
    costs: dict[tuple[SmsKind, str], dict] = {}
    for channel, kind, status, price, unit in rows:
        row = figures.setdefault(
            (channel, kind),
            {"channel": channel.value, "kind": kind.value, "messages": 0, "left": 0, "delivered": 0, "read": 0}
            | {"failed": 0, "priced": 0, "cost": Decimal(0), "currency": ""},
        )
        row["messages"] += 1
        row["left"] += status in LEFT
        row["delivered"] += status in DELIVERED
        row["read"] += status == SmsStatus.read
        row["failed"] += status in FAILED
        charged = _price(price)
        if charged is not None:
            row["priced"] += 1
            row["cost"] += charged
            row["currency"] = ", ".join(sorted({*filter(None, row["currency"].split(", ")), unit or ""} - {""}))
            per_kind = costs.setdefault(
                (kind, unit or ""), {"kind": kind.value, "priced": 0, "cost": Decimal(0), "currency": unit or ""}
            )
            per_kind["priced"] += 1
            per_kind["cost"] += charged
    messages = []
    for (_channel, _kind), row in sorted(figures.items(), key=lambda item: (item[0][0].value, item[0][1].value)):
        row["delivered_rate"] = _rate(row["delivered"], row["left"])
        row["read_rate"] = _rate(row["read"], row["delivered"]) if row["channel"] == "whatsapp" else None
        row["cost"] = float(row["cost"])
        messages.append(row)
    cost_rows = [
        {**c, "cost": float(c["cost"])} for _key, c in sorted(costs.items(), key=lambda i: (i[0][0].value, i[0][1]))
    ]
    return MessagesReport(messages, payments_after_reminders(session, period), cost_rows)


def payments_after_reminders(session, period: Period) -> list[dict]:
    """Per channel: reminders created in the period and delivered, how many a payment of the family followed
    within `PAYMENT_DAYS` days of the delivery, and those payments (each counted once per channel)."""
    delivered_at = (
        select(SmsEvent.message_id, func.min(SmsEvent.at).label("at"))
        .where(SmsEvent.status.in_([s.value for s in DELIVERED]))
        .group_by(SmsEvent.message_id)
        .subquery()
    )
    reminders = session.execute(
        select(SmsMessage.channel, SmsMessage.family_id, func.coalesce(delivered_at.c.at, SmsMessage.sent_at))
        .outerjoin(delivered_at, delivered_at.c.message_id == SmsMessage.id)
        .where(
            SmsMessage.created_at >= period.starts_at,
            SmsMessage.created_at < period.ends_before,
            SmsMessage.kind.in_(REMINDERS),
            SmsMessage.status.in_(DELIVERED),
            SmsMessage.family_id.is_not(None),
        )
    ).all()
    family_ids = {family_id for _c, family_id, _at in reminders}
    paid: dict[int, list[tuple]] = defaultdict(list)
    if family_ids:
        last_day = period.end + timedelta(days=PAYMENT_DAYS + 1)
        for payment_id, family_id, paid_on, amount in session.execute(
            select(Payment.id, Payment.family_id, Payment.paid_on, Payment.amount).where(
                Payment.family_id.in_(family_ids), Payment.paid_on >= period.start - timedelta(days=1)
            )
        ):
            if paid_on <= last_day:
                paid[family_id].append((payment_id, paid_on, amount))
    result = []
    for channel in MessageChannel:
        mine = [(family_id, at) for c, family_id, at in reminders if c == channel]
        followed = 0
        families, payments = set(), {}
        for family_id, at in mine:
            day = local_day(at, period.zone) if isinstance(at, datetime) else None
            matched = [
                p for p in paid.get(family_id, []) if day is not None and day <= p[1] <= day + timedelta(PAYMENT_DAYS)
            ]
            if matched:
                followed += 1
                families.add(family_id)
                payments.update({p[0]: p[2] for p in matched})
        result.append(
            {
                "channel": channel.value,
                "reminders_delivered": len(mine),
                "followed_by_payment": followed,
                "payment_rate": _rate(followed, len(mine)),
                "families_paid": len(families),
                "paid_amount": sum(payments.values()),
            }
        )
    return result
