"""Twilio's callbacks. All are signed by Twilio and exempt from CSRF; nothing else is."""

from flask import Blueprint, Response, current_app, request

from telecollect.branches.settings import branch_of_receiving_number
from telecollect.branches.stamping import act_in_branch
from telecollect.db import now_utc
from telecollect.extensions import csrf, db
from telecollect.messaging.conversations import MAX_MEDIA, handle_whatsapp_inbound
from telecollect.messaging.services import apply_status, handle_inbound
from telecollect.security import require_twilio_signature
from telecollect.settings import installation

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@bp.route("/sms/status", methods=["POST"])
@csrf.exempt
def status():
    """Delivery status callback."""
    require_twilio_signature()
    apply_status(
        db.session,
        request.form.get("MessageSid", ""),
        request.form.get("MessageStatus", ""),
        request.form.get("ErrorCode"),
        now_utc(),
        ref=request.args.get("ref"),
    )
    return "", 204


@bp.route("/sms/inbound", methods=["POST"])
@csrf.exempt
def inbound():
    """A participant's reply: STOP/BERHENTI…, START/MULAI, INFO/CEK, or anything else."""
    require_twilio_signature()
    _act_in_receiving_branch()
    handle_inbound(
        db.session,
        sid=request.form.get("MessageSid", ""),
        from_phone=request.form.get("From", ""),
        body=request.form.get("Body", ""),
        opt_out_type=request.form.get("OptOutType"),
        now=now_utc(),
    )
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.route("/whatsapp/inbound", methods=["POST"])
@csrf.exempt
def whatsapp_inbound():
    """A participant's WhatsApp message (From `whatsapp:+62…`): BERHENTI/STOP, MULAI, CEK/INFO, or a
    conversation; photos and files arrive as MediaUrl<n> with MediaContentType<n>."""
    require_twilio_signature()
    _act_in_receiving_branch()
    form = request.form
    count = min(form.get("NumMedia", 0, type=int) or 0, MAX_MEDIA)
    media = [
        (form[f"MediaUrl{n}"], form.get(f"MediaContentType{n}", "")) for n in range(count) if form.get(f"MediaUrl{n}")
    ]
    handle_whatsapp_inbound(
        db.session,
        sid=form.get("MessageSid", ""),
        from_address=form.get("From", ""),
        body=form.get("Body", ""),
        media=media,
        now=now_utc(),
        stop_also_sms=installation().whatsapp_stop_also_sms,  # installation-wide: no branch may set it
    )
    return Response(EMPTY_TWIML, mimetype="text/xml")


def _act_in_receiving_branch() -> None:
    """What the message writes without a family (an unknown sender's message, its conversation, an answer)
    belongs to the branch whose sender received it (`To`), when one does; a family's rows stay its branch's."""
    session = db.session()
    branch_id = branch_of_receiving_number(session, current_app.config, request.form.get("To", ""))
    if branch_id is not None:
        act_in_branch(session, branch_id)
