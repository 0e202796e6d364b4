"""Payments: importing them, applying them to arrears, and what they settle.

A payment lowers its family's arrears month by month, oldest month first, at
each member's monthly contribution; money short of a whole month waits as the
family's credit. When no arrears are left and the credit covers the current
month too, the family is reactivated and leaves the queues. Each payment also
counts toward the family's open promises and installment plan, and is credited
to the last contact that reached the family within the attribution window.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy import bindparam, func, select, update

from telecollect.contacts.models import ContactAttempt, Promise, PromiseState
from telecollect.db import bulk_insert
from telecollect.formatting import ZONES
from telecollect.imports.reader import TableReader
from telecollect.imports.runner import ImportReport, ImportSpec, RowError, run_import
from telecollect.imports.seen import SeenKeys
from telecollect.participants.contributions import member_monthly
from telecollect.participants.locks import lock_families
from telecollect.participants.models import Family, Participant
from telecollect.payments.importing import PaymentRow, missing_columns, validate_row
from telecollect.payments.models import SELF_CURE, Payment
from telecollect.queues.models import RequeueReason, WorkItem
from telecollect.reasons import Refusal
from telecollect.settings import Settings


@dataclass(frozen=True)
class AppliedPayments:
    """What one batch of payments did to families, for the reactions of other domains."""

    family_ids: set[int]
    #: Families whose pending promise these payments kept.
    kept_promise_family_ids: set[int]
    #: Families reactivated by these payments.
    reactivated_family_ids: list[int]


@dataclass(frozen=True)
class PaymentReactions:
    """What other domains do about imported payments (given by `workflows.imports`):
    `after_batch(session, applied, now)` once per written batch, `after_all(session, today, now)` once
    when the import is kept."""

    after_batch: Callable[..., None]
    after_all: Callable[..., None]


def import_payments(
    session, reader: TableReader, *, reactions: PaymentReactions, settings: Settings, **options
) -> ImportReport:
    """Import a payments file (see `imports.runner.run_import` for the options).

    `reference` is unique: a row whose reference is already on file with the
    same family, amount and date is "unchanged"; with different values it is
    rejected. `reactions` say what the rest of the system does about them.
    """
    spec = replace(PAYMENTS, make_writer=partial(_PaymentWriter, reactions=reactions, settings=settings))
    return run_import(session, reader, spec, settings=settings, **options)


@dataclass
class Allocation:
    months_covered: int = 0
    reactivated: bool = False


def allocate(family: Family, members: list[Participant], amount: int, paid_on: date) -> Allocation:
    """Apply `amount` to the family's arrears, oldest month first; the rest waits as credit.

    The oldest unpaid month is owed by the members with the most months in
    arrears; it costs their monthly contributions (or what is left of a
    member's amount, when BPJS billed fewer months than were missed).
    """
    family.credit += amount
    result = Allocation()
    while True:
        owing = [m for m in members if m.arrears_amount > 0]
        if not owing:
            break
        oldest = max(m.months_in_arrears for m in owing)
        month = [m for m in owing if m.months_in_arrears == oldest] or owing
        cost = sum(min(member_monthly(m) or m.arrears_amount, m.arrears_amount) for m in month)
        if family.credit < cost:
            break
        family.credit -= cost
        for member in month:
            member.arrears_amount -= min(member_monthly(member) or member.arrears_amount, member.arrears_amount)
            member.months_in_arrears = 0 if member.arrears_amount == 0 else max(0, member.months_in_arrears - 1)
        result.months_covered += 1
    for member in members:
        member.arrears_as_of = max(member.arrears_as_of or paid_on, paid_on)
        if member.arrears_amount == 0:
            member.months_in_arrears = 0
    current_month = sum(member_monthly(m) for m in members)
    if all(m.arrears_amount == 0 for m in members) and family.credit >= current_month and family.reactivated_on is None:
        family.credit -= current_month
        family.reactivated_on = paid_on
        result.reactivated = True
    return result


def credit_new_promise(session, promise: Promise, *, grace: timedelta) -> None:
    """A promise made after the money arrived (same day, or a slow import) counts what is already paid."""
    lock_families(session, [promise.family_id])
    promise.paid_amount = (
        session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.family_id == promise.family_id,
                Payment.paid_on >= promise.made_on,
                Payment.paid_on <= promise.promised_on + grace,
            )
        )
        or 0
    )
    if promise.paid_amount >= promise.amount:
        promise.state, promise.resolved_on = PromiseState.kept, promise.made_on


def count_toward_promises(session, family_ids: set[int], payments: list, *, grace: timedelta) -> set[int]:
    """Add each payment to the family's pending promises whose window it falls in; returns the families
    whose promise is now kept."""
    pending = session.scalars(
        select(Promise).where(Promise.family_id.in_(family_ids), Promise.state == PromiseState.pending)
    ).all()
    by_family: dict[int, list[Payment]] = {}
    for payment in payments:
        by_family.setdefault(payment.family_id, []).append(payment)
    kept_families = set()
    for promise in pending:
        for payment in by_family.get(promise.family_id, []):
            if promise.made_on <= payment.paid_on <= promise.promised_on + grace:
                promise.paid_amount += payment.amount
                if promise.paid_amount >= promise.amount:
                    promise.state, promise.resolved_on = PromiseState.kept, payment.paid_on
                    kept_families.add(promise.family_id)
                    break
    return kept_families


def settle_promises(session, today: date, *, grace: timedelta) -> tuple[dict, list[tuple[int, RequeueReason]]]:
    """Close the promises that fell due by `today`: past their date plus grace, a promise is partly kept
    (something was paid) or broken (nothing was). Returns the counts and the families to send back to the
    collection queue, with why. Safe to run often."""
    due = session.scalars(
        select(Promise).where(Promise.state == PromiseState.pending, Promise.promised_on < today - grace)
    ).all()
    counts = {"kept": 0, "partly_kept": 0, "broken": 0}
    requeues = []
    for promise in due:
        promise.state = PromiseState.partly_kept if promise.paid_amount > 0 else PromiseState.broken
        promise.resolved_on = promise.promised_on + grace
        counts[promise.state.value] += 1
        requeues.append((promise.family_id, RequeueReason(f"promise_{promise.state.value}")))
    return counts, requeues


def attribute(session, payments: list[Payment], window_days: int) -> None:
    """Credit each payment to the last contact that reached its family in the window before it.

    "Before it" is by the family's calendar day: a call at 19:00 on the day of
    the payment counts. With no such contact the payment is a self-cure.
    """
    if not payments:
        return
    earliest = min(p.paid_on for p in payments) - timedelta(days=window_days)
    attempts = session.execute(
        select(
            ContactAttempt.id,
            ContactAttempt.family_id,
            ContactAttempt.user_id,
            ContactAttempt.channel,
            ContactAttempt.at,
            WorkItem.timezone,
        )
        .join(WorkItem, WorkItem.id == ContactAttempt.work_item_id, isouter=True)
        .where(
            ContactAttempt.family_id.in_({p.family_id for p in payments}),
            ContactAttempt.is_reached.is_(True),
            ContactAttempt.at >= datetime.combine(earliest, time(0), ZONES["WIT"]),
        )
        .order_by(ContactAttempt.at)
    ).all()
    by_family: dict[int, list] = {}
    for attempt in attempts:
        by_family.setdefault(attempt.family_id, []).append(attempt)
    for payment in payments:
        window_start = payment.paid_on - timedelta(days=window_days)
        credited = None
        for attempt in by_family.get(payment.family_id, []):
            day = attempt.at.astimezone(ZONES[attempt.timezone or "WIB"]).date()
            if window_start <= day <= payment.paid_on:
                credited = attempt  # ordered by time: the last one wins
        if credited is not None:
            payment.attributed_attempt_id = credited.id
            payment.attributed_user_id = credited.user_id
            payment.attributed_channel = credited.channel.value
        else:
            payment.attributed_channel = SELF_CURE


class _PaymentWriter:
    """Writes validated payments a batch at a time and applies them to their families."""

    def __init__(
        self,
        session,
        run_id: int,
        report: ImportReport,
        today: date,
        now: datetime,
        *,
        reactions: PaymentReactions,
        settings: Settings,
    ):
        self.session = session
        self.reactions = reactions
        self.run_id = run_id
        self.report = report
        self.today = today
        self.now = now
        self.seen = SeenKeys(session, "import_seen_references")
        self.window_days = settings.attribution_days
        self.grace = settings.promise_grace

    def finish(self):
        self.reactions.after_all(self.session, self.today, self.now)

    def close(self):
        self.seen.drop()

    def write(self, batch):
        rejected = []
        repeats = self.seen.add_and_find_repeats([row.reference for row, _raw in batch])
        families = self._families(batch)
        existing = {
            p.reference: p
            for p in self.session.scalars(
                select(Payment)
                .where(Payment.reference.in_([row.reference for row, _ in batch]))
                .execution_options(every_branch=True)  # a reference is unique nationally
            )
        }
        fresh, in_batch = [], set()
        for row, raw in batch:
            problem = self._problem(row, families, existing, repeats, in_batch)
            if problem == "unchanged":
                self.report.unchanged += 1
            elif problem:
                rejected.append(((row.line, raw), [problem]))
            else:
                in_batch.add(row.reference)
                fresh.append((row, families[(row.card_no, row.family_key)]))
        if fresh:
            self._apply(fresh)
        return rejected

    def _problem(self, row: PaymentRow, families, existing, repeats, in_batch):
        if row.reference in repeats or row.reference in in_batch:
            return RowError(row.line, "reference", Refusal("reference_repeated", reference=row.reference))
        target = families.get((row.card_no, row.family_key))
        if target is None:
            column = "card_no" if row.card_no else "family_id"
            return RowError(row.line, column, Refusal("payer_unknown", key=row.card_no or row.family_key))
        before = existing.get(row.reference)
        if before is None:
            return None
        if (before.family_id, before.amount, before.paid_on) == (target[0], row.amount, row.paid_on):
            return "unchanged"
        return RowError(row.line, "reference", Refusal("reference_taken", reference=row.reference))

    def _families(self, batch) -> dict[tuple, tuple[int, int | None]]:
        """(card_no, family_key) → (family id, participant id or None)."""
        cards = {row.card_no for row, _ in batch if row.card_no}
        keys = {row.family_key for row, _ in batch if row.family_key and not row.card_no}
        found = {}
        if cards:
            for card, family_id, participant_id in self.session.execute(
                select(Participant.card_no, Participant.family_id, Participant.id).where(Participant.card_no.in_(cards))
            ):
                found[(card, None)] = (family_id, participant_id)
        for row, _ in batch:  # a row may name both; the card number decides
            if row.card_no and row.family_key and (row.card_no, None) in found:
                found[(row.card_no, row.family_key)] = found[(row.card_no, None)]
        if keys:
            for key, family_id in self.session.execute(select(Family.key, Family.id).where(Family.key.in_(keys))):
                found[(None, key)] = (family_id, None)
        return found

    def _apply(self, fresh):
        """Allocate, attribute and write a batch: plain rows in, one INSERT and a few
        executemany UPDATEs out (the ORM's row-by-row flush was most of the cost)."""
        session = self.session
        family_ids = {family_id for _row, (family_id, _pid) in fresh}
        lock_families(session, family_ids)
        now = self.now
        payments = sorted(
            (_NewPayment(row, family_id, participant_id) for row, (family_id, participant_id) in fresh),
            key=lambda p: (p.paid_on, p.reference),
        )
        families = {
            r.id: _Row(r._mapping)
            for r in session.execute(
                select(Family.id, Family.credit, Family.reactivated_on).where(Family.id.in_(family_ids))
            )
        }
        members: dict[int, list] = {}
        for r in session.execute(
            select(
                Participant.id,
                Participant.family_id,
                Participant.klass,
                Participant.months_in_arrears,
                Participant.arrears_amount,
                Participant.arrears_as_of,
            )
            .where(Participant.family_id.in_(family_ids))
            .order_by(Participant.card_no)
        ):
            members.setdefault(r.family_id, []).append(_Row(r._mapping))
        before = {m.id: (m.months_in_arrears, m.arrears_amount, m.arrears_as_of) for ms in members.values() for m in ms}
        family_before = {f.id: (f.credit, f.reactivated_on) for f in families.values()}
        reactivated = []
        for payment in payments:
            allocation = allocate(
                families[payment.family_id], members.get(payment.family_id, []), payment.amount, payment.paid_on
            )
            payment.months_covered = allocation.months_covered
            if allocation.reactivated:
                reactivated.append(payment.family_id)
        attribute(session, payments, self.window_days)
        bulk_insert(session, Payment.__table__, [p.row(self.run_id, now) for p in payments])
        _write_changes(
            session,
            Participant,
            [
                {
                    "id": m.id,
                    "months_in_arrears": m.months_in_arrears,
                    "arrears_amount": m.arrears_amount,
                    "arrears_as_of": m.arrears_as_of,
                    "updated_at": now,
                }
                for ms in members.values()
                for m in ms
                if (m.months_in_arrears, m.arrears_amount, m.arrears_as_of) != before[m.id]
            ],
        )
        _write_changes(
            session,
            Family,
            [
                {"id": f.id, "credit": f.credit, "reactivated_on": f.reactivated_on}
                for f in families.values()
                if (f.credit, f.reactivated_on) != family_before[f.id]
            ],
        )
        kept = count_toward_promises(session, family_ids, payments, grace=self.grace)
        self.reactions.after_batch(session, AppliedPayments(family_ids, kept, reactivated), now)
        self.report.created += len(payments)


class _Row:
    """A plain, writable copy of a selected row (cheaper than an ORM object)."""

    def __init__(self, mapping):
        self.__dict__.update(mapping)


class _NewPayment:
    """A payment being imported, before it is a row: allocation and attribution fill it in."""

    def __init__(self, row: PaymentRow, family_id: int, participant_id: int | None):
        self.reference, self.amount, self.paid_on, self.channel = row.reference, row.amount, row.paid_on, row.channel
        self.family_id, self.participant_id = family_id, participant_id
        self.months_covered = 0
        self.attributed_attempt_id = self.attributed_user_id = None
        self.attributed_channel = SELF_CURE

    def row(self, run_id: int, now) -> dict:
        return {
            "reference": self.reference,
            "family_id": self.family_id,
            "participant_id": self.participant_id,
            "amount": self.amount,
            "paid_on": self.paid_on,
            "channel": self.channel,
            "months_covered": self.months_covered,
            "attributed_attempt_id": self.attributed_attempt_id,
            "attributed_user_id": self.attributed_user_id,
            "attributed_channel": self.attributed_channel,
            "import_run_id": run_id,
            "created_at": now,
        }


def _write_changes(session, model, rows: list[dict]) -> None:
    """One executemany UPDATE by primary key for the rows that changed."""
    if rows:
        session.execute(
            update(model.__table__).where(model.__table__.c.id == bindparam("_id")),
            [{**{k: v for k, v in r.items() if k != "id"}, "_id": r["id"]} for r in rows],
        )


PAYMENTS = ImportSpec(
    kind="payments", missing_columns=missing_columns, validate_row=validate_row, make_writer=_PaymentWriter
)
