"""Families in queues for tests."""

from datetime import UTC, datetime

from telecollect.queues.services import AssignFilters, assign
from tests.helpers import csv_bytes, row, run_import


def families(db, count: int, **changes):
    """Import `count` families of one member each, with distinct amounts (family n owes n × Rp100.000)."""
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{n:013d}",
                    name=f"Peserta {n}",
                    phone=f"0812{n:08d}",
                    arrears_amount=str(100_000 * n),
                    **changes,
                )
                for n in range(1, count + 1)
            ]
        ),
    )


def queue_up(db, queue, user=None, now=None, **filters):
    result = assign(db.session, queue=queue, filters=AssignFilters(**filters), user=user, now=now or datetime.now(UTC))
    db.session.commit()
    return result
