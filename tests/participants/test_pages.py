"""Participant list and detail: search, filters, masking, cadre scope, audit."""

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from tests.helpers import csv_bytes, row, run_import

ROWS = [
    row(
        card_no="0000000000001",
        name="Siti Aminah",
        nik="3172015708850001",
        phone="081211112222",
        kecamatan="Koja",
        kelurahan="Tugu Utara",
        months_in_arrears="2",
        arrears_amount="70000",
    ),
    row(
        card_no="0000000000002",
        name="Budi Santoso",
        nik="3172010101800002",
        phone="085733334444",
        kecamatan="Koja",
        kelurahan="Lagoa",
        months_in_arrears="8",
        arrears_amount="800000",
        autodebit="ya",
    ),
    row(
        card_no="0000000000003",
        name="Rina Lestari",
        nik="3172034505900003",
        phone="",
        kecamatan="Cilincing",
        kelurahan="Marunda",
        segment="BP",
        months_in_arrears="30",
        arrears_amount="3600000",
    ),
]


def seed(db):
    run_import(db, csv_bytes(ROWS))


def names(response):
    return [n for n in ("Siti Aminah", "Budi Santoso", "Rina Lestari") if n in response.text]


def test_list_sorted_by_arrears_and_searchable(client, login, make_user, db):
    seed(db)
    login(make_user("telecollector"))
    everyone = client.get("/participants")
    text = everyone.text
    assert text.index("Rina Lestari") < text.index("Budi Santoso") < text.index("Siti Aminah")
    assert names(client.get("/participants?q=budi")) == ["Budi Santoso"]
    assert names(client.get("/participants?q=0000000000003")) == ["Rina Lestari"]
    assert names(client.get("/participants?q=0857-3333-4444")) == ["Budi Santoso"]
    assert names(client.get("/participants?q=+6281211112222")) == ["Siti Aminah"]


def test_filters(client, login, make_user, db):
    seed(db)
    login(make_user("supervisor"))
    assert names(client.get("/participants?segment=BP")) == ["Rina Lestari"]
    assert names(client.get("/participants?bucket=7-12")) == ["Budi Santoso"]
    assert names(client.get("/participants?bucket=%3E24")) == ["Rina Lestari"]
    assert names(client.get("/participants?autodebit=yes")) == ["Budi Santoso"]
    from telecollect.regions.models import District, Village

    koja = db.session.scalar(select(District).where(District.name == "Koja"))
    lagoa = db.session.scalar(select(Village).where(Village.name == "Lagoa"))
    assert names(client.get(f"/participants?kecamatan={koja.id}")) == ["Siti Aminah", "Budi Santoso"]
    assert names(client.get(f"/participants?kelurahan={lagoa.id}")) == ["Budi Santoso"]


def test_list_is_paginated(app, client, login, make_user, db):
    run_import(
        db,
        csv_bytes(
            [row(card_no=f"{n:013d}", name=f"Peserta {n:03d}", arrears_amount=str(1000 * n)) for n in range(1, 121)]
        ),
    )
    login(make_user("supervisor"))
    first = client.get("/participants")
    assert "Peserta 120" in first.text and "Peserta 070" not in first.text
    assert "Halaman 1 dari 3" in first.text
    third = client.get("/participants?page=3")
    assert "Peserta 001" in third.text and "Peserta 120" not in third.text


def test_phone_is_masked_in_lists(client, login, make_user, db):
    seed(db)
    login(make_user("supervisor"))
    page = client.get("/participants")
    assert "+6281211112222" not in page.text and "+62812•••••222" in page.text


def test_nik_masked_except_for_supervisors_and_admins(client, login, make_user, db):
    seed(db)
    for role, shows_full in (("telecollector", False), ("supervisor", True), ("admin", True)):
        login(make_user(role))
        page = client.get("/participants/0000000000001")
        assert ("3172015708850001" in page.text) is shows_full, role
        assert "••••••••••••0001" in page.text or shows_full
        client.post("/logout", data={"csrf_token": __import__("tests.conftest", fromlist=["x"]).csrf_token(page.text)})


def test_detail_shows_family_history_and_logs_the_view(client, login, make_user, db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", family_id="F1", arrears_amount="210000", as_of="2026-10-01"),
                row(
                    card_no="0000000000002",
                    family_id="F1",
                    name="Budi",
                    arrears_amount="350000",
                    months_in_arrears="10",
                ),
            ]
        ),
    )
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no="0000000000001",
                    family_id="F1",
                    arrears_amount="245000",
                    months_in_arrears="7",
                    as_of="2026-11-01",
                )
            ]
        ),
    )
    user = make_user("telecollector")
    login(user)
    page = client.get("/participants/0000000000001")
    assert page.status_code == 200
    assert "Budi" in page.text
    assert "Rp595.000" in page.text  # the family owes together: 245.000 + 350.000
    assert "Rp210.000" in page.text and "Rp245.000" in page.text  # history
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.view")).all()
    assert [(e.user_id, e.target_type) for e in events] == [(user.id, "participants")]


def test_cadre_sees_only_her_areas(client, login, make_user, db):
    seed(db)
    cadre = make_user("cadre", areas=["Kel. Tugu Utara", "Kec. Cilincing"])
    login(cadre)
    assert names(client.get("/participants")) == ["Siti Aminah", "Rina Lestari"]
    assert client.get("/participants/0000000000002").status_code == 404  # Lagoa is not hers
    assert client.get("/participants/0000000000003").status_code == 200
    assert client.get("/api/v1/participants/0000000000002", headers={"Accept": "application/json"}).status_code == 404


def test_cadre_without_areas_sees_nobody(client, login, make_user, db):
    seed(db)
    login(make_user("cadre"))
    assert names(client.get("/participants")) == []


def test_api_participant_masks_nik_for_telecollectors(client, login, make_user, db):
    seed(db)
    login(make_user("telecollector"))
    data = client.get("/api/v1/participants/0000000000002").json
    assert data["participant"]["nik"] == "••••••••••••0002"
    assert data["participant"]["phone"] == "+6285733334444"
    assert data["family"]["arrears_amount"] == 800_000
    assert client.get("/api/v1/participants/9999999999999").json["error"]["code"] == "participant_not_found"


def test_signed_out_visitors_are_sent_to_login(client):
    response = client.get("/participants")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_upload_page_imports_and_reports_row_errors(client, login, make_user, db):
    from io import BytesIO

    from tests.conftest import csrf_token

    login(make_user("supervisor"))
    page = client.get("/participants/import")
    bad = csv_bytes([row(card_no="0000000000001"), row(card_no="0000000000002", phone="12345")])
    response = client.post(
        "/participants/import",
        data={"csrf_token": csrf_token(page.text), "file": (BytesIO(bad), "peserta.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "baris 3, phone: bukan nomor ponsel Indonesia yang valid" in response.text
    assert names(client.get("/participants")) == []

    response = client.post(
        "/participants/import",
        data={"csrf_token": csrf_token(page.text), "file": (BytesIO(bad), "peserta.csv"), "skip_invalid": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Dibuat 1, diperbarui 0, tidak berubah 0, ditolak 1." in response.text
    link = response.text.split('href="/participants/imports/')[1].split('"')[0]
    rejects = client.get(f"/participants/imports/{link}")
    assert "0000000000002" in rejects.text and "baris 3, phone" in rejects.text


def test_upload_page_is_for_supervisors_and_admins(client, login, make_user):
    login(make_user("telecollector"))
    assert client.get("/participants/import").status_code == 403


def test_cadre_filters_offer_only_her_places(client, login, make_user, db):
    seed(db)
    login(make_user("cadre", areas=["Kel. Tugu Utara"]))
    page = client.get("/participants").text
    assert ">Tugu Utara<" in page and ">Koja<" in page
    assert ">Marunda<" not in page and ">Cilincing<" not in page and ">Lagoa<" not in page


def test_detail_shows_the_second_number_from_phone2(client, login, make_user, db):
    run_import(db, csv_bytes([row(card_no="0000000000001", phone="0812-3456-7890", phone2="0813-1111-2222")]))
    login(make_user("telecollector"))
    page = client.get("/participants/0000000000001")
    assert 'href="tel:+6281311112222"' in page.text


def test_upload_page_lists_new_places_and_can_refuse_them(client, login, make_user, db):
    from io import BytesIO

    from tests.conftest import csrf_token

    login(make_user("supervisor"))
    page = client.get("/participants/import")
    assert 'name="no_new_places"' in page.text
    data = csv_bytes([row(card_no="0000000000001", kecamatan="Koja", kelurahan="Lagoa")])
    response = client.post(
        "/participants/import",
        data={"csrf_token": csrf_token(page.text), "file": (BytesIO(data), "peserta.csv"), "dry_run": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Tidak ada yang ditulis. Berkas ini akan membuat 1" in response.text
    assert 'data-testid="new-places"' in response.text and "Lagoa" in response.text
    assert "31.72" in response.text  # the city came from the Kemendagri list, with its code
    refused = client.post(
        "/participants/import",
        data={"csrf_token": csrf_token(page.text), "file": (BytesIO(data), "peserta.csv"), "no_new_places": "1"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "bukan tempat yang dikenal, dan tempat baru ditolak" in refused.text
    assert names(client.get("/participants")) == []


def test_an_empty_search_says_no_match_and_no_page_of_zero(client, login, make_user, db):
    """D24: not "Halaman 1 dari 0"."""
    login(make_user("supervisor"))
    page = client.get("/participants?q=tidakadanamaini").text
    assert "Halaman 1 dari 0" not in page and "Page 1 of 0" not in page
    assert 'data-testid="pager"' not in page
