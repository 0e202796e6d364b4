"""A family's story, newest first: arrears reports, contacts, promises, payments, plans.

Reports read across domains; this is the one place that joins them for the
participant page.
"""

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from telecollect.contacts.models import ContactAttempt, Promise
from telecollect.messaging.models import InboundSms, SmsMessage
from telecollect.participants.models import ArrearsSnapshot, Participant
from telecollect.payments.models import Payment
from telecollect.programs.models import InstallmentPlan


def family_timeline(session, participant: Participant, limit: int = 200) -> list[dict]:
    family_id = participant.family_id
    events = [
        _event(s.as_of, "arrears", months=s.months_in_arrears, amount=s.amount)
        for s in session.scalars(select(ArrearsSnapshot).where(ArrearsSnapshot.participant_id == participant.id))
    ]
    events += [
        _event(a.at, "contact", outcome=a.outcome, channel=a.channel, user=a.user.name, note=a.note)
        for a in session.scalars(
            select(ContactAttempt)
            .where(ContactAttempt.family_id == family_id)
            .options(selectinload(ContactAttempt.user))
        )
    ]
    for p in session.scalars(select(Promise).where(Promise.family_id == family_id)):
        events.append(_event(p.made_on, "promise", amount=p.amount, promised_on=p.promised_on, state=p.state.value))
        if p.resolved_on:
            events.append(
                _event(p.resolved_on, "promise_result", amount=p.amount, paid=p.paid_amount, state=p.state.value)
            )
    events += [
        _event(
            p.paid_on,
            "payment",
            amount=p.amount,
            channel=p.channel.value,
            credited=p.attributed_channel,
            user=p.attributed_user.name if p.attributed_user else None,
        )
        for p in session.scalars(
            select(Payment).where(Payment.family_id == family_id).options(selectinload(Payment.attributed_user))
        )
    ]
    events += [
        _event(
            plan.registered_on, "plan", installments=plan.installments, amount=plan.total_amount, state=plan.state.value
        )
        for plan in session.scalars(select(InstallmentPlan).where(InstallmentPlan.family_id == family_id))
    ]
    events += [
        _event(m.created_at, "sms", sms_kind=m.kind.value, status=m.status.value, body=m.body, channel=m.channel.value)
        for m in session.scalars(select(SmsMessage).where(SmsMessage.family_id == family_id))
    ]
    events += [
        _event(m.received_at, "sms_in", action=m.action, body=m.body, channel=m.channel.value, media=list(m.media))
        for m in session.scalars(
            select(InboundSms).where(InboundSms.family_id == family_id).options(selectinload(InboundSms.media))
        )
    ]
    return sorted(events, key=lambda e: e["sort"], reverse=True)[:limit]


def _event(moment, kind: str, **details) -> dict:
    sort = moment if isinstance(moment, datetime) else datetime.combine(moment, time(23, 59), UTC)
    is_date = isinstance(moment, date) and not isinstance(moment, datetime)
    return {"at": moment, "sort": sort, "kind": kind, "is_date": is_date, **details}
