"""Supervisor pages in the browser (issue 13, part C): the template previews follow what is typed."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_whatsapp_preview_follows_the_text_without_a_policy_violation(page, sign_in, make_user):
    reported: list[str] = []
    # The favicon is another part's (its 404 is the only "Failed to load resource" expected here).
    page.on(
        "console", lambda m: reported.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None
    )
    page.on("response", lambda r: reported.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    sign_in(make_user("supervisor"))
    page.goto("/queue/templates")
    preview = page.get_by_test_id("wa-preview")
    expect(preview).to_contain_text("Siti Aminah")
    page.locator("#wa-body").fill("Halo {nama}, salam dari {cabang}.")
    expect(preview).to_contain_text("Halo Siti Aminah, salam dari")
    page.goto("/sms/templates")
    area = page.locator("#body-sms_due_reminder")
    area.fill("Yth. {nama}: {jumlah}")
    expect(page.locator("#preview-sms_due_reminder")).to_have_text("Yth. Siti Aminah: Rp210.000")
    assert reported == []


def test_the_kelurahan_list_narrows_to_the_chosen_kecamatan(page, sign_in, make_user, db):
    from tests.helpers import csv_bytes, row, run_import

    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", kecamatan="Koja", kelurahan="Lagoa", phone="081200000001"),
                row(card_no="0000000000002", kecamatan="Penjaringan", kelurahan="Pluit", phone="081200000002"),
            ]
        ),
    )
    sign_in(make_user("supervisor"))
    page.goto("/queue/manage")
    form = page.get_by_test_id("assign")
    form.locator('select[name="kelurahan"]').select_option("Pluit")
    form.locator('select[name="kecamatan"]').select_option("Koja")
    assert form.locator('select[name="kelurahan"]').input_value() == ""  # Pluit is not in Koja: cleared
    assert form.locator('select[name="kelurahan"] option', has_text="Pluit").is_disabled()
    assert form.locator('select[name="kelurahan"] option', has_text="Lagoa").is_enabled()
