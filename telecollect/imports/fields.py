"""Field parsers shared by the imports. Each returns a value or raises
`FieldError` with a reason (a code with parameters) a data officer can act on."""

import re
from datetime import date, timedelta

from telecollect.reasons import Refusal, quoted

#: JKN began on 1 January 2014: no arrears figure or payment of a participant is dated before it.
EARLIEST_DAY = date(2014, 1, 1)
#: How far ahead of the branch's today an arrears list may be dated (a list dated at the month's end,
#: uploaded a few days early). A figure dated far ahead would stay "current" until then, freezing the
#: participant's arrears against every later list.
AS_OF_MARGIN = timedelta(days=7)
#: Control characters a cell cannot hold (tab, line feed and carriage return are text): a NUL byte cannot
#: be stored by PostgreSQL at all, and none of them belongs in a name, an address or a number.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_TRUE = {"yes", "ya", "y", "1", "true", "t"}
_FALSE = {"no", "tidak", "n", "0", "false", "f", ""}


class FieldError(Refusal):
    """A cell that cannot be read; `str()` says why in the reader's language."""


def as_text(value) -> str:
    """Cell value as stripped text; spreadsheet numbers arrive as int (0 included)."""
    return "" if value is None else str(value).strip()


def text(value, max_length: int) -> str:
    result = as_text(value)
    if len(result) > max_length:
        raise FieldError("too_long", max=max_length)
    return result


def digits(value, length: int, code: str) -> str:
    """Exactly `length` ASCII digits (`str.isdigit` would take "²" and Arabic-Indic digits); `code` names the
    reason when not."""
    result = as_text(value)
    if not (len(result) == length and result.isascii() and result.isdigit()):
        raise FieldError(code, value=quoted(result))
    return result


def card_no(value) -> str:
    result = as_text(value)
    # Excel drops leading zeros of a number cell; a card number typed as a
    # number is padded back rather than rejected.
    if result.isascii() and result.isdigit() and len(result) < 13 and not isinstance(value, str):
        result = result.zfill(13)
    return digits(result, 13, "card_no_digits")


def whole_number(value, low: int, high: int | None = None) -> int:
    raw = as_text(value)
    if not (raw.isascii() and raw.isdigit()):
        raise FieldError("whole_number", value=quoted(raw))
    number = int(raw)
    if high is not None and not low <= number <= high:
        raise FieldError("number_range", low=low, high=high, number=number)
    if number < low:
        raise FieldError("number_min", low=low, number=number)
    return number


def yes_no(value) -> bool:
    raw = as_text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise FieldError("yes_no", value=quoted(raw))


def iso_date(value, default: date) -> date:
    if isinstance(value, date):
        return value
    raw = as_text(value)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError("iso_date", value=quoted(raw)) from None


def as_of_day(day: date, today: date) -> date:
    """An arrears list's date: not before JKN began, not more than `AS_OF_MARGIN` after `today`."""
    if day > today + AS_OF_MARGIN:
        raise FieldError("as_of_future", day=day.isoformat(), latest=(today + AS_OF_MARGIN).isoformat())
    if day < EARLIEST_DAY:
        raise FieldError("date_too_early", day=day.isoformat(), earliest=EARLIEST_DAY.isoformat())
    return day


def control_character_columns(raw: dict) -> list[str]:
    """The columns of a row whose text holds a control character (a NUL byte…); one search for the common
    case of a clean row."""
    try:
        joined = "\n".join(raw.values())  # a CSV row: text alone
    except TypeError:  # a spreadsheet's numbers and dates, or a count of extra values
        joined = "\n".join(value for value in raw.values() if isinstance(value, str))
    if not _CONTROL.search(joined):
        return []
    return [column for column, value in raw.items() if isinstance(value, str) and _CONTROL.search(value)]
