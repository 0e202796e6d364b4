"""What happened to a message, as its history keeps it: a code with parameters, worded when shown.

A history line is written by the dispatcher, a status callback or a supervisor, often in a job with no
reader; it is stored as `{"code": …, "params": {…}}` (JSON in `sms_events.detail`) and put into words on
the message page in the reader's language (`telecollect.messaging.labels.event_text`). Lines written
before this format are shown as they were.
"""

import json
from typing import Any

#: The column's size (`sms_events.detail`): a long parameter (a provider's error message) is cut so that the
#: stored line fits and stays valid JSON.
STORED_LIMIT = 300


def detail(code: str, /, **params: Any) -> str:
    """The stored form of one history line, at most `STORED_LIMIT` characters."""
    kept = {name: str(value) for name, value in params.items() if value is not None}
    while True:
        stored = json.dumps({"code": code, "params": kept} if kept else {"code": code}, ensure_ascii=False)
        excess = len(stored) - STORED_LIMIT
        if excess <= 0:
            return stored
        longest = max(kept, key=lambda name: len(kept[name]))
        kept[longest] = kept[longest][: max(0, len(kept[longest]) - excess - 1)] + "…"


def parse(stored: str | None) -> tuple[str, dict[str, str]] | None:
    """(code, params) of a stored line; None for a line in the old free-text form."""
    if not stored or not stored.startswith("{"):
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        return None
    return value["code"], dict(value.get("params") or {})


def code_of(stored: str | None) -> str | None:
    parsed = parse(stored)
    return parsed[0] if parsed else None
