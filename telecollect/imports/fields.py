"""Field parsers shared by the imports. Each returns a value or raises
`FieldError` with a reason a data officer can act on."""
import re
from datetime import date

_AMOUNT_NOISE = re.compile(r"[\s.]")
_TRUE = {"yes", "ya", "y", "1", "true", "t"}
_FALSE = {"no", "tidak", "n", "0", "false", "f", ""}


class FieldError(ValueError):
    pass


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
    """Accepts 1500000, 1.500.000, Rp 1.500.000 and Rp1.500.000."""
    raw = as_text(value)
    cleaned = _AMOUNT_NOISE.sub("", raw)
    if cleaned[:2].lower() == "rp":
        cleaned = cleaned[2:]
    if not cleaned.isdigit():
        raise FieldError(f"expected whole Rupiah like 1.500.000, got {raw!r}")
    return int(cleaned)


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
