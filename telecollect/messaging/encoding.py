"""GSM-7 or UCS-2, and how many SMS segments a text costs."""

import math

# The GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def non_gsm_characters(text: str) -> list[str]:
    """The characters that force UCS-2 (each listed once, in order of appearance)."""
    return list(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION))


def encoding_of(text: str) -> str:
    return "UCS-2" if non_gsm_characters(text) else "GSM-7"


def segment_count(text: str) -> int:
    """1 segment up to 160 GSM-7 septets (70 UCS-2 characters); beyond, 153 (67) per segment."""
    if encoding_of(text) == "GSM-7":
        length = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi = 160, 153
    else:
        length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units
        single, multi = 70, 67
    if length <= single:
        return 1
    return math.ceil(length / multi)
