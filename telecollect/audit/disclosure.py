"""Showing personal data: the record of each showing, and how fast one user may be shown it.

Full phone numbers and NIKs are shown where the work needs them (the call screen, the cadre list,
the API's work items, a supervisor's NIK search). Every showing is one audit event naming the
participants whose data was shown; walking many records quickly (sequential work-item ids, NIK
guesses) is slowed by the shared counters in `telecollect.throttle`, which every process sees.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from telecollect import throttle
from telecollect.audit.models import AuditEvent
from telecollect.audit.services import record
from telecollect.errors import TooManyRequests

#: Distinct records with full numbers (work items, participants) one user may open per window;
#: re-opening one already opened in the window is free (the call screen reloads after every action).
READS = (20, timedelta(minutes=1))
#: Participant searches by number or name one user may run per window.
SEARCHES = (30, timedelta(minutes=1))


def record_shown(session, user, action: str, shown: Iterable[str], *, via: str, target=None) -> AuditEvent | None:
    """One audit event naming the participants (card numbers) whose full number or NIK `user` was
    shown, `via` which screen or endpoint; nothing when nothing personal was shown."""
    cards = list(shown)
    if not cards:
        return None
    return record(session, action, user=user, target=target, detail=f"{via}: {', '.join(cards)}")


def check_read(session, user, record_key: str, now: datetime) -> None:
    """Count a read of one record (`"work_item:<id>"`, `"participant:<card_no>"`) by `user`; raises
    `TooManyRequests` past `READS` distinct records per window (re-reading one is free). Commits its
    counts at once (see `throttle.hit`)."""
    limit, window = READS
    seen_key = f"seen:{user.id}:{record_key}"
    if throttle.peek(session, seen_key, window=window, now=now):
        return
    verdict = throttle.hit(session, f"reads:{user.id}", limit=limit, window=window, now=now)
    if not verdict.allowed:
        raise TooManyRequests("too_many_reads", retry_after=verdict.retry_after(now))
    throttle.hit(session, seen_key, limit=1, window=window, now=now)


def check_search(session, user, now: datetime) -> None:
    """Count one participant search by `user`; raises `TooManyRequests` past `SEARCHES` per window."""
    limit, window = SEARCHES
    verdict = throttle.hit(session, f"search:{user.id}", limit=limit, window=window, now=now)
    if not verdict.allowed:
        raise TooManyRequests("too_many_searches", retry_after=verdict.retry_after(now))
