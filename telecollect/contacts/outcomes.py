"""The outcome codes of a contact attempt and what each one means.

One table, so that scheduling, reports and forms agree on every flag.
"""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Outcome(StrEnum):
    """The outcome codes: what `ContactAttempt.outcome` holds (a string, so `OUTCOMES[code]` and
    comparisons with the plain codes keep working). Each has its row in OUTCOMES."""

    no_answer = "no_answer"
    busy = "busy"
    unreachable = "unreachable"
    wrong_number = "wrong_number"
    wrong_party = "wrong_party"
    callback_requested = "callback_requested"
    promise_to_pay = "promise_to_pay"
    already_paid = "already_paid"
    refused = "refused"
    cannot_pay = "cannot_pay"
    interested_rehab = "interested_rehab"
    interested_autodebit = "interested_autodebit"
    moved = "moved"
    deceased = "deceased"


@dataclass(frozen=True)
class OutcomeKind:
    code: Outcome
    #: Someone answered (contact rate).
    reached: bool
    #: The participant or a family member who can pay (right-party contact).
    right_party: bool
    #: A promise to pay was made (needs date and amount).
    promise: bool = False
    #: The work item closes with this outcome as its reason.
    final: bool = False
    #: A callback at a requested time (needs callback_at).
    callback: bool = False
    #: The number dialled is not this participant's: mark it invalid.
    invalid_number: bool = False
    #: Default wait before the next attempt when nothing else is scheduled.
    retry_after: timedelta | None = None
    #: Keyboard shortcut on the call screen.
    key: str = ""


OUTCOMES: dict[str, OutcomeKind] = {
    o.code: o
    for o in (
        OutcomeKind(Outcome.no_answer, reached=False, right_party=False, retry_after=timedelta(hours=2), key="1"),
        OutcomeKind(Outcome.busy, reached=False, right_party=False, retry_after=timedelta(minutes=30), key="2"),
        OutcomeKind(Outcome.unreachable, reached=False, right_party=False, retry_after=timedelta(hours=4), key="3"),
        OutcomeKind(
            Outcome.wrong_number,
            reached=True,
            right_party=False,
            invalid_number=True,
            retry_after=timedelta(minutes=5),
            key="4",
        ),
        OutcomeKind(Outcome.wrong_party, reached=True, right_party=False, retry_after=timedelta(days=1), key="5"),
        OutcomeKind(Outcome.callback_requested, reached=True, right_party=True, callback=True, key="6"),
        OutcomeKind(Outcome.promise_to_pay, reached=True, right_party=True, promise=True, key="7"),
        OutcomeKind(Outcome.already_paid, reached=True, right_party=True, final=True, key="8"),
        OutcomeKind(Outcome.refused, reached=True, right_party=True, retry_after=timedelta(days=7), key="9"),
        OutcomeKind(Outcome.cannot_pay, reached=True, right_party=True, retry_after=timedelta(days=14), key="0"),
        OutcomeKind(Outcome.interested_rehab, reached=True, right_party=True, retry_after=timedelta(days=3), key="r"),
        OutcomeKind(
            Outcome.interested_autodebit, reached=True, right_party=True, retry_after=timedelta(days=3), key="a"
        ),
        OutcomeKind(Outcome.moved, reached=True, right_party=False, final=True, key="m"),
        OutcomeKind(Outcome.deceased, reached=True, right_party=False, final=True, key="d"),
    )
}

CHANNELS = ("phone", "whatsapp", "visit", "sms")
