"""The participant file format: columns, and how one row is validated."""
from dataclasses import dataclass
from datetime import date

from telecollect.imports import fields
from telecollect.imports.fields import FieldError
from telecollect.imports.reader import EXTRA_VALUES
from telecollect.participants.models import Segment
from telecollect.phones import InvalidPhone, normalize_mobile

COLUMNS = (
    "card_no", "nik", "name", "phone", "segment", "class", "family_id", "province", "city",
    "kecamatan", "kelurahan", "rt", "rw", "address", "months_in_arrears", "arrears_amount",
    "autodebit", "as_of",
)
REQUIRED = (
    "card_no", "name", "segment", "province", "city", "kecamatan", "months_in_arrears",
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
    segment: Segment
    klass: int | None
    family_key: str
    province: str
    city: str
    kecamatan: str
    kelurahan: str | None
    rt: str | None
    rw: str | None
    address: str | None
    months_in_arrears: int
    arrears_amount: int
    is_autodebit: bool
    as_of: date


def missing_columns(header: list[str]) -> list[str]:
    return [column for column in REQUIRED if column not in header]


def validate_row(line: int, raw: dict, today: date) -> tuple[ParticipantRow | None, list[tuple[str, str]]]:
    """Validate one row; returns the normalised row or every `(column, reason)` wrong with it."""
    errors: list[tuple[str, str]] = []
    values = {}

    def take(column, parse, *args):
        try:
            values[column] = parse(raw.get(column), *args)
        except (FieldError, InvalidPhone) as exc:
            errors.append((column, str(exc)))

    if EXTRA_VALUES in raw:
        errors.append(("row", "more values than the header has columns (check the delimiter)"))
    take("card_no", _required(fields.card_no))
    take("nik", _optional(lambda v: fields.digits(v, 16, "NIK")))
    take("name", _required(lambda v: fields.text(v, 120)))
    take("phone", _optional(normalize_mobile))
    take("segment", _segment)
    take("class", _optional(lambda v: fields.whole_number(v, 1, 3)))
    take("family_id", _optional(lambda v: fields.text(v, 32)))
    for column in ("province", "city", "kecamatan"):
        take(column, _required(lambda v: fields.text(v, 100)))
    take("kelurahan", _optional(lambda v: fields.text(v, 100)))
    take("rt", _optional(_neighbourhood_unit))
    take("rw", _optional(_neighbourhood_unit))
    take("address", _optional(lambda v: fields.text(v, 500)))
    take("months_in_arrears", _required(lambda v: fields.whole_number(v, 0, 600)))
    take("arrears_amount", _required(fields.whole_rupiah))
    take("autodebit", fields.yes_no)
    take("as_of", fields.iso_date, today)
    if errors:
        return None, errors
    return ParticipantRow(
        line=line,
        card_no=values["card_no"],
        nik=values["nik"],
        name=values["name"],
        phone=values["phone"],
        segment=values["segment"],
        klass=values["class"],
        family_key=values["family_id"] or values["card_no"],
        province=values["province"],
        city=values["city"],
        kecamatan=values["kecamatan"],
        kelurahan=values["kelurahan"],
        rt=values["rt"],
        rw=values["rw"],
        address=values["address"],
        months_in_arrears=values["months_in_arrears"],
        arrears_amount=values["arrears_amount"],
        is_autodebit=values["autodebit"],
        as_of=values["as_of"],
    ), []


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _optional(parse):
    return lambda value: None if _blank(value) else parse(value)


def _required(parse):
    def parse_required(value):
        if _blank(value):
            raise FieldError("required")
        return parse(value)
    return parse_required


def _segment(value) -> Segment:
    raw = str(value or "").strip().upper()
    if raw not in _SEGMENTS:
        raise FieldError(f"expected one of PBPU, BP, PPU, PBI, got {raw!r}")
    return _SEGMENTS[raw]


def _neighbourhood_unit(value) -> str:
    """RT and RW are numbers up to 3 digits, kept zero-padded ("005")."""
    raw = str(value).strip()
    if not raw.isdigit() or len(raw) > 3:
        raise FieldError(f"expected up to 3 digits, got {raw!r}")
    return raw.zfill(3)
