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
    # A cadre's outcomes (issue 13): what a visit or a WhatsApp message can end in.
    not_at_home = "not_at_home"
    whatsapp_sent = "whatsapp_sent"
    visited_explained = "visited_explained"
    #: "Tidak mau dihubungi": the family asked not to be contacted at all; the consent ledger records it for
    #: every number of the family on every channel, and for visits.
    do_not_contact = "do_not_contact"


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
    #: Offered on the telecollector's call screen (a cadre-only outcome is not).
    call: bool = True
    #: Offered on the cadre's sheet (one button each, in CADRE_OUTCOMES' order). A cadre may record any
    #: outcome through the API; a telecollector only those with `call`.
    cadre: bool = False


OUTCOMES: dict[str, OutcomeKind] = {
    o.code: o
    for o in (
        OutcomeKind(
            Outcome.no_answer, reached=False, right_party=False, retry_after=timedelta(hours=2), key="1", cadre=True
        ),
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
        OutcomeKind(Outcome.callback_requested, reached=True, right_party=True, callback=True, key="6", cadre=True),
        OutcomeKind(Outcome.promise_to_pay, reached=True, right_party=True, promise=True, key="7", cadre=True),
        OutcomeKind(Outcome.already_paid, reached=True, right_party=True, final=True, key="8", cadre=True),
        OutcomeKind(
            Outcome.refused, reached=True, right_party=True, retry_after=timedelta(days=7), key="9", cadre=True
        ),
        OutcomeKind(
            Outcome.cannot_pay, reached=True, right_party=True, retry_after=timedelta(days=14), key="0", cadre=True
        ),
        OutcomeKind(
            Outcome.interested_rehab,
            reached=True,
            right_party=True,
            retry_after=timedelta(days=3),
            key="r",
            cadre=True,
        ),
        OutcomeKind(
            Outcome.interested_autodebit, reached=True, right_party=True, retry_after=timedelta(days=3), key="a"
        ),
        OutcomeKind(Outcome.moved, reached=True, right_party=False, final=True, key="m", cadre=True),
        OutcomeKind(Outcome.deceased, reached=True, right_party=False, final=True, key="d", cadre=True),
        # Nobody at home on a visit: try again another day.
        OutcomeKind(
            Outcome.not_at_home, reached=False, right_party=False, retry_after=timedelta(days=1), call=False, cadre=True
        ),
        # A WhatsApp message sent, no answer yet: give it two days.
        OutcomeKind(
            Outcome.whatsapp_sent,
            reached=False,
            right_party=False,
            retry_after=timedelta(days=2),
            call=False,
            cadre=True,
        ),
        # The family asked not to be contacted again: the work ends, the ledger keeps their refusal.
        OutcomeKind(Outcome.do_not_contact, reached=True, right_party=True, final=True, key="x", cadre=True),
        # Met the family and explained the arrears and how to pay, no promise yet.
        OutcomeKind(
            Outcome.visited_explained,
            reached=True,
            right_party=True,
            retry_after=timedelta(days=7),
            call=False,
            cadre=True,
        ),
    )
}

#: The cadre's sheet, in the order she most often needs them: a visit or a message first, then what the
#: family said.
CADRE_OUTCOMES = tuple(
    OUTCOMES[code]
    for code in (
        Outcome.not_at_home,
        Outcome.whatsapp_sent,
        Outcome.visited_explained,
        Outcome.no_answer,
        Outcome.promise_to_pay,
        Outcome.callback_requested,
        Outcome.interested_rehab,
        Outcome.already_paid,
        Outcome.cannot_pay,
        Outcome.refused,
        Outcome.moved,
        Outcome.deceased,
        Outcome.do_not_contact,
    )
)

CHANNELS = ("phone", "whatsapp", "visit", "sms")


def parse_retry_delays(text: str) -> dict[str, timedelta]:
    """ "no_answer=2h,busy=30m,refused=7d" → per-outcome delays (overrides the defaults)."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    delays = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        code, _sep, amount = part.partition("=")
        if code not in OUTCOMES or not (amount[:-1].isascii() and amount[:-1].isdigit()) or amount[-1:] not in units:
            raise ValueError(f"RETRY_DELAYS entries look like no_answer=2h (m, h or d), got {part!r}")
        delays[code] = timedelta(**{units[amount[-1]]: int(amount[:-1])})
    return delays
