"""The cadre's offline outbox in Chromium (issues 12 and 13): an entry the server refuses stays on the phone
with its reason, on its family's card, until she edits and resends or discards it; entries belong to the user
who made them; one tap records an outcome."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from telecollect.contacts.models import ContactAttempt
from telecollect.queues.models import QueueName, WorkItem
from tests.browser.phone import phone, sign_in_on_phone
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up

pytestmark = pytest.mark.browser


def _attempts(db):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ContactAttempt))


def _log_offline(context, page, outcome="Tidak diangkat"):
    context.set_offline(True)
    page.get_by_role("button", name="Catat hasil").click()
    page.get_by_role("button", name=outcome, exact=True).click()  # one tap saves it
    expect(page.get_by_test_id("sync-status")).to_contain_text("1 tersimpan di ponsel ini")
    expect(page.get_by_test_id("family").get_by_test_id("card-sync")).to_contain_text("menunggu dikirim")


def test_an_entry_refused_on_sync_stays_with_its_reason(clock, browser, live_server, make_user, db):
    run_import(db, csv_bytes([row(card_no="0000000000001", name="Siti Aminah", kecamatan="Koja")]))
    queue_up(db, QueueName.cadre)
    dewi = make_user("cadre", name="Dewi Kartika", areas=["Kec. Koja"])
    other = make_user("cadre", name="Rina", areas=["Kec. Koja"])
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, dewi)
    _log_offline(context, page)

    # Meanwhile the supervisor hands the family to another cadre: the server refuses Dewi's entry.
    item = db.session.scalar(select(WorkItem))
    item.assigned_user_id = other.id
    db.session.commit()
    context.set_offline(False)
    family = page.get_by_test_id("family")
    expect(family.get_by_test_id("refused")).to_have_text("ditolak: keluarga ini tidak ada lagi di daftar Anda")
    expect(page.get_by_test_id("sync-status")).to_contain_text("1 ditolak server")
    entry = page.get_by_test_id("outbox-entry")
    expect(entry).to_contain_text("Siti Aminah")
    expect(entry).to_contain_text("ditolak: keluarga ini tidak ada lagi di daftar Anda")
    assert _attempts(db) == 0

    # It survives a reload (it is on the phone, not in the page).
    page.reload()
    expect(page.get_by_test_id("outbox-entry")).to_contain_text("ditolak:")

    # The family is hers again: she sends it again and it is recorded once.
    item.assigned_user_id = None
    db.session.commit()
    page.get_by_test_id("outbox-entry").get_by_role("button", name="Kirim ulang").click()
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.")
    expect(page.get_by_test_id("outbox")).to_be_hidden()
    assert _attempts(db) == 1
    context.close()


def test_a_refused_entry_is_discarded_only_when_she_says_so(clock, browser, live_server, make_user, db):
    run_import(db, csv_bytes([row(card_no="0000000000001", name="Siti Aminah", kecamatan="Koja")]))
    queue_up(db, QueueName.cadre)
    dewi = make_user("cadre", name="Dewi Kartika", areas=["Kec. Koja"])
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, dewi)
    _log_offline(context, page)
    db.session.scalar(select(WorkItem)).assigned_user_id = make_user("cadre", areas=["Kec. Koja"]).id
    db.session.commit()
    context.set_offline(False)
    entry = page.get_by_test_id("outbox-entry")
    expect(entry).to_contain_text("ditolak:")

    page.once("dialog", lambda dialog: dialog.dismiss())
    entry.get_by_role("button", name="Buang").click()
    expect(entry).to_have_count(1)  # she said no: it stays
    page.once("dialog", lambda dialog: dialog.accept())
    entry.get_by_role("button", name="Buang").click()
    expect(page.get_by_test_id("outbox-entry")).to_have_count(0)
    assert page.evaluate("JSON.parse(localStorage.getItem('telecollect.outbox'))") == []
    context.close()


def _cached_list(page) -> bool:
    return page.evaluate("caches.open('telecollect-v1').then((c) => c.match('/cadre')).then((r) => !!r)")


def _outbox(page):
    return page.evaluate("JSON.parse(localStorage.getItem('telecollect.outbox') || '[]')")


def test_signing_out_drops_the_list_but_keeps_her_unsent_entries_for_her(clock, browser, live_server, make_user, db):
    run_import(db, csv_bytes([row(card_no="0000000000001", name="Siti Aminah", kecamatan="Koja")]))
    queue_up(db, QueueName.cadre)
    dewi = make_user("cadre", name="Dewi Kartika", areas=["Kec. Koja"])
    rina = make_user("cadre", name="Rina Wati", areas=["Kec. Koja"])
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, dewi)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now served through the service worker, which keeps a copy
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    for _ in range(50):
        if _cached_list(page):
            break
        page.wait_for_timeout(100)
    assert _cached_list(page)

    # The network drops her outcome (a dead zone): it waits on the phone.
    context.route("**/api/v1/work-items/*/outcome", lambda route: route.abort())
    page.get_by_role("button", name="Catat hasil").click()
    page.get_by_role("button", name="Tidak diangkat", exact=True).click()
    expect(page.get_by_test_id("sync-status")).to_contain_text("1 tersimpan di ponsel ini")

    # Signing out warns first; saying no keeps her signed in.
    warnings = []
    page.once("dialog", lambda dialog: (warnings.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(re.compile("/cadre$"))
    assert "1 catatan Anda belum terkirim" in warnings[0]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(re.compile("/login"))

    for _ in range(50):  # the service worker forgets the list as the sign-out goes out
        if not _cached_list(page):
            break
        page.wait_for_timeout(100)
    assert not _cached_list(page)
    assert not page.evaluate(
        "caches.open('telecollect-v1').then((c) => c.match('/cadre/list.json')).then((r) => !!r)"
    )  # nor her whole list
    assert [(e["user"], e["name"], e["state"]) for e in _outbox(page)] == [(str(dewi.id), "Siti Aminah", "pending")]

    # Rina signs in on the same phone: Dewi's entry is shown as someone else's and never sent.
    context.unroute("**/api/v1/work-items/*/outcome")
    sign_in_on_phone(page, rina)
    expect(page.get_by_test_id("outbox-entry")).to_contain_text("disimpan pengguna lain")
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.")
    page.reload()
    expect(page.get_by_test_id("outbox-entry")).to_have_count(1)
    assert _attempts(db) == 0
    page.get_by_role("button", name="Keluar").click()  # no warning: none of the unsent entries is hers
    expect(page).to_have_url(re.compile("/login"))

    # Dewi again: her entry goes.
    sign_in_on_phone(page, dewi)
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.")
    assert _attempts(db) == 1
    assert _outbox(page) == []
    context.close()


def test_a_refused_entry_is_edited_and_sent_again(clock, browser, live_server, make_user, db):
    """Issue 13: refused by the server (an amount the phone cannot judge), it stays on its family's card with
    the reason; she edits it there, what she typed still in it, and it is sent and recorded once."""
    run_import(db, csv_bytes([row(card_no="0000000000001", name="Siti Aminah", kecamatan="Koja")]))
    queue_up(db, QueueName.cadre)
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, make_user("cadre", name="Dewi Kartika", areas=["Kec. Koja"]))
    context.set_offline(True)
    page.get_by_role("button", name="Catat hasil").click()
    page.get_by_label("Catatan").fill("Bayar setelah panen")
    page.get_by_role("button", name="Janji bayar", exact=True).click()
    page.get_by_label("Tanggal janji").fill("2026-11-30")
    page.get_by_label("Nominal janji (Rp)").fill("1.000.000.000.000")  # more than any amount the server accepts
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_test_id("sync-status")).to_contain_text("1 tersimpan di ponsel ini")
    context.set_offline(False)
    family = page.get_by_test_id("family")
    # Sending waits for the browser's "online" event and the server's answer: slow on a loaded machine.
    expect(family.get_by_test_id("refused")).to_contain_text("ditolak:", timeout=30_000)
    expect(page.get_by_test_id("outbox-entry")).to_contain_text("Siti Aminah")
    assert _attempts(db) == 0

    family.get_by_test_id("card-sync").get_by_role("button", name="Ubah").click()
    expect(page.get_by_label("Nominal janji (Rp)")).to_have_value("1.000.000.000.000")  # what she wrote is still there
    expect(page.get_by_label("Catatan")).to_have_value("Bayar setelah panen")
    expect(page.get_by_label("Tanggal janji")).to_have_value("2026-11-30")
    page.get_by_label("Nominal janji (Rp)").fill("150.000")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.", timeout=30_000)
    expect(family.get_by_test_id("refused")).to_have_count(0)
    expect(family.get_by_test_id("card-sync")).to_be_visible()
    assert _attempts(db) == 1
    attempt = db.session.scalar(select(ContactAttempt))
    assert (attempt.outcome, attempt.note) == ("promise_to_pay", "Bayar setelah panen")
    context.close()
