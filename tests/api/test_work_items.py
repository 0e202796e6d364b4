"""The API's work items and participants: full numbers are shown only where needed, and every showing is audited."""

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.participants.models import Participant
from telecollect.queues.models import QueueName
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up


def views(db):
    db.session.expire_all()
    return [
        (e.action, e.target_type, e.target_id, e.detail)
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "work_item.view").order_by(AuditEvent.id)
        )
    ]


def test_claiming_and_reading_a_work_item_show_the_numbers_on_record(clock, db, client, login, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", family_id="F1", phone="081200000001"),
                row(card_no="0000000000002", family_id="F1", phone="081200000002"),
                row(card_no="0000000000003", family_id="F1", phone=""),
            ]
        ),
    )
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}

    work = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]
    assert [m["phone"] for m in work["family"]] == ["+6281200000001", "+6281200000002", None]
    assert views(db) == [("work_item.view", "work_items", work["id"], "api claim: 0000000000001, 0000000000002")]

    shown = client.get(f"/api/v1/work-items/{work['id']}").json["work_item"]
    assert shown["family"][0]["phone"] == "+6281200000001"
    assert views(db)[1:] == [("work_item.view", "work_items", work["id"], "api read: 0000000000001, 0000000000002")]


def test_a_number_found_invalid_is_never_shown_in_full(clock, db, client, login, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", family_id="F1", phone="081200000001"),
                row(card_no="0000000000002", family_id="F1", phone="081200000002"),
            ]
        ),
    )
    first = db.session.scalar(select(Participant).where(Participant.card_no == "0000000000001"))
    first.is_phone_invalid = True  # as a wrong_number outcome leaves it
    db.session.commit()
    login(make_user("supervisor"))
    shown = client.get("/api/v1/participants/0000000000001").json
    assert shown["participant"]["phone"] is None
    assert [m["phone"] for m in shown["family"]["members"]] == [None, "+6281200000002"]
