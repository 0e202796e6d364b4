"""Search cannot recover a full NIK: only those who see full NIKs search by NIK, every search is on
record and counted (issue 12, item 6)."""

import pytest
from sqlalchemy import select

from telecollect.audit.disclosure import SEARCHES
from telecollect.audit.models import AuditEvent
from tests.participants.test_pages import names, seed

SITI_NIK = "3172015708850001"


@pytest.mark.parametrize("role", ["telecollector", "cadre"])
def test_roles_that_see_masked_niks_find_nobody_by_nik(client, login, make_user, db, role):
    seed(db)
    login(make_user(role, areas=["Kec. Koja"] if role == "cadre" else ()))
    page = client.get(f"/participants?q={SITI_NIK}")
    assert page.status_code == 200 and names(page) == []
    assert 'data-testid="nik-refused"' in page.text
    # Guessing the hidden digits finds nothing either: no answer tells a right guess from a wrong one.
    assert names(client.get(f"/participants?q={SITI_NIK[:-1]}2")) == []


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_roles_that_see_full_niks_search_by_nik_on_record(client, login, make_user, db, role):
    seed(db)
    user = make_user(role)
    login(user)
    assert names(client.get(f"/participants?q={SITI_NIK}")) == ["Siti Aminah"]
    assert names(client.get("/participants?q=budi")) == ["Budi Santoso"]
    db.session.expire_all()
    searches = [
        (e.user_id, e.detail)
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participant.search").order_by(AuditEvent.id)
        )
    ]
    assert searches == [(user.id, "nik ••••••••••••0001: 0000000000001"), (user.id, "name budi: 0000000000002")]
    assert SITI_NIK not in str(searches)  # the log does not become a second copy of the NIKs


def test_searches_are_throttled_per_user(clock, client, login, make_user, db):
    seed(db)
    login(make_user("supervisor"))
    limit = SEARCHES[0]
    for n in range(limit):
        assert client.get(f"/participants?q=31720157088500{n:02d}").status_code == 200
    refused = client.get(f"/participants?q={SITI_NIK}")
    assert refused.status_code == 429 and names(refused) == []
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/participants").status_code == 200  # the list without a search is not counted
    clock.shift(61)
    assert names(client.get(f"/participants?q={SITI_NIK}")) == ["Siti Aminah"]
