"""Participant files as spreadsheets and branch systems really write them: places, phones, NIKs."""

import openpyxl
import pytest
from sqlalchemy import func, select

from telecollect.audit.models import AuditEvent
from telecollect.imports.models import ImportStatus
from telecollect.participants.models import Participant
from telecollect.regions.importing import import_regions
from telecollect.regions.models import City, District, Province, Village
from tests.helpers import csv_bytes, row, run_import

JAKARTA_UTARA = b"""kode,nama
31.72,Kota Administrasi Jakarta Utara
31.72.03,Koja
31.72.03.1001,Koja
31.72.03.1003,Lagoa
31.72.03.1002,Tugu Utara
62.71,Kota Palangka Raya
62.71.01,Pahandut
32.01,Kabupaten Bogor
32.71,Kota Bogor
"""


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def regions(db, data: bytes = JAKARTA_UTARA):
    import_regions(db.session, data)
    db.session.commit()


def place_counts(db) -> tuple[int, int, int]:
    return count(db, City), count(db, District), count(db, Village)


@pytest.mark.parametrize(
    "province, city, kecamatan, kelurahan",
    [
        ("DKI Jakarta", "Kota Administrasi Jakarta Utara", "Koja", "Lagoa"),
        ("D.K.I. Jakarta", "KOTA ADM. JAKARTA UTARA", "Kec. Koja", "Kel. Lagoa"),
        ("DKI", "KOTA JAKARTA UTARA", "Kecamatan Koja", "Kelurahan Lagoa"),  # the statistics bureau's spelling
        ("Jakarta", "Jakarta Utara", "KOJA", "LAGOA"),
        ("Prov. DKI Jakarta", "Kota Adm Jakarta Utara", "koja", "Desa Lagoa"),
    ],
)
def test_spelling_variants_find_the_known_places(db, province, city, kecamatan, kelurahan):
    regions(db)
    before = place_counts(db)
    report = run_import(db, csv_bytes([row(province=province, city=city, kecamatan=kecamatan, kelurahan=kelurahan)]))
    assert report.created == 1, report.errors
    assert report.new_places == []
    assert place_counts(db) == before
    assert db.session.scalar(select(Village.code).join(Participant)) == "3172031003"


def test_spaces_inside_a_name_fold_only_when_one_place_fits(db):
    regions(db)
    report = run_import(
        db, csv_bytes([row(province="Kalimantan Tengah", city="Kota Palangkaraya", kecamatan="Pahandut", kelurahan="")])
    )
    assert report.new_places == [], report.errors
    assert db.session.scalar(select(City.code).join(Participant, Participant.city_id == City.id)) == "6271"


def test_bogor_alone_is_two_places_and_the_row_says_so(db):
    regions(db)
    report = run_import(db, csv_bytes([row(province="Jawa Barat", city="Bogor", kecamatan="Bogor Tengah")]))
    assert [(e.column, e.code) for e in report.errors] == [("city", "place_ambiguous")]
    assert "Kabupaten Bogor (32.01)" in str(report.errors[0]) and "Kota Bogor (32.71)" in str(report.errors[0])
    assert count(db, Participant) == 0


def test_bogor_alone_is_ambiguous_even_before_a_region_list_is_imported(db):
    report = run_import(db, csv_bytes([row(province="Jawa Barat", city="BOGOR", kecamatan="Bogor Tengah")]))
    assert [(e.column, e.code) for e in report.errors] == [("city", "place_ambiguous")]
    assert count(db, City) == 0


def test_a_city_the_reference_list_knows_is_added_with_its_code_and_official_name(db):
    report = run_import(
        db, csv_bytes([row(province="Jawa Barat", city="Kab. Bogor", kecamatan="Cibinong", kelurahan="")])
    )
    assert report.created == 1, report.errors
    city = db.session.scalar(select(City))
    assert (city.code, city.name) == ("3201", "Kabupaten Bogor")
    assert [(p.level, p.name, p.code) for p in report.new_places] == [
        ("city", "Kabupaten Bogor", "3201"),
        ("kecamatan", "Cibinong", None),
    ]


def test_a_pre_2022_papua_province_follows_the_regency_that_moved(db):
    report = run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no="0000000000001",
                    province="Papua",
                    city="Kabupaten Merauke",
                    kecamatan="Merauke",
                    kelurahan="",
                ),
                row(
                    card_no="0000000000002",
                    province="Papua Barat",
                    city="Kota Sorong",
                    kecamatan="Sorong",
                    kelurahan="",
                ),
                row(card_no="0000000000003", province="Papua", city="Kota Jayapura", kecamatan="Heram", kelurahan=""),
            ]
        ),
    )
    assert report.created == 3, report.errors
    placed = dict(db.session.execute(select(Participant.card_no, Province.name).join(Province)).all())
    assert placed == {"0000000000001": "Papua Selatan", "0000000000002": "Papua Barat Daya", "0000000000003": "Papua"}
    zones = set(db.session.scalars(select(Province.timezone).join(Participant)))
    assert zones == {"WIT"}


def test_every_new_place_is_listed_and_a_dry_run_says_would(db, runner, tmp_path):
    regions(db)
    rows = [
        row(card_no="0000000000001", kecamatan="Koja", kelurahan="Lagoa"),
        row(card_no="0000000000002", kecamatan="Kojaa", kelurahan="Lagoa"),  # a typo makes a new kecamatan
        row(card_no="0000000000003", kecamatan="Koja", kelurahan="Lagoa Baru"),
    ]
    path = tmp_path / "peserta.csv"
    path.write_bytes(csv_bytes(rows))
    result = runner.invoke(args=["import", "participants", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "akan menambah kecamatan: Kojaa (di Kota Administrasi Jakarta Utara)" in result.stdout
    assert "akan menambah kelurahan/desa: Lagoa Baru (di Koja)" in result.stdout
    assert (
        result.stdout.strip()
        .splitlines()[-1]
        .endswith("tempat yang akan ditambahkan: kecamatan baru: 1, kelurahan/desa baru: 2")
    )
    assert count(db, Participant) == 0 and count(db, District) == 2  # Koja and Pahandut, from the region list
    result = runner.invoke(args=["import", "participants", str(path)])
    assert "kecamatan baru: Kojaa (di Kota Administrasi Jakarta Utara)" in result.stdout
    assert count(db, District) == 3


def test_no_new_places_refuses_the_rows_that_need_one(db, runner, tmp_path):
    regions(db)
    path = tmp_path / "peserta.csv"
    path.write_bytes(
        csv_bytes(
            [
                row(card_no="0000000000001", kecamatan="Koja", kelurahan="Lagoa"),
                row(card_no="0000000000002", kecamatan="Kojaa", kelurahan="Lagoa"),
            ]
        )
    )
    result = runner.invoke(args=["import", "participants", str(path), "--no-new-places"])
    assert result.exit_code == 1
    assert "baris 3, kecamatan: kecamatan 'Kojaa' bukan tempat yang dikenal, dan tempat baru ditolak" in result.stderr
    assert count(db, Participant) == 0 and count(db, District) == 2


def test_a_refused_import_says_would_and_is_audited_as_refused(db):
    report = run_import(db, csv_bytes([row(card_no="0000000000001"), row(card_no="0000000000002", segment="X")]))
    assert report.status == ImportStatus.rejected and report.created == 1
    assert report.summary().startswith("akan membuat 1,")
    dry = run_import(db, csv_bytes([row()]), dry_run=True)
    kept = run_import(db, csv_bytes([row()]))
    assert kept.summary().startswith("dibuat 1,") and dry.summary().startswith("akan membuat 1,")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["import.participants.rejected", "import.participants.dry_run", "import.participants"]


def test_phone_placeholders_mean_no_phone_and_phone2_carries_a_second_number(db):
    rows = [
        row(card_no=f"000000000000{n}", phone=written)
        for n, written in enumerate(["-", "0", "tidak ada", "", "N/A"], start=1)
    ]
    rows.append(row(card_no="0000000000009", phone="0812-3456-7890", phone2="0813 1111 2222"))
    report = run_import(db, csv_bytes(rows))
    assert report.created == 6, report.errors
    phones = dict(db.session.execute(select(Participant.card_no, Participant.phone)).all())
    assert [phones[f"000000000000{n}"] for n in range(1, 6)] == [None] * 5
    second = db.session.scalar(select(Participant).where(Participant.card_no == "0000000000009"))
    assert (second.phone, second.phone2) == ("+6281234567890", "+6281311112222")


def test_phone_from_a_float_column_or_with_a_letter_is_refused_not_changed(db):
    report = run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", phone="81234567890.0"),
                row(card_no="0000000000002", phone="0812-3456-789O"),
                row(card_no="0000000000003", phone="0812-3456-7890 / 0813-1111-2222"),
            ]
        ),
    )
    assert [(e.line, e.code) for e in report.errors] == [
        (2, "phone_number_cell"),
        (3, "phone_characters"),
        (4, "phone_two_numbers"),
    ]
    assert count(db, Participant) == 0


def xlsx(tmp_path, header, *rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    path = tmp_path / "peserta.xlsx"
    workbook.save(path)
    return path.read_bytes()


HEADER = [
    "card_no",
    "nik",
    "name",
    "phone",
    "segment",
    "province",
    "city",
    "kecamatan",
    "months_in_arrears",
    "arrears_amount",
]


def test_a_nik_in_a_number_cell_is_refused_with_the_reason(db, tmp_path):
    """LibreOffice stores 3172015708850001 as 3.17201570885E+15: the last digits are gone."""
    data = xlsx(
        tmp_path,
        HEADER,
        [
            "0000000000001",
            3172015708850001,
            "A",
            "0812-3456-7890",
            "PBPU",
            "DKI Jakarta",
            "Jakarta Utara",
            "Koja",
            2,
            70000,
        ],
        [
            "0000000000002",
            "3172015708850002",
            "B",
            "0812-3456-7891",
            "PBPU",
            "DKI Jakarta",
            "Jakarta Utara",
            "Koja",
            2,
            70000,
        ],
    )
    report = run_import(db, data, filename="peserta.xlsx")
    assert [(e.line, e.column, e.code) for e in report.errors] == [(2, "nik", "nik_number_cell")]
    assert "format kolom NIK sebagai teks" in str(report.errors[0])


def test_a_phone_in_a_number_cell_is_read_as_an_integer(db, tmp_path):
    data = xlsx(
        tmp_path,
        HEADER,
        [
            "0000000000001",
            "3172015708850001",
            "A",
            81234567890,
            "PBPU",
            "DKI Jakarta",
            "Jakarta Utara",
            "Koja",
            2,
            70000,
        ],
        [
            "0000000000002",
            "3172015708850002",
            "B",
            81234567890.5,
            "PBPU",
            "DKI Jakarta",
            "Jakarta Utara",
            "Koja",
            2,
            70000,
        ],
    )
    report = run_import(db, data, filename="peserta.xlsx", skip_invalid=True)
    assert [(e.line, e.code) for e in report.errors] == [(3, "phone_number_cell")]
    assert db.session.scalar(select(Participant.phone)) == "+6281234567890"


def test_a_refused_nik_is_masked_in_the_reason(db):
    report = run_import(db, csv_bytes([row(nik="317201570885000")]))  # one digit short
    assert [(e.column, e.code) for e in report.errors] == [("nik", "nik_digits")]
    assert "317201570885000" not in str(report.errors[0]) and "5000" in str(report.errors[0])
