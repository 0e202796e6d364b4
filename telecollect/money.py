"""Rupiah as people and tools write them: read exactly, or refused with a reason.

The one owner of the rule for every amount that comes in (import files, forms,
the JSON API, CLI options). Nothing here guesses: a written amount either has
exactly one reading or it is refused.

- Only ASCII 0–9 are digits (not `²`, not Arabic-Indic digits).
- An optional `Rp`, `Rp.` or `IDR` prefix and spaces around the number are
  dropped; non-breaking spaces (U+00A0, U+202F, common in exports) are spaces.
- A `.`, `,` or space followed by exactly three digits separates thousands; all
  the thousands separators of an amount are the same character, and the first
  group has 1–3 digits and no leading zero (`0.500` is refused, not read as 500).
- One final `.` or `,` followed by one or two digits is the decimal part: it
  must differ from the thousands separator and be zero (`1.500.000,00`,
  `1,500,000.00`, `1500000.00`); anything else there is a fraction and refused.
- A trailing `,-` means "no decimals" (`4.350.000,-`).
- A minus sign or brackets mean a negative amount, which is refused.
- A typed number (an XLSX or JSON cell) counts only when it is whole and finite;
  the bound (`MAX_RUPIAH`, below 2^53, where a float still holds every whole
  number exactly) keeps out a float that may not be what was typed. `True` is
  not a number.

Every refusal is a `Refusal` with an `amount_*` code (see `telecollect.reasons`).
"""

import math
import re
from decimal import Decimal

from telecollect.formatting import rupiah
from telecollect.reasons import Refusal, quoted

#: The largest amount accepted, Rp999.999.999.999 (just under one trillion). No family owes, pays or
#: promises anywhere near it, so anything larger is a misread column (a NIK or card number in the amount
#: cell); it stays far below 2^53, so it survives a JSON or spreadsheet float exactly, and a million such
#: amounts still add up inside a 64-bit BIGINT (about 9.2 × 10^18).
MAX_RUPIAH = 999_999_999_999
#: MAX_RUPIAH is twelve nines, so twelve digits or fewer never pass it.
_MAX_DIGITS = len(str(MAX_RUPIAH))

_PREFIX = re.compile(r"(?:rp\.?|idr)\s*", re.IGNORECASE)
#: Unicode spaces (U+00A0, U+202F, tabs …) become one plain space; runs of them count as one.
_SPACES = re.compile(r"\s+")
#: A written amount's shape: groups of ASCII digits, one separator between two groups.
_SHAPE = re.compile(r"[0-9]+(?:[., ][0-9]+)*")
_SEPARATORS = re.compile(r"([., ])")
_MINUS = ("-", "\u2212")  # hyphen-minus and the minus sign
#: The form the app itself shows (Rp1.500.000), read with one match; at most twelve digits.
_DOTTED = re.compile(r"(?:[Rr][Pp]\.? ?)?([1-9][0-9]{0,2}(?:\.[0-9]{3}){1,3})")


def parse_rupiah(value: object) -> int:
    """Whole Rupiah from a written amount or a typed cell; 0 included.

    Raises `Refusal` with code `required` (blank), `amount_format`, `amount_fraction`,
    `amount_negative` or `amount_too_large`.
    """
    if isinstance(value, str):
        # The fast path, as most export files write amounts: up to 12 ASCII digits cannot pass MAX_RUPIAH.
        if value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
            return int(value)
        dotted = _DOTTED.fullmatch(value)
        if dotted:
            return int(dotted[1].replace(".", ""))
        return _parse_text(value)
    if type(value) is int and 0 <= value <= MAX_RUPIAH:  # a number cell or JSON number, as most are
        return value
    return _parse_number(value)


def parse_positive_rupiah(value: object) -> int:
    """Like `parse_rupiah`, for amounts that must be above zero (a payment, a promise, a minimum).

    Raises `Refusal` as `parse_rupiah` does, or with code `amount_not_positive`.
    """
    amount = parse_rupiah(value)
    if amount <= 0:
        raise Refusal("amount_not_positive", value=_shown(value))
    return amount


def _parse_number(value: object) -> int:
    if value is None:
        raise Refusal("required")
    shown = _shown(value)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise Refusal("amount_format", value=shown)
    if isinstance(value, float | Decimal):
        if not (math.isfinite(value) if isinstance(value, float) else value.is_finite()):
            raise Refusal("amount_format", value=shown)
        if value != int(value):
            raise Refusal("amount_negative" if value < 0 else "amount_fraction", value=shown)
    if value < 0:
        raise Refusal("amount_negative", value=shown)
    amount = int(value)
    if amount > MAX_RUPIAH:
        raise _too_large(shown)
    return amount


def _parse_text(raw: str) -> int:
    text = _SPACES.sub(" ", raw).strip()
    if not text:
        raise Refusal("required")
    text, negative = _without_sign(text)
    prefix = _PREFIX.match(text)
    if prefix:
        text, negative_after = _without_sign(text[prefix.end() :].strip())
        negative = negative or negative_after
    no_decimals = text.endswith(",-")
    if no_decimals:
        text = text[:-2].rstrip()
    if not _SHAPE.fullmatch(text):
        raise Refusal("amount_format", value=_shown(raw))
    amount = _digits_of(text, no_decimals, raw)
    if negative:
        raise Refusal("amount_negative", value=_shown(raw))
    return amount


def _without_sign(text: str) -> tuple[str, bool]:
    """Text without a leading or trailing minus or surrounding brackets, and whether it had one."""
    if len(text) > 1 and text[0] == "(" and text[-1] == ")":
        return text[1:-1].strip(), True
    if text[:1] in _MINUS:
        return text[1:].strip(), True
    if text[-1:] in _MINUS and not text.endswith(",-"):
        return text[:-1].strip(), True  # accounting exports put the minus last
    return text, False


def _digits_of(text: str, no_decimals: bool, raw: str) -> int:
    """The whole Rupiah of digit groups joined by `.`, `,` or a space (the shape is already checked)."""
    parts = _SEPARATORS.split(text)
    groups, separators = parts[0::2], parts[1::2]
    decimal_mark = fraction = None
    if separators and separators[-1] != " " and len(groups[-1]) in (1, 2):
        if no_decimals:  # `1.500,50,-`: decimals and "no decimals" at once
            raise Refusal("amount_format", value=_shown(raw))
        decimal_mark, fraction = separators.pop(), groups.pop()
    if separators:
        thousands = separators[0]
        if any(s != thousands for s in separators) or thousands == decimal_mark:
            raise Refusal("amount_format", value=_shown(raw))  # `1,500.000`, `1.500.00`: more than one reading
        if not 1 <= len(groups[0]) <= 3 or groups[0][0] == "0" or any(len(g) != 3 for g in groups[1:]):
            raise Refusal("amount_format", value=_shown(raw))  # `1.50.000`, `1.5000`, `1234.567`, `0.500`
    if fraction is not None and fraction.strip("0"):
        raise Refusal("amount_fraction", value=_shown(raw))
    digits = "".join(groups)
    if len(digits.lstrip("0")) > _MAX_DIGITS:  # before int(): a long text is refused without converting it
        raise _too_large(_shown(raw))
    amount = int(digits)
    if amount > MAX_RUPIAH:
        raise _too_large(_shown(raw))
    return amount


def _too_large(shown: str) -> Refusal:
    return Refusal("amount_too_large", value=shown, limit=rupiah(MAX_RUPIAH))


def _shown(value: object) -> str:
    """The value as the user wrote or typed it, quoted: 1050000.5 for a float cell, not 1.0500005e6."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return quoted(int(value))
    return quoted(value.strip() if isinstance(value, str) else value)
