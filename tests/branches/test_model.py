"""Branches as data: the migration's first branch, every row stamped with its branch, the CLI."""

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.branches.models import FIRST_BRANCH_CODE, Branch, DeputyRegion
from telecollect.branches.services import add_branch
from telecollect.branches.stamping import NoActingBranch, act_in_branch
from telecollect.participants.models import ArrearsSnapshot, Family, Participant
from telecollect.queues.models import QueueName, WorkItem
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up


def first_branch(db) -> Branch:
    return db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))


def test_the_migration_creates_the_installations_first_branch(db):
    branch = first_branch(db)
    assert branch is not None
    assert (branch.name, branch.zone) == ("", None)  # the installation's BRANCH_NAME and BRANCH_TIMEZONE


def test_with_one_branch_every_row_is_stamped_without_being_told(db):
    run_import(db, csv_bytes([row(), row(card_no="0001234567891", family_id="0001234567890")]))
    queue_up(db, QueueName.telecollect)
    branch_id = first_branch(db).id
    for model in (Family, Participant, ArrearsSnapshot, WorkItem):
        assert set(db.session.scalars(select(model.branch_id))) == {branch_id}, model


def test_with_two_branches_a_parentless_row_needs_a_named_branch(db):
    add_branch(db.session, code="1701", name="Makassar", zone="WITA", deputy="Kedeputian Wilayah IX")
    with pytest.raises(NoActingBranch):
        run_import(db, csv_bytes([row()]))
    db.session.rollback()


def test_rows_of_a_family_follow_the_family_not_the_acting_branch(db):
    other = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    act_in_branch(db.session(), other.id)
    run_import(db, csv_bytes([row()]))
    family = db.session.scalar(select(Family))
    assert family.branch_id == other.id
    act_in_branch(db.session(), first_branch(db).id)
    queue_up(db, QueueName.telecollect)  # the work of Makassar's family is Makassar's, whoever queues it
    assert db.session.scalar(select(WorkItem.branch_id)) == other.id


def test_an_audit_event_carries_its_targets_branch(db, make_user):
    user = make_user("telecollector")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.branch_id == user.branch_id == first_branch(db).id


def test_branches_add_creates_a_new_deputy_and_list_shows_it(runner, db):
    result = runner.invoke(
        args=["branches", "add", "1701", "--name", "Makassar", "--zone", "WITA", "--deputy", "Kedeputian Wilayah IX"]
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        args=["branches", "add", "1702", "--name", "Parepare", "--zone", "WITA", "--deputy", "kedeputian wilayah  ix"]
    )
    assert again.exit_code == 0, again.output
    assert db.session.scalar(select(DeputyRegion.name)) == "Kedeputian Wilayah IX"
    assert len(db.session.scalars(select(DeputyRegion)).all()) == 1
    listing = runner.invoke(args=["branches", "list"])
    assert "1701\tMakassar\tWITA\tKedeputian Wilayah IX" in listing.output
    assert "1702\tParepare\tWITA\tKedeputian Wilayah IX" in listing.output
    taken = runner.invoke(args=["branches", "add", "1701", "--name", "X", "--zone", "WIT"])
    assert taken.exit_code != 0
