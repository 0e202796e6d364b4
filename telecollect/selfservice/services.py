"""The self-service line's record of each call: the one writer of `line_calls`.

A call is found by Twilio's CallSid on every request of its menu. Who is calling is kept only as an HMAC of
the number (to limit wrong card digits per number across calls), never the number itself; the family is
kept only when the number is registered on exactly one.
"""

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import func, select

from telecollect.audit import services as audit
from telecollect.db import lock_for
from telecollect.selfservice.models import LineCall

#: Wrong last-4 digits allowed in one call, and for one number in a day (caller ID can be forged: a forger
#: gets a few guesses of 10,000, never a search).
MAX_FAILURES_PER_CALL = 3
MAX_FAILURES_PER_DAY = 5
#: The audit action of personal figures told on the line; its detail says what ("status", "bill", "callback").
DISCLOSE_ACTION = "line.disclose"


def caller_hash(secret: str, number: str) -> str:
    """The caller's number, as kept: an HMAC-SHA256 under the app's secret."""
    return hmac.new(secret.encode(), number.encode(), hashlib.sha256).hexdigest()


def start_call(session, *, sid: str, caller: str, family_ids: list[int], now: datetime) -> LineCall:
    """The call's row (Twilio asks the first TwiML once, or again on a retry: one row per CallSid).
    `family_ids` are the families the number is registered on."""
    lock_for(session, f"line:{sid}")
    call = session.scalar(select(LineCall).where(LineCall.twilio_sid == sid))
    if call is not None:
        return call
    call = LineCall(
        twilio_sid=sid,
        caller_hash=caller,
        family_id=family_ids[0] if len(family_ids) == 1 else None,
        families_matched=len(family_ids),
        started_at=now,
        last_at=now,
    )
    session.add(call)
    session.flush()
    return call


def call_for_update(session, sid: str) -> LineCall | None:
    """The call named by Twilio's CallSid, locked for this request."""
    lock_for(session, f"line:{sid}")
    return session.scalar(select(LineCall).where(LineCall.twilio_sid == sid).with_for_update())


def chose(call: LineCall, digit: str, now: datetime) -> None:
    """A menu key pressed (kept in order, as long as the column holds)."""
    keys = [k for k in call.choices.split(",") if k] + [digit]
    call.choices = ",".join(keys)[-60:].lstrip(",")
    call.last_at = now


def may_verify(session, call: LineCall, now: datetime) -> bool:
    """Whether the caller may still key card digits: her number is on exactly one family, this call and her
    number's last day have tries left."""
    if call.family_id is None or call.verify_failures >= MAX_FAILURES_PER_CALL:
        return False
    failed = session.scalar(
        select(func.coalesce(func.sum(LineCall.verify_failures), 0)).where(
            LineCall.caller_hash == call.caller_hash, LineCall.started_at > now - timedelta(days=1)
        )
    )
    return int(failed or 0) < MAX_FAILURES_PER_DAY


def verify(call: LineCall, digits: str, card_numbers: list[str], now: datetime) -> bool:
    """The caller keyed the last 4 digits of a family member's card number: right, or one failure more."""
    call.last_at = now
    right = len(digits) == 4 and digits.isascii() and digits.isdigit() and any(c[-4:] == digits for c in card_numbers)
    if right:
        call.is_verified = True
    else:
        call.verify_failures += 1
    return right


def disclosed(session, call: LineCall, what: str) -> None:
    """Personal figures were told to a verified caller: kept on the call and on the audit log."""
    told = [k for k in call.disclosed.split(",") if k]
    if what not in told:
        call.disclosed = ",".join([*told, what])[:60]
    audit.record(session, DISCLOSE_ACTION, target=call, detail=f"family={call.family_id} {what}")


def callback_asked(call: LineCall) -> None:
    call.is_callback_requested = True
