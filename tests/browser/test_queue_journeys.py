"""The two journeys of the work-queue issue, in Chromium."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from telecollect.contacts.models import ContactAttempt
from telecollect.queues.models import QueueName, WorkItem
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import families, queue_up

pytestmark = pytest.mark.browser


def test_telecollector_works_three_calls_and_the_callback_returns(clock, page, sign_in, make_user, db):
    families(db, 3)
    queue_up(db, QueueName.telecollect)
    sign_in(make_user("telecollector", name="Rina Lestari"))
    expect(page).to_have_url(re.compile("/queue$"))

    # 1: no answer, chosen with the keyboard.
    page.get_by_test_id("next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 3")
    expect(page.get_by_test_id("tel").first).to_have_attribute("href", "tel:+6281200000003")
    expect(page.locator("#outcome-form[data-ready]")).to_have_count(1)  # the shortcuts are listening
    page.keyboard.press("1")  # one key: saved, and the next family opens
    expect(page.get_by_role("alert")).to_contain_text("Tersimpan: Tidak diangkat")
    expect(page.get_by_test_id("counters")).to_contain_text("1 / 100")

    # 2: a promise, with its date and amount (saving opened the next family: "save and next").
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 2")
    expect(page.locator("#outcome-form[data-ready]")).to_have_count(1)  # the shortcuts are listening
    page.keyboard.press("7")
    page.get_by_label("Tanggal janji").fill("2026-11-28")
    page.get_by_label("Nominal janji (Rp)").fill("200000")
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("Tersimpan: Janji bayar")

    # 3: asked to be called back at 14:00 their time.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 1")
    expect(page.locator("#outcome-form[data-ready]")).to_have_count(1)  # the shortcuts are listening
    page.keyboard.press("6")
    page.get_by_label(re.compile("Hubungi kembali pada")).fill("2026-11-24T14:00")
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert").first).to_contain_text("Tersimpan: Minta dihubungi kembali")
    expect(page.get_by_role("alert").nth(1)).to_contain_text("tidak ada peserta yang boleh dihubungi")
    expect(page.get_by_test_id("counters")).to_contain_text("3 / 100")

    page.get_by_role("link", name="Janji bayar saya").click()
    expect(page.get_by_test_id("promises")).to_contain_text("Rp200.000")
    page.get_by_role("link", name="Panggilan ulang saya").click()
    expect(page.get_by_test_id("callbacks")).to_contain_text("Peserta 1")

    page.get_by_role("link", name="Antrean telepon").click()
    page.get_by_test_id("next").click()
    expect(page.get_by_role("alert")).to_contain_text("tidak ada peserta yang boleh dihubungi")

    clock.move_to("2026-11-24T07:00:30+00:00")  # 14:00:30 WIB: the callback is due
    page.get_by_test_id("next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 1")
    expect(page.get_by_text("Minta dihubungi kembali").first).to_be_visible()


def _today(app):
    from flask_babel import gettext

    with app.test_request_context(headers={"Accept-Language": "id"}):
        return gettext("last contacted today")  # "terakhir dihubungi hari ini" once catalogs merge


def test_cadre_logs_an_outcome_offline_and_it_syncs(clock, app, browser, live_server, make_user, db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", name="Siti Aminah", kecamatan="Koja", kelurahan="Lagoa", rt="3", rw="2"),
                row(card_no="0000000000002", name="Budi Santoso", kecamatan="Cilincing", kelurahan="Marunda"),
            ]
        ),
    )
    queue_up(db, QueueName.cadre)
    from tests.conftest import PASSWORD

    cadre = make_user("cadre", name="Dewi Kartika", areas=["Kec. Koja"])
    context = browser.new_context(
        base_url=live_server, viewport={"width": 360, "height": 740}, locale="id-ID", is_mobile=True, has_touch=True
    )
    context.clock.install(time=datetime.now(UTC))  # the phone's clock agrees with the server's
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Nama pengguna").fill(cadre.username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(re.compile("/cadre$"))

    cards = page.get_by_test_id("family")
    expect(cards).to_have_count(1)  # Budi lives outside her area
    expect(cards.first).to_contain_text("Siti Aminah")
    expect(cards.first).to_contain_text("RT 003/RW 002")
    expect(page.get_by_test_id("last-contact")).to_contain_text("belum pernah dihubungi")
    wa = urlsplit(page.get_by_test_id("wa").get_attribute("href"))
    assert (wa.scheme, wa.netloc, wa.path) == ("https", "wa.me", "/6281234567890")
    message = parse_qs(wa.query)["text"][0]
    assert "Siti Aminah" in message and "Dewi Kartika" in message and "Lagoa" in message
    assert "Rp" not in message and "3172015708850001" not in message  # no amounts, no NIK
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # fits a small phone

    context.set_offline(True)
    page.get_by_role("button", name="Catat hasil").click()
    page.get_by_role("radio", name="WhatsApp").check()
    page.get_by_role("button", name="Janji bayar", exact=True).click()
    page.get_by_label("Tanggal janji").fill("2026-11-30")
    page.get_by_label("Nominal janji (Rp)").fill("70000")
    page.get_by_label("Catatan").fill("Bayar lewat minimarket")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_test_id("sync-status")).to_contain_text("1 tersimpan di ponsel ini")
    assert db.session.scalar(select(ContactAttempt)) is None

    context.set_offline(False)
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.")
    attempts = db.session.scalars(select(ContactAttempt)).all()
    assert [(a.outcome, a.channel.value, a.note) for a in attempts] == [
        ("promise_to_pay", "whatsapp", "Bayar lewat minimarket")
    ]
    db.session.expire_all()
    states = {i.family.key: i.state.value for i in db.session.scalars(select(WorkItem))}
    assert states == {"0000000000001": "promised", "0000000000002": "open"}
    page.reload()
    expect(page.get_by_test_id("last-contact")).to_contain_text(_today(app))  # D9: never "0 hari lalu"
    # The list opens again without a connection (the service worker's copy).
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Daftar kerja saya")
    context.set_offline(False)
    context.close()
