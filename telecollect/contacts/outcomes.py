"""The outcome codes of a contact attempt and what each one means.

One table, so that scheduling, reports and forms agree on every flag.
"""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class OutcomeKind:
    code: str
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
        OutcomeKind("no_answer", reached=False, right_party=False, retry_after=timedelta(hours=2), key="1"),
        OutcomeKind("busy", reached=False, right_party=False, retry_after=timedelta(minutes=30), key="2"),
        OutcomeKind("unreachable", reached=False, right_party=False, retry_after=timedelta(hours=4), key="3"),
        OutcomeKind(
            "wrong_number",
            reached=True,
            right_party=False,
            invalid_number=True,
            retry_after=timedelta(minutes=5),
            key="4",
        ),
        OutcomeKind("wrong_party", reached=True, right_party=False, retry_after=timedelta(days=1), key="5"),
        OutcomeKind("callback_requested", reached=True, right_party=True, callback=True, key="6"),
        OutcomeKind("promise_to_pay", reached=True, right_party=True, promise=True, key="7"),
        OutcomeKind("already_paid", reached=True, right_party=True, final=True, key="8"),
        OutcomeKind("refused", reached=True, right_party=True, retry_after=timedelta(days=7), key="9"),
        OutcomeKind("cannot_pay", reached=True, right_party=True, retry_after=timedelta(days=14), key="0"),
        OutcomeKind("interested_rehab", reached=True, right_party=True, retry_after=timedelta(days=3), key="r"),
        OutcomeKind("interested_autodebit", reached=True, right_party=True, retry_after=timedelta(days=3), key="a"),
        OutcomeKind("moved", reached=True, right_party=False, final=True, key="m"),
        OutcomeKind("deceased", reached=True, right_party=False, final=True, key="d"),
    )
}

CHANNELS = ("phone", "whatsapp", "visit", "sms")
