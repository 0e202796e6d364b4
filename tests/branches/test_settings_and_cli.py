"""A branch's own settings and time, and the commands' --branch (issue 16, items 1 and 3)."""

from datetime import date

from sqlalchemy import select

from telecollect.auth.models import User
from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
from telecollect.branches.services import add_branch
from telecollect.branches.settings import branch_settings
from telecollect.branches.stamping import act_in_branch
from telecollect.contacts.models import Holiday
from telecollect.participants.models import Participant
from telecollect.policy.rules import branch_holidays
from telecollect.queues.models import WorkItem
from tests.conftest import PASSWORD
from tests.helpers import csv_bytes, row


def test_a_branch_has_its_zone_and_defaults_to_the_installations_settings(app, db):
    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    first = db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))
    mine = branch_settings(db.session, makassar, app.config)
    assert (mine.branch_timezone, mine.branch_name) == ("WITA", "Makassar")
    assert mine.va_prefixes == branch_settings(db.session, first, app.config).va_prefixes  # not set: the installation's
    assert branch_settings(db.session, first, app.config).branch_timezone == app.config["BRANCH_TIMEZONE"]


def test_branches_set_overrides_one_setting_and_refuses_bad_ones(app, runner, db):
    add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    db.session.commit()
    assert runner.invoke(args=["branches", "set", "1701", "VA_PREFIXES", "Mandiri=89888"]).exit_code == 0
    assert branch_settings(db.session, "1701", app.config).va_prefixes[0].prefix == "89888"
    assert runner.invoke(args=["branches", "set", "1701", "VA_PREFIXES", "12"]).exit_code != 0
    assert runner.invoke(args=["branches", "set", "1701", "SECRET_KEY", "x"]).exit_code != 0
    assert runner.invoke(args=["branches", "set", "1701", "VA_PREFIXES"]).exit_code == 0  # back to the installation's
    assert branch_settings(db.session, "1701", app.config).va_prefixes[0].prefix == "88888"


def test_a_branchs_own_holiday_closes_only_that_branch(db):
    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    db.session.add(Holiday(on=date(2026, 12, 3), name="Hari jadi Makassar", branch_id=makassar.id))
    db.session.flush()
    assert date(2026, 12, 3) not in branch_holidays(db.session, 2026)  # no branch acting: the installation's days
    act_in_branch(db.session(), makassar.id)
    assert branch_holidays(db.session, 2026)[date(2026, 12, 3)] == "Hari jadi Makassar"


def test_commands_name_the_branch_when_there_are_several(runner, db, tmp_path):
    path = tmp_path / "peserta.csv"
    path.write_bytes(csv_bytes([row()]))
    # One branch: no --branch anywhere.
    assert runner.invoke(args=["import", "participants", str(path)]).exit_code == 0
    add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    db.session.commit()
    refused = runner.invoke(args=["import", "participants", str(path)])
    assert refused.exit_code == 2
    path.write_bytes(csv_bytes([row(card_no="0009999999999", name="Daeng")]))
    assert runner.invoke(args=["import", "participants", str(path), "--branch", "1701"]).exit_code == 0
    makassar = db.session.scalar(select(Branch).where(Branch.code == "1701"))
    assert db.session.scalar(select(Participant.branch_id).where(Participant.card_no == "0009999999999")) == makassar.id
    # A user of Makassar; the queue of Makassar takes only Makassar's family.
    created = runner.invoke(
        args=["users", "create", "tc.mks", "--role", "telecollector", "--branch", "1701", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert db.session.scalar(select(User.branch_id).where(User.username == "tc.mks")) == makassar.id
    assigned = runner.invoke(args=["queue", "assign", "--queue", "telecollect", "--branch", "1701", "--user", "tc.mks"])
    assert assigned.exit_code == 0, assigned.output
    assert set(db.session.scalars(select(WorkItem.branch_id))) == {makassar.id}
    # Reports: --branch reads one branch; without it, every branch.
    one = runner.invoke(args=["report", "arrears", "--by", "kecamatan", "--format", "csv", "--branch", "1701"])
    every = runner.invoke(args=["report", "arrears", "--by", "kecamatan", "--format", "csv"])
    assert one.exit_code == every.exit_code == 0
    assert ",1," in one.output and ",2," in every.output


def test_users_create_places_readers(runner, db):
    add_branch(db.session, code="1701", name="Makassar", zone="WITA", deputy="Kedeputian Wilayah IX")
    db.session.commit()
    command = ["users", "create", "dw9", "--role", "regional_supervisor", "--deputy", "kedeputian wilayah ix"]
    regional = runner.invoke(args=[*command, "--password-stdin"], input=PASSWORD + "\n")
    assert regional.exit_code == 0, regional.output
    national = runner.invoke(
        args=["users", "create", "pusat", "--role", "national_viewer", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert national.exit_code == 0, national.output
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert users["dw9"].deputy_region_id is not None and users["dw9"].branch_id is None
    assert users["pusat"].branch_id is None and users["pusat"].deputy_region_id is None
