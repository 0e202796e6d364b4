"""The cadre's list (issue 13, item 2): the page carries its first screen, the whole list comes as compact
data the phone keeps; families that owe nothing leave it unless a promise of theirs is open (D8); the
last contact reads "today", never "0 days ago" (D9)."""

from flask_babel import gettext
from sqlalchemy import select, update

from telecollect.participants.models import Participant
from telecollect.queues.models import QueueName, WorkItem
from telecollect.queues.queries import CADRE_FIRST_SCREEN
from tests.conftest import csrf_token
from tests.helpers_queue import families, queue_up


def test_the_page_is_the_first_screen_and_the_data_is_the_whole_list(
    clock, db, client, login, make_user, count_queries
):
    families(db, CADRE_FIRST_SCREEN + 30, kecamatan="Koja", kelurahan="Lagoa")
    queue_up(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    first = client.get("/cadre")
    assert first.text.count('data-testid="family"') == CADRE_FIRST_SCREEN
    assert f"Peserta {CADRE_FIRST_SCREEN + 30}<" in first.text  # the most urgent (owes most) first
    assert "Peserta 1<" not in first.text
    with count_queries() as statements:
        data = client.get("/cadre/list.json")
    assert data.status_code == 200 and data.headers["Cache-Control"] == "no-store"  # only the service worker keeps it
    rows = data.json["families"]
    assert len(rows) == CADRE_FIRST_SCREEN + 30 and data.json["more"] is False
    assert rows[0]["n"] == f"Peserta {CADRE_FIRST_SCREEN + 30}" and rows[-1]["n"] == "Peserta 1"
    assert rows[0]["k"] == "Lagoa" and rows[0]["t"].startswith("+62812") and rows[0]["o"] == 5_000_000
    assert "{nama}" in data.json["wa_text"]  # the message once, filled in on the phone
    assert len(statements) <= 12  # a fixed number of queries, not one per family
    # Unchanged: 304, nothing sent again.
    again = client.get("/cadre/list.json", headers={"If-None-Match": data.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_families_that_owe_nothing_leave_the_list_unless_a_promise_is_open(clock, db, client, login, make_user):
    families(db, 3, kecamatan="Koja", kelurahan="Lagoa")
    queue_up(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    promised = db.session.scalar(
        select(WorkItem)
        .join(Participant, Participant.family_id == WorkItem.family_id)
        .where(Participant.name == "Peserta 2")
    )
    token = csrf_token(client.get("/participants").text)
    made = client.post(
        f"/api/v1/work-items/{promised.id}/outcome",
        json={
            "outcome": "promise_to_pay",
            "channel": "visit",
            "promise_date": "2026-11-28",
            "promise_amount": "200000",
        },
        headers={"X-CSRFToken": token},
    )
    assert made.status_code == 201, made.text
    # A payment file says Peserta 1 and 2 owe nothing now (their items are still open).
    db.session.execute(
        update(Participant)
        .where(Participant.name.in_(["Peserta 1", "Peserta 2"]))
        .values(arrears_amount=0, months_in_arrears=0)
    )
    db.session.commit()
    names = [row["n"] for row in client.get("/cadre/list.json").json["families"]]
    assert names == ["Peserta 3", "Peserta 2"]
    page = client.get("/cadre").text
    assert "Peserta 1<" not in page and "· 0 bulan" not in page
    why = client.get("/cadre/list.json").json["families"][1]["y"]
    assert "Rp200.000" in why and "28-11-2026" in why
    assert 'data-testid="why"' in page


def test_a_family_reached_today_reads_today(clock, db, client, login, make_user, app):
    families(db, 1, kecamatan="Koja", kelurahan="Lagoa")
    queue_up(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    item = db.session.scalar(select(WorkItem.id))
    token = csrf_token(client.get("/participants").text)
    sent = client.post(
        f"/api/v1/work-items/{item}/outcome",
        json={"outcome": "visited_explained", "channel": "visit"},
        headers={"X-CSRFToken": token},
    )
    assert sent.status_code == 201, sent.text
    page = client.get("/cadre").text
    with app.test_request_context(headers={"Accept-Language": "id"}):
        today = gettext("last contacted today")
    [line] = [line for line in page.splitlines() if 'data-testid="last-contact"' in line]
    assert today in line and "0 hari" not in line and "0 days" not in line
    assert client.get("/cadre/list.json").json["families"][0]["c"] == today


def test_the_list_data_is_on_record_and_a_cadres_only(clock, db, client, login, make_user):
    from telecollect.audit.models import AuditEvent

    families(db, 2, kecamatan="Koja", kelurahan="Lagoa")
    queue_up(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    client.get("/cadre/list.json")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cadre_list.view")).all()
    assert [e.detail for e in events] == ["cadre list data: 0000000000002, 0000000000001"]
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/participants").text)})
    login(make_user("telecollector"))
    assert client.get("/cadre/list.json").status_code == 403
