"""How work items and attempts look in JSON."""

from sqlalchemy.orm import object_session

from telecollect.contacts.queries import opted_out_channels
from telecollect.formatting import mask_nik
from telecollect.participants.queries import family_arrears
from telecollect.phones import mask_phone
from telecollect.queues.queries import item_score


def work_item_json(item, *, full_nik: bool, now, members=None, full_phone: bool = True) -> dict:
    """The item with its family's arrears (the whole family's) and `members` (those the reader may see;
    all by default)."""
    amount, months = family_arrears(item.family.members)
    members = item.family.members if members is None else members
    priority = item_score(item, now)
    refusals = _opt_outs(members)
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
        "family": [participant_json(m, full_nik=full_nik, opted_out=refusals, full_phone=full_phone) for m in members],
    }


def participant_json(
    participant, *, full_nik: bool, with_place: bool = False, opted_out: dict | None = None, full_phone: bool = True
) -> dict:
    """A participant as the API shows them, alone or as a family member.

    The one place the API's participant rules live: the NIK is masked unless
    `full_nik`; a number marked invalid is never shown (null); the channels the
    number opted out of are listed (`opted_out_channels`: a client must not start
    a call or a message there). `with_place` adds where they live and the date of
    their arrears figure. `opted_out` (number → channels) is read here when not given.
    """
    phone = shown_phone(participant)
    if opted_out is None:
        opted_out = _opt_outs([participant])
    shown = {
        "card_no": participant.card_no,
        "name": participant.name,
        "nik": participant.nik if full_nik else mask_nik(participant.nik),
        "phone": phone if full_phone else (mask_phone(phone) if phone else None),
        "opted_out_channels": sorted(c.value for c in opted_out.get(phone, ())) if phone else [],
        "segment": participant.segment.value,
        "class": participant.klass,
        "months_in_arrears": participant.months_in_arrears,
        "arrears_amount": participant.arrears_amount,
        "autodebit": participant.is_autodebit,
    }
    if with_place:
        shown.update(
            {
                "province": participant.province.name,
                "city": participant.city.name,
                "kecamatan": participant.district.name,
                "kelurahan": participant.village.name if participant.village else None,
                "rt": participant.rt,
                "rw": participant.rw,
                "arrears_as_of": participant.arrears_as_of.isoformat() if participant.arrears_as_of else None,
            }
        )
    return shown


def shown_phone(participant) -> str | None:
    """The full number the API may show: none once it was found invalid."""
    return None if participant.is_phone_invalid else participant.phone


def _opt_outs(members) -> dict:
    """The members' numbers → the channels each opted out of (one query for the lot)."""
    session = object_session(members[0]) if members else None
    return opted_out_channels(session, (m.phone for m in members)) if session is not None else {}


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
        "outside_policy": attempt.outside_policy,
        "client_ref": attempt.client_ref,
    }


def _iso(moment):
    return moment.isoformat() if moment else None


def call_json(call) -> dict:
    """A call placed through Twilio Voice, with the number dialled in full (the caller audits the showing)."""
    return {
        "id": call.id,
        "work_item_id": call.work_item_id,
        "status": call.status.value,
        "twilio_sid": call.twilio_sid,
        "phone": call.phone,
        "agent_leg_status": call.agent_leg_status,
        "dial_status": call.dial_status,
        "talk_seconds": call.talk_seconds,
        "disposition": call.disposition.value if call.disposition else None,
        "outcome": str(call.attempt.outcome) if call.attempt is not None else None,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "is_recorded": call.is_recorded,
        "recording_seconds": call.recording_seconds,
    }
