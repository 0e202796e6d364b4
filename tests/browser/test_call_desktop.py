"""The agent desktop (issue 13, part A): the call screen a telecollector works 100 calls a day in.

Each test names the audit defect (D1–D5, ../shared/reviews/ux-audit/report.md) it proves fixed.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.contacts.models import ContactAttempt
from telecollect.queues.models import QueueName, WorkItem
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import families, queue_up

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 768}


def _ready(page):
    expect(page.locator("#outcome-form[data-ready]")).to_have_count(1)  # the shortcuts are listening


def _family_of_five(db):
    """One family of five with long names, every member with two numbers."""
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{n:013d}",
                    nik=f"31720157088500{n:02d}",
                    name=f"Raden Ayu Kusumawardhani Puspitasari {n}",
                    phone=f"0812{n:08d}",
                    phone2=f"0813{n:08d}",
                    family_id="3172010101010001",
                    arrears_amount="Rp1.250.000",
                    months_in_arrears="14",
                )
                for n in range(1, 6)
            ]
        ),
    )


@pytest.mark.parametrize("screen", [DESKTOP, {"width": 1920, "height": 1080}], ids=["1366x768", "1920x1080"])
def test_d1_every_number_and_call_control_of_five_members_is_visible_without_scrolling(
    clock, page, sign_in, make_user, db, screen
):
    """D1 was measured at both sizes: the table was clipped inside its card at 1366×768 and at 1920×1080."""
    _family_of_five(db)
    queue_up(db, QueueName.telecollect)
    page.set_viewport_size(screen)
    sign_in(make_user("telecollector"))
    page.get_by_test_id("next").click()
    _ready(page)
    links = page.locator("a[href^='tel:']")
    expect(links).to_have_count(10)
    for n in range(10):
        link = links.nth(n)
        box = link.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= screen["width"], (n, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= screen["height"], (n, box)
        # Not clipped inside a scrolled box: the link itself is what a click at its centre hits.
        assert link.evaluate(
            "a => { const r = a.getBoundingClientRect();"
            " return a.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
        ), n
    # The amount, why now, the script, REHAB, the last contacts and the outcome panel are in the first
    # screenful too; the page never scrolls sideways.
    for locator in (
        page.get_by_test_id("family-amount"),
        page.get_by_test_id("priority"),
        page.get_by_test_id("call-script"),
        page.get_by_test_id("rehab"),
        page.get_by_test_id("recent"),
        page.get_by_test_id("save"),
        page.get_by_test_id("skip"),
    ):
        box = locator.bounding_box()
        assert box and box["y"] + box["height"] <= screen["height"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]
    # The call timer starts when a call link is pressed (the tel: itself is the phone's business).
    expect(page.get_by_test_id("call-timer")).to_have_text("00:00")
    links.first.evaluate("a => { a.addEventListener('click', e => e.preventDefault()); a.click(); }")
    expect(page.get_by_test_id("call-timer")).to_have_class(re.compile("running"))
    expect(page.get_by_test_id("call-timer")).to_have_text(re.compile(r"00:0[1-9]"))


def test_d2_conditional_fields_stay_hidden_and_radios_sit_by_their_labels(clock, page, sign_in, make_user, db):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    page.set_viewport_size(DESKTOP)
    sign_in(make_user("telecollector"))
    page.get_by_test_id("next").click()
    _ready(page)
    expect(page.get_by_label("Tanggal janji")).to_be_hidden()
    expect(page.get_by_label("Nominal janji (Rp)")).to_be_hidden()
    expect(page.get_by_label(re.compile("Hubungi kembali pada"))).to_be_hidden()
    radio = page.locator("input[name=outcome][value=no_answer]")
    assert radio.bounding_box()["width"] < 40
    # A promise opens its fields in place, with the focus in the first one.
    page.keyboard.press("7")
    expect(page.get_by_label("Tanggal janji")).to_be_visible()
    expect(page.get_by_label("Tanggal janji")).to_be_focused()
    expect(page.get_by_label(re.compile("Hubungi kembali pada"))).to_be_hidden()
    expect(page.get_by_label("Nominal janji (Rp)")).to_have_value("100000")  # the family's arrears, to start from
    # Escape closes the fields without saving; the family stays held.
    page.keyboard.press("Escape")
    expect(page.get_by_label("Tanggal janji")).to_be_hidden()
    assert db.session.scalar(select(ContactAttempt)) is None
    db.session.expire_all()
    assert db.session.scalar(select(WorkItem)).claimed_by_id is not None


def test_d3_one_key_saves_a_simple_outcome_and_enter_saves_after_a_shortcut(clock, page, sign_in, make_user, db):
    families(db, 3)
    queue_up(db, QueueName.telecollect)
    sign_in(make_user("telecollector"))
    page.get_by_test_id("next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 3")
    _ready(page)
    # A simple outcome is one key: saved, and the next family opens (save and next).
    page.keyboard.press("1")
    expect(page.get_by_role("alert")).to_contain_text("Tersimpan: Tidak diangkat")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 2")
    _ready(page)
    # An outcome with a field: its key opens the field with the focus in it, and Enter saves.
    page.keyboard.press("6")
    expect(page.get_by_label(re.compile("Hubungi kembali pada"))).to_be_focused()
    page.get_by_label(re.compile("Hubungi kembali pada")).fill("2026-11-24T14:00")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Tersimpan: Minta dihubungi kembali")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 1")
    _ready(page)
    # Chosen with the mouse, Enter saves too.
    page.locator("input[name=outcome][value=busy]").check()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").first).to_contain_text("Tersimpan: Sibuk")
    outcomes = sorted(a.outcome for a in db.session.scalars(select(ContactAttempt)))
    assert outcomes == ["busy", "callback_requested", "no_answer"]


def test_d4_a_refused_outcome_keeps_everything_typed(clock, page, sign_in, make_user, db):
    families(db, 1)
    queue_up(db, QueueName.telecollect)
    sign_in(make_user("telecollector"))
    page.get_by_test_id("next").click()
    _ready(page)
    page.keyboard.press("7")
    page.get_by_label("Tanggal janji").fill("2026-11-28")
    page.get_by_label("Nominal janji (Rp)").fill("lima ratus ribu")
    page.get_by_label("Catatan").fill("Bayar setelah gajian")
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_have_class(re.compile("error"))
    expect(page.locator("input[name=outcome][value=promise_to_pay]")).to_be_checked()
    expect(page.get_by_label("Tanggal janji")).to_have_value("2026-11-28")
    expect(page.get_by_label("Tanggal janji")).to_be_visible()
    expect(page.get_by_label("Nominal janji (Rp)")).to_have_value("lima ratus ribu")
    expect(page.get_by_label("Catatan")).to_have_value("Bayar setelah gajian")
    assert db.session.scalar(select(ContactAttempt)) is None
    # Corrected, it saves.
    page.get_by_label("Nominal janji (Rp)").fill("Rp500.000")
    page.get_by_label("Nominal janji (Rp)").press("Enter")
    expect(page.get_by_role("alert").first).to_contain_text("Tersimpan: Janji bayar")


def test_d5_skip_with_a_reason_says_so_counts_no_attempt_and_next_gives_another_family(
    clock, page, sign_in, make_user, db
):
    families(db, 2)
    queue_up(db, QueueName.telecollect)
    agent = make_user("telecollector")
    sign_in(agent)
    page.get_by_test_id("next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 2")
    _ready(page)
    page.locator("select[name=reason]").select_option("wrong_time")
    page.get_by_test_id("skip").click()
    expect(page.get_by_role("alert").first).to_have_class(re.compile("success"))  # "Skipped: …" said
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peserta 1")
    db.session.expire_all()
    skipped = db.session.scalar(select(WorkItem).where(WorkItem.attempts == 0, WorkItem.claimed_by_id.is_(None)))
    assert skipped is not None and skipped.family.members[0].name == "Peserta 2"
    assert db.session.scalar(select(ContactAttempt)) is None
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "work_item.skip")).all()
    assert [(e.user_id, e.target_id, e.detail) for e in events] == [(agent.id, skipped.id, "wrong_time")]
