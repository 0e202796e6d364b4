"""Three weeks of made-up work, so the demo's queues, timelines and dashboard have something to show.

Everything goes through the real services: outcomes are recorded with
`record_outcome` at past times inside the contact window, payments arrive
through the payments import, promises are settled by the settle job.
"""

import io
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from telecollect.auth.models import User
from telecollect.auth.scoping import areas_of
from telecollect.contacts.models import Channel, Promise
from telecollect.contacts.outcomes import OUTCOMES
from telecollect.contacts.services import OutcomeInput
from telecollect.db import now_utc
from telecollect.formatting import ZONES
from telecollect.imports.reader import TableReader
from telecollect.participants.queries import family_arrears
from telecollect.policy.rules import ContactRules
from telecollect.queues import lifecycle
from telecollect.queues.models import QueueName, WorkItem, WorkState
from telecollect.queues.services import AssignFilters, assign
from telecollect.settings import Settings
from telecollect.workflows.imports import import_payments
from telecollect.workflows.queue_work import record_outcome
from telecollect.workflows.settlement import settle

#: (outcome, weight) of a telecollector's day; cadres reach people more often.
CALL_OUTCOMES = [
    ("no_answer", 30),
    ("busy", 8),
    ("unreachable", 10),
    ("wrong_party", 4),
    ("callback_requested", 6),
    ("promise_to_pay", 14),
    ("refused", 8),
    ("cannot_pay", 6),
    ("interested_rehab", 5),
    ("interested_autodebit", 4),
    ("already_paid", 3),
    ("wrong_number", 2),
]
CADRE_OUTCOMES = [
    ("no_answer", 15),
    ("promise_to_pay", 25),
    ("interested_rehab", 12),
    ("cannot_pay", 10),
    ("refused", 6),
    ("interested_autodebit", 6),
    ("already_paid", 4),
]
# The simulation may call a family more than the live caps allow; it is history, not policy.
SIMULATION_RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 50, 50)


def simulate(session, today: date, rng: random.Random, *, settings: Settings, days: int = 21) -> None:
    users = {u.username: u for u in session.scalars(select(User))}
    assign(session, queue=QueueName.telecollect, filters=AssignFilters(kecamatan="Koja"), user=users["tc.rina"])
    assign(
        session, queue=QueueName.telecollect, filters=AssignFilters(kecamatan="Tanjung Priok"), user=users["tc.agus"]
    )
    assign(session, queue=QueueName.telecollect, filters=AssignFilters(kecamatan="Penjaringan"))
    assign(session, queue=QueueName.cadre, filters=AssignFilters(kecamatan="Koja"))
    assign(session, queue=QueueName.cadre, filters=AssignFilters(kecamatan="Cilincing"))
    session.flush()
    workers = [
        (users["tc.rina"], QueueName.telecollect, CALL_OUTCOMES, 25, Channel.phone),
        (users["tc.agus"], QueueName.telecollect, CALL_OUTCOMES, 20, Channel.phone),
        (users["kader.siti"], QueueName.cadre, CADRE_OUTCOMES, 4, Channel.whatsapp),
        (users["kader.dewi"], QueueName.cadre, CADRE_OUTCOMES, 3, Channel.visit),
    ]
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        if day.weekday() == 6:
            continue
        for user, queue, outcomes, per_day, channel in workers:
            _work_a_day(session, user, queue, outcomes, per_day, channel, day, rng, settings)
    _pay_some_promises(session, today, rng, settings)
    settle(session, today, now=now_utc(), settings=settings)


def _work_a_day(session, user, queue, outcomes, per_day, channel, day, rng, settings):
    items = _workable(session, user, queue)
    for n, item in enumerate(rng.sample(items, min(per_day, len(items)))):
        moment = datetime.combine(day, time(8, 30), ZONES["WIB"]) + timedelta(minutes=n * 17 + rng.randint(0, 10))
        code = rng.choices([c for c, _w in outcomes], [w for _c, w in outcomes])[0]
        given = OutcomeInput(kind=OUTCOMES[code], channel=channel)
        if code == "promise_to_pay":
            amount, _months = family_arrears(item.family.members)
            given.promise_date = day + timedelta(days=rng.randint(1, 7))
            given.promise_amount = max(35_000, amount // rng.choice([1, 2, 3]))
        elif code == "callback_requested":
            given.callback_at = moment + timedelta(hours=2)
            if given.callback_at.astimezone(ZONES["WIB"]).hour >= 20:
                given.kind = OUTCOMES["no_answer"]
                given.callback_at = None
        if queue == QueueName.telecollect:  # only the holder of the claim records on a call-queue family
            lifecycle.hold(item, user, moment + timedelta(minutes=15))
        record_outcome(
            session, item, user, given, rules=SIMULATION_RULES, retry_delays={}, now=moment, settings=settings
        )


def _workable(session, user, queue):
    stmt = select(WorkItem).where(WorkItem.queue == queue, WorkItem.state != WorkState.closed)
    if queue == QueueName.telecollect:
        stmt = stmt.where((WorkItem.assigned_user_id == user.id) | WorkItem.assigned_user_id.is_(None))
    else:
        stmt = stmt.where(areas_of(user).condition(WorkItem.district_id, WorkItem.village_id))
    return session.scalars(stmt.order_by(WorkItem.id)).all()


def _pay_some_promises(session, today: date, rng: random.Random, settings: Settings) -> None:
    """Two promises in three are kept (some late, some partly); a few families also pay on their own."""
    rows = []
    for promise in session.scalars(select(Promise).where(Promise.promised_on < today)):
        roll = rng.random()
        if roll < 0.55:
            paid_on = promise.promised_on - timedelta(days=rng.randint(0, 2))
            rows.append((promise.family.members[0].card_no, promise.amount, paid_on))
        elif roll < 0.67:
            rows.append((promise.family.members[0].card_no, promise.amount // 2, promise.promised_on))
    paid_on_limit = today - timedelta(days=1)
    data = "card_no,amount,paid_on,reference,channel\n" + "".join(
        f"{card},{amount},{min(paid_on, paid_on_limit).isoformat()},DEMO-{n:06d},"
        f"{rng.choice(['bank', 'minimarket', 'mobile_jkn', 'atm'])}\n"
        for n, (card, amount, paid_on) in enumerate(rows)
    )
    import_payments(
        session,
        TableReader(io.BytesIO(data.encode()), "demo-payments.csv"),
        filename="demo-payments.csv",
        today=today,
        settings=settings,
    )
