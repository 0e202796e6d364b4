"""What a Makassar (WITA) user's request passes down is Makassar's: its local day, its virtual account prefixes,
not the installation's (North Jakarta, WIB): `runtime.acting_settings()`.

At 16:30 UTC on 30 November it is 23:30 on the 30th in Jakarta and already 00:30 on 1 December in Makassar:
a day (and a month) apart."""

import io
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from telecollect.branches.services import set_branch_setting
from telecollect.branches.stamping import act_in_branch
from telecollect.contacts.models import Promise
from telecollect.messaging.models import SmsKind, SmsMessage
from telecollect.payments.models import Payment
from telecollect.queues.models import QueueName, WorkItem
from tests.conftest import csrf_token
from tests.helpers import MAKASSAR_PLACE, add_branch_with_hours, csv_bytes, row, run_import
from tests.helpers_queue import queue_up

#: 23:30 on 30 November in Jakarta (WIB), 00:30 on 1 December in Makassar (WITA).
APART = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
MAKASSAR_TODAY = date(2026, 12, 1)
MAKASSAR_CARD = "7371000000001"


@pytest.fixture
def makassar(db, make_user):
    """Makassar (WITA) beside the installation's first branch: its own VA prefix, calls at any hour (so a
    family may be claimed at 00:30), one family of Kota Makassar queued, a telecollector and an admin."""
    branch = add_branch_with_hours(db.session, "00:00-23:59", "mon,tue,wed,thu,fri,sat,sun", per_day=9, per_week=40)
    set_branch_setting(branch, "VA_PREFIXES", "Mandiri=89888")
    act_in_branch(db.session(), branch.id)
    run_import(db, csv_bytes([row(card_no=MAKASSAR_CARD, name="Daeng Sitti", phone="081299990009", **MAKASSAR_PLACE)]))
    queue_up(db, QueueName.telecollect, now=APART)
    act_in_branch(db.session(), None)
    db.session.commit()
    tc = make_user("telecollector", branch_id=branch.id, timezone="WITA")
    admin = make_user("admin", branch_id=branch.id, timezone="WITA")
    return {"branch": branch, "tc": tc, "admin": admin}


def _csrf(client) -> dict:
    return {"X-CSRFToken": csrf_token(client.get("/participants").text)}


def _claim(client) -> int:
    claimed = client.post("/api/v1/queue/claim", headers=_csrf(client))
    assert claimed.status_code == 200, claimed.text
    return claimed.json["work_item"]["id"]


def _record(client, via: str, item_id: int, **given):
    if via == "api":
        answer = client.post(
            f"/api/v1/work-items/{item_id}/outcome", json={"channel": "phone", **given}, headers=_csrf(client)
        )
        assert answer.status_code == 201, answer.text
        return
    page = client.get(f"/queue/items/{item_id}")
    form = {"csrf_token": csrf_token(page.text), "channel": "phone", "client_ref": uuid.uuid4().hex, **given}
    answer = client.post(f"/queue/items/{item_id}/outcome", data=form)
    assert answer.status_code == 302, answer.text


@pytest.mark.parametrize("via", ["web", "api"])
def test_a_makassar_promise_is_made_on_makassars_day(via, clock, db, client, login, makassar):
    """A guard: the promise's days are its family's zone's (the work item's), whoever records it."""
    clock.move_to(APART)
    login(makassar["tc"])
    item_id = _claim(client)
    _record(client, via, item_id, outcome="promise_to_pay", promise_date="2026-12-01", promise_amount="210000")
    db.session.expire_all()
    promise = db.session.scalar(select(Promise))
    assert (promise.made_on, promise.promised_on) == (MAKASSAR_TODAY, MAKASSAR_TODAY)


@pytest.mark.parametrize("via", ["web", "api"])
def test_the_autodebit_steps_go_once_in_makassars_month(via, clock, db, client, login, makassar):
    """One text per family and month of the branch: at 00:30 on 1 December in Makassar it is December's."""
    clock.move_to(APART)
    login(makassar["tc"])
    item_id = _claim(client)
    _record(client, via, item_id, outcome="interested_autodebit")
    db.session.expire_all()
    prompt = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == SmsKind.autodebit_prompt))
    family_id = db.session.get(WorkItem, item_id).family_id
    assert prompt.idempotency_key == f"autodebit-now:{family_id}:2026-12"


def test_the_call_screen_shows_makassars_virtual_account(clock, db, client, login, makassar):
    clock.move_to(APART)
    login(makassar["tc"])
    item_id = _claim(client)
    page = client.get(f"/queue/items/{item_id}").text
    assert "89888" in page and "Mandiri" in page
    assert "88888" not in page  # the installation's prefix is not Makassar's


def test_a_message_to_a_makassar_family_names_makassars_virtual_account(db, makassar):
    """Rendered when queued, whoever queues it (a job, a webhook): with the family's branch's prefixes."""
    from telecollect.messaging.outbox import message_values
    from telecollect.participants.models import Participant

    member = db.session.scalar(select(Participant).where(Participant.card_no == MAKASSAR_CARD))
    values = message_values([member], member.phone)
    assert values["va"].startswith("89888") and values["cabang"] == "Makassar"


def test_a_makassar_admins_payment_import_reads_makassars_today(clock, db, client, login, makassar):
    """A payment of 1 December is not in the future at 00:30 on 1 December in Makassar."""
    clock.move_to(APART)
    login(makassar["admin"])
    page = client.get("/payments/import")
    data = f"card_no,amount,paid_on,reference\n{MAKASSAR_CARD},35000,2026-12-01,TRX-MKS-1\n".encode()
    answer = client.post(
        "/payments/import",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(data), "bayar.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.text
    db.session.expire_all()
    assert db.session.scalar(select(Payment.paid_on)) == MAKASSAR_TODAY


def _autodebit_outcome_then_admin(client, login, makassar):
    """Makassar's telecollector records an outcome that queues an SMS at 00:30 WITA (and is audited as signed
    in then); Makassar's admin signs in."""
    login(makassar["tc"])
    _record(client, "api", _claim(client), outcome="interested_autodebit")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/participants").text)})
    login(makassar["admin"])


def test_the_audit_logs_days_are_makassars(clock, db, client, login, makassar):
    """A branch day on the filter is Makassar's: 1 December began there at 16:00 UTC on 30 November."""
    clock.move_to(APART)
    _autodebit_outcome_then_admin(client, login, makassar)
    audit = client.get("/admin/audit?from=2026-12-01&to=2026-12-01").text.split('data-testid="audit"')[1]
    assert makassar["tc"].username in audit


def test_the_outboxs_days_are_makassars(clock, db, client, login, makassar):
    clock.move_to(APART)
    _autodebit_outcome_then_admin(client, login, makassar)
    outbox = client.get("/sms/outbox?day=2026-12-01").text
    assert '<span class="count">1<' in outbox.split('data-testid="totals"')[1]


def test_the_arrears_download_is_titled_with_makassars_day(clock, db, client, login, makassar):
    import openpyxl

    clock.move_to(APART)
    login(makassar["admin"])
    answer = client.get("/reports/arrears?by=kecamatan&format=xlsx")
    assert answer.status_code == 200
    title = openpyxl.load_workbook(io.BytesIO(answer.data)).active["A1"].value
    assert title.endswith("01-12-2026"), title  # 30-11-2026 in Jakarta
