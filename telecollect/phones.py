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
    if digits.startswith("62"):
        digits = "+" + digits
    elif digits.startswith("8"):
        digits = "0" + digits
    if not re.fullmatch(r"\+?\d{6,16}", digits):
        raise InvalidPhone("not a phone number")
    try:
        number = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    if number.country_code != 62:
        raise InvalidPhone("not an Indonesian number")
    national = str(number.national_number)
    if not _is_mobile(national[:5], len(national)):
        raise InvalidPhone("not a valid Indonesian mobile number")
    return f"+62{national}"


@lru_cache(maxsize=None)
def _is_mobile(prefix: str, length: int) -> bool:
    # libphonenumber decides an Indonesian number's type from its first digits
    # and its length alone (the mobile pattern is 8[1-35-9]\d{7,10}), so the
    # answer is memoised per (prefix, length): a million-row import then costs
    # a few thousand real checks instead of a million. A test compares this
    # with the full check on random numbers.
    sample = phonenumbers.parse("+62" + prefix + "0" * (length - len(prefix)), None)
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
