"""The supervisor's live board in Chromium (issue 15, item 5): it follows the team without a reload, under the
Content-Security-Policy (no inline script)."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_the_board_shows_a_pause_pressed_on_the_desktop_without_reloading(
    browser, live_server, page, sign_in, make_user
):
    reported: list[str] = []
    page.on(
        "console", lambda m: reported.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None
    )
    agent = make_user("telecollector", name="Rina Telepon")
    sign_in(make_user("supervisor"))
    page.goto("/board")
    state = page.get_by_test_id(f"state-{agent.id}")
    expect(state).to_have_class(re.compile(r"\bstate-none\b"))
    page.evaluate("window.__notReloaded = true")

    # The telecollector, in her own browser, sets herself ready, then pauses with the J key.
    desk_context = browser.new_context(base_url=live_server, locale="id-ID")
    desk = desk_context.new_page()
    desk.goto("/login")
    desk.get_by_label("Nama pengguna").fill(agent.username)
    desk.get_by_label("Kata sandi").fill(PASSWORD)
    desk.get_by_role("button", name="Masuk").click()
    desk.goto("/queue")
    desk.get_by_test_id("agent-ready").click()
    expect(desk.get_by_test_id("agent-state-now")).to_have_class(re.compile(r"\bstate-ready\b"))
    expect(state).to_have_class(re.compile(r"\bstate-ready\b"))  # the board followed, within a refresh

    desk.get_by_label(re.compile("alasan jeda|pause reason", re.I)).select_option("rapat")
    desk.locator("body").press("j")
    expect(desk.get_by_test_id("agent-state-now")).to_have_class(re.compile(r"\bstate-paused\b"))
    expect(state).to_have_class(re.compile(r"\bstate-paused\b"))
    expect(state).to_contain_text("Rapat")
    assert page.evaluate("window.__notReloaded") is True  # redrawn in place, not reloaded
    # Time in state ticks between refreshes.
    ticking = page.locator(f'tr[data-agent="{agent.id}"] time')
    first = ticking.text_content()
    expect(ticking).not_to_have_text(first)
    desk_context.close()
    assert reported == []
