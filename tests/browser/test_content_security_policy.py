"""The Content-Security-Policy forbids inline scripts and styles: every page still works, with no violation
reported, and what used to be inline (the cadre page's texts, the N key, the print button) works from
static/page.js."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def test_every_roles_pages_run_without_a_policy_violation(page, sign_in, make_user):
    reported = violations(page)
    pages = {
        "admin": ["/admin/users", "/admin/audit", "/participants"],
        "supervisor": [
            "/reports/dashboard",
            "/reports/arrears",
            "/queue/manage",
            "/participants",
            "/board",
            "/pause-reasons",
        ],
        "telecollector": ["/queue", "/queue/promises", "/holidays"],
        "cadre": ["/cadre", "/cadre/letter"],
    }
    for role, paths in pages.items():
        sign_in(make_user(role))
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
        page.get_by_role("button", name="Keluar").click()
        page.wait_for_url("**/login")
    assert reported == []


def test_the_cadre_page_gets_its_texts_and_the_queue_its_n_key(page, sign_in, make_user):
    reported = violations(page)
    sign_in(make_user("cadre"))
    assert page.evaluate("window.TELECOLLECT_TEXT.synced")
    page.get_by_role("button", name="Keluar").click()
    sign_in(make_user("telecollector"))
    expect(page).to_have_url(re.compile("/queue$"))
    page.locator("h1").click()  # focus out of any field
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/queue/next")):
        page.keyboard.press("n")
    page.wait_for_load_state()
    assert reported == []
