"""The supervisor's live board: telecollectors with their state and time in it, cadres with their last
activity, calls and talk time today per agent, and the call queue's families callable now in each zone.
Read on every refresh (a few seconds): a handful of grouped queries, none per person."""

from datetime import datetime

from sqlalchemy import func, select

from telecollect.auth.models import Role, User
from telecollect.clock import day_start, local_day
from telecollect.contacts.models import ContactAttempt
from telecollect.formatting import ZONES
from telecollect.queues.lifecycle import callable_condition
from telecollect.queues.models import QueueName, WorkItem
from telecollect.telephony.labels import state_label
from telecollect.telephony.models import AgentStatus, Call, PauseReason


def live_board(session, now: datetime, zone: str, open_zones: list[str]) -> dict:
    """The board as data (the page and its JSON): "today" is the branch's local day in `zone`;
    `open_zones` are the zones whose participants may be called now (the contact policy's answer)."""
    today = day_start(local_day(now, zone), zone)
    staff = session.scalars(
        select(User)
        .where(User.role.in_([Role.telecollector, Role.cadre]), User.is_active.is_(True))
        .order_by(User.name, User.id)
    ).all()
    states = {s.user_id: s for s in session.scalars(select(AgentStatus))}
    labels = dict(session.execute(select(PauseReason.code, PauseReason.label)).all())
    calls = {
        user_id: (n, int(talk or 0))
        for user_id, n, talk in session.execute(
            select(Call.user_id, func.count(), func.sum(Call.talk_seconds))
            .where(Call.started_at >= today, Call.twilio_sid.is_not(None))
            .group_by(Call.user_id)
        )
    }
    last_contact = dict(
        session.execute(
            select(ContactAttempt.user_id, func.max(ContactAttempt.at))
            .join(User, User.id == ContactAttempt.user_id)
            .where(User.role == Role.cadre)
            .group_by(ContactAttempt.user_id)
        ).all()
    )
    callable_now = dict(
        session.execute(
            select(WorkItem.timezone, func.count())
            .where(callable_condition(QueueName.telecollect, now, open_zones))
            .group_by(WorkItem.timezone)
        ).all()
    )
    telecollectors, cadres = [], []
    for user in staff:
        if user.role == Role.telecollector:
            state = states.get(user.id)
            n, talk = calls.get(user.id, (0, 0))
            telecollectors.append(
                {
                    "id": user.id,
                    "name": user.name,
                    "state": state.state.value if state else None,
                    "state_label": state_label(state.state if state else None),
                    "reason_code": state.reason_code if state else None,
                    "reason_label": labels.get(state.reason_code) if state and state.reason_code else None,
                    "since": state.since.isoformat() if state else None,
                    "seconds_in_state": int((now - state.since).total_seconds()) if state else None,
                    "calls_today": n,
                    "talk_seconds_today": talk,
                }
            )
        else:
            moments = [m for m in (last_contact.get(user.id), user.last_login_at) if m is not None]
            last = max(moments) if moments else None
            cadres.append({"id": user.id, "name": user.name, "last_activity": last.isoformat() if last else None})
    return {
        "at": now.isoformat(),
        "telecollectors": telecollectors,
        "cadres": cadres,
        "zones": [{"zone": z, "is_open": z in open_zones, "callable": callable_now.get(z, 0)} for z in ZONES],
    }
