"""The participant file format: columns, and how one row is validated."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from telecollect.formatting import mask_nik
from telecollect.imports import fields
from telecollect.imports.fields import FieldError
from telecollect.imports.reader import EXTRA_VALUES
from telecollect.money import parse_rupiah
from telecollect.participants.models import Segment
from telecollect.phones import is_no_number, normalize_mobile
from telecollect.reasons import Refusal, quoted

COLUMNS = (
    "card_no",
    "nik",
    "name",
    "phone",
    "phone2",
    "segment",
    "class",
    "family_id",
    "province",
    "city",
    "kecamatan",
    "kelurahan",
    "kelurahan_code",
    "rt",
    "rw",
    "address",
    "months_in_arrears",
    "arrears_amount",
    "autodebit",
    "as_of",
    "whatsapp_opt_in",
)
REQUIRED = (
    "card_no",
    "name",
    "segment",
    "province",
    "city",
    "kecamatan",
    "months_in_arrears",
    "arrears_amount",
)
_SEGMENTS = {s.value: s for s in Segment}


@dataclass(slots=True)
class ParticipantRow:
    """One valid row, with values already normalised."""

    line: int
    card_no: str
    nik: str | None
    name: str
    phone: str | None
    phone2: str | None
    segment: Segment
    klass: int | None
    family_key: str
    province: str
    city: str
    kecamatan: str
    kelurahan: str | None
    kelurahan_code: str | None
    rt: str | None
    rw: str | None
    address: str | None
    months_in_arrears: int
    arrears_amount: int
    is_autodebit: bool
    as_of: date
    #: The participant agreed to WhatsApp messages (column `whatsapp_opt_in`, ya/tidak; blank: not said).
    whatsapp_opt_in: bool = False


def missing_columns(header: list[str]) -> list[str]:
    return [column for column in REQUIRED if column not in header]


def validate_row(line: int, raw: dict, today: date) -> tuple[ParticipantRow | None, list[tuple[str | None, Refusal]]]:
    """Validate one row; returns the normalised row or every `(column, reason)` wrong with it.

    Written as straight-line code on purpose: it runs a million times per
    large import, and per-field closures cost more than the database writes.
    """
    errors: list[tuple[str | None, Refusal]] = []
    get = raw.get

    def parsed(column, parse, value, *args):
        try:
            return parse(value, *args)
        except Refusal as exc:
            errors.append((column, exc))
            return None

    if EXTRA_VALUES in raw:
        errors.append((None, Refusal("extra_values")))
    card = get("card_no")
    card_no = card if _is_digits(card, 13) else parsed("card_no", _REQUIRED_CARD, card)
    nik = get("nik")
    nik = None if _blank(nik) else (nik if _is_digits(nik, 16) else parsed("nik", _nik, nik))
    name = _short_text(get("name"), 120) or parsed("name", _REQUIRED_TEXT, get("name"), 120)
    phone = get("phone")
    phone = None if is_no_number(phone) else parsed("phone", normalize_mobile, phone)
    phone2 = get("phone2")
    phone2 = None if is_no_number(phone2) else parsed("phone2", normalize_mobile, phone2)
    segment = _SEGMENTS.get(str(get("segment") or "").strip().upper())
    if segment is None:
        errors.append(("segment", Refusal("choice", choices="PBPU, BP, PPU, PBI", value=quoted(get("segment") or ""))))
    klass = get("class")
    klass = (
        _SMALL_INTS.get(klass)
        if klass in _SMALL_INTS
        else (None if _blank(klass) else parsed("class", fields.whole_number, klass, 1, 3))
    )
    family = get("family_id")
    family = None if _blank(family) else (_short_text(family, 32) or parsed("family_id", fields.text, family, 32))
    province = _short_text(get("province"), 100) or parsed("province", _REQUIRED_TEXT, get("province"), 100)
    city = _short_text(get("city"), 100) or parsed("city", _REQUIRED_TEXT, get("city"), 100)
    kecamatan = _short_text(get("kecamatan"), 100) or parsed("kecamatan", _REQUIRED_TEXT, get("kecamatan"), 100)
    kelurahan = get("kelurahan")
    kelurahan = (
        None if _blank(kelurahan) else (_short_text(kelurahan, 100) or parsed("kelurahan", fields.text, kelurahan, 100))
    )
    kelurahan_code = get("kelurahan_code")
    kelurahan_code = None if _blank(kelurahan_code) else parsed("kelurahan_code", _village_code, kelurahan_code)
    rt = get("rt")
    rt = _UNITS.get(rt) or (None if _blank(rt) else parsed("rt", _neighbourhood_unit, rt))
    rw = get("rw")
    rw = _UNITS.get(rw) or (None if _blank(rw) else parsed("rw", _neighbourhood_unit, rw))
    address = get("address")
    address = None if _blank(address) else (_short_text(address, 500) or parsed("address", fields.text, address, 500))
    months = get("months_in_arrears")
    months = _MONTHS.get(months) if months in _MONTHS else parsed("months_in_arrears", _REQUIRED_NUMBER, months, 0, 600)
    amount = get("arrears_amount")
    amount = parsed("arrears_amount", parse_rupiah, amount)
    autodebit = get("autodebit")
    autodebit = _YES_NO[autodebit] if autodebit in _YES_NO else parsed("autodebit", fields.yes_no, autodebit)
    as_of = get("as_of")
    as_of = _iso_date(as_of) if isinstance(as_of, str) and len(as_of) == 10 else None
    as_of = as_of or parsed("as_of", fields.iso_date, get("as_of"), today)
    if as_of is not None and not (fields.EARLIEST_DAY <= as_of <= today + fields.AS_OF_MARGIN):
        as_of = parsed("as_of", fields.as_of_day, as_of, today)
    opt_in = get("whatsapp_opt_in")
    opt_in = (
        False
        if _blank(opt_in)
        else _YES_NO[opt_in]
        if opt_in in _YES_NO
        else parsed("whatsapp_opt_in", fields.yes_no, opt_in)
    )
    if errors:
        return None, errors
    return ParticipantRow(
        line,
        card_no,
        nik,
        name,
        phone,
        phone2 if phone2 != phone else None,
        segment,
        klass,
        family or card_no,
        province,
        city,
        kecamatan,
        kelurahan,
        kelurahan_code,
        rt,
        rw,
        address,
        months,
        amount,
        autodebit,
        as_of,
        bool(opt_in),
    ), []


_SMALL_INTS = {"1": 1, "2": 2, "3": 3}
#: RT and RW as usually written ("5", "05", "005"), already zero-padded.
_UNITS = {written: f"{n:03d}" for n in range(1, 1000) for written in {str(n), f"{n:02d}", f"{n:03d}"}}


@lru_cache(maxsize=4096)
def _iso_date(written: str) -> date | None:
    """Most rows of a file share a handful of dates: parse each once."""
    try:
        return date.fromisoformat(written)
    except ValueError:
        return None


_MONTHS = {str(n): n for n in range(601)}
_YES_NO = {
    "ya": True,
    "tidak": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "true": True,
    "false": False,
    "": False,
    None: False,
}


def _short_text(value, max_length: int) -> str | None:
    """The common case of a text field, without the cost of the general parser."""
    if isinstance(value, str):
        value = value.strip()
        if value and len(value) <= max_length:
            return value
    return None


def _is_digits(value, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isdigit()


def _nik(value) -> str:
    """A NIK has 16 digits and a spreadsheet number keeps about 15: one from a number cell is refused. A refused
    NIK is shown masked in the reason (the row itself is in the file its uploader has)."""
    written = fields.as_text(value)
    if not isinstance(value, str):
        raise FieldError("nik_number_cell", value=quoted(mask_nik(written)))
    if not (len(written) == 16 and written.isascii() and written.isdigit()):
        raise FieldError("nik_digits", value=quoted(mask_nik(written)))
    return written


def _village_code(value) -> str:
    """A Kemendagri village code, with or without dots (31.72.01.1001)."""
    code = fields.as_text(value).replace(".", "")
    if isinstance(value, (bool, float)) or not (len(code) == 10 and code.isascii() and code.isdigit()):
        raise FieldError("village_code_format", value=quoted(value))
    return code


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _required(parse):
    def parse_required(value, *args):
        if _blank(value):
            raise FieldError("required")
        return parse(value, *args)

    return parse_required


def _neighbourhood_unit(value) -> str:
    """RT and RW are numbers up to 3 digits, kept zero-padded ("005")."""
    raw = str(value).strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3:
        raise FieldError("neighbourhood_unit", value=quoted(raw))
    return raw.zfill(3)


_REQUIRED_CARD = _required(fields.card_no)
_REQUIRED_TEXT = _required(fields.text)
_REQUIRED_NUMBER = _required(fields.whole_number)
