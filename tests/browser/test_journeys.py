"""First journeys through the real pages in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import csv_bytes, row, run_import

pytestmark = pytest.mark.browser


def test_each_role_signs_in_to_its_home_page(page, sign_in, make_user):
    homes = {
        "admin": ("/admin/users", "Pengguna"),
        "supervisor": ("/reports/dashboard", "Dasbor"),
        "telecollector": ("/queue", "Antrean telepon"),
        "cadre": ("/cadre", "Daftar kerja saya"),
    }
    for role, (path, heading) in homes.items():
        user = make_user(role)
        sign_in(user)
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.get_by_test_id("whoami")).to_contain_text(user.name)
        page.get_by_role("button", name="Keluar").click()
        expect(page).to_have_url(re.compile("/login$"))


def test_wrong_password_shows_an_error(page, sign_in, make_user):
    sign_in(make_user("telecollector"), password="salah-salah")
    expect(page.get_by_role("alert")).to_contain_text("Nama pengguna atau kata sandi salah")


def test_supervisor_uploads_a_file_with_one_bad_row(page, sign_in, make_user, tmp_path):
    sign_in(make_user("supervisor"))
    path = tmp_path / "peserta.csv"
    path.write_bytes(csv_bytes([row(card_no="0000000000001"), row(**{"card_no": "0000000000002", "class": "9"})]))
    page.get_by_role("link", name="Impor").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Impor").click()
    expect(page.get_by_test_id("row-errors")).to_contain_text("baris 3, class: harus 1–3, tertulis 9")
    expect(page.get_by_test_id("import-summary")).to_contain_text("menolak 1")
    page.get_by_role("link", name="Peserta").first.click()
    expect(page.get_by_test_id("total")).to_contain_text("0 peserta")

    page.get_by_role("link", name="Impor").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_label(re.compile("Impor baris yang valid")).check()
    page.get_by_role("button", name="Impor").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("Dibuat 1")


def test_cadre_cannot_open_a_participant_outside_her_area(page, sign_in, make_user, db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", name="Siti Aminah", kecamatan="Koja", kelurahan="Lagoa"),
                row(card_no="0000000000002", name="Budi Santoso", kecamatan="Cilincing", kelurahan="Marunda"),
            ]
        ),
    )
    sign_in(make_user("cadre", areas=["Kec. Koja"]))
    page.goto("/participants")
    expect(page.get_by_role("table")).to_contain_text("Siti Aminah")
    expect(page.get_by_role("table")).not_to_contain_text("Budi Santoso")
    response = page.goto("/participants/0000000000002")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Halaman tidak ditemukan.")  # a sentence, not "404"
    page.goto("/participants/0000000000001")
    expect(page.get_by_test_id("nik")).to_have_text("••••••••••••0001")


def test_language_switch_to_english_and_back(page, sign_in, make_user):
    sign_in(make_user("supervisor"))
    page.goto("/participants")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Participants in arrears")
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Peserta menunggak")
