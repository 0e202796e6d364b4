"""Full phone numbers are shown on record, naming whose, and cannot be read in bulk (issue 12, item 8)."""

from sqlalchemy import select

from telecollect.audit.disclosure import READS
from telecollect.audit.models import AuditEvent
from telecollect.auth.services import issue_token
from telecollect.db import now_utc
from telecollect.queues.models import QueueName, WorkItem
from tests.conftest import csrf_token
from tests.helpers_queue import families, queue_up

LIMIT = READS[0]


def events(db, action):
    db.session.expire_all()
    return [
        (e.target_id, e.detail)
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    ]


def _item_ids(db):
    return list(db.session.scalars(select(WorkItem.id).order_by(WorkItem.id)))


def test_walking_work_item_ids_through_the_api_is_refused_with_429(app, clock, db, client, login, make_user):
    families(db, LIMIT + 1)
    queue_up(db, QueueName.telecollect)
    ids = _item_ids(db)
    login(make_user("telecollector"))
    for item_id in ids[:LIMIT]:
        assert client.get(f"/api/v1/work-items/{item_id}").status_code == 200
    refused = client.get(f"/api/v1/work-items/{ids[LIMIT]}")
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_reads"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get(f"/api/v1/work-items/{ids[0]}").status_code == 200  # one already open is free
    assert len(events(db, "work_item.view")) == LIMIT + 1  # every showing on record, the refusal none
    # Another user has their own count.
    token = issue_token(db.session, make_user("telecollector"), now=now_utc())
    db.session.commit()
    other = app.test_client().get(f"/api/v1/work-items/{ids[LIMIT]}", headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 200


def test_ids_that_do_not_exist_count_too(clock, db, client, login, make_user):
    login(make_user("telecollector"))
    for item_id in range(1_000_000, 1_000_000 + LIMIT):
        assert client.get(f"/api/v1/work-items/{item_id}").status_code == 404
    assert client.get("/api/v1/work-items/2000000").status_code == 429


def test_call_screen_names_the_members_shown_and_is_throttled(clock, db, client, login, make_user):
    families(db, LIMIT + 1)
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    token = csrf_token(client.get("/queue").text)
    claimed = client.post("/queue/next", data={"csrf_token": token}, follow_redirects=True)  # the screen claim
    assert claimed.status_code == 200
    [(item_id, detail)] = events(db, "work_item.view")
    card = db.session.get(WorkItem, item_id).family.members[0].card_no
    assert detail == f"screen: {card}"
    others = [i for i in _item_ids(db) if i != item_id]
    for other in others[: LIMIT - 1]:
        assert client.get(f"/queue/items/{other}").status_code == 200
    refused = client.get(f"/queue/items/{others[LIMIT - 1]}")
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_the_cadre_list_is_on_record_once_naming_its_families(clock, db, client, login, make_user):
    families(db, 3, kecamatan="Koja", kelurahan="Lagoa")
    queue_up(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    page = client.get("/cadre")
    assert page.text.count("tel:+62812") == 3
    [(target, detail)] = events(db, "cadre_list.view")
    assert target is None
    assert detail == "cadre list: 0000000000003, 0000000000002, 0000000000001"


def test_walking_card_numbers_is_refused_on_the_page_and_the_api(clock, db, client, login, make_user):
    families(db, 2)
    login(make_user("supervisor"))
    for n in range(LIMIT - 1):
        assert client.get(f"/participants/{9_000_000_000_000 + n}").status_code == 404
    assert client.get("/participants/0000000000001").status_code == 200
    refused = client.get("/participants/0000000000002")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert client.get("/api/v1/participants/0000000000001").status_code == 200  # seen already: free
    assert client.get("/api/v1/participants/0000000000002").json["error"]["code"] == "too_many_reads"
