"""The installation administrator's branch pages, and the branch on the user page (issue 16, item 1)."""

from sqlalchemy import select

from telecollect.branches.models import Branch
from telecollect.branches.queries import branch_overrides
from tests.conftest import csrf_token


def test_the_installation_administrator_adds_and_edits_a_branch(client, login, make_user, db):
    boss = make_user("admin", is_installation_admin=True)
    login(boss)
    page = client.get("/admin/branches/new")
    assert page.status_code == 200
    added = client.post(
        "/admin/branches/new",
        data={
            "code": "1701",
            "name": "Makassar",
            "zone": "WITA",
            "deputy": "Kedeputian Wilayah IX",
            "va_prefixes": "Mandiri=89888",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert added.status_code == 302
    branch = db.session.scalar(select(Branch).where(Branch.code == "1701"))
    assert (branch.zone, branch.deputy_region.name) == ("WITA", "Kedeputian Wilayah IX")
    assert branch_overrides(branch) == {"VA_PREFIXES": "Mandiri=89888"}
    listing = client.get("/admin/branches")
    assert "Makassar" in listing.text and "Kedeputian Wilayah IX" in listing.text
    edit = client.get(f"/admin/branches/{branch.id}")
    saved = client.post(
        f"/admin/branches/{branch.id}",
        data={"code": "1701", "name": "Makassar", "zone": "WITA", "deputy": "", "csrf_token": csrf_token(edit.text)},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert branch.deputy_region_id is None and branch_overrides(branch) == {}
    users = client.get("/admin/users")
    assert users.status_code == 200


def test_a_branch_admin_sees_only_her_branchs_accounts(client, login, make_user, db):
    from telecollect.branches.services import add_branch

    makassar = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    db.session.commit()
    here = make_user("admin", branch_id=db.session.scalar(select(Branch.id).where(Branch.code == "0000")))
    there = make_user("telecollector", username="tc.makassar", branch_id=makassar.id)
    login(here)
    assert "tc.makassar" not in client.get("/admin/users").text
    assert client.get(f"/admin/users/{there.id}").status_code == 404
    assert client.get("/admin/branches").status_code == 403
