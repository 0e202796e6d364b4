"""`"²".isdigit()` is True and `int("²")` raises: user input is checked for ASCII digits before int()
(issue 12, item 10's follow-up). Each case answered a 500 or an unclear error before."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from telecollect.auth.services import areas_by_id, areas_named
from telecollect.contacts.outcomes import parse_retry_delays
from telecollect.errors import ServiceError
from telecollect.messaging.models import ReminderSetting, SmsKind, SmsMessage, SmsStatus
from telecollect.messaging.services import apply_status
from tests.conftest import csrf_token

SUPERSCRIPT_TWO = "²"
NOW = datetime(2026, 11, 30, 3, tzinfo=UTC)


def test_an_area_id_of_unicode_digits_is_an_unknown_area(db):
    with pytest.raises(ServiceError) as refused:
        areas_by_id(db.session, [f"d:{SUPERSCRIPT_TWO}"])
    assert refused.value.code == "unknown_area_id"


def test_an_area_of_unicode_digits_is_looked_up_as_a_name_not_a_code(db):
    with pytest.raises(ServiceError) as refused:
        areas_named(db.session, [SUPERSCRIPT_TWO])
    assert refused.value.code == "unknown_area"


def test_a_status_callback_with_a_unicode_digit_error_code_keeps_no_code(db):
    message = SmsMessage(
        idempotency_key="digits-1",
        kind=SmsKind.due_reminder,
        template_key="sms_due_reminder",
        body="Yth.",
        to_phone="+6281234567890",
        scheduled_at=NOW,
        next_attempt_at=NOW,
        status=SmsStatus.accepted,
        twilio_sid="SM" + "1" * 32,
    )
    db.session.add(message)
    db.session.flush()
    assert apply_status(db.session, message.twilio_sid, "failed", SUPERSCRIPT_TWO, NOW)
    assert (message.status, message.error_code) == (SmsStatus.failed, None)


def test_the_outbox_filtered_by_a_unicode_digit_district_is_not_a_500(client, login, make_user):
    login(make_user("admin"))
    assert client.get(f"/sms/outbox?district={SUPERSCRIPT_TWO}").status_code == 200


def test_reminder_days_of_a_unicode_digit_are_ignored_not_a_500(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/sms/templates")
    response = client.post(
        "/sms/templates",
        data={
            "csrf_token": csrf_token(page.text),
            "key": "sms_due_reminder",
            "body": "Yth. {nama}, iuran jatuh tempo {jatuh_tempo}",
            "enabled": "1",
            "days_before": SUPERSCRIPT_TWO,
        },
    )
    assert response.status_code < 500
    setting = db.session.scalar(select(ReminderSetting).where(ReminderSetting.kind == SmsKind.due_reminder))
    assert setting is None or setting.days_before != 2


def test_retry_delays_of_unicode_digits_are_refused_with_the_expected_form():
    with pytest.raises(ValueError, match="RETRY_DELAYS entries look like"):
        parse_retry_delays(f"no_answer={SUPERSCRIPT_TWO}h")
