"""Payments: allocation to months, promises, attribution, plans, reactivation, re-import."""

from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from telecollect.contacts.models import Channel, ContactAttempt, Promise, PromiseState
from telecollect.imports.reader import TableReader
from telecollect.participants.models import Family, Participant
from telecollect.payments.models import Payment
from telecollect.payments.services import allocate
from telecollect.programs import services as programs
from telecollect.programs.models import InstallmentPlan, InstallmentState, PlanState
from telecollect.queues.models import QueueName, WorkItem, WorkState
from telecollect.workflows import imports, queue_work, settlement
from tests.helpers import SETTINGS, csv_bytes, row, run_import
from tests.helpers_queue import queue_up

import_payments = partial(imports.import_payments, settings=SETTINGS)
register_plan = partial(programs.register_plan, due_day=SETTINGS.installment_due_day)
settle_due = partial(settlement.settle, settings=SETTINGS)

PAYMENT_COLUMNS = ("card_no", "family_id", "amount", "paid_on", "reference", "channel")


def pay(db, rows, today=date(2026, 12, 31), **options):
    import io

    data = csv_bytes([{"channel": "bank", **r} for r in rows], columns=PAYMENT_COLUMNS)
    return import_payments(
        db.session, TableReader(io.BytesIO(data), "bayar.csv"), filename="bayar.csv", today=today, **options
    )


def family(db, *members):
    """Members as (card suffix, months, class); all in family F1."""
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{n:013d}",
                    family_id="F1",
                    months_in_arrears=str(months),
                    arrears_amount=str(months * {1: 150_000, 2: 100_000, 3: 35_000}[klass]),
                    **{"class": str(klass)},
                    as_of="2026-11-01",
                )
                for n, months, klass in members
            ]
        ),
    )
    return db.session.scalar(select(Family).where(Family.key == "F1"))


def arrears(db):
    db.session.expire_all()
    return [
        (p.months_in_arrears, p.arrears_amount)
        for p in db.session.scalars(select(Participant).order_by(Participant.card_no))
    ]


@pytest.mark.parametrize(
    "paid, expected_members, months_covered, credit",
    [
        # Member 1: 3 months of class 3 (35.000); member 2: 1 month of class 2 (100.000).
        (35_000, [(2, 70_000), (1, 100_000)], 1, 0),  # the oldest month is member 1's alone
        (104_999, [(1, 35_000), (1, 100_000)], 2, 34_999),  # month 2 is not covered yet: credit
        (205_000, [(0, 0), (0, 0)], 3, 0),  # everything; nothing for the current month
        (10_000, [(3, 105_000), (1, 100_000)], 0, 10_000),
    ],
)
def test_allocation_pays_the_oldest_month_first(db, paid, expected_members, months_covered, credit):
    fam = family(db, (1, 3, 3), (2, 1, 2))
    members = db.session.scalars(select(Participant).order_by(Participant.card_no)).all()
    allocation = allocate(fam, members, paid, date(2026, 11, 20))
    assert [(m.months_in_arrears, m.arrears_amount) for m in members] == expected_members
    assert (allocation.months_covered, fam.credit, allocation.reactivated) == (months_covered, credit, False)


def test_payment_covering_arrears_and_current_month_reactivates_and_closes_work(db):
    family(db, (1, 2, 3))
    queue_up(db, QueueName.telecollect)
    report = pay(db, [{"card_no": f"{1:013d}", "amount": "Rp105.000", "paid_on": "2026-11-20", "reference": "TRX-1"}])
    assert (report.created, report.rejected) == (1, 0), report.errors
    fam = db.session.scalar(select(Family))
    assert fam.reactivated_on == date(2026, 11, 20) and fam.credit == 0
    item = db.session.scalar(select(WorkItem))
    assert (item.state, item.close_reason) == (WorkState.closed, "reactivated")
    assert db.session.scalar(select(Payment.months_covered)) == 2


def test_reimport_changes_nothing_and_conflicts_are_rejected(db):
    family(db, (1, 6, 3))
    rows = [{"card_no": f"{1:013d}", "amount": "35000", "paid_on": "2026-11-20", "reference": "TRX-1"}]
    pay(db, rows)
    again = pay(db, rows)
    assert (again.created, again.unchanged) == (0, 1)
    assert arrears(db) == [(5, 175_000)]
    conflict = pay(db, [{**rows[0], "amount": "70000"}])
    assert [str(e) for e in conflict.errors] == ["baris 2, reference: referensi TRX-1 sudah dipakai pembayaran lain"]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


@pytest.mark.parametrize(
    "column, value, code, reason",
    [
        ("amount", "0", "amount_not_positive", "harus lebih dari 0, tertulis '0'"),
        ("amount", "seratus", "amount_format", "harus Rupiah bulat seperti 1.500.000, tertulis 'seratus'"),
        (
            "amount",
            "1050000.5",
            "amount_fraction",
            "'1050000.5' memiliki pecahan di bawah satu Rupiah; jumlah harus Rupiah bulat",
        ),
        ("amount", "1,5", "amount_fraction", "'1,5' memiliki pecahan di bawah satu Rupiah; jumlah harus Rupiah bulat"),
        ("amount", "1.50.000", "amount_format", "harus Rupiah bulat seperti 1.500.000, tertulis '1.50.000'"),
        (
            "amount",
            "(35.000)",
            "amount_negative",
            "'(35.000)' bernilai negatif; tulis jumlah tanpa tanda minus atau kurung",
        ),
        ("paid_on", "2027-01-05", "future_date", "2027-01-05 ada di masa depan"),
        ("paid_on", "", "required", "wajib diisi"),
        ("reference", "", "required", "wajib diisi"),
        (
            "channel",
            "dompet digital",
            "choice",
            "harus salah satu dari bank, atm, minimarket, mobile_jkn, autodebit, "
            "post_office, branch, other, tertulis 'dompet digital'",
        ),
        ("card_no", "0009999999999", "payer_unknown", "tidak ada peserta atau keluarga 0009999999999"),
    ],
)
def test_bad_payment_rows(db, column, value, code, reason):
    family(db, (1, 6, 3))
    good = {"card_no": f"{1:013d}", "amount": "35000", "paid_on": "2026-11-20", "reference": "A"}
    report = pay(db, [good, {**good, "reference": "B", column: value}])
    assert [(e.line, e.column, e.code) for e in report.errors] == [(3, column, code)]
    assert [str(e) for e in report.errors] == [f"baris 3, {column}: {reason}"]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0  # all-or-nothing


def test_an_amount_with_decimals_is_read_exactly_not_inflated(db):
    family(db, (1, 16, 3))  # 16 months of Kelas III: Rp560.000
    report = pay(db, [{"card_no": f"{1:013d}", "amount": "105000.00", "paid_on": "2026-11-20", "reference": "TRX-1"}])
    assert (report.created, report.rejected) == (1, 0), report.errors
    assert db.session.scalar(select(Payment.amount)) == 105_000  # was Rp10.500.000, which wiped the arrears
    assert arrears(db) == [(13, 455_000)]


@pytest.mark.parametrize("written", ["4.350.000,-", "Rp 4.350.000,00", "IDR 4,350,000.00", "4350000"])
def test_amounts_as_indonesians_write_them_are_accepted(db, written):
    family(db, (1, 29, 1))  # 29 months of Kelas I: Rp4.350.000
    report = pay(db, [{"card_no": f"{1:013d}", "amount": written, "paid_on": "2026-11-20", "reference": "TRX-1"}])
    assert (report.created, report.rejected) == (1, 0), report.errors
    assert db.session.scalar(select(Payment.amount)) == 4_350_000
    assert arrears(db) == [(0, 0)]


def test_xlsx_amount_cells_count_only_when_whole(db, tmp_path):
    import io

    import openpyxl

    family(db, (1, 16, 3))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["card_no", "amount", "paid_on", "reference"])
    sheet.append([f"{1:013d}", 105000.0, "2026-11-20", "A"])
    sheet.append([f"{1:013d}", 1050000.5, "2026-11-21", "B"])  # was read as Rp10.500.005
    sheet.append([f"{1:013d}", True, "2026-11-21", "C"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    report = import_payments(
        db.session,
        TableReader(buffer, "bayar.xlsx"),
        filename="bayar.xlsx",
        today=date(2026, 12, 31),
        skip_invalid=True,
    )
    assert [(e.line, e.column, e.code) for e in report.errors] == [
        (3, "amount", "amount_fraction"),
        (4, "amount", "amount_format"),
    ]
    assert db.session.scalars(select(Payment.amount)).all() == [105_000]
    assert arrears(db) == [(13, 455_000)]


def test_family_id_may_name_the_payer_and_repeated_reference_is_caught(db):
    family(db, (1, 6, 3))
    report = pay(
        db,
        [
            {"family_id": "F1", "amount": "35000", "paid_on": "2026-11-20", "reference": "X"},
            {"family_id": "F1", "amount": "35000", "paid_on": "2026-11-21", "reference": "X"},
        ],
    )
    assert [str(e) for e in report.errors] == ["baris 3, reference: referensi X muncul lebih dari sekali di berkas"]


def promise(db, fam, *, made_on, promised_on, amount, user_id):
    attempt = ContactAttempt(
        family_id=fam.id,
        user_id=user_id,
        channel=Channel.phone,
        outcome="promise_to_pay",
        is_reached=True,
        is_right_party=True,
        at=datetime.combine(made_on, datetime.min.time(), UTC) + timedelta(hours=3),
    )
    db.session.add(attempt)
    db.session.flush()
    p = Promise(
        family_id=fam.id,
        attempt_id=attempt.id,
        user_id=user_id,
        made_on=made_on,
        promised_on=promised_on,
        amount=amount,
    )
    db.session.add(p)
    db.session.commit()
    return p


@pytest.mark.parametrize(
    "payments, state, paid",
    [
        ([("2026-11-25", 105_000)], PromiseState.kept, 105_000),  # exact, on time
        ([("2026-11-25", 50_000)], PromiseState.partly_kept, 50_000),  # partial
        ([("2026-11-28", 105_000)], PromiseState.kept, 105_000),  # late, within 3 days' grace
        ([("2026-11-29", 105_000)], PromiseState.broken, 0),  # late, after grace
        ([("2026-11-18", 105_000)], PromiseState.broken, 0),  # paid before the promise
        ([("2026-11-21", 60_000), ("2026-11-26", 45_000)], PromiseState.kept, 105_000),  # in two parts
    ],
)
def test_promise_results(db, make_user, payments, state, paid):
    fam = family(db, (1, 6, 3))
    queue_up(db, QueueName.telecollect)
    p = promise(
        db,
        fam,
        made_on=date(2026, 11, 20),
        promised_on=date(2026, 11, 25),
        amount=105_000,
        user_id=make_user("telecollector").id,
    )
    pay(
        db,
        [
            {"card_no": f"{1:013d}", "amount": str(a), "paid_on": d, "reference": f"R{i}"}
            for i, (d, a) in enumerate(payments)
        ],
    )
    settle_due(db.session, date(2026, 12, 1), now=datetime(2026, 12, 1, 3, tzinfo=UTC))
    db.session.commit()
    db.session.refresh(p)
    assert (p.state, p.paid_amount) == (state, paid)
    item = db.session.scalar(select(WorkItem))
    if state == PromiseState.broken:
        assert (item.state, item.requeue_reason) == (WorkState.waiting, "promise_broken")


def test_run_once_requeues_a_broken_promise_at_its_business_time(db, runner, make_user):
    """`flask jobs run-once --now` replays a moment: the family is due again then, not at the wall clock."""
    fam = family(db, (1, 6, 3))
    queue_up(db, QueueName.telecollect)
    promise(
        db,
        fam,
        made_on=date(2026, 11, 20),
        promised_on=date(2026, 11, 25),
        amount=105_000,
        user_id=make_user("telecollector").id,
    )
    result = runner.invoke(args=["jobs", "run-once", "--now", "2026-12-07T09:00:00+07:00"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    item = db.session.scalar(select(WorkItem))
    assert (item.state, item.requeue_reason) == (WorkState.waiting, "promise_broken")
    assert item.next_action_at == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_payment_import_closes_reactivated_work_at_the_time_it_is_given(db):
    family(db, (1, 2, 3))
    queue_up(db, QueueName.telecollect)
    at = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
    pay(db, [{"card_no": f"{1:013d}", "amount": "105000", "paid_on": "2026-11-20", "reference": "TRX-1"}], now=at)
    item = db.session.scalar(select(WorkItem))
    assert (item.state, item.close_reason, item.closed_at) == (WorkState.closed, "reactivated", at)
    assert db.session.scalar(select(Payment.created_at)) == at


def test_attribution_window_and_self_cure(db, make_user):
    fam = family(db, (1, 12, 3))
    user = make_user("telecollector")
    for days_before, reached in ((40, True), (20, True), (5, False)):
        db.session.add(
            ContactAttempt(
                family_id=fam.id,
                user_id=user.id,
                channel=Channel.whatsapp,
                outcome="no_answer" if not reached else "refused",
                is_reached=reached,
                is_right_party=reached,
                at=datetime(2026, 11, 30, 3, tzinfo=UTC) - timedelta(days=days_before),
            )
        )
    db.session.commit()
    pay(
        db,
        [
            {"card_no": f"{1:013d}", "amount": "35000", "paid_on": "2026-11-30", "reference": "in-window"},
            {"card_no": f"{1:013d}", "amount": "35000", "paid_on": "2027-01-05", "reference": "too-late"},
        ],
        today=date(2027, 1, 31),
    )
    credited = dict(db.session.execute(select(Payment.reference, Payment.attributed_channel)).all())
    assert credited == {"in-window": "whatsapp", "too-late": "self_cure"}
    days_20 = db.session.scalar(
        select(ContactAttempt.id).where(ContactAttempt.is_reached.is_(True)).order_by(ContactAttempt.at.desc())
    )
    assert db.session.scalar(select(Payment.attributed_attempt_id).where(Payment.reference == "in-window")) == days_20


def test_rehab_plan_installments_are_tracked_like_promises(db, make_user):
    family(db, (1, 8, 3))
    queue_up(db, QueueName.telecollect)
    user = make_user("telecollector")
    now = datetime(2026, 3, 5, 3, tzinfo=UTC)
    item = db.session.scalar(select(WorkItem))
    item.claimed_by_id, item.lease_expires_at = user.id, now + timedelta(minutes=10)  # the call screen's claim
    plan = queue_work.register_plan(
        db.session,
        item,
        installments=4,
        start_month=date(2026, 3, 1),
        on=date(2026, 3, 5),
        user=user,
        settings=SETTINGS,
        now=now,
    )
    db.session.commit()
    assert [(i.due_on, i.amount) for i in plan.schedule] == [
        (date(2026, 3, 10), 70_000),
        (date(2026, 4, 10), 70_000),
        (date(2026, 5, 10), 70_000),
        (date(2026, 6, 10), 70_000),
    ]
    assert db.session.scalar(select(WorkItem.state)) == WorkState.promised
    pay(
        db,
        [{"card_no": f"{1:013d}", "amount": "70000", "paid_on": "2026-03-09", "reference": "I1"}],
        today=date(2026, 4, 1),
    )
    db.session.refresh(plan)
    assert [i.state for i in plan.schedule][:2] == [InstallmentState.paid, InstallmentState.pending]
    # 10 April + 3 days' grace has passed.
    settle_due(db.session, date(2026, 4, 14), now=datetime(2026, 4, 14, 3, tzinfo=UTC))
    db.session.commit()
    db.session.refresh(plan)
    assert plan.state == PlanState.broken and plan.schedule[1].state == InstallmentState.missed
    item = db.session.scalar(select(WorkItem))
    assert (item.state, item.requeue_reason) == (WorkState.waiting, "rehab_missed")


def test_plan_completion_then_current_month_reactivates(db, make_user):
    fam = family(db, (1, 4, 3))
    register_plan(
        db.session,
        fam,
        installments=2,
        start_month=date(2026, 3, 1),
        on=date(2026, 3, 5),
        user=make_user("telecollector"),
    )
    db.session.commit()
    pay(
        db,
        [
            {"card_no": f"{1:013d}", "amount": "70000", "paid_on": "2026-03-09", "reference": "I1"},
            {"card_no": f"{1:013d}", "amount": "70000", "paid_on": "2026-04-09", "reference": "I2"},
        ],
        today=date(2026, 4, 9),
    )
    fam = db.session.scalar(select(Family))
    assert fam.reactivated_on is None  # the plan is paid, the current month is not
    pay(
        db,
        [{"card_no": f"{1:013d}", "amount": "35000", "paid_on": "2026-04-10", "reference": "current"}],
        today=date(2026, 4, 10),
    )
    db.session.refresh(fam)
    assert fam.reactivated_on == date(2026, 4, 10)


def test_register_plan_refuses_what_the_rules_refuse(db, make_user):
    from telecollect.errors import ServiceError

    fam = family(db, (1, 4, 3))
    user = make_user("telecollector")
    with pytest.raises(ServiceError, match="1–28"):
        register_plan(db.session, fam, installments=2, start_month=date(2026, 3, 1), on=date(2026, 3, 29), user=user)
    with pytest.raises(ServiceError, match="antara 2 dan 2"):
        register_plan(db.session, fam, installments=3, start_month=date(2026, 3, 1), on=date(2026, 3, 5), user=user)
    with pytest.raises(ServiceError) as caught:
        register_plan(db.session, fam, installments=2, start_month=date(2026, 6, 1), on=date(2026, 3, 5), user=user)
    assert caught.value.field == "start_month"


def test_new_arrears_data_replace_what_payments_lowered(db):
    family(db, (1, 6, 3))
    pay(db, [{"card_no": f"{1:013d}", "amount": "35000", "paid_on": "2026-11-20", "reference": "A"}])
    assert arrears(db) == [(5, 175_000)]
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{1:013d}",
                    family_id="F1",
                    months_in_arrears="6",
                    arrears_amount="210000",
                    **{"class": "3"},
                    as_of="2026-11-01",
                )
            ]
        ),
    )
    assert arrears(db) == [(5, 175_000)]  # an older list does not undo the payment
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{1:013d}",
                    family_id="F1",
                    months_in_arrears="5",
                    arrears_amount="175000",
                    **{"class": "3"},
                    as_of="2026-12-01",
                )
            ]
        ),
    )
    assert arrears(db) == [(5, 175_000)]


@pytest.mark.committing
def test_payment_import_and_a_promise_at_once(app, db, make_user):
    """A payment import and a telecollector recording a promise on the same family at the same moment:
    whichever commits second sees the other, so the promise ends up kept."""
    from telecollect.contacts.outcomes import OUTCOMES
    from telecollect.contacts.services import OutcomeInput
    from telecollect.extensions import db as _db
    from telecollect.policy.rules import ContactRules

    record_outcome = partial(queue_work.record_outcome, settings=SETTINGS)
    from tests.queues.test_concurrency import run_together

    fam = family(db, (1, 6, 3))
    queue_up(db, QueueName.telecollect)
    user = make_user("telecollector")
    item_id = db.session.scalar(select(WorkItem.id))
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)

    def record_promise():
        from telecollect.auth.models import User

        given = OutcomeInput(
            kind=OUTCOMES["promise_to_pay"],
            channel=Channel.phone,
            promise_date=date(2026, 11, 26),
            promise_amount=70_000,
        )
        item = _db.session.get(WorkItem, item_id)
        item.claimed_by_id, item.lease_expires_at = user.id, now + timedelta(minutes=10)  # held, as on the screen
        record_outcome(
            _db.session,
            item,
            _db.session.get(User, user.id),
            given,
            rules=ContactRules(480, 1200, frozenset(range(6)), 3, 7),
            retry_delays={},
            now=now,
        )
        _db.session.commit()

    def import_payment():
        pay(
            _db,
            [{"card_no": f"{1:013d}", "amount": "70000", "paid_on": "2026-11-24", "reference": "same-time"}],
            today=date(2026, 11, 24),
        )

    for _ in range(3):  # the race can fall either way: both orders must end the same
        run_together(app, [record_promise, import_payment])
        db.session.expire_all()
        promises = db.session.scalars(select(Promise).order_by(Promise.id.desc())).all()
        assert promises[0].state == PromiseState.kept and promises[0].paid_amount >= 70_000
        db.session.execute(Payment.__table__.delete())
        db.session.commit()
    assert fam.id


def test_participant_timeline_shows_contacts_promises_and_payments(db, client, login, make_user):
    fam = family(db, (1, 6, 3))
    user = make_user("telecollector", name="Rina Lestari")
    promise(db, fam, made_on=date(2026, 11, 20), promised_on=date(2026, 11, 25), amount=70_000, user_id=user.id)
    pay(db, [{"card_no": f"{1:013d}", "amount": "70000", "paid_on": "2026-11-24", "reference": "T1"}])
    login(make_user("supervisor"))
    page = client.get(f"/participants/{1:013d}").text
    timeline = page.split('data-testid="timeline"')[1]
    assert "Janji bayar Rp70.000 paling lambat 25-11-2026" in timeline
    assert "Janji bayar ditepati: Rp70.000 dari Rp70.000 dibayar" in timeline
    assert "Pembayaran Rp70.000 melalui bank · dikreditkan ke Rina Lestari" in timeline
    assert "Janji bayar" in timeline and "Rina Lestari" in timeline


def _families_of_two(db, count, as_of):
    """Families K1…K<count>, each of two class III members (cards f·10+1 and f·10+2) 4 months in arrears."""
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{f * 10 + m:013d}",
                    family_id=f"K{f}",
                    months_in_arrears="4",
                    arrears_amount=str(4 * 35_000),
                    **{"class": "3"},
                    as_of=as_of,
                )
                for f in range(1, count + 1)
                for m in (1, 2)
            ]
        ),
    )


def test_payments_applied_a_few_families_at_a_time(db, monkeypatch):
    """The fresh payments are read in one pass and cut into chunks of families: a family's payments never
    straddle two chunks (each is allocated oldest date first, from the family's credit), whatever the
    read-ahead."""
    from telecollect.payments import services

    monkeypatch.setattr(services, "APPLY_FAMILIES", 2)
    monkeypatch.setattr(services, "READ_AHEAD", 4)
    _families_of_two(db, 7, as_of="2026-11-01")
    # Each family pays 105.000, 70.000 and 35.000 on three days, the rows shuffled across the file. A month
    # of the family costs 70.000: the payments cover one month each, the first two leaving 35.000 of credit.
    payments = [
        {
            "card_no": f"{f * 10 + 1:013d}",
            "amount": str(35_000 * n),
            "paid_on": f"2026-12-{10 - n:02d}",
            "reference": f"R{f}-{n}",
        }
        for n in (1, 3, 2)
        for f in (6, 2, 7, 4, 1, 5, 3)
    ]
    assert pay(db, payments).created == 21
    assert arrears(db) == [(1, 35_000)] * 14
    assert {f.credit for f in db.session.scalars(select(Family))} == {0}
    assert {p.months_covered for p in db.session.scalars(select(Payment))} == {1}


def test_a_branch_payment_import_reads_the_payments_of_its_families_by_family_on_sqlite(db, make_user):
    """Knowing nothing of the tables, SQLite took `(branch_id, paid_on)` for the branch-scoped sum of a plan's
    payments and read every payment of the branch once per chunk of families (a payment import grew with
    the square of the branch's payments: 66 s for 100,000 rows). The import keeps SQLite's statistics."""
    from sqlalchemy import event

    from telecollect.auth.scoping import BranchScope, enter_branch_scope

    _families_of_two(db, 300, as_of="2026-03-01")
    user = make_user("admin")
    for key in ("K7", "K8", "K9"):  # a sum over several families' payments: SQLite's choice depends on it
        planned = db.session.scalar(select(Family).where(Family.key == key))
        register_plan(db.session, planned, installments=2, start_month=date(2026, 3, 1), on=date(2026, 3, 5), user=user)
    db.session.commit()
    enter_branch_scope(db.session, BranchScope((planned.branch_id,)))
    connection = db.session.connection()
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany):
        if "sum(payments.amount)" in statement and conn.dialect.name == "sqlite":
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            plans.append(" | ".join(r[-1] for r in rows))

    event.listen(connection.engine, "after_cursor_execute", explain)
    try:
        payments = [
            {"card_no": f"{f * 10 + 1:013d}", "amount": "35000", "paid_on": f"2026-03-{d}", "reference": f"P{f}-{d}"}
            for f in range(1, 301)
            for d in (10, 11, 12, 13)
        ]
        assert pay(db, payments, today=date(2026, 4, 1)).created == 1200
    finally:
        event.remove(connection.engine, "after_cursor_execute", explain)
    if db.engine.dialect.name == "sqlite":
        assert plans and all("ix_payments_family_paid_on" in plan for plan in plans), plans
    for plan in db.session.scalars(select(InstallmentPlan)):
        db.session.refresh(plan)
        assert [i.state for i in plan.schedule] == [
            InstallmentState.paid,
            InstallmentState.pending,
        ]  # 140.000 of 280.000
