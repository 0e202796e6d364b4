"""Cells for files people open in a spreadsheet: the one place where text is kept from becoming a formula.

Every CSV and XLSX the app writes (report exports, the imports' rejects files) goes through here. A
place name or a rejected row comes from an uploaded file, so it may hold `=HYPERLINK(…)` or `+cmd|…`;
a spreadsheet would run it as a formula when the supervisor opens the export (OWASP "CSV injection").

- CSV has no types: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
  leading `'`, which spreadsheets show as text and do not evaluate.
- XLSX has types: text is written as a string cell with the "quote prefix" style, never as a formula,
  and keeps its exact value.

Numbers stay numbers in both (a negative number is not text and cannot be a formula).
"""

import csv
import re
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

#: What makes a spreadsheet read a cell as a formula (or DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Control characters (but tab, line feed, carriage return), shown as U+FFFD: a NUL byte in a rejected row
#: would otherwise be written back into the rejects file (and PostgreSQL cannot store it at all).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def csv_text(value: Any) -> Any:
    """`value` as a CSV cell: text that a spreadsheet would read as a formula gets a leading `'`; control
    characters are shown as U+FFFD."""
    if isinstance(value, str):
        if value.startswith(FORMULA_STARTS):
            value = "'" + value
        if _CONTROL.search(value):
            value = _CONTROL.sub("\ufffd", value)
    return value


class SafeCsvWriter:
    """`csv.writer` whose every text cell is neutralised (`csv_text`)."""

    def __init__(self, stream: TextIO, **options: Any):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_text(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def xlsx_row(sheet: Any, values: Iterable[Any], formats: Sequence[str | None] | None = None) -> list[Any]:
    """A row for an openpyxl write-only `sheet`: every text a string cell (never a formula), numbers as they
    are (with the number format `formats` gives their column, if any: the value stays a number)."""
    from openpyxl.cell import WriteOnlyCell  # only paid for when a workbook is written

    row: list[Any] = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # openpyxl made it "f" (a formula) when it starts with "="
            cell.quotePrefix = True  # Excel keeps it text when the cell is edited, too
            row.append(cell)
        elif formats is not None and index < len(formats) and formats[index] and isinstance(value, int | float):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = formats[index]
            row.append(cell)
        else:
            row.append(value)
    return row
