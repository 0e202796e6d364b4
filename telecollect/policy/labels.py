"""How the days of the week are named on screen (the codes mon…sun stay in settings and data)."""

from telecollect.policy.rules import DAY_NAMES
from telecollect.reasons import WEEKDAYS

WEEKDAY_LABELS = dict(zip(DAY_NAMES, WEEKDAYS, strict=True))


def weekdays_label(days) -> str:
    """Weekday numbers (0 = Monday) as words: "Senin, Selasa, Rabu"."""
    return ", ".join(str(WEEKDAYS[day]) for day in sorted(days))
