"""The family's virtual account number (telecollect.accounts)."""

import pytest

from telecollect.accounts import VaPrefix, account_card, parse_prefixes, virtual_accounts
from telecollect.settings import Settings


def test_the_head_whose_card_is_the_family_id_names_the_account():
    cards = ["0001234567890", "0009999999999", "0000000000001"]
    assert virtual_accounts("0009999999999", cards, [VaPrefix("88888")]) == ["8888809999999999"]


def test_without_such_a_member_the_lowest_card_number_is_used():
    cards = ["0002222222222", "0001111111111"]
    assert account_card("FAMILY-X", cards) == "0001111111111"
    assert virtual_accounts("FAMILY-X", cards, [VaPrefix("88888"), VaPrefix("89888", "Mandiri")]) == [
        "8888801111111111",
        "8988801111111111",
    ]


def test_a_family_with_no_members_has_no_account():
    assert virtual_accounts("0001111111111", [], [VaPrefix("88888")]) == []


def test_prefixes_are_read_with_their_banks():
    assert parse_prefixes("88888, Mandiri=89888") == (VaPrefix("88888"), VaPrefix("89888", "Mandiri"))
    assert Settings().va_prefixes == (VaPrefix("88888"),)


@pytest.mark.parametrize("bad", ["", "8888", "888881", "Mandiri=", "88a88", "８８８８８"])
def test_a_bad_prefix_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="VA_PREFIXES"):
        parse_prefixes(bad)
