"""The self-service line's TwiML: Twilio posts here when a participant calls the branch's number
(`{PUBLIC_BASE_URL}/twilio/voice/inbound`), then each key she presses. Every request is signed by Twilio
(403 otherwise) and exempt from CSRF; the action URLs are relative (Twilio resolves them)."""

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from telecollect.db import now_utc
from telecollect.extensions import csrf, db
from telecollect.phones import InvalidPhone, normalize_mobile
from telecollect.runtime import rules_of_branch, settings_of_branch
from telecollect.security import require_twilio_signature
from telecollect.selfservice import services as line
from telecollect.selfservice.models import LineCall
from telecollect.workflows import selfservice
from telecollect.workflows.selfservice import GOODBYE, MENU, LineAnswer

bp = Blueprint("line", __name__, url_prefix="/twilio/voice/inbound")

LANGUAGE = "id-ID"
CHOICE_PATH, VERIFY_PATH = "/twilio/voice/inbound/choice", "/twilio/voice/inbound/verify"


@bp.route("", methods=["POST"])
@csrf.exempt
def inbound():
    """A call to the line: the welcome and the menu."""
    require_twilio_signature()
    answer = selfservice.greet(
        db.session,
        sid=_sid(),
        number=_caller(request.form.get("From", "")),
        secret=current_app.config["SECRET_KEY"],
        branch=current_app.config.get("BRANCH_NAME", ""),
        now=now_utc(),
    )
    return _twiml(answer)


@bp.route("/choice", methods=["POST"])
@csrf.exempt
def choice():
    """The menu key pressed."""
    require_twilio_signature()
    call = _call()
    answer = selfservice.choose(
        db.session,
        call,
        request.form.get("Digits", "")[:1],
        rules=rules_of_branch(call.branch_id),  # the caller's family's branch (none: the installation's)
        settings=settings_of_branch(call.branch_id),
        now=now_utc(),
    )
    return _twiml(answer)


@bp.route("/verify", methods=["POST"])
@csrf.exempt
def verify():
    """The last 4 digits of a card number, keyed for the choice in `?choice=`."""
    require_twilio_signature()
    call = _call()
    answer = selfservice.verify(
        db.session,
        call,
        request.form.get("Digits", "")[:8],
        request.args.get("choice", "")[:1],
        rules=rules_of_branch(call.branch_id),  # the caller's family's branch (none: the installation's)
        settings=settings_of_branch(call.branch_id),
        now=now_utc(),
    )
    return _twiml(answer)


def _sid() -> str:
    sid = request.form.get("CallSid", "")
    if not sid or len(sid) > 64:
        abort(400)
    return sid


def _call() -> LineCall:
    call = line.call_for_update(db.session, _sid())
    if call is None:
        abort(404)
    return call


def _caller(raw: str) -> str | None:
    """The caller's number in E.164 (a hidden or foreign-looking caller ID is nobody)."""
    try:
        return normalize_mobile(raw)
    except InvalidPhone:
        return None


def _twiml(answer: LineAnswer) -> Response:
    response = VoiceResponse()
    for sentence in answer.say:
        response.say(sentence, language=LANGUAGE)
    if answer.verify_for is not None:
        response.gather(num_digits=4, action=f"{VERIFY_PATH}?choice={answer.verify_for}", method="POST", timeout=10)
    elif answer.menu:
        gather = response.gather(num_digits=1, action=CHOICE_PATH, method="POST", timeout=8)
        gather.say(MENU, language=LANGUAGE)
    response.say(GOODBYE, language=LANGUAGE)
    response.hangup()
    return Response(str(response), mimetype="text/xml")
