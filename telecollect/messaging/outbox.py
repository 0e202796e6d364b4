"""Putting SMS in the outbox: one row per message, in the caller's transaction."""

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from telecollect.accounts import virtual_accounts
from telecollect.db import insert_ignoring_duplicates, now_utc
from telecollect.errors import ServiceError
from telecollect.formatting import local_date, rupiah
from telecollect.messaging import events, templates
from telecollect.messaging.encoding import encoding_of, segment_count
from telecollect.messaging.models import SmsEvent, SmsKind, SmsMessage, SmsStatus
from telecollect.participants.queries import family_arrears
from telecollect.settings import installation

#: Which template each kind uses.
TEMPLATE_OF = {kind: f"sms_{kind.value}" for kind in SmsKind}


def message_values(members, to_phone: str | None = None, **extra) -> dict:
    """The variables every SMS template may use, for one family (all its members: the virtual account is
    the family's, `telecollect.accounts`). `{nama}` is the member the number belongs to (the first member
    when none does), so a message to a mother's phone never greets her child."""
    amount, months = family_arrears(members)
    reader = next((m for m in members if to_phone and to_phone in (m.phone, m.phone2)), None)
    reader = reader or (members[0] if members else None)
    # The installation's settings, as `cabang` reads its config: queue_sms has many callers (planner, replies,
    # outcomes), none of which carries the settings yet.
    settings = installation()
    accounts = (
        virtual_accounts(members[0].family.key, (m.card_no for m in members), settings.va_prefixes) if members else []
    )
    return {
        "nama": reader.name if reader else "",
        "jumlah": rupiah(amount),
        "bulan": str(months),
        **templates.va_values(accounts, settings.va_prefixes),
        "kontak": templates.contact_text(settings.branch_whatsapp),
        "kanal": templates.OFFICIAL_CHANNELS,
        "rehab": templates.SMS_SNIPPETS["rehab"],
        "autodebit": templates.SMS_SNIPPETS["autodebit"],
        "cabang": current_app.config["BRANCH_NAME"],
        **{k: (local_date(v) if hasattr(v, "strftime") else str(v)) for k, v in extra.items()},
    }


def queue_sms(
    session,
    *,
    kind: SmsKind,
    key: str,
    to_phone: str,
    members,
    timezone: str,
    scheduled_at: datetime | None = None,
    **values,
) -> int | None:
    """Queue one SMS unless a message with `key` exists already; returns its id, or None for a duplicate.

    The body is rendered now, from the template as it is today, so the outbox
    shows exactly what will leave.

    A family's message goes only to a number registered on that family (a member's phone or second
    phone): its name, arrears and virtual account are theirs alone. Raises ServiceError
    `sms_not_family_number` for any other number, before anything is rendered.
    """
    if members and to_phone not in {n for m in members for n in (m.phone, m.phone2) if n}:
        raise ServiceError("sms_not_family_number", "to_phone")
    template_key = TEMPLATE_OF[kind]
    body = templates.render(templates.template_body(session, template_key), message_values(members, to_phone, **values))
    now = now_utc()
    when = scheduled_at or now
    head = members[0] if members else None
    message_id = insert_ignoring_duplicates(
        session,
        SmsMessage.__table__,
        {
            "idempotency_key": key,
            "kind": kind,
            "template_key": template_key,
            "body": body,
            "to_phone": to_phone,
            "family_id": head.family_id if head else None,
            "participant_id": next((m.id for m in members if m.phone == to_phone), None),
            "timezone": timezone,
            "scheduled_at": when,
            "next_attempt_at": when,
            "status": SmsStatus.queued,
            "attempts": 0,
            "encoding": encoding_of(body),
            "segments": segment_count(body),
            "created_at": now,
            "updated_at": now,
        },
        "idempotency_key",
    )
    if message_id is not None:
        session.add(
            SmsEvent(message_id=message_id, status="queued", detail=events.detail("created", kind=kind.value), at=now)
        )
    return message_id


def messages_for_family(session, family_id: int) -> list[SmsMessage]:
    return session.scalars(
        select(SmsMessage).where(SmsMessage.family_id == family_id).order_by(SmsMessage.created_at.desc())
    ).all()
