"""How money, identifiers and times are shown: one place for each rule."""

from datetime import date, datetime

from telecollect.clock import ZONES


def rupiah(amount: int | None) -> str:
    """1234567 → Rp1.234.567 (whole Rupiah, dot as thousands separator)."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(int(amount)):,}".replace(",", ".")


def mask_nik(nik: str | None) -> str:
    """Show only the last four digits of a NIK."""
    if not nik:
        return ""
    return "•" * (len(nik) - 4) + nik[-4:]


def local_datetime(value: datetime | None, zone: str) -> str:
    """An aware datetime shown in one of the three Indonesian zones."""
    if value is None:
        return ""
    return value.astimezone(ZONES[zone]).strftime("%d-%m-%Y %H:%M ") + zone


def local_date(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else ""
