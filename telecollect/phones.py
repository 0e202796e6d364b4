"""Indonesian mobile numbers: one parser for imports, forms and messaging."""
import re
from functools import lru_cache

import phonenumbers

_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhone(ValueError):
    pass


def normalize_mobile(raw: str) -> str:
    """Return `raw` in E.164 (+6281234567890) or raise `InvalidPhone` saying why.

    Accepts the usual ways of writing a number: 0812-3456-7890, +62 812 3456
    7890, 62812..., 812.... A leading 62 gets its +; anything else is parsed
    with region ID. The result must be a valid MOBILE number.
    """
    digits = _SEPARATORS.sub("", raw.strip())
    national = _indonesian_national_number(digits)
    if national is None:
        national = _parse_other_forms(digits)
    if not _is_mobile(national[:5], len(national)):
        raise InvalidPhone("not a valid Indonesian mobile number")
    return f"+62{national}"


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
    try:
        number = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    if number.country_code != 62:
        raise InvalidPhone("not an Indonesian number")
    return str(number.national_number)


@lru_cache(maxsize=None)
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


def _full_check(number) -> bool:
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
