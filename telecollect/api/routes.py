"""The JSON API, version 1. Bearer token (`flask users token`) or a signed-in session."""
from functools import wraps

from flask import Blueprint, jsonify
from flask_login import current_user

from telecollect.audit import services as audit
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.formatting import mask_nik
from telecollect.participants.models import Participant
from telecollect.participants.queries import family_arrears, family_members, may_view

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
    return jsonify(exc.to_json()), exc.status


@bp.route("/me")
@api_login_required
def me():
    """Who the token belongs to."""
    return jsonify({"username": current_user.username, "name": current_user.name,
                    "role": current_user.role.value})


@bp.route("/participants/<card_no>")
@api_login_required
def participant(card_no):
    """One participant with their family's arrears; the read is audited."""
    found = db.session.scalar(db.select(Participant).where(Participant.card_no == card_no))
    if found is None or not may_view(current_user, found):
        return _error(404, "not_found", f"No participant with card number {card_no}.")
    members = family_members(db.session, found)
    audit.record(db.session, "participant.view", user=current_user, target=found, detail="api")
    db.session.commit()
    amount, months = family_arrears(members)
    return jsonify({
        "participant": participant_json(found, full_nik=current_user.is_privileged),
        "family": {"key": found.family.key, "arrears_amount": amount, "months_in_arrears": months,
                   "members": [participant_json(m, full_nik=current_user.is_privileged) for m in members]},
    })


def participant_json(p: Participant, *, full_nik: bool) -> dict:
    return {
        "card_no": p.card_no,
        "name": p.name,
        "nik": p.nik if full_nik else mask_nik(p.nik),
        "phone": p.phone,
        "segment": p.segment.value,
        "class": p.klass,
        "province": p.province.name,
        "city": p.city.name,
        "kecamatan": p.district.name,
        "kelurahan": p.village.name if p.village else None,
        "rt": p.rt,
        "rw": p.rw,
        "autodebit": p.is_autodebit,
        "months_in_arrears": p.months_in_arrears,
        "arrears_amount": p.arrears_amount,
        "arrears_as_of": p.arrears_as_of.isoformat() if p.arrears_as_of else None,
    }


def _error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message, "field": None}}), status
