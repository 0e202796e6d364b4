"""The family's virtual account numbers: the one rule for how a participant pays by transfer.

A JKN family pays into one virtual account: a bank's prefix (BPJS Kesehatan's general one is 88888; some
banks use their own, e.g. 89888 at Mandiri) followed by the last 11 digits of a family card number. The card
is the one whose number is the family's id (BPJS family ids are the head's card number); a family imported
without such a member uses its lowest card number, the same member every time.
"""

from collections.abc import Iterable
from dataclasses import dataclass

#: BPJS Kesehatan's own prefix, accepted by every bank, ATM and minimarket channel.
DEFAULT_PREFIX = "88888"


@dataclass(frozen=True)
class VaPrefix:
    """A virtual-account prefix and whose it is ("" for BPJS's general one)."""

    prefix: str
    bank: str = ""


def parse_prefixes(text: str) -> tuple[VaPrefix, ...]:
    """`VA_PREFIXES`: "88888" or "88888,Mandiri=89888": a comma list of PREFIX or BANK=PREFIX, five digits each.

    A bad entry raises ValueError naming it (a wrong prefix would send every payment to nowhere)."""
    prefixes = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        bank, _, prefix = entry.rpartition("=")
        prefix = prefix.strip()
        if not (len(prefix) == 5 and prefix.isascii() and prefix.isdigit()):
            raise ValueError(f"VA_PREFIXES: {entry!r} is not PREFIX or BANK=PREFIX with a five-digit prefix")
        prefixes.append(VaPrefix(prefix, bank.strip()))
    if not prefixes:
        raise ValueError("VA_PREFIXES must name at least one five-digit prefix")
    return tuple(prefixes)


def account_card(family_key: str, card_numbers: Iterable[str]) -> str | None:
    """The card number the family's virtual account is built on (None for a family with no members)."""
    cards = sorted(card_numbers)
    if not cards:
        return None
    return family_key if family_key in cards else cards[0]


def virtual_accounts(family_key: str, card_numbers: Iterable[str], prefixes: Iterable[VaPrefix]) -> list[str]:
    """One 16-digit virtual account number per configured prefix, in the prefixes' order."""
    card = account_card(family_key, card_numbers)
    if card is None:
        return []
    return [p.prefix + card[-11:] for p in prefixes]


def family_virtual_accounts(family, prefixes: Iterable[VaPrefix]) -> list[str]:
    """`virtual_accounts` for a loaded `Family` (its members' card numbers)."""
    return virtual_accounts(family.key, (m.card_no for m in family.members), prefixes)
