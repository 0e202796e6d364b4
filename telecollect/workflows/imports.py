"""The file imports, with what the rest of the system does about them.

The streaming import commits on its own (`imports.runner`): whether a million
rows stay depends on the last one. The reactions below run inside it, before
that commit, so a kept import and its consequences land together.
"""

from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from telecollect.contacts.models import ConsentChannel, ConsentSource
from telecollect.imports.reader import TableReader
from telecollect.imports.runner import ImportReport
from telecollect.participants import services as participants
from telecollect.participants.queries import owing_family_ids
from telecollect.payments import services as payments
from telecollect.policy import optouts
from telecollect.programs import services as programs
from telecollect.queues import lifecycle
from telecollect.queues.models import CloseReason
from telecollect.regions.services import PlaceResolver, ensure_provinces
from telecollect.reports.services import record_district_totals
from telecollect.settings import Settings
from telecollect.workflows.settlement import settle


def import_participants(session: Session, reader: TableReader, *, settings: Settings, **options: Any) -> ImportReport:
    """Arrears list: participants and arrears → close the work of families that owe nothing now → the
    kecamatan totals the dashboard compares."""
    ensure_provinces(session)
    return participants.import_participants(
        session,
        reader,
        places=PlaceResolver,
        after_all=_after_participants,
        opted_in=_whatsapp_opt_ins,
        settings=settings,
        **options,
    )


def resume_imports(session: Session, *, settings: Settings) -> list[ImportReport]:
    """Finish the imports a process left half-applied (killed while applying a kept file), with their
    reactions; the reports of those it finished."""
    return participants.resume_imports(
        session, places=PlaceResolver, after_all=_after_participants, settings=settings, opted_in=_whatsapp_opt_ins
    )


def _whatsapp_opt_ins(session: Session, phones: list[str], now: datetime) -> None:
    """Numbers the file says agreed to WhatsApp (column `whatsapp_opt_in`), into the consent ledger."""
    for phone in dict.fromkeys(phones):
        optouts.opt_in(session, phone, ConsentChannel.whatsapp, source=ConsentSource.import_, now=now)


def _after_participants(session: Session, run_id: int, now: datetime) -> None:
    lifecycle.close_settled(session, owing_family_ids(), now)
    lifecycle.close_moved(session, now)
    record_district_totals(session, run_id)


def import_payments(session: Session, reader: TableReader, *, settings: Settings, **options: Any) -> ImportReport:
    """Payments: allocate to arrears → kept promises back to routine → installments paid → reactivated
    families leave the queues; once kept, settle what fell due."""
    reactions = payments.PaymentReactions(
        after_batch=_after_payment_batch, after_all=partial(_after_payments, settings=settings)
    )
    return payments.import_payments(session, reader, reactions=reactions, settings=settings, **options)


def _after_payment_batch(session: Session, applied: payments.AppliedPayments, now: datetime) -> None:
    lifecycle.back_to_routine(session, applied.kept_promise_family_ids)
    programs.count_toward_plans(session, applied.family_ids)
    lifecycle.close_families(session, applied.reactivated_family_ids, CloseReason.reactivated, now)


def _after_payments(session: Session, today: date, now: datetime, *, settings: Settings) -> None:
    settle(session, today, now=now, settings=settings)
