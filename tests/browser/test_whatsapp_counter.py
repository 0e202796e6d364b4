"""Issue 14 in Chromium: the cadre's WhatsApp counter on a 360 px phone (each family she opens WhatsApp for is
counted, offline too, and sent like her other entries; at the daily soft limit she is told and asked, never
silently blocked), and the family's virtual account on the agent desktop and the cadre card."""

from dataclasses import replace

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from telecollect.queues.models import CadreWhatsappOpen, QueueName
from tests.browser.phone import phone, sign_in_on_phone
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up

pytestmark = pytest.mark.browser


def _opens(db):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CadreWhatsappOpen))


def _counted(response):
    """The server's answer to a WhatsApp tap sent from the phone."""
    return response.request.method == "POST" and response.url.endswith("/whatsapp")


def _families(db, count):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no=f"{n:013d}", name=f"Warga {n}", phone=f"0812{n:08d}", arrears_amount=str(100_000 * n))
                for n in range(1, count + 1)
            ]
        ),
    )


@pytest.fixture
def limit_of_two(app):
    built = app.extensions["telecollect.settings"]
    app.extensions["telecollect.settings"] = replace(built, cadre_whatsapp_daily_limit=2)
    yield
    app.extensions["telecollect.settings"] = built


def test_the_cadre_sees_her_whatsapp_count_and_is_asked_at_the_limit(
    clock, browser, live_server, make_user, db, limit_of_two
):
    _families(db, 3)
    queue_up(db, QueueName.cadre)
    context = phone(browser, live_server)
    # WhatsApp itself is not part of the test: its page opens in a new tab, answered here.
    context.route("https://wa.me/**", lambda route: route.fulfill(body="WhatsApp"))
    page = context.new_page()
    sign_in_on_phone(page, make_user("cadre", areas=["Kec. Koja"]))
    counter = page.get_by_test_id("wa-count")
    expect(counter).to_have_text("WhatsApp hari ini: 0 dari 2 keluarga")
    cards = page.get_by_test_id("family")
    # The card names the family's virtual account (88888 + the last 11 digits of its card).
    expect(cards.filter(has_text="Warga 3").get_by_test_id("virtual-account")).to_contain_text("8888800000000003")

    for name in ("Warga 3", "Warga 2"):
        with page.expect_response(_counted), context.expect_page() as whatsapp:
            cards.filter(has_text=name).get_by_test_id("wa").click()
        whatsapp.value.close()
    expect(counter).to_contain_text("WhatsApp hari ini: 2 dari 2 keluarga")
    expect(counter).to_contain_text("Batas WhatsApp harian tercapai")
    expect(counter).to_have_class("wa-count over")
    assert _opens(db) == 2
    # Opening one of them again counts nothing new and asks nothing.
    with context.expect_page() as whatsapp:
        cards.filter(has_text="Warga 2").get_by_test_id("wa").click()
    whatsapp.value.close()
    expect(counter).to_contain_text("2 dari 2")

    # Offline, at the limit: a new family asks first. Saying no opens nothing and counts nothing.
    context.set_offline(True)
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    cards.filter(has_text="Warga 1").get_by_test_id("wa").click()
    expect(counter).to_contain_text("2 dari 2")
    assert asked and "2 keluarga" in asked[0] and len(context.pages) == 1
    # Saying yes opens WhatsApp, counts it on the phone and keeps the tap to be sent.
    page.once("dialog", lambda dialog: dialog.accept())
    with context.expect_page() as whatsapp:
        cards.filter(has_text="Warga 1").get_by_test_id("wa").click()
    whatsapp.value.close()
    expect(counter).to_contain_text("3 dari 2")
    expect(page.get_by_test_id("outbox")).to_be_hidden()  # a tap is not an entry to correct
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.")
    assert _opens(db) == 2
    # The count survives a reload without a connection (the page from the phone's copy).
    page.reload()
    expect(page.get_by_test_id("wa-count")).to_contain_text("3 dari 2")
    with page.expect_response(_counted):
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
    assert _opens(db) == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_the_agent_desktop_shows_the_virtual_account(clock, page, sign_in, make_user, db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0009876543210", family_id="0009876543210", name="Siti Aminah"),
                row(card_no="0001111111111", family_id="0009876543210", name="Budi", phone="", arrears_amount="0"),
            ]
        ),
    )
    agent = make_user("telecollector")
    queue_up(db, QueueName.telecollect)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(agent)
    page.get_by_role("button", name="Berikutnya").click()
    account = page.get_by_test_id("virtual-account")
    expect(account).to_have_text("Nomor VA: 8888809876543210")
    expect(account).to_be_in_viewport()  # beside the family's members, without scrolling
