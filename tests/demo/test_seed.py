"""The demo branch: North Jakarta, realistic, and one login per role."""

from sqlalchemy import func, select

from telecollect.auth.models import User
from telecollect.participants.models import Participant
from telecollect.regions.models import District
from telecollect.reports.queries import arrears_by


def test_seed_creates_north_jakarta_and_logins(runner, db, client, login):
    result = runner.invoke(args=["demo", "seed", "--participants", "3000", "--no-activity"])
    assert result.exit_code == 0, result.output
    assert "kabid" in result.output and "telecollect" in result.output
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 3000
    districts = set(db.session.scalars(select(District.name)))
    assert districts == {"Tanjung Priok", "Penjaringan", "Cilincing", "Koja", "Kelapa Gading", "Pademangan"}
    assert {u.role.value for u in db.session.scalars(select(User))} == {"admin", "supervisor", "telecollector", "cadre"}
    # Tanjung Priok had the most participants in arrears in the article; the demo keeps that shape.
    by_count = sorted(arrears_by(db.session, "kecamatan"), key=lambda r: -r["participants"])
    assert by_count[0]["kecamatan"] == "Tanjung Priok"
    phones = db.session.scalars(select(Participant.phone).where(Participant.phone.is_not(None))).all()
    assert phones and all(p.startswith("+628") for p in phones)
    skipped = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert "skipped" in skipped.output and "kader.siti" in skipped.output
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 3000


def test_seed_simulates_weeks_of_work(runner, db):
    from telecollect.contacts.models import ContactAttempt, Promise
    from telecollect.payments.models import Payment
    from telecollect.queues.models import WorkItem

    result = runner.invoke(args=["demo", "seed", "--participants", "800"])
    assert result.exit_code == 0, result.output

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    assert count(WorkItem) > 100 and count(ContactAttempt) > 200 and count(Promise) > 20 and count(Payment) > 5
    users = {a.user.username for a in db.session.scalars(select(ContactAttempt))}
    assert users == {"tc.rina", "tc.agus", "kader.siti", "kader.dewi"}


def test_a_small_seed_still_has_every_cadre_area(runner, db):
    """The demo cadres' kelurahan exist (with their Kemendagri codes) however few participants are made."""
    result = runner.invoke(args=["demo", "seed", "--participants", "10", "--no-activity"])
    assert result.exit_code == 0, result.output
    from sqlalchemy import select

    from telecollect.regions.models import Village

    assert db.session.scalar(select(Village.code).where(Village.name == "Kalibaru")) == "3172041004"


def test_seed_with_two_branches_in_two_zones(runner, db):
    """North Jakarta (WIB) and Makassar (WITA), each with its participants and staff, and the two readers."""
    from telecollect.branches.models import Branch

    result = runner.invoke(args=["demo", "seed", "--participants", "300", "--no-activity", "--two-branches"])
    assert result.exit_code == 0, result.output
    branches = {b.name: b for b in db.session.scalars(select(Branch))}
    assert (branches["Jakarta Utara"].zone, branches["Makassar"].zone) == ("WIB", "WITA")
    assert branches["Jakarta Utara"].deputy_region.name != branches["Makassar"].deputy_region.name
    per_branch = dict(
        db.session.execute(select(Participant.branch_id, func.count()).group_by(Participant.branch_id)).all()
    )
    assert per_branch == {branches["Jakarta Utara"].id: 300, branches["Makassar"].id: 100}
    staff = {u.username: u.branch_id for u in db.session.scalars(select(User))}
    assert staff["tc.rina"] == branches["Jakarta Utara"].id and staff["tc.andi"] == branches["Makassar"].id
    assert staff["pusat"] is None and "deputi.ix" in result.output
