"""The API refuses bodies its OpenAPI document forbids, with a 400 naming the field; ids no column can hold
are 404; the document lists the channels the caller's role may record."""

import pytest
from sqlalchemy import func, select

from telecollect.api.openapi import openapi_document
from telecollect.auth.models import Role
from telecollect.contacts.models import ContactAttempt
from telecollect.queues.models import QueueName
from tests.helpers_queue import families, queue_up


@pytest.fixture
def held(db, runner, client, make_user, clock):
    """A telecollector's bearer headers and the work item she holds."""
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    make_user("telecollector", username="tc.valid")
    headers = {"Authorization": f"Bearer {runner.invoke(args=['users', 'token', 'tc.valid']).output.strip()}"}
    item = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]
    return headers, item["id"]


def attempts(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ContactAttempt))


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"outcome": "no_answer", "promise_date": {}}, "json_field_type", "promise_date"),
        ({"outcome": "no_answer", "promise_date": "24/11/2026"}, "json_field_format", "promise_date"),
        ({"outcome": "no_answer", "note": ["a"]}, "json_field_type", "note"),
        ({"outcome": "no_answer", "note": "x" * 1001}, "json_field_too_long", "note"),
        ({"outcome": "no_answer", "client_ref": 7}, "json_field_type", "client_ref"),
        ({"outcome": "no_answer", "callback_at": "besok pagi"}, "json_field_pattern", "callback_at"),
        ({"outcome": "no_answer", "promise_amount": 0}, "json_field_below", "promise_amount"),
        ({"outcome": "no_answer", "promise_amount": {"rp": 1}}, "json_field_type", "promise_amount"),
        ({"outcome": "wrong"}, "json_field_choice", "outcome"),
        ({"channel": "phone"}, "json_field_required", "outcome"),
        ({"outcome": "no_answer", "channel": "visit"}, "json_field_choice", "channel"),
    ],
)
def test_a_body_the_document_forbids_is_refused_naming_the_field(db, client, held, body, code, field):
    headers, item_id = held
    refused = client.post(f"/api/v1/work-items/{item_id}/outcome", json=body, headers=headers)
    assert refused.status_code == 400, refused.text
    assert (refused.json["error"]["code"], refused.json["error"]["field"]) == (code, field)
    assert attempts(db) == 0


def test_a_body_that_is_not_an_object_is_refused(db, client, held):
    headers, item_id = held
    for raw in ("[]", "null", '"no_answer"', "NaN", "{"):
        refused = client.post(
            f"/api/v1/work-items/{item_id}/outcome",
            data=raw,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert (refused.status_code, refused.json["error"]["code"]) == (400, "invalid_json"), raw


def test_a_valid_body_still_records(db, client, held):
    headers, item_id = held
    done = client.post(
        f"/api/v1/work-items/{item_id}/outcome",
        json={"outcome": "busy", "channel": "whatsapp", "note": "sibuk", "client_ref": "r-1"},
        headers=headers,
    )
    assert done.status_code == 201, done.text
    assert attempts(db) == 1


@pytest.mark.parametrize("path", ["/api/v1/work-items/{}", "/api/v1/work-items/{}/renew", "/queue/items/{}"])
def test_an_id_no_column_holds_is_404_json_on_the_api(db, client, held, path):
    headers, _item_id = held
    for item_id in ("16016262927962148864", str(2**63), str(2**31)):
        url = path.format(item_id)
        answer = client.post(url, headers=headers) if url.endswith("renew") else client.get(url, headers=headers)
        assert answer.status_code == 404, url
        if url.startswith("/api/"):
            assert answer.is_json, url
    assert client.get(f"/api/v1/work-items/{2**31 - 1}", headers=headers).json["error"]["code"] == "work_item_not_found"


def test_the_document_lists_the_callers_channels(db, client, held, make_user, login):
    headers, _item_id = held

    def channels(document):
        return document["components"]["schemas"]["OutcomeRequest"]["properties"]["channel"]["enum"]

    assert channels(client.get("/api/v1/openapi.json", headers=headers).json) == ["phone", "whatsapp"]
    assert channels(openapi_document(Role.cadre)) == ["whatsapp", "phone", "visit"]
    anonymous = client.get("/api/v1/openapi.json").json
    assert channels(anonymous) == ["phone", "whatsapp", "visit"]
    described = anonymous["components"]["schemas"]["OutcomeRequest"]["properties"]["channel"]["description"]
    assert "telecollectors: phone, whatsapp" in described and "cadres: whatsapp, phone, visit" in described
