"""Numbers as the line says them in Bahasa Indonesia: amounts in words (terbilang) and account numbers
digit by digit, so that any text-to-speech voice reads them the same way."""

DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_UNITS = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas")
_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))


def digit_by_digit(number: str) -> str:
    """'8888801' → 'delapan, delapan, delapan, delapan, delapan, nol, satu' (commas make the voice pause)."""
    return ", ".join(DIGITS[int(d)] for d in number if d.isascii() and d.isdigit())


def terbilang(n: int) -> str:
    """A whole number in Indonesian words: 1.250.000 → 'satu juta dua ratus lima puluh ribu'."""
    if n < 0:
        return "minus " + terbilang(-n)
    if n == 0:
        return "nol"
    return _words(n)


def _words(n: int) -> str:
    if n < 12:
        return _UNITS[n]
    if n < 20:
        return f"{_UNITS[n - 10]} belas"
    if n < 100:
        return _join(f"{_UNITS[n // 10]} puluh", n % 10)
    if n < 200:
        return _join("seratus", n - 100)
    if n < 1000:
        return _join(f"{_UNITS[n // 100]} ratus", n % 100)
    if n < 2000:
        return _join("seribu", n - 1000)
    if n < 10**6:
        return _join(f"{_words(n // 1000)} ribu", n % 1000)
    for scale, name in _SCALES:
        if n >= scale:
            return _join(f"{_words(n // scale)} {name}", n % scale)
    raise AssertionError("unreachable")


def _join(head: str, rest: int) -> str:
    return head if rest == 0 else f"{head} {_words(rest)}"
