"""Who is most worth contacting: a score a telecollector can read on screen.

amount     1 point per Rp100.000 the family owes, at most 40
months     1 point per month in arrears, at most 24
staleness  20 points if never reached, else 2 points per 3 days since the last contact, at most 20
reach      up to 10 points for past answers (answers ÷ attempts), 5 when never tried
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Score:
    total: int
    parts: tuple[tuple[str, int], ...]


def score(
    *, amount: int, months: int, last_contact_at: datetime | None, attempts: int, contacts: int, now: datetime
) -> Score:
    parts = (
        ("amount", min(40, amount // 100_000)),
        ("months", min(24, months)),
        ("staleness", 20 if last_contact_at is None else min(20, 2 * ((now - last_contact_at).days // 3))),
        ("reach", 5 if attempts == 0 else round(10 * contacts / attempts)),
    )
    return Score(sum(points for _name, points in parts), parts)
