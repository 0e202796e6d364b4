"""REHAB and other relief programs: who may join, on which day, and what each option costs.

Everything here is computed from a `ReliefProgram` row, so a changed program
(New REHAB 2.0, a future relaxation) is a new row with its own dates.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from telecollect.participants.contributions import family_monthly
from telecollect.participants.queries import family_arrears
from telecollect.programs.models import ProgramKind, ReliefProgram
from telecollect.reasons import Refusal


@dataclass
class Quote:
    program: ReliefProgram | None
    eligible: bool
    reasons: list[Refusal]
    months_in_arrears: int
    family_arrears_amount: int
    max_installments: int
    registration_open: bool
    options: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "program": self.program.code if self.program else None,
            "program_name": self.program.name if self.program else None,
            "eligible": self.eligible,
            "reasons": [str(reason) for reason in self.reasons],
            "months_in_arrears": self.months_in_arrears,
            "family_arrears_amount": self.family_arrears_amount,
            "max_installments": self.max_installments,
            "registration_open": self.registration_open,
            "options": self.options,
        }


def program_on(session, on: date, kind: ProgramKind = ProgramKind.installment) -> ReliefProgram | None:
    """The program of `kind` in force on `on` (the most recently started one)."""
    return session.scalar(
        select(ReliefProgram)
        .where(
            ReliefProgram.kind == kind,
            ReliefProgram.effective_from <= on,
            or_(ReliefProgram.effective_to.is_(None), ReliefProgram.effective_to >= on),
        )
        .order_by(ReliefProgram.effective_from.desc())
        .limit(1)
    )


def registration_open(program: ReliefProgram, on: date) -> bool:
    last_day = program.registration_last_day_february if on.month == 2 else program.registration_last_day
    return on.day <= last_day


def max_installments(program: ReliefProgram, months: int) -> int:
    """At most the program's cap, and at most months ÷ divisor (REHAB: min(12, months // 2))."""
    return max(0, min(program.max_installments or 0, months // (program.installment_divisor or 1)))


def split(total: int, parts: int) -> list[int]:
    """Whole-Rupiah installments that add up exactly to `total`; the first ones carry the remainder."""
    base, remainder = divmod(total, parts)
    return [base + (1 if index < remainder else 0) for index in range(parts)]


def rehab_quote(session, members, on: date) -> Quote:
    """Whether the family may join the installment program on `on`, and its options."""
    program = program_on(session, on)
    amount, months = family_arrears(members)
    if program is None:
        return Quote(None, False, [Refusal("rehab_no_program")], months, amount, 0, False)
    reasons = _eligibility_reasons(program, members, months)
    eligible = not reasons
    is_open = registration_open(program, on)
    if not is_open:
        reasons.append(
            Refusal(
                "rehab_registration_days",
                last=program.registration_last_day,
                feb=program.registration_last_day_february,
            )
        )
    limit = max_installments(program, months) if eligible else 0
    total = amount + (family_monthly(members) if program.includes_current_month else 0)
    options = (
        [
            {
                "installments": k,
                "amount_per_installment": split(total, k)[0],
                "amounts": split(total, k),
                "total": total,
            }
            for k in range(2, limit + 1)
        ]
        if eligible
        else []
    )
    return Quote(program, eligible, reasons, months, amount, limit, is_open, options)


def _eligibility_reasons(program: ReliefProgram, members, months: int) -> list[Refusal]:
    reasons = []
    allowed = set(program.segments.split(","))
    segments = sorted({m.segment.value for m in members})
    if not set(segments) <= allowed:
        reasons.append(
            Refusal(
                "rehab_segment",
                segments="/".join(segments),
                allowed=", ".join(sorted(allowed)),
            )
        )
    high = program.max_months
    if months < program.min_months or (high is not None and months > high):
        reasons.append(
            Refusal(
                "rehab_months",
                months=months,
                low=program.min_months,
                high=high or 999,
            )
        )
    return reasons
