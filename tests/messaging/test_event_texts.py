"""A message's history is stored as codes and read in words (UX audit D17: "SMS_BACKEND=outbox: kept in the
outbox" and other English notes on the Indonesian message page)."""

import json

from telecollect.messaging.events import STORED_LIMIT, detail, parse
from telecollect.messaging.labels import EVENT_TEXTS, event_text


def test_every_line_is_stored_as_a_code_and_read_in_indonesian(app):
    with app.test_request_context():
        assert event_text(detail("held")).startswith("disimpan di kotak keluar")
        assert event_text(detail("created", kind="due_reminder")) == "dibuat: Pengingat jatuh tempo"
        assert event_text(detail("provider_status", status="queued", sid="SM1")) == (
            "penyedia menjawab: diterima penyedia (SM1)"
        )
        assert event_text(detail("callback_status", status="delivered")) == "penyedia melaporkan: sampai"
        for code in EVENT_TEXTS:  # every code has its Indonesian sentence
            params = {
                "kind": "pre_call",
                "status": "sent",
                "ref": "r",
                "sid": "S",
                "error": "E",
                "reason": "x",
                "count": 2,
                "sids": "S1 S2",
                "code": 1,
                "message": "m",
                "by": "kabid",
                "id": 7,
                "why": "error 63049",
            }
            text = event_text(detail(code, **params))
            assert text and code not in text


def test_a_long_provider_message_is_cut_to_fit_the_column_and_stays_json():
    stored = detail("failed_http", status=400, code=21211, message="x" * 1000)
    assert len(stored) <= STORED_LIMIT
    assert json.loads(stored)["params"]["message"].endswith("…")
    assert parse(stored)[0] == "failed_http"


def test_lines_written_before_the_codes_are_shown_as_they_were(app):
    with app.test_request_context():
        assert event_text("SMS_BACKEND=outbox: kept in the outbox") == "SMS_BACKEND=outbox: kept in the outbox"
        assert event_text("due_reminder") == "Pengingat jatuh tempo"
        assert event_text(None) == ""
