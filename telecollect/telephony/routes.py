"""Calls for supervisors: today's calls, closing an unrecorded connected call, and playing a recording
through the app (authorised and audited; Twilio's media URL is never handed out)."""

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.runtime import voice
from telecollect.security import roles_required
from telecollect.telephony import queries
from telecollect.telephony import services as telephony
from telecollect.telephony.gateway import VoiceError
from telecollect.telephony.labels import result_label
from telecollect.telephony.models import Call

bp = Blueprint("calls", __name__)


@bp.route("/calls")
@roles_required("supervisor", "admin")
def index():
    """Today's calls (the last 24 hours), newest first, with what came of each."""
    now = now_utc()
    return render_template(
        "telephony/calls.html",
        calls=queries.calls_since(db.session, now - timedelta(hours=24)),
        now=now,
        grace=telephony.DISPOSITION_GRACE,
        result_label=result_label,
    )


@bp.route("/calls/<int:call_id>/status.json")
@roles_required("telecollector")
def status(call_id):
    """The agent desktop's view of her own call while it goes on (polled): no number in it, so nothing to audit."""
    call = db.session.get(Call, call_id)
    if call is None or call.user_id != current_user.id:
        abort(404)
    return jsonify(
        {
            "id": call.id,
            "status": call.status.value,
            "dial_status": call.dial_status,
            "agent_leg_status": call.agent_leg_status,
            "talk_seconds": call.talk_seconds,
            "disposition": call.disposition.value if call.disposition else None,
            "outcome": str(call.attempt.outcome) if call.attempt is not None else None,
            "error": call.error_message if call.status.value == "failed" else None,
        }
    )


@bp.route("/calls/<int:call_id>/close", methods=["POST"])
@roles_required("supervisor", "admin")
def close(call_id):
    """Close a connected call whose outcome was never recorded, as "tidak dicatat" (after the grace period)."""
    call = telephony.call_for_update(db.session, call_id)
    if call is None:
        abort(404)
    try:
        telephony.close_unrecorded(db.session, call, current_user, now=now_utc())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Call closed as not recorded."), "success")
    return redirect(url_for("calls.index"))


@bp.route("/calls/<int:call_id>/recording")
@roles_required("supervisor", "admin")
def recording(call_id):
    """Play a call's recording: fetched from Twilio by the app and passed on; each play is audited."""
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    if not call.recording_sid or call.is_recording_deleted or not voice().is_enabled:
        abort(404)
    try:
        chunks, mimetype = voice().recording_audio(call.recording_sid)
    except VoiceError:
        abort(404)
    telephony.recording_played(db.session, call, current_user)
    db.session.commit()  # the play is on record before the first byte leaves
    response = Response(chunks, mimetype=mimetype)  # passed on as it arrives (the generator needs no context)
    response.headers["Cache-Control"] = "no-store"
    return response
