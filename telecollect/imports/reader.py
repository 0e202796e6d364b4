"""Stream rows out of a CSV or XLSX file without holding the file in memory.

Both formats yield `(line_number, {column: value})`, with header names folded to
lower case, so validators do not care which format they got.
"""

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import BinaryIO

from telecollect.reasons import Refusal

XLSX_MAGIC = b"PK\x03\x04"
#: Key set on a row that has more values than the header has columns.
EXTRA_VALUES = "__extra_values__"
#: The most columns a header may have: the formats have about twenty; a header of 100,000 columns is an
#: attack or a broken export, not a list of participants.
MAX_COLUMNS = 200
#: How far an .xlsx may unpack (its zip members together), unless the installation sets another limit
#: (IMPORT_XLSX_MAX_UNZIPPED_MB): a 297 KB workbook once unpacked to 689 MB.
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
#: Blank rows in a row that end a sheet's data: spreadsheets keep formatted empty rows down to row
#: 1,048,576, and reading them one by one took two minutes for a 5 MB file.
MAX_BLANK_RUN = 1000


class FileFormatError(Refusal):
    """The file as a whole cannot be read (not a row-level problem); a code with parameters (`reasons`)."""


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

    def __init__(self, stream: BinaryIO, filename: str = "", *, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES):
        self._stream = stream
        self._max_unzipped_bytes = max_unzipped_bytes
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
            raise FileFormatError("file_empty")
        if len(self.header) > MAX_COLUMNS:
            raise FileFormatError("file_too_many_columns", count=len(self.header), limit=MAX_COLUMNS)
        duplicates = [name for name, count in Counter(self.header).items() if name and count > 1]
        if duplicates:
            raise FileFormatError("file_repeated_columns", columns=", ".join(sorted(duplicates)))

    def rows(self) -> Iterator[tuple[int, dict]]:
        header = self.header
        for line, values in self._rows:
            if not any(values) and all(v in (None, "") for v in values):
                continue  # a blank line is not a row (`any` first: a row with a value is settled at C speed)
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
            raise FileFormatError("file_csv_line", line=reader.line_num + 1, problem=str(exc)) from exc
        except UnicodeDecodeError as exc:
            raise FileFormatError("file_not_utf8") from exc

    def _xlsx_rows(self):
        from openpyxl import load_workbook  # only paid for when an xlsx arrives

        # A workbook is a zip archive and needs random access: read the stream
        # itself (rewound), not the counting buffer used for CSV.
        self._stream.seek(0)
        self._check_unzipped_size()
        self._stream.seek(0)
        try:
            workbook = load_workbook(self._stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise FileFormatError("file_xlsx_unreadable", problem=str(exc)) from exc
        sheet = workbook.worksheets[0]
        self._xlsx_total = sheet.max_row or 0
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        yield [_fold(name) for name in _without_trailing_blanks(header)]
        blank_run = 0
        for line, values in enumerate(rows, start=2):
            self._xlsx_done = line
            if any(v not in (None, "") for v in values):
                blank_run = 0
                yield line, [_cell_text(v) for v in values]
                continue
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                break  # the formatted empty rows below the data
        workbook.close()

    def _check_unzipped_size(self) -> None:
        """Refuse a workbook that would unpack to more than the limit, before openpyxl unpacks anything
        (the sizes are the zip's own declarations, which `zipfile` also holds each member to)."""
        try:
            with zipfile.ZipFile(self._stream) as archive:
                unzipped = sum(member.file_size for member in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise FileFormatError("file_xlsx_unreadable", problem=str(exc)) from exc
        if unzipped > self._max_unzipped_bytes:
            raise FileFormatError("file_xlsx_too_large", limit=self._max_unzipped_bytes // (1024 * 1024))


def _without_trailing_blanks(header) -> tuple:
    """A header row without the empty cells a spreadsheet keeps to its right (formatted, never typed)."""
    end = len(header)
    while end and header[end - 1] in (None, ""):
        end -= 1
    return tuple(header[:end])


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
