"""Stream rows out of a CSV or XLSX file without holding the file in memory.

Both formats yield `(line_number, {column: value})`, with header names folded to
lower case, so validators do not care which format they got.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import BinaryIO

XLSX_MAGIC = b"PK\x03\x04"
#: Key set on a row that has more values than the header has columns.
EXTRA_VALUES = "__extra_values__"


class FileFormatError(ValueError):
    """The file as a whole cannot be read (not a row-level problem)."""


class CountingReader(io.RawIOBase):
    """Wraps a binary stream and counts bytes read, for the progress bar."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        self.bytes_read += len(data)
        buffer[: len(data)] = data
        return len(data)


class TableReader:
    """Opens a participant or payment file and yields its rows.

    `header` is the list of folded column names; `rows()` yields
    `(line_number, values)`, line numbers counted as a spreadsheet user sees
    them (the header is line 1). `progress()` tells how far the reading got,
    as a fraction of the file.
    """

    def __init__(self, stream: BinaryIO, filename: str = ""):
        self._stream = stream
        self._counter = CountingReader(stream)
        self._buffered = io.BufferedReader(self._counter, buffer_size=1 << 16)
        self.size = _stream_size(stream)
        self._xlsx_done = self._xlsx_total = 0
        head = self._buffered.peek(4)[:4]
        self.is_xlsx = head == XLSX_MAGIC or filename.lower().endswith(".xlsx")
        if self.is_xlsx:
            self._rows = self._xlsx_rows()
        else:
            self._rows = self._csv_rows()
        self.header = next(self._rows, None)
        if self.header is None:
            raise FileFormatError("the file is empty")
        duplicates = {name for name in self.header if name and self.header.count(name) > 1}
        if duplicates:
            raise FileFormatError(f"column repeated in the header: {', '.join(sorted(duplicates))}")

    def rows(self) -> Iterator[tuple[int, dict]]:
        header = self.header
        for line, values in self._rows:
            if not any(v not in (None, "") for v in values):
                continue  # a blank line is not a row
            row = dict(zip(header, values, strict=False))  # a short row lacks the last columns
            if len(values) > len(header) and any(v not in (None, "") for v in values[len(header) :]):
                row[EXTRA_VALUES] = len(values)
            yield line, row

    def progress(self) -> float:
        if self.is_xlsx:
            return min(1.0, self._xlsx_done / self._xlsx_total) if self._xlsx_total else 0.0
        return min(1.0, self._counter.bytes_read / self.size) if self.size else 0.0

    def _csv_rows(self):
        text = io.TextIOWrapper(self._buffered, encoding="utf-8-sig", newline="")
        try:
            first = text.readline()
            delimiter = ";" if first.count(";") > first.count(",") else ","
            yield [_fold(name) for name in next(csv.reader([first], delimiter=delimiter))]
            reader = csv.reader(text, delimiter=delimiter)
            while True:
                # line_num counts physical lines after the header; a quoted
                # field may span several, so take the start before reading.
                start = reader.line_num + 2
                record = next(reader, None)
                if record is None:
                    return
                yield start, record
        except csv.Error as exc:
            raise FileFormatError(f"line {reader.line_num + 1}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise FileFormatError("the file is not UTF-8 text; save it as 'CSV UTF-8' or as .xlsx") from exc

    def _xlsx_rows(self):
        from openpyxl import load_workbook  # only paid for when an xlsx arrives

        # A workbook is a zip archive and needs random access: read the stream
        # itself (rewound), not the counting buffer used for CSV.
        self._stream.seek(0)
        try:
            workbook = load_workbook(self._stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise FileFormatError(f"the .xlsx file cannot be opened: {exc}") from exc
        sheet = workbook.worksheets[0]
        self._xlsx_total = sheet.max_row or 0
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        yield [_fold(name) for name in header]
        for line, values in enumerate(rows, start=2):
            self._xlsx_done = line
            yield line, [_cell_text(v) for v in values]
        workbook.close()


def _fold(name) -> str:
    return str(name or "").strip().lower()


def _cell_text(value):
    """Excel cells arrive typed; validators take text, dates and numbers.

    Numbers stay numbers so that a card number Excel stored as a number (its
    leading zeros lost) can be told apart from one typed short by mistake."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (int, float)):
        return value
    return str(value)


def _stream_size(stream) -> int:
    try:
        position = stream.tell()
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        stream.seek(position)
        return size
    except (OSError, AttributeError, ValueError):
        return 0
