"""One way to turn report rows into CSV, JSON or a terminal table."""

import io
import json
from collections.abc import Sequence

from telecollect.cells import SafeCsvWriter, xlsx_row


def to_csv(rows: list[dict], columns: list[str], headers: Sequence[str] | None = None) -> str:
    """The rows as CSV; the header row is `headers` (words for people) or the column names (the CLI's
    contract). Numbers are written as plain numbers."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer, lineterminator="\n")
    writer.writerow(list(headers) if headers is not None else columns)
    for row in rows:
        writer.writerow([_plain(row[c]) for c in columns])
    return buffer.getvalue()


def to_json(rows: list[dict], columns: list[str]) -> str:
    return json.dumps([{c: _plain(row[c]) for c in columns} for row in rows], ensure_ascii=False, indent=2)


def to_table(rows: list[dict], columns: list[str]) -> str:
    cells = [columns] + [[str(_plain(row[c])) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = []
    for n, line in enumerate(cells):
        lines.append(
            "  ".join(
                value.ljust(width) if i == 0 else value.rjust(width)
                for i, (value, width) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_xlsx(
    rows: list[dict],
    columns: list[str],
    headers: Sequence[str] | None = None,
    *,
    formats: dict[str, str] | None = None,
    title: str | None = None,
) -> bytes:
    """The same table as a workbook; numbers stay numbers, text stays text (never a formula). With
    `title`, a first row names the report and its period above the header; `formats` gives columns
    a number format (amounts with thousands, rates as percentages), the value staying a number."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("report")
    header = list(headers) if headers is not None else columns
    for index, name in enumerate(header):
        sheet.column_dimensions[_column_letter(index)].width = max(10, min(40, len(str(name)) + 2))
    if title:
        sheet.append(xlsx_row(sheet, [title]))
    sheet.append(xlsx_row(sheet, header))
    column_formats = [(formats or {}).get(c) for c in columns]
    for row in rows:
        sheet.append(xlsx_row(sheet, [_plain(row[c]) for c in columns], column_formats))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def render(rows: list[dict], columns: list[str], fmt: str) -> str:
    return {"csv": to_csv, "json": to_json, "table": to_table}[fmt](rows, columns)


def _plain(value):
    return getattr(value, "value", value)  # enums print as their value
