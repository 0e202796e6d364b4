"""The messages report (issue 14, item 9) on a small data set whose numbers are known: by channel and kind with
delivered and read rates and cost, payments within seven days of a delivered reminder by channel, cost per kind;
the page (supervisors) and `flask report messages`."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect.messaging.models import MessageChannel, SmsEvent, SmsKind, SmsMessage, SmsStatus
from telecollect.participants.models import Participant
from telecollect.payments.models import Payment
from telecollect.reports.funnel import Period
from telecollect.reports.messages import messages_report
from tests.helpers import csv_bytes, row, run_import

NOV_10 = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)  # 10:00 WIB
PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30), "WIB")


@pytest.fixture
def data(db):
    """Families A, B, C reminded on 10 November (C by WhatsApp, which failed, then by SMS); A paid five days
    later, B fifteen days later (too late to count), C two days later."""
    run_import(
        db,
        csv_bytes(
            [
                row(card_no=f"000000000000{n}", name=name, phone=f"08120000000{n}")
                for n, name in ((1, "Ani"), (2, "Bayu"), (3, "Cici"))
            ]
        ),
    )
    a, b, c = db.session.scalars(select(Participant).order_by(Participant.card_no)).all()

    def message(n, person, channel, kind, status, price=None, delivered=True):
        m = SmsMessage(
            idempotency_key=f"report:{n}",
            kind=kind,
            channel=channel,
            template_key="t",
            body="x",
            to_phone=person.phone,
            family_id=person.family_id,
            scheduled_at=NOV_10,
            next_attempt_at=NOV_10,
            status=status,
            price=price,
            price_unit="USD" if price else None,
            created_at=NOV_10,
            sent_at=NOV_10,
        )
        if delivered:
            m.events.append(SmsEvent(status="delivered", at=NOV_10 + timedelta(minutes=1)))
        db.session.add(m)

    message(1, a, MessageChannel.whatsapp, SmsKind.due_reminder, SmsStatus.read, "-0.00800")
    message(2, b, MessageChannel.whatsapp, SmsKind.due_reminder, SmsStatus.delivered, "-0.00800")
    message(3, c, MessageChannel.whatsapp, SmsKind.promise_reminder, SmsStatus.failed, delivered=False)
    message(4, c, MessageChannel.sms, SmsKind.due_reminder, SmsStatus.delivered, "-0.04150")
    message(5, a, MessageChannel.sms, SmsKind.info_reply, SmsStatus.sent, delivered=False)
    message(6, a, MessageChannel.sms, SmsKind.due_reminder, SmsStatus.queued, delivered=False)  # not left yet
    old = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)  # outside the period: not counted
    db.session.add(
        SmsMessage(
            idempotency_key="report:old",
            kind=SmsKind.due_reminder,
            channel=MessageChannel.sms,
            template_key="t",
            body="x",
            to_phone=a.phone,
            family_id=a.family_id,
            scheduled_at=old,
            next_attempt_at=old,
            status=SmsStatus.delivered,
            created_at=old,
        )
    )
    for ref, person, day, amount in (
        ("A", a, date(2026, 11, 15), 35_000),
        ("B", b, date(2026, 11, 25), 42_000),
        ("C", c, date(2026, 11, 12), 70_000),
    ):
        db.session.add(Payment(reference=ref, family_id=person.family_id, amount=amount, paid_on=day))
    db.session.commit()


def test_the_numbers_on_a_known_data_set(db, data):
    report = messages_report(db.session, PERIOD)
    by = {(r["channel"], r["kind"]): r for r in report.messages}
    assert set(by) == {
        ("sms", "due_reminder"),
        ("sms", "info_reply"),
        ("whatsapp", "due_reminder"),
        ("whatsapp", "promise_reminder"),
    }
    wa = by["whatsapp", "due_reminder"]
    assert (wa["messages"], wa["left"], wa["delivered"], wa["read"], wa["failed"]) == (2, 2, 2, 1, 0)
    assert (wa["delivered_rate"], wa["read_rate"]) == (1.0, 0.5)
    assert (wa["priced"], wa["cost"], wa["currency"]) == (2, pytest.approx(0.016), "USD")
    failed = by["whatsapp", "promise_reminder"]
    assert (failed["left"], failed["delivered"], failed["failed"], failed["delivered_rate"]) == (1, 0, 1, 0.0)
    assert failed["read_rate"] is None and failed["priced"] == 0
    sms = by["sms", "due_reminder"]
    assert (sms["messages"], sms["left"], sms["delivered"], sms["delivered_rate"]) == (2, 1, 1, 1.0)
    assert sms["read_rate"] is None, "SMS has no read receipts"
    assert sms["cost"] == pytest.approx(0.0415)

    payments = {r["channel"]: r for r in report.payments}
    assert payments["whatsapp"] == {
        "channel": "whatsapp",
        "reminders_delivered": 2,
        "followed_by_payment": 1,
        "payment_rate": 0.5,
        "families_paid": 1,
        "paid_amount": 35_000,
    }
    assert (payments["sms"]["reminders_delivered"], payments["sms"]["followed_by_payment"]) == (1, 1)
    assert payments["sms"]["paid_amount"] == 70_000

    [cost] = report.costs
    assert (cost["kind"], cost["priced"], cost["currency"]) == ("due_reminder", 3, "USD")
    assert cost["cost"] == pytest.approx(0.0575)


def test_the_page_is_for_supervisors_and_shows_the_rates(db, data, client, login, make_user):
    assert login(make_user("supervisor")).status_code == 302
    page = client.get("/reports/messages?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    assert "50,0%" in page.text and "100,0%" in page.text
    csv = client.get("/reports/messages?from=2026-11-01&to=2026-11-30&format=csv").text
    assert "whatsapp,due_reminder,2,2,2,1,0,1.0,0.5,2,0.016,USD" in csv


def test_the_command(db, data, runner):
    result = runner.invoke(
        args=[
            "report",
            "messages",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--table",
            "payments",
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = {r["channel"]: r for r in json.loads(result.output)}
    assert rows["whatsapp"]["followed_by_payment"] == 1 and rows["sms"]["paid_amount"] == 70_000
