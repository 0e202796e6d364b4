"""The arrears report: per group, above-zero arrears only, largest first."""

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from tests.helpers import csv_bytes, row, run_import


def seed(db):
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no="0000000000001",
                    kecamatan="Koja",
                    kelurahan="Lagoa",
                    arrears_amount="100000",
                    months_in_arrears="3",
                ),
                row(
                    card_no="0000000000002",
                    kecamatan="Koja",
                    kelurahan="Tugu Utara",
                    arrears_amount="250000",
                    months_in_arrears="5",
                    segment="BP",
                ),
                row(
                    card_no="0000000000003",
                    kecamatan="Cilincing",
                    kelurahan="Marunda",
                    arrears_amount="300000",
                    months_in_arrears="13",
                ),
                row(
                    card_no="0000000000004",
                    kecamatan="Cilincing",
                    kelurahan="Marunda",
                    arrears_amount="0",
                    months_in_arrears="0",
                ),
                row(
                    card_no="0000000000005",
                    kecamatan="Penjaringan",
                    kelurahan="",
                    arrears_amount="900000",
                    months_in_arrears="26",
                ),
            ]
        ),
    )


def test_by_kecamatan_counts_only_participants_who_owe(db):
    from telecollect.reports.queries import arrears_by

    seed(db)
    city = "Kota Administrasi Jakarta Utara"
    assert arrears_by(db.session, "kecamatan") == [
        {"kecamatan": "Penjaringan", "kecamatan_code": "", "city": city, "participants": 1, "arrears_amount": 900_000},
        {"kecamatan": "Koja", "kecamatan_code": "", "city": city, "participants": 2, "arrears_amount": 350_000},
        {"kecamatan": "Cilincing", "kecamatan_code": "", "city": city, "participants": 1, "arrears_amount": 300_000},
    ]


def test_by_bucket_segment_and_kelurahan(db):
    from telecollect.reports.queries import arrears_by

    seed(db)
    assert [(r["bucket"], r["participants"]) for r in arrears_by(db.session, "bucket")] == [
        (">24", 1),
        ("13-24", 1),
        ("4-6", 1),
        ("1-3", 1),
    ]
    assert [(str(r["segment"].value), r["arrears_amount"]) for r in arrears_by(db.session, "segment")] == [
        ("PBPU", 1_300_000),
        ("BP", 250_000),
    ]
    assert [r["kelurahan"] for r in arrears_by(db.session, "kelurahan")] == ["", "Marunda", "Tugu Utara", "Lagoa"]


def test_cli_formats(runner, db):
    seed(db)
    result = runner.invoke(args=["report", "arrears", "--by", "kecamatan", "--format", "csv"])
    assert result.exit_code == 0
    assert list(csv.reader(io.StringIO(result.output))) == [
        ["kecamatan", "kecamatan_code", "city", "participants", "arrears_amount"],
        ["Penjaringan", "", "Kota Administrasi Jakarta Utara", "1", "900000"],
        ["Koja", "", "Kota Administrasi Jakarta Utara", "2", "350000"],
        ["Cilincing", "", "Kota Administrasi Jakarta Utara", "1", "300000"],
    ]
    as_json = json.loads(runner.invoke(args=["report", "arrears", "--by", "segment", "--format", "json"]).output)
    assert as_json[0] == {"segment": "PBPU", "participants": 3, "arrears_amount": 1_300_000}
    table = runner.invoke(args=["report", "arrears", "--by", "city"]).output
    assert "Kota Administrasi Jakarta Utara" in table and "1550000" in table
    assert runner.invoke(args=["report", "arrears", "--by", "planet"]).exit_code == 2


def test_page_and_csv_download_match(client, login, make_user, db):
    seed(db)
    login(make_user("supervisor"))
    page = client.get("/reports/arrears?by=kecamatan")
    assert "Rp900.000" in page.text and "Rp1.550.000" in page.text  # a row and the total
    download = client.get("/reports/arrears?by=kecamatan&format=csv")
    assert download.mimetype == "text/csv"
    assert download.text.splitlines()[1] == "Penjaringan,,Kota Administrasi Jakarta Utara,1,900000"


def test_report_is_for_supervisors(client, login, make_user):
    login(make_user("cadre"))
    assert client.get("/reports/arrears").status_code == 403


# --- places that share a name ------------------------------------------------------


def place(db, model, name: str, code: str | None, key_suffix: str = "", **parent):
    from telecollect.regions.names import name_key

    created = model(name=name, name_key=name_key(name) + key_suffix, code=code, **parent)
    db.session.add(created)
    db.session.flush()
    return created


def owes(db, card_no: str, amount: int, district, village=None):
    """A participant of a family of one, in `district` (and `village`), owing `amount`."""
    from telecollect.participants.models import Family, Participant, Segment

    family = Family(key=card_no, district_id=district.id, village_id=village.id if village else None)
    db.session.add(family)
    db.session.flush()
    db.session.add(
        Participant(
            card_no=card_no,
            name=f"Peserta {card_no[-2:]}",
            segment=Segment.PBPU,
            family_id=family.id,
            province_id=district.city.province_id,
            city_id=district.city_id,
            district_id=district.id,
            village_id=village.id if village else None,
            months_in_arrears=3 if amount else 0,
            arrears_amount=amount,
        )
    )


@pytest.fixture
def namesakes(db):
    """Batu Ampar, a kecamatan of Kota Batam (Kepulauan Riau, WIB), of Kabupaten Kutai Timur
    (Kalimantan Timur, WITA) and, created by an import without a code, of Kabupaten Kubu Raya
    (Kalimantan Barat, WIB); and Waena, a kelurahan (1002) and a desa (2005) of Heram, Kota Jayapura.
    """
    from telecollect.regions.models import City, District, Province, Village

    province = {p.code: p for p in db.session.scalars(select(Province))}
    batam = place(db, City, "Kota Batam", "2171", province_id=province["21"].id)
    kutim = place(db, City, "Kabupaten Kutai Timur", "6408", province_id=province["64"].id)
    kubu_raya = place(db, City, "Kabupaten Kubu Raya", None, province_id=province["61"].id)
    jayapura = place(db, City, "Kota Jayapura", "9171", province_id=province["91"].id)
    ampar_batam = place(db, District, "Batu Ampar", "217105", city_id=batam.id)
    ampar_kutim = place(db, District, "Batu Ampar", "640816", city_id=kutim.id)
    ampar_kubu = place(db, District, "Batu Ampar", None, city_id=kubu_raya.id)
    heram = place(db, District, "Heram", "917105", city_id=jayapura.id)
    seraya = place(db, Village, "Kampung Seraya", "2171051001", district_id=ampar_batam.id)
    waena_kelurahan = place(db, Village, "Waena", "9171051002", district_id=heram.id)
    # Today's schema keeps (kecamatan, folded name) unique; the desa's key carries its code
    # so that both fit whatever that rule becomes. Reports must not look at keys anyway.
    waena_desa = place(db, Village, "Waena", "9171052005", key_suffix=" 2005", district_id=heram.id)
    owes(db, "0000000000011", 100_000, ampar_batam, seraya)
    owes(db, "0000000000012", 200_000, ampar_batam, seraya)
    owes(db, "0000000000013", 0, ampar_batam, seraya)  # owes nothing: not in the report
    owes(db, "0000000000021", 500_000, ampar_kutim)
    owes(db, "0000000000031", 120_000, ampar_kubu)
    owes(db, "0000000000041", 150_000, heram, waena_kelurahan)
    owes(db, "0000000000042", 250_000, heram, waena_desa)
    owes(db, "0000000000043", 50_000, heram)
    db.session.commit()


BY_KECAMATAN = [
    ["Batu Ampar", "64.08.16", "Kabupaten Kutai Timur", 1, 500_000],
    ["Heram", "91.71.05", "Kota Jayapura", 3, 450_000],
    ["Batu Ampar", "21.71.05", "Kota Batam", 2, 300_000],
    ["Batu Ampar", "", "Kabupaten Kubu Raya", 1, 120_000],
]
BY_KELURAHAN = [
    ["", "", "", "", 3, 670_000],  # no kelurahan: one group, as the data hold it
    ["Kampung Seraya", "21.71.05.1001", "Batu Ampar", "Kota Batam", 2, 300_000],
    ["Waena", "91.71.05.2005", "Heram", "Kota Jayapura", 1, 250_000],
    ["Waena", "91.71.05.1002", "Heram", "Kota Jayapura", 1, 150_000],
]
BY_CITY = [
    ["Kabupaten Kutai Timur", "64.08", "Kalimantan Timur", 1, 500_000],
    ["Kota Jayapura", "91.71", "Papua", 3, 450_000],
    ["Kota Batam", "21.71", "Kepulauan Riau", 2, 300_000],
    ["Kabupaten Kubu Raya", "", "Kalimantan Barat", 1, 120_000],
]


COLUMNS = {
    "kecamatan": ["kecamatan", "kecamatan_code", "city", "participants", "arrears_amount"],
    "kelurahan": ["kelurahan", "kelurahan_code", "kecamatan", "city", "participants", "arrears_amount"],
    "city": ["city", "city_code", "province", "participants", "arrears_amount"],
}


def test_one_row_per_place_with_its_code_and_parents(db, namesakes):
    from sqlalchemy import func

    from telecollect.participants.models import Participant
    from telecollect.reports.queries import arrears_by

    assert [r["kecamatan"] for r in arrears_by(db.session, "kecamatan")].count("Batu Ampar") == 3
    assert [r["kelurahan"] for r in arrears_by(db.session, "kelurahan")].count("Waena") == 2
    raw = db.session.execute(
        select(func.count(), func.sum(Participant.arrears_amount)).where(Participant.arrears_amount > 0)
    ).one()
    for by, table in {"kecamatan": BY_KECAMATAN, "kelurahan": BY_KELURAHAN, "city": BY_CITY}.items():
        rows = arrears_by(db.session, by)
        assert [[r[c] for c in COLUMNS[by]] for r in rows] == table, by
        assert (sum(r["participants"] for r in rows), sum(r["arrears_amount"] for r in rows)) == tuple(raw)

    # Where one cell must name a place (the funnel, the dashboard), the code and parents tell the twins apart.
    from telecollect.regions.models import Village
    from telecollect.regions.queries import place_names

    waena = db.session.scalars(select(Village.id).where(Village.name == "Waena")).all()
    assert sorted(p.label for p in place_names(db.session, "kelurahan", waena).values()) == [
        "Waena (91.71.05.1002) — Heram, Kota Jayapura",
        "Waena (91.71.05.2005) — Heram, Kota Jayapura",
    ]


def test_page_csv_and_json_show_each_namesake_with_its_parent(db, namesakes, client, login, make_user, runner):
    login(make_user("supervisor"))
    page = client.get("/reports/arrears?by=kecamatan").text
    table = page.split('data-testid="arrears-table"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    assert cells == [
        [name, code, city, str(n), f"Rp{amount:,}".replace(",", ".")] for name, code, city, n, amount in BY_KECAMATAN
    ]
    assert "Rp1.370.000" in table.split("<tfoot>")[1]  # the total: every participant who owes, once
    page = client.get("/reports/arrears?by=kelurahan").text
    assert "(kosong)" in page and page.count(">Waena<") == 2
    assert "91.71.05.1002" in page and "91.71.05.2005" in page

    download = list(csv.reader(io.StringIO(client.get("/reports/arrears?by=kelurahan&format=csv").text)))
    assert len(download[0]) == len(COLUMNS["kelurahan"]) and download[0] != COLUMNS["kelurahan"]  # words for people
    assert download[1:] == [[str(v) for v in r] for r in BY_KELURAHAN]

    for by, table in (("kecamatan", BY_KECAMATAN), ("kelurahan", BY_KELURAHAN)):
        result = runner.invoke(args=["report", "arrears", "--by", by, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == [dict(zip(COLUMNS[by], r, strict=True)) for r in table]
    by_city = runner.invoke(args=["report", "arrears", "--by", "city", "--format", "csv"]).output
    assert by_city.splitlines()[:2] == [
        ",".join(COLUMNS["city"]),
        "Kabupaten Kutai Timur,64.08,Kalimantan Timur,1,500000",
    ]


def test_the_arrears_download_as_excel_has_words_a_title_and_amounts_as_numbers(client, login, make_user, db):
    import openpyxl

    seed(db)
    login(make_user("supervisor"))
    answer = client.get("/reports/arrears?by=kecamatan&format=xlsx")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    header = [c.value for c in sheet[2]]
    assert sheet["A1"].value.startswith(("Arrears", "Tunggakan"))  # a title, then words for people
    assert "arrears_amount" not in header and "participants" not in header and "kecamatan_code" not in header
    penjaringan = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == "Penjaringan")
    assert penjaringan[-1].value == 900_000 and penjaringan[-1].number_format == "#,##0"
