"""Field parsers shared by the imports. Each returns a value or raises
`FieldError` with a reason a data officer can act on."""
from datetime import date

from telecollect.money import parse_rupiah
from telecollect.reasons import Refusal

_TRUE = {"yes", "ya", "y", "1", "true", "t"}
_FALSE = {"no", "tidak", "n", "0", "false", "f", ""}


class FieldError(Refusal):
    """A refused cell. Raised with a code and parameters (see `telecollect.reasons`), or, until every
    parser here speaks in codes, with a finished English sentence, which then stands for itself."""


def as_text(value) -> str:
    """Cell value as stripped text; spreadsheet numbers arrive as int (0 included)."""
    return "" if value is None else str(value).strip()


def text(value, max_length: int) -> str:
    result = as_text(value)
    if len(result) > max_length:
        raise FieldError(f"longer than {max_length} characters")
    return result


def digits(value, length: int, what: str) -> str:
    result = as_text(value)
    if not (len(result) == length and result.isdigit()):
        raise FieldError(f"{what} must be exactly {length} digits, got {result!r}")
    return result


def card_no(value) -> str:
    result = as_text(value)
    # Excel drops leading zeros of a number cell; a card number typed as a
    # number is padded back rather than rejected.
    if result.isdigit() and len(result) < 13 and not isinstance(value, str):
        result = result.zfill(13)
    return digits(result, 13, "card number")


def whole_rupiah(value) -> int:
    """Whole Rupiah as `telecollect.money.parse_rupiah` reads them (1.500.000, 1500000.00, Rp 420.000,00 …)."""
    try:
        return parse_rupiah(value)
    except Refusal as exc:
        raise FieldError(exc.code, **exc.params) from None


def whole_number(value, low: int, high: int | None = None) -> int:
    raw = as_text(value)
    if not raw.isdigit():
        raise FieldError(f"expected a whole number, got {raw!r}")
    number = int(raw)
    if number < low or (high is not None and number > high):
        bound = f"{low}–{high}" if high is not None else f"{low} or more"
        raise FieldError(f"must be {bound}, got {number}")
    return number


def yes_no(value) -> bool:
    raw = as_text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise FieldError(f"expected yes/no, ya/tidak, 1/0 or true/false, got {raw!r}")


def iso_date(value, default: date) -> date:
    if isinstance(value, date):
        return value
    raw = as_text(value)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError(f"expected a date as YYYY-MM-DD, got {raw!r}") from None
