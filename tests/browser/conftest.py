"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Nothing is skipped: without /usr/bin/chromium these tests fail with a message
saying how to install it (`make test` and CI install it).
"""

import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Assertions wait up to 15 s for the page (Playwright's default is 5 s): on two cores shared with other
# work, a save that redirects and renders can take longer than 5 s, and a late page is not a wrong page.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    """The live server answers the browser from its own threads and connections: every browser test
    commits for real."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.committing)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app, db):
    """Serve the app on a free port for the duration of one test.

    Teardown waits for the requests still being answered (a sign-out clicked as the test's last step): the
    `db` fixture empties the tables after this, and on SQLite a request committing then makes the emptying
    fail with "database is locked"."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    for answering in list(vars(server).get("_threads", ())):
        answering.join(10)
    server.socket.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="id-ID")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def sign_in(page):
    from tests.conftest import PASSWORD

    def go(user, password=PASSWORD):
        page.goto("/login")
        page.get_by_label("Nama pengguna").fill(user.username)
        page.get_by_label("Kata sandi").fill(password)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_load_state()

    return go
