"""Numbers that opted out of a channel get no button to start a contact there, and the API flags them
(issue 12 item 12)."""

from sqlalchemy import select

from telecollect.api.openapi import openapi_document
from telecollect.contacts.models import Channel
from telecollect.policy.optouts import opt_out
from telecollect.queues.models import QueueName, WorkItem
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up


def _opt_out(db, phone, *channels):
    for channel in channels:
        opt_out(db.session, phone, channel, "STOP")
    db.session.commit()


def _family_of_two(db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", name="Siti Aminah", family_id="F1", phone="081200000001"),
                row(card_no="0000000000002", name="Budi Santoso", family_id="F1", phone="081200000002"),
            ]
        ),
    )


def test_the_call_screen_has_no_call_button_for_a_number_that_opted_out(clock, db, client, login, make_user):
    _family_of_two(db)
    queue_up(db, QueueName.telecollect)
    _opt_out(db, "+6281200000001", Channel.phone)
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}
    claimed = client.post("/api/v1/queue/claim", headers=headers)
    assert claimed.status_code == 200  # Budi may still be called
    members = {m["card_no"]: m for m in claimed.json["work_item"]["family"]}
    assert members["0000000000001"]["opted_out_channels"] == ["phone"]
    assert members["0000000000002"]["opted_out_channels"] == []

    screen = client.get(f"/queue/items/{claimed.json['work_item']['id']}").text
    assert 'href="tel:+6281200000001"' not in screen
    assert 'href="tel:+6281200000002"' in screen
    assert 'data-testid="opted-out"' in screen and "+6281200000001" not in screen  # masked, no button


def test_a_family_whose_numbers_all_opted_out_of_calls_is_not_offered(clock, db, client, login, make_user):
    _family_of_two(db)
    queue_up(db, QueueName.telecollect)
    _opt_out(db, "+6281200000001", Channel.phone)
    _opt_out(db, "+6281200000002", Channel.phone)
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}
    assert client.post("/api/v1/queue/claim", headers=headers).status_code == 204


def test_the_cadre_list_shows_no_button_for_a_channel_the_family_refused(clock, db, client, login, make_user):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", name="Siti Aminah", phone="081200000001"),
                row(card_no="0000000000002", name="Budi Santoso", phone="081200000002"),
            ]
        ),
    )
    queue_up(db, QueueName.cadre)
    _opt_out(db, "+6281200000001", Channel.whatsapp)
    _opt_out(db, "+6281200000002", Channel.whatsapp, Channel.phone)
    login(make_user("cadre", areas=["Kec. Koja"]))
    page = client.get("/cadre").text
    cards = {card.split('"', 1)[0]: card for card in page.split('data-name="')[1:]}
    siti, budi = cards["Siti Aminah"], cards["Budi Santoso"]
    assert "wa.me" not in siti and 'href="tel:+6281200000001"' in siti
    assert siti.count('data-testid="opted-out"') == 1
    assert "wa.me" not in budi and "tel:" not in budi
    assert budi.count('data-testid="opted-out"') == 2


def test_the_api_document_describes_the_flag(app):
    with app.test_request_context():
        member = openapi_document()["components"]["schemas"]["FamilyMember"]
    assert "opted_out_channels" in member["required"]
    assert member["properties"]["opted_out_channels"]["items"]["enum"] == ["phone", "whatsapp", "visit", "sms"]


def test_an_items_reader_sees_the_flag_too(clock, db, client, login, make_user):
    _family_of_two(db)
    queue_up(db, QueueName.telecollect)
    _opt_out(db, "+6281200000002", Channel.whatsapp, Channel.sms)
    login(make_user("supervisor"))
    item_id = db.session.scalar(select(WorkItem.id))
    family = client.get(f"/api/v1/work-items/{item_id}").json["work_item"]["family"]
    assert [m["opted_out_channels"] for m in family] == [[], ["sms", "whatsapp"]]
