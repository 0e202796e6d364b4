"""A kept import gives SQLite's planner statistics: a read scoped to one branch and one family then uses
the family's index, not the branch's (which meant reading every row of the branch for one family)."""

import pytest
from sqlalchemy import select

from telecollect.participants.models import Participant
from tests.helpers import csv_bytes, row, run_import


def _plan(db, statement) -> str:
    """SQLite's plan for `statement`, in its own words."""
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    parameters = tuple(compiled.construct_params()[name] for name in compiled.positiontup)
    steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", parameters).all()
    return " | ".join(step[-1] for step in steps)


def test_after_an_import_one_familys_members_in_a_branch_are_read_by_the_family_index(db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL analyses its tables by itself")
    rows = [row(card_no=f"{n:013d}", family_id=f"F{n // 3}") for n in range(1, 61)]
    assert run_import(db, csv_bytes(rows)).created == 60
    member = db.session.scalar(select(Participant).where(Participant.card_no == f"{7:013d}"))
    scoped = select(Participant.id).where(
        Participant.family_id == member.family_id, Participant.branch_id == member.branch_id
    )
    plan = _plan(db, scoped)
    assert "ix_participants_family_id" in plan, plan
