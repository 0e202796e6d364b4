"""Indonesian mobile numbers: one parser for imports, forms and messaging.

A wrong number reaches a stranger, so nothing is guessed: a number is ASCII
digits with the usual separators and at most one leading `+`; letters, a
spreadsheet's float tail (`81234567890.0`) or two numbers in one cell are
refused with their own reason, never cleaned into some other number.
"""

import re
from functools import cache

import phonenumbers

from telecollect.reasons import Refusal, quoted

_SEPARATORS = re.compile(r"[\s\-().\u00a0\u202f]")
#: What a written number may hold: digits, separators, one leading plus.
_WRITTEN_NUMBER = re.compile(r"\+?[0-9\s\-().\u00a0\u202f]+")
#: How a spreadsheet writes a number it took for a quantity: 81234567890.0 or .00, 8.1234567890E+10.
#: (A group of three or more zeros after a dot is a written group: 0811.000.000.
_NUMBER_CELL = re.compile(r"\+?[0-9]+[.,]0{1,2}|[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
#: What separates two numbers written in one cell.
_TWO_NUMBERS = re.compile(r"[/,;&|\n]|\b(?:atau|dan|or|and)\b", re.IGNORECASE)
#: What people write in a phone column when there is no number.
NO_NUMBER = frozenset(
    {
        "-",
        "--",
        "—",
        "–",
        "0",
        ".",
        "tidak ada",
        "tdk ada",
        "tidak punya",
        "ga ada",
        "gak ada",
        "kosong",
        "none",
        "null",
        "nil",
        "n/a",
        "na",
        "#n/a",
        "x",
    }
)


class InvalidPhone(Refusal):
    """A value that is not an Indonesian mobile number, with the reason why."""


def is_no_number(raw: object) -> bool:
    """Whether a cell says "no phone" (blank, `-`, `0`, `tidak ada`, …) rather than holding a number."""
    if raw is None:
        return True
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw == 0
    return str(raw).strip().lower() in NO_NUMBER or not str(raw).strip()


def normalize_mobile(raw: object) -> str:
    """Return `raw` in E.164 (+6281234567890) or raise `InvalidPhone` saying why.

    Accepts the usual ways of writing a number: 0812-3456-7890, +62 812 3456
    7890, 62812..., 812..., and a whole number from a typed spreadsheet cell.
    A leading 62 gets its +; anything else is parsed with region ID. The result
    must be a valid MOBILE number.
    """
    written = _written(raw)
    digits = _SEPARATORS.sub("", written)
    national = _indonesian_national_number(digits)
    if national is None:
        national = _parse_other_forms(digits)
    if not _is_mobile(national[:5], len(national)):
        raise InvalidPhone("phone_invalid")
    return f"+62{national}"


def _written(raw: object) -> str:
    """The number as text, refused when it cannot be read without guessing."""
    if isinstance(raw, bool):
        raise InvalidPhone("phone_characters", value=quoted(raw))
    if isinstance(raw, float):
        if not raw.is_integer():
            raise InvalidPhone("phone_number_cell", value=quoted(raw))
        raw = int(raw)
    written = str(raw).strip()
    if _NUMBER_CELL.fullmatch(written):
        raise InvalidPhone("phone_number_cell", value=quoted(written))
    if _WRITTEN_NUMBER.fullmatch(written):
        return written
    if _TWO_NUMBERS.search(written) and sum(ch.isdigit() for ch in written) >= 16:
        raise InvalidPhone("phone_two_numbers", value=quoted(written))
    raise InvalidPhone("phone_characters", value=quoted(written))


def _indonesian_national_number(digits: str) -> str | None:
    """The national number for the usual Indonesian spellings, or None.

    +62…, 62…, 0… and a bare 8… cover nearly every row of a real file; they are
    split here directly because libphonenumber's general parser costs ~100 µs
    a number, which a million-row import cannot afford.
    """
    if not digits.lstrip("+").isdigit():
        return None
    if digits.startswith("+62"):
        national = digits[3:]
    elif digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0") and not digits.startswith("00"):
        national = digits[1:]
    elif digits.startswith("8"):
        national = digits
    else:
        return None
    return national if 6 <= len(national) <= 13 and national[0] != "0" else None


def _parse_other_forms(digits: str) -> str:
    if not digits.lstrip("+").isdigit() or digits.count("+") > 1:
        raise InvalidPhone("phone_invalid")
    try:
        number = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("phone_invalid") from exc
    if number.country_code != 62:
        raise InvalidPhone("phone_not_indonesian")
    return str(number.national_number)


@cache
def _is_mobile(prefix: str, length: int) -> bool:
    # libphonenumber decides an Indonesian number's type from its first digits
    # and its length alone (the mobile pattern is 8[1-35-9]\d{7,10}), so the
    # answer is memoised per (prefix, length): a million-row import then costs
    # a few thousand real checks instead of a million. A test compares this
    # with the full check on random numbers.
    try:
        sample = phonenumbers.parse("+62" + prefix + "0" * (length - len(prefix)), None)
    except phonenumbers.NumberParseException:
        return False
    return _full_check(sample)


def _full_check(number: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def is_mobile_number(e164: str) -> bool:
    """The full libphonenumber check, without the memo (for tests and audits)."""
    return _full_check(phonenumbers.parse(e164, None))


def mask_phone(e164: str | None) -> str:
    """+6281234567890 → +62812•••••890: enough to recognise, not to dial."""
    if not e164:
        return ""
    return e164[:6] + "•" * (len(e164) - 9) + e164[-3:]


def wa_digits(e164: str) -> str:
    """wa.me links take the number without the plus sign."""
    return e164.lstrip("+")


#: A SIP address Twilio can ring: sip:user@host, with an optional port and ;parameters (transport=tls).
_SIP_URI = re.compile(r"sips?:[A-Za-z0-9._~%!$&'()*+,;=-]+@[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:;[A-Za-z0-9=._-]+)*")


def normalize_agent_phone(raw: object) -> str:
    """The phone Twilio rings for a telecollector: any valid Indonesian number (desk line or mobile,
    written as people write it) in E.164, or a `sip:` URI kept as written. Raises `InvalidPhone`
    ("agent_phone_invalid") otherwise: a number abroad would be a toll bill, not an agent."""
    written = str(raw or "").strip()
    if written.lower().startswith(("sip:", "sips:")):
        if len(written) > 120 or not _SIP_URI.fullmatch(written):
            raise InvalidPhone("agent_phone_invalid")
        return written
    digits = _SEPARATORS.sub("", written)
    if not _WRITTEN_NUMBER.fullmatch(written) or not digits:
        raise InvalidPhone("agent_phone_invalid")
    if digits.startswith("62"):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException:
        raise InvalidPhone("agent_phone_invalid") from None
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        raise InvalidPhone("agent_phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
