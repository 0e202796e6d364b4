"""The JSON API, version 1. Bearer token (`flask users token`) or a signed-in session."""

from datetime import date
from functools import wraps

from flask import Blueprint, jsonify, request
from flask_login import current_user

from telecollect.api.openapi import openapi_document
from telecollect.api.serializers import attempt_json, call_json, participant_json, shown_phone, work_item_json
from telecollect.api.validation import check_json
from telecollect.audit import disclosure
from telecollect.audit import services as audit
from telecollect.auth.models import Role
from telecollect.auth.scoping import scope_of, sees_full_numbers
from telecollect.contacts.services import find_recorded, parse_outcome
from telecollect.db import now_utc
from telecollect.errors import Conflict, Forbidden, NotFound, ServiceError, TooManyRequests, error_envelope
from telecollect.extensions import db
from telecollect.participants.models import Participant
from telecollect.participants.queries import family_arrears, family_members, local_today, may_view
from telecollect.programs.rules import rehab_quote
from telecollect.queues import lifecycle
from telecollect.queues.queries import item_for_user
from telecollect.runtime import acting_settings, contact_rules, lease, retry_delays, voice
from telecollect.telephony import services as telephony
from telecollect.telephony.gateway import VoiceError, VoiceOutcomeUnknown
from telecollect.telephony.models import Call
from telecollect.workflows import calls, queue_work

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _error(401, "unauthorized", "Send Authorization: Bearer <token>.")
        return view(*args, **kwargs)

    return wrapper


@bp.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    db.session.rollback()
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}
    return jsonify(exc.to_json()), exc.status, headers


@bp.route("/me")
@api_login_required
def me():
    """Who the token belongs to."""
    return jsonify({"username": current_user.username, "name": current_user.name, "role": current_user.role.value})


@bp.route("/participants/<card_no>")
@api_login_required
def participant(card_no):
    """One participant with their family's arrears; the read is audited, naming whose numbers were shown.
    A cadre sees only the members inside her areas (the family's totals stay whole)."""
    disclosure.check_read(db.session, current_user, f"participant:{card_no}", now_utc())
    found = _visible_participant(card_no)
    everyone = family_members(db.session, found)
    members = scope_of(current_user).visible(everyone)
    shown = [m.card_no for m in members if shown_phone(m) or current_user.is_privileged]
    audit.record(db.session, "participant.view", user=current_user, target=found, detail=f"api: {', '.join(shown)}")
    amount, months = family_arrears(everyone)
    full_phone = sees_full_numbers(current_user)
    return jsonify(
        {
            "participant": participant_json(
                found, full_nik=current_user.is_privileged, with_place=True, full_phone=full_phone
            ),
            "family": {
                "key": found.family.key,
                "arrears_amount": amount,
                "months_in_arrears": months,
                "members": [
                    participant_json(m, full_nik=current_user.is_privileged, with_place=True, full_phone=full_phone)
                    for m in members
                ],
            },
        }
    )


@bp.route("/participants/<card_no>/rehab")
@api_login_required
def rehab(card_no):
    """Whether the participant's family may join REHAB on a date, and what each option costs."""
    found = _visible_participant(card_no)
    try:
        on = date.fromisoformat(request.args["on"]) if request.args.get("on") else local_today(found)
    except ValueError:
        raise ServiceError("invalid_date", "on") from None
    return jsonify(rehab_quote(db.session, family_members(db.session, found), on).to_json())


@bp.route("/queue/claim", methods=["POST"])
@api_login_required
def claim():
    """Claim the best work item the caller may work now; 204 when nothing may be worked."""
    now = now_utc()
    item = queue_work.claim(db.session, current_user, contact_rules(), lease=lease(), now=now)
    # Shown before the commit, which would expire what was just loaded and make it be read again.
    body = {"work_item": _shown_work_item(item, now, via="claim")} if item else None
    return (jsonify(body), 200) if body else ("", 204)


@bp.route("/work-items/<int:item_id>")
@api_login_required
def work_item(item_id):
    """One work item with its family; showing the family's numbers is audited, and opening many
    different items quickly is refused (429 with Retry-After)."""
    now = now_utc()
    disclosure.check_read(db.session, current_user, f"work_item:{item_id}", now)  # ids that do not exist count too
    item = item_for_user(db.session, current_user, item_id, to_work=False)
    body = {"work_item": _shown_work_item(item, now, via="read", full_nik=current_user.is_privileged)}
    return jsonify(body)


@bp.route("/work-items/<int:item_id>/outcome", methods=["POST"])
@api_login_required
def outcome(item_id):
    """Record a contact's outcome; the same client_ref twice records once."""
    check_json("OutcomeRequest")  # the body as the OpenAPI document describes it, else 400 naming the field
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError("invalid_json")
    now = now_utc()
    item = item_for_user(db.session, current_user, item_id, to_work=True)
    first = find_recorded(db.session, current_user, body.get("client_ref"))
    if first is None:
        given = parse_outcome(body, item, now=now)
        recorded = queue_work.record_outcome(
            db.session,
            item,
            current_user,
            given,
            rules=contact_rules(),
            retry_delays=retry_delays(),
            now=now,
            settings=acting_settings(),
        )
        if recorded.is_new:
            return _outcome_response(
                recorded.attempt, item, now, status=201, claimed_by_other=recorded.was_claimed_by_other
            )
        first = recorded.attempt  # the same client_ref arrived twice at once; the other one won
    return _outcome_response(first, db.session.get(type(item), item_id), now, status=200)


def _outcome_response(attempt, item, now, *, status: int, claimed_by_other: bool = False):
    return jsonify(
        {
            "attempt": attempt_json(attempt),
            "duplicate": status == 200,
            "claimed_by_other": claimed_by_other,
            "work_item": _shown_work_item(item, now, via="outcome"),
        }
    ), status


def _shown_work_item(item, now, *, via: str, full_nik: bool = False) -> dict:
    """The work item as JSON, with its family's full phone numbers: the agent needs them to call,
    and every showing is on record (one audit event naming the members whose number was shown).
    A cadre is shown only the members inside her areas."""
    members = scope_of(current_user).visible(item.family.members)
    shown = [m.card_no for m in members if shown_phone(m)]
    disclosure.record_shown(db.session, current_user, "work_item.view", shown, via=f"api {via}", target=item)
    return work_item_json(item, full_nik=full_nik, now=now, members=members, full_phone=sees_full_numbers(current_user))


@bp.route("/work-items/<int:item_id>/renew", methods=["POST"])
@api_login_required
def renew(item_id):
    """Extend the claim's lease while the call screen is open."""
    item = item_for_user(db.session, current_user, item_id, to_work=True)
    lifecycle.renew(item, current_user, lease(), now_utc())
    return jsonify({"lease_expires_at": item.lease_expires_at.isoformat()})


@bp.route("/work-items/<int:item_id>/release", methods=["POST"])
@api_login_required
def release(item_id):
    """Give the claimed item back without an outcome."""
    item = item_for_user(db.session, current_user, item_id, to_work=True)
    queue_work.check_nothing_owed(db.session, current_user)  # a connected call's outcome first
    lifecycle.release(item, current_user)
    body = {"work_item": _shown_work_item(item, now_utc(), via="release")}
    return jsonify(body)


@bp.route("/work-items/<int:item_id>/skip", methods=["POST"])
@api_login_required
def skip(item_id):
    """Give the claimed family back with a reason: no attempt counted, not offered again for a while."""
    check_json("SkipRequest")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError("invalid_json")
    now = now_utc()
    item = item_for_user(db.session, current_user, item_id, to_work=True)
    queue_work.skip(
        db.session,
        item,
        current_user,
        str(body.get("reason") or ""),
        rules=contact_rules(),
        lease=lease(),
        now=now,
        claim_next=False,
    )
    return jsonify({"work_item": _shown_work_item(item, now, via="skip")})


@bp.route("/work-items/<int:item_id>/call", methods=["POST"])
@api_login_required
def place_call(item_id):
    """Panggil: the re-checks and the call row, committed; then Twilio is asked (nothing leaves before the
    commit, so this view commits itself, and commits again what Twilio answered: an error answer keeps it)."""
    if request.data:
        check_json("CallRequest")
    body = request.get_json(silent=True) if request.data else {}
    if current_user.role != Role.telecollector:
        raise Forbidden("forbidden")  # calls are placed on the call queue, by its telecollectors
    now = now_utc()
    item = item_for_user(db.session, current_user, item_id, to_work=True)
    backend = voice()
    if not backend.is_enabled:
        raise Conflict("voice_disabled")
    call = calls.place_call(
        db.session,
        item,
        current_user,
        phone=(body or {}).get("phone"),
        rules=contact_rules(),
        lease=lease(),
        record_calls=backend.record_calls,
        now=now,
    )
    call_id, agent_phone = call.id, call.agent_phone
    db.session.commit()
    try:
        placed = backend.place(call_id, agent_phone)
    except VoiceError as exc:
        call = telephony.call_for_update(db.session, call_id)
        calls.mark_failed(db.session, call, exc, now=now_utc())
        db.session.commit()
        if exc.code is not None:
            error = ServiceError("call_twilio_refused", code=exc.code, message=exc.message)
        else:
            error = ServiceError("call_twilio_unreachable")
        return jsonify(error.to_json()), 502
    except VoiceOutcomeUnknown as exc:
        call = telephony.call_for_update(db.session, call_id)
        calls.mark_unknown(db.session, call, str(exc))
        db.session.commit()
        return jsonify(ServiceError("call_twilio_unknown").to_json()), 504
    call = telephony.call_for_update(db.session, call_id)
    calls.mark_placed(db.session, call, placed)
    return jsonify({"call": _shown_call(call, via="place")}), 201


@bp.route("/calls/<int:call_id>")
@api_login_required
def get_call(call_id):
    """One call (its agent's, or any for supervisors and admins); the full number shown is audited."""
    disclosure.check_read(db.session, current_user, f"call:{call_id}", now_utc())
    found = db.session.get(Call, call_id)
    if found is None or not (current_user.is_privileged or found.user_id == current_user.id):
        raise NotFound("not_found")
    return jsonify({"call": _shown_call(found, via="read")})


def _shown_call(call: Call, *, via: str) -> dict:
    """The call as JSON with the number dialled in full: one audit event naming whose number it is."""
    member = call.participant
    disclosure.record_shown(
        db.session,
        current_user,
        "call.view",
        [member.card_no] if member is not None else [f"family {call.family_id}"],
        via=f"api call {via}",
        target=call,
    )
    return call_json(call)


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(current_user.role if current_user.is_authenticated else None))


def _visible_participant(card_no: str) -> Participant:
    """The participant, if the caller may see them; otherwise they do not exist (404)."""
    found = db.session.scalar(db.select(Participant).where(Participant.card_no == card_no))
    if found is None or not may_view(current_user, found):
        raise NotFound("participant_not_found")
    return found


def _error(status: int, code: str, message: str):
    return jsonify(error_envelope(code, message)), status
