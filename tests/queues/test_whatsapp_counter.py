"""Issue 14, items 6 and 8: the virtual account on the agent desktop and the cadre card (and in the offline
list), and the cadre's WhatsApp counter: each family she opens WhatsApp for is counted once a day, against a
daily soft limit shown to her and to the supervisor."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from telecollect.accounts import parse_prefixes
from telecollect.extensions import db as _db
from telecollect.queues.models import CadreWhatsappOpen, QueueName, WorkItem
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import families, queue_up
from tests.queues.test_concurrency import run_together


@pytest.fixture
def settings_with(app, monkeypatch):
    def change(**values):
        built = app.extensions["telecollect.settings"]
        monkeypatch.setitem(app.extensions, "telecollect.settings", replace(built, **values))

    return change


def _family_with_head(db):
    """A family whose id is the head's card (not the lowest card number): the account is the head's."""
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0009876543210", family_id="0009876543210", name="Siti Aminah", phone="081234567890"),
                row(card_no="0001111111111", family_id="0009876543210", name="Budi", phone="", arrears_amount="0"),
            ]
        ),
    )


def _items(db, queue):
    return db.session.scalars(select(WorkItem).where(WorkItem.queue == queue).order_by(WorkItem.id)).all()


def test_the_desktop_shows_the_family_virtual_accounts(clock, db, client, login, make_user, settings_with):
    _family_with_head(db)
    agent = make_user("telecollector")
    queue_up(db, QueueName.telecollect, user=agent)
    [item] = _items(db, QueueName.telecollect)
    login(agent)
    page = client.get(f"/queue/items/{item.id}").text
    assert "Nomor VA" in page and "8888809876543210" in page
    assert "ke virtual account 8888809876543210" in page  # the call script names it too
    settings_with(va_prefixes=parse_prefixes("88888,Mandiri=89888"))
    page = client.get(f"/queue/items/{item.id}").text
    assert "8888809876543210" in page and "Mandiri</span> <strong" in page and "8988809876543210" in page


def test_the_cadre_card_and_offline_list_carry_the_virtual_account(clock, db, client, login, make_user):
    _family_with_head(db)
    queue_up(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    page = client.get("/cadre").text
    card = page[page.index('data-testid="family"') :]
    assert 'data-testid="virtual-account"' in card and "8888809876543210" in card
    assert "0009876543210" in client.get(f"/queue/items/{_items(db, QueueName.cadre)[0].id}").text  # she sees cards
    data = client.get("/cadre/list.json").json
    assert data["families"][0]["v"] == ["8888809876543210"] and data["va_banks"] == [""]
    assert "nik" not in str(data).lower() and "3172015708850001" not in str(data)


def _open(client, item_id, ref, token, **extra):
    return client.post(
        f"/cadre/items/{item_id}/whatsapp", json={"client_ref": ref, **extra}, headers={"X-CSRFToken": token}
    )


def _opens(db):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CadreWhatsappOpen))


def test_each_family_counts_once_a_day_and_a_resend_counts_once(clock, db, client, login, make_user):
    families(db, 3, kecamatan="Koja")
    queue_up(db, QueueName.cadre)
    first, second, _third = _items(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    token = csrf_token(client.get("/cadre").text)
    opened = _open(client, first.id, "ref-1", token)
    assert opened.status_code == 201 and opened.json["today"] == 1 and opened.json["limit"] == 50
    again = _open(client, first.id, "ref-1", token)  # the answer was lost; the phone sends it again
    assert again.status_code == 200 and again.json["recorded"] is False and _opens(db) == 1
    assert _open(client, first.id, "ref-2", token).json["today"] == 1  # the same family again today
    answer = _open(client, second.id, "ref-3", token).json
    assert answer["today"] == 2 and answer["opened"] == sorted([first.id, second.id])
    assert "WhatsApp hari ini: 2 dari 50 keluarga" in client.get("/cadre").text


def test_an_open_sent_late_counts_on_the_day_it_happened(clock, db, client, login, make_user):
    families(db, 1, kecamatan="Koja")
    queue_up(db, QueueName.cadre)
    [item] = _items(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    token = csrf_token(client.get("/cadre").text)
    yesterday = "2026-11-23T19:30:00+07:00"  # her evening, sent from the outbox this morning
    assert _open(client, item.id, "late", token, occurred_at=yesterday).json["today"] == 0
    assert db.session.scalar(select(CadreWhatsappOpen.opened_on)).isoformat() == "2026-11-23"
    refused = _open(client, item.id, "future", token, occurred_at="2026-11-25T09:00:00+07:00")
    assert refused.status_code == 400 and refused.json["error"]["code"] == "occurred_at_in_future"
    missing = _open(client, item.id, "", token)
    assert missing.status_code == 400 and missing.json["error"]["code"] == "client_ref_required"


# A family outside her list (another cadre's area) is refused with nothing counted: tests/test_route_matrix.py.


def test_the_limit_is_shown_near_and_at_it_and_never_blocks(clock, db, client, login, make_user, settings_with):
    settings_with(cadre_whatsapp_daily_limit=2)
    families(db, 3, kecamatan="Koja")
    queue_up(db, QueueName.cadre)
    items = _items(db, QueueName.cadre)
    login(make_user("cadre", areas=["Kec. Koja"]))
    token = csrf_token(client.get("/cadre").text)
    answers = [_open(client, item.id, f"r{n}", token) for n, item in enumerate(items)]
    assert [a.status_code for a in answers] == [201, 201, 201]  # a soft limit: the third is recorded too
    assert answers[-1].json == {**answers[-1].json, "today": 3, "limit": 2}
    page = client.get("/cadre").text
    assert 'data-limit="2"' in page and "WhatsApp hari ini: 3 dari 2 keluarga" in page


def test_the_supervisor_sees_each_cadre_whatsapp_today(clock, db, client, login, make_user):
    families(db, 2, kecamatan="Koja")
    siti = make_user("cadre", name="Siti Kader", areas=["Kec. Koja"])
    make_user("cadre", name="Dewi Kader", areas=["Kec. Koja"])
    queue_up(db, QueueName.cadre, user=siti)
    login(siti)
    token = csrf_token(client.get("/cadre").text)
    for n, item in enumerate(_items(db, QueueName.cadre)):
        _open(client, item.id, f"s{n}", token)
    client.post("/logout", data={"csrf_token": token})
    login(make_user("supervisor"))
    page = client.get("/reports/dashboard").text
    table = page[page.index('data-testid="cadres"') :]
    table = table[: table.index("</tbody>")]
    rows = {chunk.split("</td>")[0]: chunk for chunk in table.split("<tr><td>")[1:]}
    assert "2 / 50" in rows["Siti Kader"] and "0 / 50" in rows["Dewi Kader"]


@pytest.mark.committing
def test_the_same_tap_sent_twice_at_once_counts_once(app, db, make_user):
    from telecollect.queues import services as queues

    families(db, 1, kecamatan="Koja")
    cadre = make_user("cadre", areas=["Kec. Koja"])
    queue_up(db, QueueName.cadre, user=cadre)
    item_id, cadre_id = _items(db, QueueName.cadre)[0].id, cadre.id
    at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

    def send():
        user = _db.session.get(type(cadre), cadre_id)
        item = _db.session.get(WorkItem, item_id)
        new = queues.record_whatsapp_open(_db.session, item, user, client_ref="same", opened_at=at, zone="WIB")
        _db.session.commit()
        return new

    assert sorted(run_together(app, [send, send])) == [False, True]
    assert _opens(db) == 1
