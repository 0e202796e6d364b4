"""Twilio Voice: the TwiML of a call placed from the desktop, and its callbacks. Every request is signed by
Twilio (X-Twilio-Signature over PUBLIC_BASE_URL + path + query, so it works behind a proxy) and exempt from
CSRF; an unsigned or wrongly signed one is 403. Each carries our call id (`?call=`), signed with the rest."""

from flask import Blueprint, Response, abort, request
from twilio.twiml.voice_response import VoiceResponse

from telecollect.db import now_utc
from telecollect.extensions import csrf, db
from telecollect.runtime import lease, retry_delays_of_branch, rules_of_branch, settings_of_branch, voice
from telecollect.security import require_twilio_signature
from telecollect.telephony import services as telephony
from telecollect.telephony.gateway import DIAL_ACTION_PATH, GATHER_PATH, NOTICE_PATH, RECORDING_PATH
from telecollect.telephony.models import Call
from telecollect.workflows import calls

bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")

#: What Twilio says, in Bahasa Indonesia (id-ID voice).
LANGUAGE = "id-ID"
PRESS_ONE = "Panggilan penagihan BPJS Kesehatan. Tekan satu untuk menyambungkan ke peserta."
NO_KEY = "Tidak ada tombol yang ditekan. Panggilan diakhiri."
CONNECTING = "Menyambungkan."
RECORDING_NOTICE = "Selamat, Anda terhubung dengan BPJS Kesehatan. Untuk menjaga mutu layanan, percakapan ini direkam."
DIAL_ENDS = {
    "no-answer": "Tidak dijawab. Tercatat otomatis.",
    "busy": "Nomor sedang sibuk. Tercatat otomatis.",
    "failed": "Nomor tidak dapat dihubungi. Tercatat otomatis.",
    "completed": "Panggilan selesai. Silakan catat hasilnya.",
}


def _call() -> Call:
    """The signed request's call, locked for this request; 404 when the id names none."""
    require_twilio_signature()
    call_id = request.args.get("call", "")
    call = telephony.call_for_update(db.session, int(call_id)) if call_id.isdigit() and len(call_id) < 19 else None
    if call is None:
        abort(404)
    return call


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _say(response: VoiceResponse, text: str) -> None:
    response.say(text, language=LANGUAGE)


def _url(path: str, call: Call) -> str:
    return f"{path}?call={call.id}"  # relative: Twilio resolves it against the TwiML's own URL


@bp.route("/agent", methods=["POST"])
@csrf.exempt
def agent():
    """The agent's phone answered: press 1 to be connected (a voicemail presses nothing)."""
    call = _call()
    response = VoiceResponse()
    if calls.agent_answered(db.session, call, request.form.get("CallSid"), now=now_utc()):
        gather = response.gather(num_digits=1, action=_url(GATHER_PATH, call), method="POST", timeout=8)
        gather.say(PRESS_ONE, language=LANGUAGE)
        _say(response, NO_KEY)
    response.hangup()
    return _twiml(response)


@bp.route("/connect", methods=["POST"])
@csrf.exempt
def connect():
    """The key she pressed: 1 dials the participant's number (the server's, from the call row)."""
    call = _call()
    response = VoiceResponse()
    if not calls.agent_pressed(db.session, call, request.form.get("Digits", ""), now=now_utc()):
        _say(response, NO_KEY)
        response.hangup()
        return _twiml(response)
    backend = voice()
    _say(response, CONNECTING)
    recording = (
        {
            "record": "record-from-answer-dual",
            "recording_status_callback": _url(RECORDING_PATH, call),
            "recording_status_callback_event": "completed",
        }
        if call.is_recorded
        else {}
    )
    dial = response.dial(
        action=_url(DIAL_ACTION_PATH, call),
        method="POST",
        timeout=backend.dial_timeout,
        caller_id=backend.caller_id,
        **recording,
    )
    # The notice is played to the participant when she answers, before the two legs are joined.
    dial.number(call.phone, url=_url(NOTICE_PATH, call) if call.is_recorded else None)
    return _twiml(response)


@bp.route("/notice", methods=["POST"])
@csrf.exempt
def notice():
    """Played to the participant on answering, when calls are recorded."""
    _call()
    response = VoiceResponse()
    _say(response, RECORDING_NOTICE)
    return _twiml(response)


@bp.route("/dial-result", methods=["POST"])
@csrf.exempt
def dial_result():
    """The `<Dial action>`: the participant's leg decides the attempt (once)."""
    call = _call()
    status = request.form.get("DialCallStatus", "")
    calls.dial_result(
        db.session,
        call,
        status,
        request.form.get("DialCallDuration"),
        context=calls.CallContext(  # the call's branch's, whoever's webhook this is (none acts in a webhook)
            rules=rules_of_branch(call.branch_id),
            retry_delays=retry_delays_of_branch(call.branch_id),
            lease=lease(),
            settings=settings_of_branch(call.branch_id),
        ),
        now=now_utc(),
    )
    response = VoiceResponse()
    if status in DIAL_ENDS:
        _say(response, DIAL_ENDS[status])
    response.hangup()
    return _twiml(response)


@bp.route("/status", methods=["POST"])
@csrf.exempt
def status():
    """The agent's leg status callback (initiated, ringing, in-progress, completed, busy, no-answer…)."""
    call = _call()
    calls.leg_status(db.session, call, request.form.get("CallStatus", ""), request.form.get("CallSid"), now=now_utc())
    return "", 204


@bp.route("/recording", methods=["POST"])
@csrf.exempt
def recording():
    """A recording is ready: its SID and duration are kept (the audio stays at Twilio)."""
    call = _call()
    if request.form.get("RecordingStatus", "completed") == "completed":
        calls.recording_ready(
            db.session, call, request.form.get("RecordingSid", ""), request.form.get("RecordingDuration")
        )
    return "", 204
