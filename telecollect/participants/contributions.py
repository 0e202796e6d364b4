"""What a participant pays a month: one rule for allocation, REHAB quotes and reactivation.

Perpres 64/2020: Kelas I Rp150.000, Kelas II Rp100.000, Kelas III Rp35.000 as paid by the participant from
2021 (the government pays the rest of the Rp42.000).
"""

MONTHLY_CONTRIBUTION = {1: 150_000, 2: 100_000, 3: 35_000}


def member_monthly(member) -> int:
    """A member's monthly contribution: from the class, else from the arrears figure itself."""
    if member.klass in MONTHLY_CONTRIBUTION:
        return MONTHLY_CONTRIBUTION[member.klass]
    return member.arrears_amount // member.months_in_arrears if member.months_in_arrears else 0


def family_monthly(members) -> int:
    return sum(member_monthly(m) for m in members)
