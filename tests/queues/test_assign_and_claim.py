"""Assignment, claiming with a lease, claim order, access rules."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from telecollect.errors import Forbidden, ServiceError
from telecollect.policy.rules import ContactRules
from telecollect.queues import lifecycle
from telecollect.queues import services as queues
from telecollect.queues.models import FollowUp, QueueName, WorkItem, WorkState
from telecollect.workflows import queue_work
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import families, queue_up

RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)
LEASE = timedelta(minutes=15)
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # Tuesday 10:00 WIB


def items(db):
    return db.session.scalars(select(WorkItem).order_by(WorkItem.id)).all()


def claim(db, user, now=NOW):
    item = queue_work.claim(db.session, user, RULES, lease=LEASE, now=now)
    db.session.commit()
    return item


def test_assign_by_filters_to_a_user_or_the_pool(db, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no="0000000000001",
                    kecamatan="Koja",
                    segment="PBPU",
                    months_in_arrears="5",
                    arrears_amount="500000",
                ),
                row(
                    card_no="0000000000002",
                    kecamatan="Koja",
                    segment="BP",
                    months_in_arrears="15",
                    arrears_amount="900000",
                ),
                row(
                    card_no="0000000000003",
                    kecamatan="Cilincing",
                    segment="PBPU",
                    months_in_arrears="2",
                    arrears_amount="70000",
                ),
                row(
                    card_no="0000000000004", kecamatan="Koja", segment="PBPU", months_in_arrears="0", arrears_amount="0"
                ),
            ]
        ),
    )
    rina = make_user("telecollector", username="tc.rina")
    result = queue_up(db, QueueName.telecollect, user=rina, kecamatan="koja", now=NOW)
    assert (result.created, len(result.family_ids)) == (2, 2)  # the family owing nothing is left out
    assert {i.assigned_user_id for i in items(db)} == {rina.id}
    assert queue_up(db, QueueName.telecollect, segment="BP", now=NOW).reassigned == 1  # back to the pool
    assert queue_up(db, QueueName.telecollect, bucket="1-3", now=NOW).created == 1
    assert queue_up(db, QueueName.cadre, min_amount=600_000, now=NOW).created == 1
    by_queue = dict(db.session.execute(select(WorkItem.queue, func.count()).group_by(WorkItem.queue)).all())
    assert by_queue == {QueueName.telecollect: 3, QueueName.cadre: 1}
    with pytest.raises(ServiceError, match="Atlantis"):
        queue_up(db, QueueName.cadre, kecamatan="Atlantis", now=NOW)
    with pytest.raises(ServiceError) as refused:
        queue_up(db, QueueName.cadre, user=rina, now=NOW)
    assert (refused.value.code, refused.value.params) == ("wrong_queue", {"username": "tc.rina", "queue": "cadre"})
    assert refused.value.message == "tc.rina tidak mengerjakan antrean cadre."


def test_balance_shares_the_pool_evenly(db, make_user):
    families(db, 10)
    a, b, c = (make_user("telecollector") for _ in range(3))
    queue_up(db, QueueName.telecollect, now=NOW)
    queue_up(db, QueueName.telecollect, user=a, min_amount=900_000, now=NOW)  # a already holds 2
    received = queues.balance(db.session, QueueName.telecollect, [a, b, c]).received
    db.session.commit()
    assert received == {a.id: 2, b.id: 3, c.id: 3}
    loads = dict(
        db.session.execute(select(WorkItem.assigned_user_id, func.count()).group_by(WorkItem.assigned_user_id)).all()
    )
    assert sorted(loads.values()) == [3, 3, 4]
    assert queues.unassign(db.session, [i.id for i in items(db)][:4]) == 4


def test_claim_takes_the_highest_priority_and_leases_it(db, make_user):
    families(db, 3)
    user = make_user("telecollector")
    queue_up(db, QueueName.telecollect, now=NOW)
    first = claim(db, user)
    assert first.family.members[0].card_no == "0000000000003"  # owes the most
    assert first.claimed_by_id == user.id and first.lease_expires_at == NOW + LEASE
    assert claim(db, user).id == first.id  # Next twice: still the one on screen
    other = make_user("telecollector")
    assert claim(db, other).id != first.id
    # The lease runs out: the family is free for anyone again.
    third = make_user("telecollector")
    assert claim(db, third, now=NOW + timedelta(minutes=16)).id == first.id


def test_claim_order_callbacks_promises_then_priority(db, make_user):
    families(db, 4)
    me, colleague = make_user("telecollector"), make_user("telecollector")
    queue_up(db, QueueName.telecollect, now=NOW)
    low, mid, high, top = items(db)  # priority grows with amount
    mid.follow_up, mid.callback_user_id = FollowUp.callback, colleague.id
    mid.next_action_at = NOW - timedelta(minutes=10)
    low.follow_up, low.callback_user_id, low.next_action_at = FollowUp.callback, me.id, NOW - timedelta(minutes=1)
    high.follow_up, high.state = FollowUp.promise, WorkState.promised
    db.session.commit()
    order = [claim(db, me).id]
    for _ in range(3):
        lifecycle.release(db.session.get(WorkItem, order[-1]), me)
        db.session.get(WorkItem, order[-1]).next_action_at = NOW + timedelta(days=1)
        db.session.commit()
        picked = claim(db, me)
        order.append(picked.id if picked else None)
    # Mine first; the colleague's callback is only 10 minutes overdue, so it stays theirs.
    assert order == [low.id, high.id, top.id, None]
    later = NOW + timedelta(minutes=25)  # now 35 minutes overdue: anyone's
    assert claim(db, me, now=later).id == mid.id


def test_nothing_outside_calling_hours_or_on_holidays(db, make_user):
    families(db, 2)
    user = make_user("telecollector")
    queue_up(db, QueueName.telecollect, now=NOW)
    assert claim(db, user, now=datetime(2026, 11, 24, 14, 0, tzinfo=UTC)) is None  # 21:00 WIB
    assert claim(db, user, now=datetime(2026, 8, 17, 3, 0, tzinfo=UTC)) is None  # Independence Day
    assert claim(db, user, now=datetime(2026, 11, 22, 3, 0, tzinfo=UTC)) is None  # Sunday


def test_claim_sets_aside_families_without_a_usable_number(db, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", phone="", arrears_amount="900000"),
                row(card_no="0000000000002", arrears_amount="100000"),
            ]
        ),
    )
    user = make_user("telecollector")
    queue_up(db, QueueName.telecollect, now=NOW)
    item = claim(db, user)
    assert item.family.members[0].card_no == "0000000000002"
    skipped = db.session.scalar(select(WorkItem).where(WorkItem.id != item.id))
    assert (skipped.state, skipped.close_reason) == (WorkState.closed, "no_phone")


def test_cadre_claims_only_in_her_areas(db, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", kecamatan="Koja", kelurahan="Lagoa"),
                row(card_no="0000000000002", kecamatan="Cilincing", kelurahan="Marunda"),
            ]
        ),
    )
    siti = make_user("cadre", areas=["Kel. Lagoa"])
    queue_up(db, QueueName.cadre, now=NOW)
    assert claim(db, siti).family.members[0].card_no == "0000000000001"
    assert claim(db, siti).family.members[0].card_no == "0000000000001"
    with pytest.raises(Forbidden):
        queue_work.claim(db.session, make_user("supervisor"), RULES, lease=LEASE, now=NOW)


def test_new_arrears_data_close_paid_up_families(db, make_user):
    families(db, 2)
    queue_up(db, QueueName.telecollect, now=NOW)
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{1:013d}",
                    name="Peserta 1",
                    phone="081200000001",
                    months_in_arrears="0",
                    arrears_amount="0",
                    as_of="2026-12-01",
                )
            ]
        ),
    )
    states = {i.family.key: (i.state, i.close_reason) for i in items(db)}
    assert states == {f"{1:013d}": (WorkState.closed, "no_arrears"), f"{2:013d}": (WorkState.open, None)}


def test_cli_assign_and_balance(runner, db, make_user):
    families(db, 4)
    make_user("telecollector", username="tc.a")
    make_user("telecollector", username="tc.b")
    result = runner.invoke(args=["queue", "assign", "--queue", "telecollect", "--min-amount", "200000"])
    assert result.exit_code == 0, result.output
    assert "3 families to the team pool (telecollect): created 3" in result.output
    result = runner.invoke(args=["queue", "balance", "--queue", "telecollect", "tc.a", "tc.b"])
    assert "tc.a: +2" in result.output and "tc.b: +1" in result.output
    bad = runner.invoke(args=["queue", "assign", "--queue", "telecollect", "--user", "nobody"])
    assert bad.exit_code == 1 and "no active user 'nobody'" in bad.output


def test_pre_call_notice_once_a_day_only_when_switched_on(db, make_user):
    from telecollect.messaging.models import ReminderSetting, SmsKind, SmsMessage

    families(db, 2)
    user = make_user("telecollector")
    queue_up(db, QueueName.telecollect, now=NOW)
    notices = lambda: db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.pre_call)).all()  # noqa: E731
    first = claim(db, user)
    assert notices() == []  # off by default
    db.session.add(ReminderSetting(kind=SmsKind.pre_call, is_enabled=True, days_before=0))
    db.session.commit()  # seen by the next claim, with nothing to forget
    assert claim(db, user).id == first.id  # still held; the notice goes out now
    assert claim(db, user).id == first.id
    sent = notices()
    assert len(sent) == 1 and sent[0].family_id == first.family_id


def test_next_while_holding_renews_the_lease(db, make_user):
    families(db, 2)
    user = make_user("telecollector")
    queue_up(db, QueueName.telecollect, now=NOW)
    first = claim(db, user)
    again = claim(db, user, now=NOW + timedelta(minutes=10))
    assert again.id == first.id and again.lease_expires_at == NOW + timedelta(minutes=10) + LEASE


def test_minimum_amount_on_the_manage_page_is_read_as_written(db, client, login, make_user):
    import html

    from tests.conftest import csrf_token

    families(db, 12)  # family n owes n × Rp100.000
    login(make_user("supervisor"))
    form = {"csrf_token": csrf_token(client.get("/queue/manage").text), "action": "assign", "queue": "telecollect"}
    refused = client.post("/queue/manage", data={**form, "min_amount": "1,5"})
    assert refused.status_code == 400 and 'value="1,5"' in refused.text  # the filters stay
    assert "'1,5'" in html.unescape(refused.text) and "invalid literal" not in refused.text
    assert db.session.scalar(select(func.count()).select_from(WorkItem)) == 0
    assigned = client.post("/queue/manage", data={**form, "min_amount": "Rp1.000.000"})
    assert assigned.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(WorkItem)) == 3  # families 10, 11 and 12


def test_minimum_amount_option_of_the_cli_is_read_as_written(db, runner):
    families(db, 12)
    done = runner.invoke(args=["queue", "assign", "--queue", "telecollect", "--min-amount", "Rp1.100.000"])
    assert done.exit_code == 0, done.output
    assert db.session.scalar(select(func.count()).select_from(WorkItem)) == 2
    refused = runner.invoke(args=["queue", "assign", "--queue", "cadre", "--min-amount", "1.5"])
    assert refused.exit_code == 2 and "'1.5' memiliki pecahan di bawah satu Rupiah" in refused.output


@pytest.mark.parametrize(
    "values",
    [
        {"state": WorkState.closed},  # closed without a reason or a time
        {"close_reason": "moved"},  # a reason on a live item
        {"claimed_by_id": None, "lease_expires_at": NOW},  # a lease without a claim
    ],
)
def test_the_database_refuses_impossible_work_item_states(db, make_user, values):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    families(db, 1)
    queue_up(db, QueueName.telecollect, now=NOW)
    with pytest.raises(IntegrityError):
        db.session.execute(update(WorkItem).values(**values))
        db.session.flush()
    db.session.rollback()
