"""A family moving branch: a card number is national, history stays where it happened (issue 16, item 2)."""

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
from telecollect.branches.services import add_branch
from telecollect.branches.stamping import act_in_branch
from telecollect.participants.models import ArrearsSnapshot, Family, Participant
from telecollect.queues.models import CloseReason, QueueName, WorkItem, WorkState
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up

HEAD, MEMBER = "0001234567890", "0001234567891"


def test_importing_a_member_into_another_branch_moves_the_whole_family(db):
    north = db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))
    family_rows = [row(card_no=HEAD, family_id=HEAD), row(card_no=MEMBER, family_id=HEAD, name="Budi")]
    run_import(db, csv_bytes(family_rows))
    queue_up(db, QueueName.telecollect)
    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    act_in_branch(db.session(), makassar.id)

    report = run_import(
        db, csv_bytes([row(card_no=MEMBER, family_id=HEAD, name="Budi", months_in_arrears="7", as_of="2026-11-20")])
    )
    db.session.commit()

    assert report.moved_branch == [HEAD]
    family = db.session.scalar(select(Family))
    assert family.branch_id == makassar.id
    # The whole family moved, the member the file did not name too.
    assert set(db.session.scalars(select(Participant.branch_id))) == {makassar.id}
    # History keeps the branch it happened in: North Jakarta's snapshots stay North Jakarta's.
    snapshots = {(s.months_in_arrears, s.branch_id) for s in db.session.scalars(select(ArrearsSnapshot))}
    assert (6, north.id) in snapshots and (7, makassar.id) in snapshots
    # North Jakarta's live work on the family closed as moved_branch.
    item = db.session.scalar(select(WorkItem))
    assert (item.branch_id, item.state, item.close_reason) == (north.id, WorkState.closed, CloseReason.moved_branch)
    # Both branches' logs name the move.
    moves = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "family.moved_branch")).all()
    assert {e.branch_id for e in moves} == {north.id, makassar.id}
    # Makassar queues the family afresh; its new work is Makassar's.
    queue_up(db, QueueName.telecollect)
    live = db.session.scalar(select(WorkItem).where(WorkItem.state != WorkState.closed))
    assert live.branch_id == makassar.id


def test_a_card_stays_unique_nationally(db):
    """Re-importing the same card in another branch never makes a second participant."""
    run_import(db, csv_bytes([row()]))
    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    act_in_branch(db.session(), makassar.id)
    run_import(db, csv_bytes([row()]))
    assert len(db.session.scalars(select(Participant)).all()) == 1
