"""Files built to exhaust a worker are refused or cut short, with a clear reason (issue 12, item 9)."""

import io
import re
import zipfile

import openpyxl
import pytest

from telecollect.imports.reader import MAX_BLANK_RUN, MAX_COLUMNS, FileFormatError, TableReader
from telecollect.participants.importing import COLUMNS
from tests.conftest import csrf_token
from tests.helpers import BASE_ROW, csv_bytes, row, run_import


def test_a_header_of_100k_columns_is_refused_at_once():
    header = ",".join(f"c{n}" for n in range(100_000)) + "\n"
    with pytest.raises(FileFormatError) as refused:
        TableReader(io.BytesIO(header.encode()), "f.csv")
    assert refused.value.code == "file_too_many_columns" and refused.value.params["limit"] == MAX_COLUMNS


def test_repeated_columns_are_found_among_many():
    header = ",".join([*(f"c{n}" for n in range(MAX_COLUMNS - 2)), "card_no", "card_no"]) + "\n"
    with pytest.raises(FileFormatError) as refused:
        TableReader(io.BytesIO(header.encode()), "f.csv")
    assert refused.value.code == "file_repeated_columns" and refused.value.params["columns"] == "card_no"


def _workbook(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_member(xlsx: bytes, name: str, size: int) -> bytes:
    """The workbook with one more member of `size` zero bytes (a few KB once compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, source.read(member))
        target.writestr(name, b"\0" * size)
    return buffer.getvalue()


def test_an_xlsx_that_unpacks_past_the_limit_is_refused_unopened():
    bomb = _with_member(_workbook([list(COLUMNS), list(BASE_ROW.values())]), "xl/media/padding.bin", 8 << 20)
    assert len(bomb) < 100_000
    with pytest.raises(FileFormatError) as refused:
        TableReader(io.BytesIO(bomb), "f.xlsx", max_unzipped_bytes=4 << 20)
    assert refused.value.code == "file_xlsx_too_large" and refused.value.params["limit"] == 4
    assert TableReader(io.BytesIO(bomb), "f.xlsx", max_unzipped_bytes=16 << 20).header[0] == "card_no"


def test_a_broken_zip_is_a_file_error():
    with pytest.raises(FileFormatError) as refused:
        TableReader(io.BytesIO(b"PK\x03\x04 not really a zip"), "f.xlsx")
    assert refused.value.code == "file_xlsx_unreadable"


def _blank_rows_workbook(blank: int, after: list | None = None) -> bytes:
    """Header, two data rows, `blank` rows of empty (but present) cells, then maybe one more row; the sheet
    XML is written directly (openpyxl would take long to write it)."""
    template = _workbook([list(COLUMNS)])
    with zipfile.ZipFile(io.BytesIO(template)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").decode()

    def cells(line, values):
        return "".join(
            f'<c r="{chr(65 + i)}{line}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values)
        )

    header = f'<row r="1">{cells(1, COLUMNS)}</row>'
    data = [row(card_no=f"{n:013d}") for n in (1, 2)]
    body = [f'<row r="{n}">{cells(n, [d.get(c, "") for c in COLUMNS])}</row>' for n, d in enumerate(data, start=2)]
    body += [f'<row r="{n}"><c r="A{n}" s="0"/><c r="B{n}" s="0"/></row>' for n in range(4, 4 + blank)]
    if after:
        n = 4 + blank
        body.append(f'<row r="{n}">{cells(n, after)}</row>')
    start, end = sheet.index("<sheetData"), sheet.index("</sheetData>") + len("</sheetData>")
    sheet = sheet[:start] + "<sheetData>" + header + "".join(body) + "</sheetData>" + sheet[end:]
    sheet = re.sub(r'<dimension ref="[A-Z0-9:]+" />', "", sheet)  # the reader must not trust a dimension
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data_bytes = sheet.encode() if member.filename == "xl/worksheets/sheet1.xml" else source.read(member)
            target.writestr(member.filename, data_bytes)
    return buffer.getvalue()


def test_a_long_run_of_blank_rows_ends_the_data():
    data = _blank_rows_workbook(50_000)
    reader = TableReader(io.BytesIO(data), "f.xlsx")
    rows = list(reader.rows())
    assert [line for line, _ in rows] == [2, 3]
    assert reader._xlsx_done <= 3 + MAX_BLANK_RUN  # stopped there, not 50,000 rows later


def test_blank_rows_between_data_are_skipped(db):
    data = _blank_rows_workbook(10, after=[row(card_no="0000000000009").get(c, "") for c in COLUMNS])
    report = run_import(db, data, filename="f.xlsx")
    assert report.created == 3 and report.rejected == 0


def test_formatted_empty_columns_right_of_the_header_are_not_columns():
    xlsx = _workbook([[*COLUMNS, *([None] * 300)], [*BASE_ROW.values(), *([None] * 300)]])
    sheet_reader = TableReader(io.BytesIO(xlsx), "f.xlsx")
    assert sheet_reader.header == list(COLUMNS)


def test_the_upload_page_says_why_a_file_is_refused(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/participants/import")
    header = ",".join(f"c{n}" for n in range(MAX_COLUMNS + 1)) + "\n"
    answer = client.post(
        "/participants/import",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(header.encode()), "f.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400 and f"{MAX_COLUMNS + 1}" in answer.text


def test_the_cli_says_why_a_file_is_refused(runner, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes([row()], columns=[*COLUMNS, "card_no"]))
    result = runner.invoke(args=["import", "participants", str(path)])
    assert result.exit_code == 2 and "card_no" in result.output and "Traceback" not in result.output


def test_control_characters_are_found_among_numbers_and_dates_too():
    """A spreadsheet's row mixes text with numbers, dates and empty cells (and a count of extra values):
    its text cells are still searched."""
    from datetime import date

    from telecollect.imports.fields import control_character_columns
    from telecollect.imports.reader import EXTRA_VALUES

    row = {"nama": "Siti\x00", "amount": 35000, "paid_on": date(2026, 1, 2), "rt": None, EXTRA_VALUES: 9}
    assert control_character_columns(row) == ["nama"]
    assert control_character_columns({**row, "nama": "Siti"}) == []
    assert control_character_columns({"nama": "Siti", "alamat": "Jl.\x1b Mawar"}) == ["alamat"]
