"""Payments: importing them, applying them to arrears, and what they settle.

A payment lowers its family's arrears month by month, oldest month first, at
each member's monthly contribution; money short of a whole month waits as the
family's credit. When no arrears are left and the credit covers the current
month too, the family is reactivated and leaves the queues. Each payment also
counts toward the family's open promises and installment plan, and is credited
to the last contact that reached the family within the attribution window.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)

from telecollect.contacts.models import ContactAttempt, Promise, PromiseState
from telecollect.db import PlannerStatistics, insert_values, is_postgresql, one_of
from telecollect.formatting import ZONES
from telecollect.imports.reader import FileFormatError, TableReader
from telecollect.imports.runner import ImportReport, ImportSpec, RowError, run_import
from telecollect.participants.contributions import member_monthly
from telecollect.participants.locks import lock_families, locked_families
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
    owing = [m for m in members if m.arrears_amount > 0]
    while owing:
        oldest = max(m.months_in_arrears for m in owing)
        dues, cost = [], 0
        for member in owing:
            if member.months_in_arrears == oldest:
                due = min(member_monthly(member) or member.arrears_amount, member.arrears_amount)
                dues.append((member, due))
                cost += due
        if family.credit < cost:
            break
        family.credit -= cost
        for member, due in dues:
            member.arrears_amount -= due
            member.months_in_arrears = 0 if member.arrears_amount == 0 else max(0, member.months_in_arrears - 1)
        result.months_covered += 1
        owing = [m for m in owing if m.arrears_amount > 0]
    for member in members:
        member.arrears_as_of = max(member.arrears_as_of or paid_on, paid_on)
        if member.arrears_amount == 0:
            member.months_in_arrears = 0
    if not owing and family.reactivated_on is None:  # nothing owed: does the credit pay the current month?
        current_month = sum(member_monthly(m) for m in members)
        if family.credit >= current_month:
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
    whose promise is now kept. Read and written as rows, set-based (one UPDATE by id for the promises that
    change): the import's thousands of promises as ORM objects cost it a flush on every later statement."""
    pending = session.execute(
        select(
            Promise.id, Promise.family_id, Promise.made_on, Promise.promised_on, Promise.amount, Promise.paid_amount
        ).where(
            Promise.family_id.between(min(family_ids), max(family_ids)),  # an index range, whatever the plan
            one_of(session, Promise.family_id, family_ids),
            Promise.state == PromiseState.pending,
        )
    ).all()
    by_family: dict[int, list] = {}
    for payment in payments:
        by_family.setdefault(payment.family_id, []).append(payment)
    changes, kept_families = [], set()
    for promise in pending:
        paid, state, resolved_on = promise.paid_amount, PromiseState.pending, None
        for payment in by_family.get(promise.family_id, ()):
            if promise.made_on <= payment.paid_on <= promise.promised_on + grace:
                paid += payment.amount
                if paid >= promise.amount:
                    state, resolved_on = PromiseState.kept, payment.paid_on
                    kept_families.add(promise.family_id)
                    break
        if paid != promise.paid_amount:
            changes.append({"id": promise.id, "paid_amount": paid, "state": state, "resolved_on": resolved_on})
    if changes:
        session.execute(update(Promise), changes)  # by primary key, executemany
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
    family_ids = {p.family_id for p in payments}
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
            # The range as well as the list: an index range scan of each month's attempts, where the list
            # alone lets the planner read whole partitions.
            ContactAttempt.family_id.between(min(family_ids), max(family_ids)),
            one_of(session, ContactAttempt.family_id, family_ids),
            ContactAttempt.is_reached.is_(True),
            ContactAttempt.at >= datetime.combine(earliest, time(0), ZONES["WIT"]),
        )
        .order_by(ContactAttempt.at)
    ).all()
    by_family: dict[int, list] = {}
    for attempt in attempts:
        by_family.setdefault(attempt.family_id, []).append(attempt)
    window = timedelta(days=window_days)
    for payment in payments:
        family_attempts = by_family.get(payment.family_id)
        if not family_attempts:  # most payments: no contact at all in the window
            payment.attributed_channel = SELF_CURE
            continue
        window_start = payment.paid_on - window
        credited = None
        for attempt in family_attempts:
            day = attempt.at.astimezone(ZONES[attempt.timezone or "WIB"]).date()
            if window_start <= day <= payment.paid_on:
                credited = attempt  # ordered by time: the last one wins
        if credited is not None:
            payment.attributed_attempt_id = credited.id
            payment.attributed_user_id = credited.user_id
            payment.attributed_channel = credited.channel.value
        else:
            payment.attributed_channel = SELF_CURE


#: Families applied together when a kept payment import lands (their members, promises and contacts read
#: in one go, their changes written set-based): memory stays flat however large the file. Each chunk pays
#: about twenty statements: 20,000 families (about 57,000 payments of the benchmark's file) take a
#: 1,000,000-row import on SQLite 1-2 s below 5,000, for about 60 MB more.
APPLY_FAMILIES = 20_000
#: Fresh payments fetched at a time while they are applied.
READ_AHEAD = 20_000


class _PaymentWriter:
    """Checks payments a batch at a time, keeps the fresh ones in a temporary table, and when the import is
    kept applies them family by family (a family's payments in date order, whichever batch they came in).

    Set-based: each batch is joined to its payers inside the database (only the rows something stops come
    back); the payments go in with one COPY (PostgreSQL) or executemany (SQLite) per chunk of families, the
    promises and installments they count toward by one UPDATE by id, and the members' and families' new
    arrears and credit through a temporary table and one `UPDATE … FROM` each; only the allocation (oldest
    month first, a family at a time) and the attribution are Python's.
    A dry run or a refused file checks every row and applies nothing: its counts are known already."""

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
        self.scratch = _Scratch(session)
        #: The tables this import grows, kept known to PostgreSQL's planner as they grow.
        self.statistics = self.scratch.statistics
        self.window_days = settings.attribution_days
        self.grace = settings.promise_grace

    def recheck(self):
        """Refuse the file if another payment import recorded some of its references after they were checked
        (on SQLite the checks run before the lock). Refused whole, nothing written: imported again, those
        rows count as unchanged or are refused one by one, with their lines."""
        taken = self.scratch.references_on_file()
        if taken:
            raise FileFormatError("file_references_taken_meanwhile", count=taken)

    def finish(self):
        self._apply_all()
        self.reactions.after_all(self.session, self.today, self.now)

    def close(self):
        self.scratch.drop()

    def write(self, batch):
        """Check a batch set-based: its rows go into a temporary table (COPY on PostgreSQL), and the database
        joins them to their payers (card number, else family id) into the fresh payments, where they wait
        until the import is kept. Only the rows that something stops come back to Python: a reference met
        before in the file, an unknown payer, a reference on file."""
        rejected, first_time, in_batch = [], [], set()
        for row, raw in batch:  # a later row with the same reference is refused, the first one checked
            if row.reference in in_batch:
                rejected.append(((row.line, raw), [self._repeated(row)]))
            else:
                in_batch.add(row.reference)
                first_time.append(row)
        stopped = self.scratch.check(first_time)
        if stopped:
            rows = {row.line: (row, raw) for row, raw in batch}
            for found in stopped:
                row, raw = rows[found.line]
                problem = self._problem(row, found)
                if problem == "unchanged":
                    self.report.unchanged += 1
                else:
                    rejected.append(((row.line, raw), [problem]))
        self.report.created += len(first_time) - len(stopped)
        return rejected

    @staticmethod
    def _repeated(row: PaymentRow) -> RowError:
        return RowError(row.line, "reference", Refusal("reference_repeated", reference=row.reference))

    @staticmethod
    def _problem(row: PaymentRow, found) -> RowError | str:
        """Why a row the checks stopped is not fresh: a RowError, or "unchanged" (its reference is on file
        with the same payer, amount and day)."""
        if found.repeated:
            return _PaymentWriter._repeated(row)
        if found.family_id is None:
            column = "card_no" if row.card_no else "family_id"
            return RowError(row.line, column, Refusal("payer_unknown", key=row.card_no or row.family_key))
        if found.unchanged:
            return "unchanged"
        return RowError(row.line, "reference", Refusal("reference_taken", reference=row.reference))

    def _apply_all(self):
        """Apply the kept payments, APPLY_FAMILIES families at a time, in family id order (the order
        `lock_families` locks in); then write every member's and family's new figures at once."""
        for payments in self.scratch.payments_by_family(APPLY_FAMILIES):
            self._apply(payments)
        # One UPDATE … FROM each, not one per chunk: each joins its whole table once (a chunk's members are
        # scattered through `participants`, so per chunk PostgreSQL would read the table again and again).
        # Nothing reads these figures before `finish` ends: each family is applied in one chunk only.
        self.scratch.update_members(self.now)
        self.scratch.update_families()

    def _apply(self, payments: list["_NewPayment"]):
        """Allocate, attribute and write these payments (each family's, in date order; families ascending)."""
        session, scratch, now = self.session, self.scratch, self.now
        family_ids = list(dict.fromkeys(p.family_id for p in payments))
        first, last = family_ids[0], family_ids[-1]
        chosen = select(scratch.payments.c.family_id).where(scratch.payments.c.family_id.between(first, last))
        figures = (Family.id, Family.branch_id, Family.credit, Family.reactivated_on)
        families = {r.id: _FamilyRow(*r) for r in locked_families(session, family_ids, *figures)}
        # The members' read names the chunk's id range too: an index range scan whatever the planner knows of
        # the temporary table (a semi-join alone may read all of `participants` for every chunk).
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
            .where(Participant.family_id.between(first, last), Participant.family_id.in_(chosen))
            .order_by(Participant.family_id, Participant.card_no)
        ).all():
            members.setdefault(r.family_id, []).append(_MemberRow(*r))
        reactivated = []
        for payment in payments:  # each family's payments in date order
            allocation = allocate(
                families[payment.family_id], members.get(payment.family_id, []), payment.amount, payment.paid_on
            )
            payment.months_covered = allocation.months_covered
            if allocation.reactivated:
                reactivated.append(payment.family_id)
        attribute(session, payments, self.window_days)
        insert_values(
            session,
            Payment.__table__,
            _NewPayment.COLUMNS,
            [p.row(self.run_id, families[p.family_id].branch_id, now) for p in payments],
        )
        self.statistics.grew(Payment.__tablename__, len(payments))
        scratch.add_member_changes(
            [
                (m.id, m.months_in_arrears, m.arrears_amount, m.arrears_as_of)
                for ms in members.values()
                for m in ms
                if m.changed()
            ]
        )
        scratch.add_family_changes([(f.id, f.credit, f.reactivated_on) for f in families.values() if f.changed()])
        kept = count_toward_promises(session, set(family_ids), payments, grace=self.grace)
        self.reactions.after_batch(session, AppliedPayments(set(family_ids), kept, reactivated), now)


class _Scratch:
    """The import's temporary tables: the batch being checked, the references met, the fresh payments
    (checked, not yet applied), and the members' and families' new figures on their way to one
    `UPDATE … FROM` each. Gone at commit (PostgreSQL) or dropped by `drop` (SQLite)."""

    def __init__(self, session):
        self.session = session
        metadata = MetaData()
        on_commit = {"postgresql_on_commit": "DROP"} if is_postgresql(session) else {}
        p, m, f = Payment.__table__.c, Participant.__table__.c, Family.__table__.c
        self.payments = Table(
            "import_fresh_payments",
            metadata,
            Column("line", Integer, primary_key=True, autoincrement=False),
            Column("reference", p.reference.type, nullable=False),
            #: None while `check` has not yet taken out a row whose payer is unknown.
            Column("family_id", p.family_id.type),
            Column("participant_id", p.participant_id.type),
            Column("amount", p.amount.type, nullable=False),
            Column("paid_on", p.paid_on.type, nullable=False),
            Column("channel", String(20), nullable=False),
            #: Whether an earlier batch had the reference (until `check` takes the row out).
            Column("repeated", Boolean, nullable=False),
            prefixes=["TEMPORARY"],
            **on_commit,
        )
        self.members = Table(
            "import_member_changes",
            metadata,
            Column("id", m.id.type, primary_key=True),
            Column("months_in_arrears", m.months_in_arrears.type),
            Column("arrears_amount", m.arrears_amount.type),
            Column("arrears_as_of", m.arrears_as_of.type),
            prefixes=["TEMPORARY"],
            **on_commit,
        )
        self.families = Table(
            "import_family_changes",
            metadata,
            Column("id", f.id.type, primary_key=True),
            Column("credit", f.credit.type),
            Column("reactivated_on", f.reactivated_on.type),
            prefixes=["TEMPORARY"],
            **on_commit,
        )
        #: The batch being checked, as read.
        self.batch = Table(
            "import_payment_batch",
            metadata,
            Column("line", Integer, primary_key=True, autoincrement=False),
            Column("reference", p.reference.type, nullable=False),
            Column("card_no", m.card_no.type),
            Column("family_key", f.key.type),
            Column("amount", p.amount.type, nullable=False),
            Column("paid_on", p.paid_on.type, nullable=False),
            Column("channel", String(20), nullable=False),
            prefixes=["TEMPORARY"],
            **on_commit,
        )
        #: Every reference of the file met so far, refused rows' too (a later row repeating one is refused).
        self.seen = Table(
            "import_seen_references",
            metadata,
            Column("key", p.reference.type, primary_key=True),
            prefixes=["TEMPORARY"],
            **on_commit,
        )
        self.tables = (self.payments, self.members, self.families, self.batch, self.seen)
        connection = session.connection()
        for table in self.tables:
            connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
            table.create(connection)
        #: The seen references and the fresh payments grow a batch at a time, `payments` a chunk at a time
        #: while they are applied: the lookups into them must stay index lookups.
        self.statistics = PlannerStatistics(session, self.seen.name, self.payments.name, Payment.__tablename__)
        self._to_fresh, self._stopped, self._to_seen = self._checks()

    def _checks(self):
        """The statements `check` runs for every batch, made once: each batch's payers joined into the fresh
        payments; the rows of lines `first`..`last` that cannot stay; the batch's references, met."""
        b, fresh, seen = self.batch.c, self.payments.c, self.seen.c
        member, family, on_file = Participant.__table__.c, Family.__table__.c, Payment.__table__.c
        payers = (
            self.batch.outerjoin(Participant.__table__, member.card_no == b.card_no)
            .outerjoin(Family.__table__, and_(b.card_no.is_(None), family.key == b.family_key))
            .outerjoin(self.seen, seen.key == b.reference)
        )
        to_fresh = self.payments.insert().from_select(
            ["line", "reference", "family_id", "participant_id", "amount", "paid_on", "channel", "repeated"],
            select(
                b.line,
                b.reference,
                func.coalesce(member.family_id, family.id),
                member.id,
                b.amount,
                b.paid_on,
                b.channel,
                seen.key.is_not(None),
            ).select_from(payers),
        )
        stopped = (
            select(
                fresh.line,
                fresh.family_id,
                fresh.repeated,
                and_(
                    on_file.family_id == fresh.family_id,
                    on_file.amount == fresh.amount,
                    on_file.paid_on == fresh.paid_on,
                ).label("unchanged"),
            )
            .select_from(self.payments.outerjoin(Payment.__table__, on_file.reference == fresh.reference))
            .where(
                fresh.line.between(bindparam("first"), bindparam("last")),
                or_(fresh.repeated, fresh.family_id.is_(None), on_file.id.is_not(None)),
            )
        )
        to_seen = text(
            f"INSERT INTO {self.seen.name} (key) SELECT reference FROM {self.batch.name} WHERE 1 = 1 "
            "ON CONFLICT (key) DO NOTHING"
        )
        return to_fresh, stopped, to_seen

    def check(self, rows: list[PaymentRow]) -> list[Row]:
        """Add these rows (no two with one reference) to the fresh payments, each with its payer: by card
        number (the member and their family) when the row names one, else by family id. Returns the rows
        that cannot be fresh, taken out again: a reference an earlier batch had (`repeated`), no payer
        (`family_id` None), or a reference the payments on file hold (`unchanged` when with the same
        family, amount and day). Their references then join those met."""
        if not rows:
            return []
        session = self.session
        self._empty(self.batch)
        self._load(
            self.batch,
            [(r.line, r.reference, r.card_no, r.family_key, r.amount, r.paid_on, r.channel) for r in rows],
        )
        session.execute(self._to_fresh)
        stopped = session.execute(self._stopped, {"first": rows[0].line, "last": rows[-1].line}).all()
        if stopped:
            lines = [r.line for r in stopped]
            session.execute(delete(self.payments).where(one_of(session, self.payments.c.line, lines)))
        session.execute(self._to_seen)
        self.statistics.grew(self.seen.name, len(rows))
        self.statistics.grew(self.payments.name, len(rows) - len(stopped))
        return stopped

    def references_on_file(self) -> int:
        """How many fresh payments' references the payments on file hold now."""
        on_file = Payment.__table__
        joined = self.payments.join(on_file, on_file.c.reference == self.payments.c.reference)
        return self.session.scalar(select(func.count()).select_from(joined))

    def payments_by_family(self, families_per_chunk: int) -> Iterator[list["_NewPayment"]]:
        """The fresh payments in family id order, each family's by date, `families_per_chunk` families at a
        time: one query read as it goes (memory stays flat), which the caller's writes may interleave."""
        # An index built once every row is in costs less than one kept up row by row; the read is in its order,
        # and from the index alone: it holds every column read (SQLite: 1,000,000 rows read in 0.5 s, where
        # fetching each row from the table, in file order, took 2.0 s).
        self.session.execute(
            text(
                f"CREATE INDEX ix_{self.payments.name} ON {self.payments.name} "
                "(family_id, paid_on, reference, participant_id, amount, channel)"
            )
        )
        fresh = self.payments.c
        rows = self.session.execute(
            select(fresh.reference, fresh.family_id, fresh.participant_id, fresh.amount, fresh.paid_on, fresh.channel)
            .order_by(fresh.family_id, fresh.paid_on, fresh.reference)
            .execution_options(yield_per=READ_AHEAD)
        )
        chunk: list[_NewPayment] = []
        families, last = 0, None
        for row in rows:
            if row.family_id != last:
                if families == families_per_chunk:
                    yield chunk
                    chunk, families = [], 0
                families, last = families + 1, row.family_id
            chunk.append(_NewPayment(*row))
        if chunk:
            yield chunk

    def add_member_changes(self, rows: list[tuple]) -> None:
        self._load(self.members, rows)

    def add_family_changes(self, rows: list[tuple]) -> None:
        self._load(self.families, rows)

    def update_members(self, now: datetime) -> None:
        table, c = Participant.__table__, self.members.c
        self.session.execute(
            update(table)
            .where(table.c.id == c.id)
            .values(
                months_in_arrears=c.months_in_arrears,
                arrears_amount=c.arrears_amount,
                arrears_as_of=c.arrears_as_of,
                updated_at=now,
            )
        )

    def update_families(self) -> None:
        table, c = Family.__table__, self.families.c
        self.session.execute(
            update(table).where(table.c.id == c.id).values(credit=c.credit, reactivated_on=c.reactivated_on)
        )

    def _empty(self, table: Table) -> None:
        """Empty a table refilled batch after batch. PostgreSQL's DELETE would leave every earlier batch's
        rows dead in it, read again by each lookup (a temporary table is never vacuumed); TRUNCATE does
        not. SQLite's DELETE without WHERE truncates already."""
        emptying = "TRUNCATE" if is_postgresql(self.session) else "DELETE FROM"
        self.session.connection().exec_driver_sql(f"{emptying} {table.name}")

    def _load(self, table: Table, rows: list[tuple]) -> None:
        insert_values(self.session, table, table.c.keys(), rows)

    def drop(self) -> None:
        if not is_postgresql(self.session):
            for table in self.tables:
                self.session.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


class _FamilyRow:
    """A family's credit and reactivation day while its payments are allocated (cheaper than an ORM object)."""

    __slots__ = ("_before", "branch_id", "credit", "id", "reactivated_on")

    def __init__(self, id: int, branch_id: int, credit: int, reactivated_on: date | None):
        self.id, self.branch_id, self.credit, self.reactivated_on = id, branch_id, credit, reactivated_on
        self._before = (credit, reactivated_on)

    def changed(self) -> bool:
        return (self.credit, self.reactivated_on) != self._before


class _MemberRow:
    """A member's arrears while the family's payments are allocated."""

    __slots__ = ("_before", "arrears_amount", "arrears_as_of", "family_id", "id", "klass", "months_in_arrears")

    def __init__(self, id, family_id, klass, months_in_arrears, arrears_amount, arrears_as_of):
        self.id, self.family_id, self.klass = id, family_id, klass
        self.months_in_arrears, self.arrears_amount, self.arrears_as_of = (
            months_in_arrears,
            arrears_amount,
            arrears_as_of,
        )
        self._before = (months_in_arrears, arrears_amount, arrears_as_of)

    def changed(self) -> bool:
        return (self.months_in_arrears, self.arrears_amount, self.arrears_as_of) != self._before


class _NewPayment:
    """A payment being imported, before it is a row: allocation and attribution fill it in."""

    __slots__ = (
        "amount",
        "attributed_attempt_id",
        "attributed_channel",
        "attributed_user_id",
        "channel",
        "family_id",
        "months_covered",
        "paid_on",
        "participant_id",
        "reference",
    )

    def __init__(self, reference, family_id, participant_id, amount, paid_on, channel):
        self.reference, self.family_id, self.participant_id = reference, family_id, participant_id
        self.amount, self.paid_on, self.channel = amount, paid_on, channel
        self.months_covered = 0
        self.attributed_attempt_id = self.attributed_user_id = None
        self.attributed_channel = SELF_CURE

    #: The columns of `row`, in its order.
    COLUMNS = (
        "branch_id",
        "reference",
        "family_id",
        "participant_id",
        "amount",
        "paid_on",
        "channel",
        "months_covered",
        "attributed_attempt_id",
        "attributed_user_id",
        "attributed_channel",
        "import_run_id",
        "created_at",
    )

    def row(self, run_id: int, branch_id: int, now) -> tuple:
        """The payment's row (`COLUMNS`), in its family's branch."""
        return (
            branch_id,
            self.reference,
            self.family_id,
            self.participant_id,
            self.amount,
            self.paid_on,
            self.channel,
            self.months_covered,
            self.attributed_attempt_id,
            self.attributed_user_id,
            self.attributed_channel,
            run_id,
            now,
        )


PAYMENTS = ImportSpec(
    kind="payments",
    missing_columns=missing_columns,
    validate_row=validate_row,
    make_writer=_PaymentWriter,
    reads_at_random=True,
)
