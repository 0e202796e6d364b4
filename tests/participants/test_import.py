"""The participant import: formats, validation, all-or-nothing, re-import."""

import csv
import io
import threading
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from telecollect.imports.models import ImportRun, ImportStatus
from telecollect.imports.reader import FileFormatError
from telecollect.imports.runner import RejectsWriter
from telecollect.participants.models import ArrearsSnapshot, Family, Participant
from telecollect.regions.models import City, District, Village
from tests.helpers import SETTINGS, csv_bytes, row, run_import


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def participant(db, card_no="0001234567890"):
    return db.session.scalar(select(Participant).where(Participant.card_no == card_no))


def test_valid_file_creates_participants_places_and_snapshot(db):
    report = run_import(db, csv_bytes([row(), row(card_no="0001234567891", name="Budi", phone="")]))
    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 0)
    siti = participant(db)
    assert siti.phone == "+6281234567890"
    assert siti.arrears_amount == 210_000 and siti.months_in_arrears == 6
    assert siti.arrears_as_of == date(2026, 11, 1)
    assert (siti.rt, siti.rw) == ("005", "007")
    assert siti.province.timezone == "WIB"
    assert siti.district.name == "Koja" and siti.village.name == "Tugu Utara"
    assert siti.family.key == siti.card_no  # no family_id: a family of one
    assert [(s.months_in_arrears, s.amount) for s in siti.snapshots] == [(6, 210_000)]
    assert count(db, District) == 1 and count(db, Village) == 1


def test_reimport_identical_changes_nothing_and_changed_arrears_add_snapshot(db):
    data = csv_bytes([row()])
    run_import(db, data)
    again = run_import(db, data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert count(db, ArrearsSnapshot) == 1

    later = run_import(db, csv_bytes([row(months_in_arrears="7", arrears_amount="245000", as_of="2026-12-01")]))
    assert (later.created, later.updated, later.unchanged) == (0, 1, 0)
    siti = participant(db)
    assert (siti.months_in_arrears, siti.arrears_amount, siti.arrears_as_of) == (7, 245_000, date(2026, 12, 1))
    assert [s.as_of for s in siti.snapshots] == [date(2026, 12, 1), date(2026, 11, 1)]


def test_profile_change_updates_without_new_snapshot(db):
    run_import(db, csv_bytes([row()]))
    report = run_import(db, csv_bytes([row(phone="+62 857 1111 2222", kelurahan="Lagoa")]))
    assert report.updated == 1
    siti = participant(db)
    assert siti.phone == "+6285711112222" and siti.village.name == "Lagoa"
    assert count(db, ArrearsSnapshot) == 1


def test_older_figure_goes_to_history_but_not_current(db):
    run_import(db, csv_bytes([row()]))
    run_import(db, csv_bytes([row(months_in_arrears="4", arrears_amount="140000", as_of="2026-09-01")]))
    siti = participant(db)
    assert siti.months_in_arrears == 6
    assert [s.as_of for s in siti.snapshots] == [date(2026, 11, 1), date(2026, 9, 1)]


def test_family_members_share_a_family(db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", family_id="0000000000001"),
                row(card_no="0000000000002", family_id="0000000000001", name="Budi"),
                row(card_no="0000000000003", name="Other"),
            ]
        ),
    )
    assert count(db, Family) == 2
    head = participant(db, "0000000000001")
    assert [m.card_no for m in head.family.members] == ["0000000000001", "0000000000002"]


@pytest.mark.parametrize(
    "column, value, code",
    [
        ("card_no", "123", "card_no_digits"),
        ("card_no", "", "required"),
        ("nik", "31720157", "nik_digits"),
        ("nik", "317201570885000²", "nik_digits"),  # str.isdigit() takes "²"; a NIK is ASCII digits
        ("phone", "021-5551234", "phone_invalid"),
        ("phone", "+1 650 253 0000", "phone_not_indonesian"),
        ("phone", "81234567890.0", "phone_number_cell"),
        ("phone", "0812-3456-789O", "phone_characters"),
        ("phone", "0812-3456-7890 / 0813-1111-2222", "phone_two_numbers"),
        ("segment", "MANDIRI", "choice"),
        ("class", "4", "number_range"),
        ("months_in_arrears", "-2", "whole_number"),
        ("arrears_amount", "Rp 12,5", "amount_fraction"),
        ("arrears_amount", "1.500.00²", "amount_format"),
        ("arrears_amount", "1.50.000", "amount_format"),
        ("autodebit", "mungkin", "yes_no"),
        ("as_of", "01/11/2026", "iso_date"),
        ("name", "", "required"),
        ("kecamatan", "", "required"),
        ("rt", "12a", "neighbourhood_unit"),
        ("province", "Atlantis", "province_unknown"),
    ],
)
def test_each_bad_value_is_reported_with_line_and_column(db, column, value, code):
    data = csv_bytes([row(card_no="0000000000001"), row(**{"card_no": "0000000000002", column: value})])
    report = run_import(db, data)
    assert [(e.line, e.column, e.code) for e in report.errors] == [(3, column, code)]
    assert str(report.errors[0]).startswith(f"baris 3, {column}: ")
    assert report.status == ImportStatus.rejected
    assert count(db, Participant) == 0  # all-or-nothing: the good row is not written either


def test_reasons_are_in_indonesian_by_default_and_in_english_on_request(app, db):
    report = run_import(db, csv_bytes([row(card_no="123")]))
    assert str(report.errors[0]) == "baris 2, card_no: nomor kartu harus tepat 13 angka, tertulis '123'"
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        from flask_babel import refresh

        refresh()
        assert str(report.errors[0]) == "row 2, card_no: card number must be exactly 13 digits, got '123'"


def test_all_errors_of_a_row_are_reported(db):
    report = run_import(db, csv_bytes([row(card_no="x", segment="", arrears_amount="banyak")]))
    assert {e.column for e in report.errors} == {"card_no", "segment", "arrears_amount"}
    assert report.rejected == 1


@pytest.mark.parametrize("written", ["1500000", "1.500.000", "Rp1.500.000", "Rp 1.500.000", " rp 1 500 000 "])
def test_amount_forms(db, written):
    run_import(db, csv_bytes([row(arrears_amount=written)]))
    assert participant(db).arrears_amount == 1_500_000


@pytest.mark.parametrize(
    "written",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "081234567890",
        "(0812) 3456 7890",
        "0812.3456.7890",
        "0812\u00a03456\u00a07890",
    ],
)
def test_phone_forms(db, written):
    run_import(db, csv_bytes([row(phone=written)]))
    assert participant(db).phone == "+6281234567890"


@pytest.mark.parametrize(
    "written, expected",
    [
        ("ya", True),
        ("YES", True),
        ("1", True),
        ("true", True),
        ("tidak", False),
        ("no", False),
        ("0", False),
        ("", False),
    ],
)
def test_autodebit_forms(db, written, expected):
    run_import(db, csv_bytes([row(autodebit=written)]))
    assert participant(db).is_autodebit is expected


def test_missing_as_of_means_today(db):
    run_import(db, csv_bytes([row(as_of="")]), today=date(2026, 11, 22))
    assert participant(db).arrears_as_of == date(2026, 11, 22)


def test_semicolon_delimiter_bom_and_header_case_and_order(db):
    columns = ["ARREARS_AMOUNT", "Months_In_Arrears", "Kecamatan", "City", "Province", "Segment", "Name", "Card_No"]
    record = {c: row()[c.lower()] for c in columns}
    report = run_import(db, csv_bytes([record], delimiter=";", bom=True, columns=columns))
    assert report.created == 1
    assert participant(db).name == "Siti Aminah"


def test_missing_required_column_is_a_file_error(db):
    with pytest.raises(FileFormatError) as refused:
        run_import(
            db,
            csv_bytes(
                [row()], columns=["card_no", "name", "segment", "province", "city", "kecamatan", "months_in_arrears"]
            ),
        )
    assert refused.value.code == "file_missing_columns" and refused.value.params["columns"] == "arrears_amount"
    assert count(db, Participant) == 0


def test_not_utf8_is_a_file_error(db):
    data = csv_bytes([row(name="Siti")]).replace(b"Siti", "Sîti".encode("latin-1"))
    with pytest.raises(FileFormatError) as refused:
        run_import(db, data)
    assert refused.value.code == "file_not_utf8"
    assert count(db, Participant) == 0


def test_extra_values_in_a_row_are_reported(db):
    data = csv_bytes([row()]) + b"0001234567899,Budi,PBPU,x,y,z,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n"
    report = run_import(db, data)
    assert (3, None, "extra_values") in [(e.line, e.column, e.code) for e in report.errors]
    assert any(str(e).startswith("baris 3: nilainya lebih banyak") for e in report.errors)


def test_card_number_repeated_in_the_file_is_rejected_even_across_batches(db):
    rows = [row(card_no=f"{n:013d}") for n in range(1, 6)] + [row(card_no=f"{2:013d}")]
    report = run_import(db, csv_bytes(rows), batch_size=2)  # repeat lands in a later batch
    assert [str(e) for e in report.errors] == [
        "baris 7, card_no: nomor kartu 0000000000002 muncul lebih dari sekali di berkas"
    ]
    assert count(db, Participant) == 0


def test_skip_invalid_imports_good_rows_and_writes_rejects(db):
    out = io.StringIO()
    data = csv_bytes(
        [row(card_no="0000000000001"), row(card_no="0000000000002", segment="X"), row(card_no="0000000000003")]
    )
    from telecollect.imports.reader import TableReader
    from telecollect.workflows.imports import import_participants

    reader = TableReader(io.BytesIO(data), "f.csv")
    report = import_participants(
        db.session,
        reader,
        filename="f.csv",
        skip_invalid=True,
        rejects=RejectsWriter(out, reader.header),
        settings=SETTINGS,
    )
    assert (report.created, report.rejected) == (2, 1)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0][:2] == ["line", "card_no"] and lines[0][-1] == "errors"
    assert lines[1][:2] == ["3", "0000000000002"]
    assert lines[1][-1] == "baris 3, segment: harus salah satu dari PBPU, BP, PPU, PBI, tertulis 'X'"
    assert count(db, Participant) == 2


def test_dry_run_writes_nothing_but_counts(db):
    report = run_import(db, csv_bytes([row()]), dry_run=True)
    assert (report.created, report.status) == (1, ImportStatus.dry_run)
    assert count(db, Participant) == 0 and count(db, City) == 0
    assert db.session.scalar(select(ImportRun.status)) == ImportStatus.dry_run  # the attempt is on record


@pytest.mark.parametrize("written", ["1050000.00", "1.050.000,-", "Rp 1.050.000,00", "IDR 1,050,000"])
def test_arrears_with_decimals_are_read_exactly(db, written):
    report = run_import(db, csv_bytes([row(arrears_amount=written)]))
    assert report.created == 1, report.errors
    assert participant(db).arrears_amount == 1_050_000  # "1050000.00" was stored as Rp105.000.000


def test_xlsx_amount_with_a_fraction_is_refused(db, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["card_no", "name", "segment", "province", "city", "kecamatan", "months_in_arrears", "arrears_amount"])
    sheet.append(["0000000000001", "A", "PBPU", "Bali", "Denpasar", "Denpasar Barat", 2, 1050000.5])
    path = tmp_path / "p.xlsx"
    workbook.save(path)
    report = run_import(db, path.read_bytes(), filename="p.xlsx")
    assert [(e.line, e.column, e.code) for e in report.errors] == [(2, "arrears_amount", "amount_fraction")]
    assert str(report.errors[0]) == (
        "baris 2, arrears_amount: '1050000.5' memiliki pecahan di bawah satu Rupiah; jumlah harus Rupiah bulat"
    )


def test_xlsx_with_typed_cells(db, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "card_no",
            "name",
            "segment",
            "province",
            "city",
            "kecamatan",
            "months_in_arrears",
            "arrears_amount",
            "as_of",
            "class",
        ]
    )
    # Excel turned the card number into a number (leading zeros lost) and the date into a date.
    sheet.append([1234567890, "Siti", "pbpu", "Jakarta", "Jakarta Utara", "Koja", 6, 210000.0, date(2026, 11, 1), 3])
    path = tmp_path / "peserta.xlsx"
    workbook.save(path)
    report = run_import(db, path.read_bytes(), filename="peserta.xlsx")
    assert report.created == 1, report.errors
    siti = participant(db)
    assert siti.arrears_amount == 210_000 and siti.arrears_as_of == date(2026, 11, 1)
    assert siti.province.name == "DKI Jakarta"


def test_xlsx_errors_use_sheet_row_numbers(db, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["card_no", "name", "segment", "province", "city", "kecamatan", "months_in_arrears", "arrears_amount"])
    sheet.append(["0000000000001", "A", "PBPU", "Bali", "Denpasar", "Denpasar Barat", "2", "70000"])
    sheet.append(["0000000000002", "B", "PBPU", "Bali", "Denpasar", "Denpasar Barat", "2", "tujuh"])
    path = tmp_path / "p.xlsx"
    workbook.save(path)
    report = run_import(db, path.read_bytes(), filename="p.xlsx")
    assert [(e.line, e.column, e.code) for e in report.errors] == [(3, "arrears_amount", "amount_format")]


def test_place_names_match_across_spellings(db):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", city="Kota Adm. Jakarta Utara", kecamatan="KOJA"),
                row(card_no="0000000000002", city="KOTA ADMINISTRASI JAKARTA UTARA", kecamatan="koja"),
            ]
        ),
    )
    assert count(db, City) == 1 and count(db, District) == 1


@pytest.mark.committing
def test_two_imports_at_once_are_serialised_and_consistent(app, db):
    """Two officers upload overlapping files at the same moment: both finish, nothing is doubled."""
    first = csv_bytes([row(card_no=f"{n:013d}") for n in range(300)])
    second = csv_bytes([row(card_no=f"{n:013d}", arrears_amount="350000") for n in range(150, 450)])
    reports, errors = {}, []
    barrier = threading.Barrier(2)

    def work(name, data):
        try:
            with app.app_context():
                barrier.wait()
                reports[name] = run_import(db, data, batch_size=50)
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n, d)) for n, d in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert count(db, Participant) == 450
    assert reports["a"].created + reports["b"].created == 450
    # Whichever ran second saw the other's rows: the overlap was updated, not duplicated.
    assert reports["a"].updated + reports["b"].updated in (0, 150)
    assert count(db, Family) == 450
