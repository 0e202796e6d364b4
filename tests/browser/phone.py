"""A cadre's phone in Chromium: a 360×740 touch screen whose clock agrees with the server's, and signing in on it."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server, viewport={"width": 360, "height": 740}, locale="id-ID", is_mobile=True, has_touch=True
    )
    # The phone's clock agrees with the server's (frozen by `clock`): an entry carries the phone's time.
    context.clock.install(time=datetime.now(UTC))
    return context


def sign_in_on_phone(page, user):
    page.goto("/login")
    page.get_by_label("Nama pengguna").fill(user.username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    # Until the page's script has run (it fetches the whole list), going offline would keep the script away
    # and no tap would do anything: that, not the app, failed once in CI.
    with page.expect_response(lambda answer: "/cadre/list.json" in answer.url):
        page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(re.compile("/cadre$"))
