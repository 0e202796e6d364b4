"""Serialising work on families: one family's money is changed by one transaction at a time."""

from sqlalchemy import select, update

from telecollect.db import is_postgresql, one_of
from telecollect.participants.models import Family


def lock_families(session, family_ids) -> None:
    """Serialise work on these families (a payment import and a promise being recorded at once).

    PostgreSQL locks the rows (in id order, so two lockers cannot deadlock);
    SQLite takes its single write lock with a no-op write, after which every
    read in the transaction sees the other writer's committed work.
    """
    ids = sorted(set(family_ids))
    if not ids:
        return
    if is_postgresql(session):
        session.execute(select(Family.id).where(one_of(session, Family.id, ids)).order_by(Family.id).with_for_update())
    else:
        session.execute(
            update(Family)
            .where(Family.id == ids[0])
            .values(credit=Family.credit)
            .execution_options(synchronize_session=False)
        )


def locked_families(session, family_ids, *columns) -> list:
    """`lock_families`, then these columns of the families in id order: on PostgreSQL the locking read
    returns them (one query where a payment import made two per chunk)."""
    ids = sorted(set(family_ids))
    if not ids:
        return []
    query = select(*columns).where(one_of(session, Family.id, ids)).order_by(Family.id)
    if is_postgresql(session):
        query = query.with_for_update()  # the locks `lock_families` takes, in its order
    else:
        lock_families(session, ids)
    return list(session.execute(query).all())
