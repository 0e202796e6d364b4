"""How work items and attempts look in JSON."""
from telecollect.formatting import mask_nik
from telecollect.participants.queries import family_arrears
from telecollect.queues.priority import score


def work_item_json(item, *, full_nik: bool, now) -> dict:
    members = item.family.members
    amount, months = family_arrears(members)
    priority = score(amount=amount, months=months, last_contact_at=item.last_contact_at,
                     attempts=item.attempts, contacts=item.contacts, now=now)
    return {
        "id": item.id,
        "queue": item.queue.value,
        "state": "claimed" if item.is_claimed(now) and item.state.value != "closed" else item.state.value,
        "close_reason": item.close_reason,
        "assigned_to": item.assigned_user.username if item.assigned_user else None,
        "lease_expires_at": _iso(item.lease_expires_at),
        "next_action_at": _iso(item.next_action_at),
        "follow_up": item.follow_up.value,
        "timezone": item.timezone,
        "attempts": item.attempts,
        "contacts": item.contacts,
        "last_contact_at": _iso(item.last_contact_at),
        "priority": item.priority,
        "priority_parts": dict(priority.parts),
        "family_arrears_amount": amount,
        "family_months_in_arrears": months,
        "family": [member_json(m, full_nik=full_nik) for m in members],
    }


def member_json(member, *, full_nik: bool) -> dict:
    return {
        "card_no": member.card_no,
        "name": member.name,
        "nik": member.nik if full_nik else mask_nik(member.nik),
        "phone": None if member.is_phone_invalid else member.phone,
        "segment": member.segment.value,
        "class": member.klass,
        "months_in_arrears": member.months_in_arrears,
        "arrears_amount": member.arrears_amount,
        "autodebit": member.is_autodebit,
    }


def attempt_json(attempt) -> dict:
    return {
        "id": attempt.id,
        "work_item_id": attempt.work_item_id,
        "outcome": attempt.outcome,
        "channel": attempt.channel.value,
        "reached": attempt.is_reached,
        "right_party": attempt.is_right_party,
        "phone": attempt.phone,
        "note": attempt.note,
        "callback_at": _iso(attempt.callback_at),
        "at": _iso(attempt.at),
        "client_ref": attempt.client_ref,
    }


def _iso(moment):
    return moment.isoformat() if moment else None
