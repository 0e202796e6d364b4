"""A supervisor answers "who collected what this month, and where are we behind?" in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.reports.test_funnel import month  # noqa: F401  (the scripted month)

pytestmark = pytest.mark.browser


def test_supervisor_walks_the_dashboard(page, sign_in, make_user, month):  # noqa: F811
    sign_in(make_user("supervisor", name="Kabid Penagihan"))
    expect(page).to_have_url(re.compile("/reports/dashboard$"))
    page.get_by_label("Dari").fill("2026-11-01")
    page.get_by_label("Kepada").fill("2026-11-30")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page).to_have_url(re.compile(r"from=2026-11-01&to=2026-11-30&by=user"))  # bookmarkable
    figures = page.get_by_test_id("figures")
    expect(figures).to_contain_text("Rp525.000")  # collected in November: 70.000 + 455.000
    funnel = page.get_by_test_id("funnel")
    expect(funnel.get_by_role("row", name=re.compile("^agus"))).to_contain_text("Rp455.000")
    expect(funnel.get_by_role("row", name=re.compile("^rina"))).to_contain_text("Rp70.000")
    expect(page.locator("svg.chart").first).to_be_visible()
    # Where are we behind? Rina's broken promise, down to the family.
    funnel.get_by_role("row", name=re.compile("^rina")).locator("a[href*='metric=promises_broken']").click()
    expect(page.get_by_test_id("families")).to_contain_text("0000000000002")
    page.go_back()
    page.get_by_label("Kelompokkan per").select_option("kecamatan")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_test_id("funnel")).to_contain_text("Koja")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "outcomes-by-kecamatan-2026-11-01-2026-11-30.csv"


def test_a_large_collected_amount_is_never_cut_off(page, sign_in, make_user, db, app):
    """UX audit D12: "Rp57.995.82" — the key figure was clipped inside its box at 1366×768."""
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(make_user("supervisor"))
    page.evaluate(
        """() => { const s = document.querySelector('[data-testid=figures] .figure strong');
                   s.textContent = 'Rp57.995.820.000'; }"""
    )
    for box in page.locator("[data-testid=figures] .figure").all():
        fits = box.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
        assert fits, box.inner_text()
