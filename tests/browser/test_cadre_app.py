"""The cadre app at 360×740 in Chromium (issue 13, item 2, and audit defects D6, D7, D10, D11): one tap per
outcome, the fields an outcome needs checked on the phone before anything is saved, a light first screen,
the whole list searchable and filterable offline, tap targets of 44 px, readable contrast."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from telecollect.contacts.models import ContactAttempt
from telecollect.queues.models import QueueName, WorkItem
from telecollect.queues.queries import CADRE_FIRST_SCREEN
from tests.browser.phone import phone, sign_in_on_phone
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up

pytestmark = pytest.mark.browser


def _t(app, message, **params):
    """A sentence as the Indonesian interface shows it (new sentences are translated when catalogs merge)."""
    from flask_babel import gettext

    with app.test_request_context(headers={"Accept-Language": "id"}):
        return gettext(message, **params)


def _one_family(db):
    run_import(db, csv_bytes([row(card_no="0000000000001", name="Siti Aminah", kecamatan="Koja")]))
    queue_up(db, QueueName.cadre)


def _many(db, count):
    """`count` families in two kelurahan and a few RTs; family n owes n × Rp10.000 (the last is the most urgent)."""
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{n:013d}",
                    name=f"Warga {n}",
                    phone=f"0812{n:08d}",
                    arrears_amount=str(10_000 * n),
                    kecamatan="Koja",
                    kelurahan="Lagoa" if n % 2 else "Tugu Utara",
                    rt=str(n % 3 + 1),
                    rw="4",
                )
                for n in range(1, count + 1)
            ]
        ),
    )
    queue_up(db, QueueName.cadre)


def test_a_callback_needs_its_time_checked_on_the_phone_and_keeps_the_note(
    clock, app, browser, live_server, make_user, db
):
    """D6: the sheet has the callback's date and time; saving without it says so beside the field, keeps the note
    and saves nothing; with it, the callback is recorded."""
    _one_family(db)
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, make_user("cadre", areas=["Kec. Koja"]))
    page.get_by_role("button", name="Catat hasil").click()
    page.get_by_label("Catatan").fill("Suami pulang jam 5 sore")
    page.get_by_role("button", name="Minta dihubungi kembali").click()
    callback = page.get_by_label(_t(app, "Callback date and time"))
    expect(callback).to_be_focused()  # its field opens, nothing is saved yet
    assert page.evaluate("localStorage.getItem('telecollect.outbox')") in (None, "[]")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("[data-error-for=callback_at]")).to_be_visible()
    expect(page.get_by_label("Catatan")).to_have_value("Suami pulang jam 5 sore")  # nothing typed is lost
    assert page.evaluate("localStorage.getItem('telecollect.outbox')") in (None, "[]")

    callback.fill("2026-11-24T17:00")  # today 17:00 WIB (the server's clock says 09:00 WIB)
    page.get_by_role("button", name="Simpan").click()
    # Sent through the network and answered: slow on a loaded machine.
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.", timeout=30_000)
    expect(page.get_by_test_id("family").get_by_test_id("card-sync")).to_contain_text("Minta dihubungi kembali")
    db.session.expire_all()
    [attempt] = db.session.scalars(select(ContactAttempt)).all()
    assert (attempt.outcome, attempt.note) == ("callback_requested", "Suami pulang jam 5 sore")
    assert db.session.scalar(select(WorkItem)).next_action_at == datetime(2026, 11, 24, 10, tzinfo=UTC)
    context.close()


def test_a_promise_without_a_date_is_not_saved_offline(clock, browser, live_server, make_user, db):
    """D7: the promise's date and amount are checked on the phone, so an entry the server would refuse is
    never queued; the amount must be whole Rupiah."""
    _one_family(db)
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, make_user("cadre", areas=["Kec. Koja"]))
    context.set_offline(True)
    page.get_by_role("button", name="Catat hasil").click()
    page.get_by_role("button", name="Janji bayar", exact=True).click()
    page.get_by_label("Nominal janji (Rp)").fill("70.5")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("[data-error-for=promise_date]")).to_be_visible()
    expect(page.locator("[data-error-for=promise_amount]")).to_be_visible()
    expect(page.get_by_label("Nominal janji (Rp)")).to_have_value("70.5")
    assert page.evaluate("localStorage.getItem('telecollect.outbox')") in (None, "[]")
    page.get_by_label("Tanggal janji").fill("2026-11-28")
    page.get_by_label("Nominal janji (Rp)").fill("Rp 70.000")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_test_id("family").get_by_test_id("card-sync")).to_contain_text("menunggu dikirim")  # D10
    context.set_offline(False)
    expect(page.get_by_test_id("sync-status")).to_have_text("Semua hasil sudah terkirim.")
    db.session.expire_all()
    assert [a.outcome for a in db.session.scalars(select(ContactAttempt))] == ["promise_to_pay"]
    context.close()


def test_one_tap_records_a_visit(clock, app, browser, live_server, make_user, db):
    _one_family(db)
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, make_user("cadre", areas=["Kec. Koja"]))
    page.get_by_role("button", name="Catat hasil").click()
    not_at_home = _t(app, "Not at home")
    page.get_by_role("button", name=not_at_home).click()
    expect(page.get_by_test_id("family").get_by_test_id("card-sync")).to_contain_text(_t(app, "sent: ") + not_at_home)
    expect(page.get_by_test_id("sheet")).to_be_hidden()
    db.session.expire_all()
    [attempt] = db.session.scalars(select(ContactAttempt)).all()
    assert (attempt.outcome, attempt.channel.value) == ("not_at_home", "visit")
    context.close()


def test_the_first_screen_is_light_and_the_whole_list_is_searchable_offline(
    clock, app, browser, live_server, make_user, db
):
    def of_150(n):
        return _t(app, "%(n)s of %(total)s families", n=n, total=150)

    _many(db, 150)
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, make_user("cadre", areas=["Kec. Koja"]))
    page.evaluate("navigator.serviceWorker.ready")

    # The first screen, measured as a fresh load: the page, its styles and scripts under 100 KB.
    sizes = {}

    def measure(response):
        sizes[response.url] = (
            response.request.sizes()["responseBodySize"] + response.request.sizes()["responseHeadersSize"]
        )

    page.on("response", measure)
    page.reload()
    expect(page.get_by_test_id("list-count")).to_have_text(of_150(150))
    first_screen = sum(size for url, size in sizes.items() if not url.endswith("/cadre/list.json"))
    assert first_screen < 100_000, sizes
    page.remove_listener("response", measure)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Every tap target is at least 44 px high.
    small = page.evaluate(
        """[...document.querySelectorAll(`.cadre-app a, .cadre-app button, .cadre-app input, .cadre-app select,
                .topbar a, .topbar button`)]
           .filter((e) => e.offsetParent !== null && e.type !== 'radio')
           .map((e) => [e.textContent.trim() || e.name, e.getBoundingClientRect().height])
           .filter(([, h]) => h < 44)"""
    )
    assert small == []

    # Search and filters work on the whole list, beyond the cards shown.
    expect(page.get_by_test_id("family")).to_have_count(40)
    page.get_by_test_id("search").fill("Warga 7")
    expect(page.get_by_test_id("family")).to_have_count(11)  # 7, 70–79
    page.get_by_test_id("search").fill("")
    page.get_by_test_id("filter-village").select_option("Tugu Utara")
    expect(page.get_by_test_id("list-count")).to_have_text(of_150(75))
    page.get_by_test_id("filter-rtrw").select_option("001/004")
    expect(page.get_by_test_id("list-count")).to_have_text(of_150(25))
    page.get_by_test_id("filter-village").select_option("")
    page.get_by_test_id("filter-rtrw").select_option("")
    page.get_by_test_id("more").click()
    expect(page.get_by_test_id("family")).to_have_count(80)

    # Offline: the list, beyond the first screen, is the copy the service worker keeps.
    for _ in range(50):
        if page.evaluate("caches.open('telecollect-v1').then((c) => c.match('/cadre/list.json')).then((r) => !!r)"):
            break
        page.wait_for_timeout(100)
    context.set_offline(True)
    page.reload()
    page.get_by_test_id("search").fill("Warga 3")
    expect(page.get_by_test_id("list-count")).to_have_text(of_150(11))  # 3, 30–39
    expect(page.get_by_text("Warga 3", exact=True)).to_have_count(1)  # the least urgent: never on the first screen
    assert CADRE_FIRST_SCREEN < 150
    context.close()


def test_whatsapp_button_and_field_borders_meet_contrast(clock, browser, live_server, make_user, db):
    """D11: white on the WhatsApp button at least 4.5:1; a field's border at least 3:1 against white."""
    _one_family(db)
    context = phone(browser, live_server)
    page = context.new_page()
    sign_in_on_phone(page, make_user("cadre", areas=["Kec. Koja"]))
    ratios = page.evaluate(
        """() => {
        const rgb = (s) => s.match(/\\d+/g).slice(0, 3).map(Number);
        const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        const lum = (c) => c.map(channel).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
        const ratio = (a, b) => {
          const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p);
          return (x + 0.05) / (y + 0.05);
        };
        const wa = getComputedStyle(document.querySelector('[data-testid=wa]'));
        const field = getComputedStyle(document.querySelector('[data-testid=search]'));
        return [ratio(wa.color, wa.backgroundColor), ratio(field.borderTopColor, 'rgb(255, 255, 255)')];
    }"""
    )
    assert ratios[0] >= 4.5 and ratios[1] >= 3, ratios
    context.close()
