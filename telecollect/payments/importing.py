"""The payment file format: columns, and how one row is validated."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from telecollect.imports import fields
from telecollect.imports.fields import FieldError
from telecollect.imports.reader import EXTRA_VALUES
from telecollect.money import parse_positive_rupiah
from telecollect.payments.models import PAYMENT_CHANNELS
from telecollect.reasons import Refusal, quoted

COLUMNS = ("card_no", "family_id", "amount", "paid_on", "reference", "channel")
REQUIRED = ("amount", "paid_on", "reference")
_CHANNEL_ALIASES = {
    "mobile jkn": "mobile_jkn",
    "mobilejkn": "mobile_jkn",
    "m-jkn": "mobile_jkn",
    "pos": "post_office",
    "kantor pos": "post_office",
    "kantor cabang": "branch",
    "auto debit": "autodebit",
}


@dataclass(slots=True)
class PaymentRow:
    line: int
    card_no: str | None
    family_key: str | None
    amount: int
    paid_on: date
    reference: str
    channel: str


def missing_columns(header: list[str]) -> list[str]:
    missing = [column for column in REQUIRED if column not in header]
    if "card_no" not in header and "family_id" not in header:
        missing.append("card_no or family_id")
    return missing


def validate_row(line: int, raw: dict, today: date) -> tuple[PaymentRow | None, list[tuple[str | None, Refusal]]]:
    errors: list[tuple[str | None, Refusal]] = []

    def parsed(column, parse, *args):
        try:
            return parse(raw.get(column), *args)
        except Refusal as exc:  # FieldError included
            errors.append((column, exc))
            return None

    if EXTRA_VALUES in raw:
        errors.append((None, Refusal("extra_values")))
    card = None if _blank(raw.get("card_no")) else parsed("card_no", fields.card_no)
    family = None if _blank(raw.get("family_id")) else parsed("family_id", fields.text, 32)
    if card is None and family is None and not any(c in (e[0] for e in errors) for c in ("card_no", "family_id")):
        errors.append(("card_no", Refusal("card_or_family_required")))
    amount = parsed("amount", _amount)
    paid_on = parsed("paid_on", _paid_on, today)
    reference = parsed("reference", _reference)
    channel = parsed("channel", _channel)
    if errors:
        return None, errors
    return PaymentRow(line, card, family, amount, paid_on, reference, channel), []


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


#: A payment file holds few distinct amounts, days and channels: each is read once (`typed`: 1 and 1.0 are
#: different cells). A refused value is not kept; it is read again, and refused again, each time.
_MEMO = lru_cache(maxsize=4096, typed=True)
_amount = _MEMO(parse_positive_rupiah)


@_MEMO
def _paid_on(value, today: date) -> date:
    if _blank(value):
        raise FieldError("required")
    paid = fields.iso_date(value, today)
    if paid > today:
        raise FieldError("future_date", day=paid.isoformat())
    if paid < fields.EARLIEST_DAY:
        raise FieldError("date_too_early", day=paid.isoformat(), earliest=fields.EARLIEST_DAY.isoformat())
    return paid


def _reference(value) -> str:
    if _blank(value):
        raise FieldError("required")
    return fields.text(value, 64)


@_MEMO
def _channel(value) -> str:
    if _blank(value):
        return "other"
    raw = fields.as_text(value).lower()
    channel = _CHANNEL_ALIASES.get(raw, raw.replace(" ", "_"))
    if channel not in PAYMENT_CHANNELS:
        raise FieldError("choice", choices=", ".join(PAYMENT_CHANNELS), value=quoted(raw))
    return channel
