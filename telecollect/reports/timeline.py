"""A family's story, newest first: arrears reports, contacts, promises, payments, plans, calls placed
through the system (with their legs and durations) and calls to the self-service line.

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
from telecollect.phones import mask_phone
from telecollect.programs.models import InstallmentPlan
from telecollect.selfservice.models import LineCall
from telecollect.telephony.models import Call


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
    events += [
        _call_event(c)
        for c in session.scalars(select(Call).where(Call.family_id == family_id).options(selectinload(Call.user)))
    ]
    events += [
        _event(
            c.started_at,
            "line",
            choices=[k for k in c.choices.split(",") if k],
            verified=c.is_verified,
            disclosed=[k for k in c.disclosed.split(",") if k],
            callback=c.is_callback_requested,
            failures=c.verify_failures,
        )
        for c in session.scalars(select(LineCall).where(LineCall.family_id == family_id))
    ]
    return sorted(events, key=lambda e: e["sort"], reverse=True)[:limit]


def _call_event(call: Call) -> dict:
    """A call placed for an agent: her leg (rang, answered after how long) and the participant's leg
    (Twilio's DialCallStatus, talk time), and the whole call's length."""
    return _event(
        call.started_at,
        "call",
        user=call.user.name,
        phone=mask_phone(call.phone),
        status=call.status.value,
        agent_leg=call.agent_leg_status,
        agent_ring_seconds=_seconds(call.started_at, call.answered_at),
        dial_status=call.dial_status,
        talk_seconds=call.talk_seconds,
        total_seconds=_seconds(call.started_at, call.ended_at),
        disposition=call.disposition.value if call.disposition else None,
    )


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return None if start is None or end is None else max(0, int((end - start).total_seconds()))


def _event(moment, kind: str, **details) -> dict:
    sort = moment if isinstance(moment, datetime) else datetime.combine(moment, time(23, 59), UTC)
    is_date = isinstance(moment, date) and not isinstance(moment, datetime)
    return {"at": moment, "sort": sort, "kind": kind, "is_date": is_date, **details}
