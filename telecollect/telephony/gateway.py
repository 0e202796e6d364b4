"""Where calls go: nowhere (VOICE_BACKEND=none: the desktop keeps its tel: links) or Twilio Voice, through its
official SDK, in bridge mode: Twilio rings the agent's phone, fetches our TwiML, and dials the participant."""

from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from telecollect.messaging.gateways import never_reached_twilio

#: Twilio's callbacks and TwiML, below PUBLIC_BASE_URL (each carries `?call=<id>`; Twilio signs the whole URL).
AGENT_TWIML_PATH = "/twilio/voice/agent"
GATHER_PATH = "/twilio/voice/connect"
DIAL_ACTION_PATH = "/twilio/voice/dial-result"
NOTICE_PATH = "/twilio/voice/notice"
STATUS_PATH = "/twilio/voice/status"
RECORDING_PATH = "/twilio/voice/recording"


class VoiceError(Exception):
    """Twilio refused the call, or was never reached; `status` is the HTTP status, `code` Twilio's error code."""

    def __init__(self, status: int, code: int | None, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class VoiceOutcomeUnknown(Exception):
    """The request may have reached Twilio but no answer came back: the agent's phone may ring all the same
    (the status callback, which carries our call id, then tells)."""


@dataclass(frozen=True)
class Placed:
    sid: str
    status: str


class NoVoice:
    """VOICE_BACKEND=none: calls are dialled by hand from the desktop's tel: links."""

    name = "none"
    is_enabled = False
    record_calls = False
    dial_timeout = 30
    caller_id = ""

    def place(self, call_id: int, agent_phone: str) -> Placed:
        raise VoiceError(409, None, "VOICE_BACKEND=none")


class TwilioVoice:
    """VOICE_BACKEND=twilio: the official SDK, pointed at TWILIO_API_BASE_URL when set (a test server)."""

    name = "twilio"
    is_enabled = True

    def __init__(self, config: dict):
        self.account_sid, self.auth_token = config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]
        self.timeout = config["TWILIO_TIMEOUT_SECONDS"]
        self.client = Client(self.account_sid, self.auth_token, http_client=TwilioHttpClient(timeout=self.timeout))
        self.api_base = (config.get("TWILIO_API_BASE_URL") or "https://api.twilio.com").rstrip("/")
        if config.get("TWILIO_API_BASE_URL"):
            self.client.api.base_url = self.api_base
        self.caller_id = config["TWILIO_VOICE_CALLER_ID"]
        self.base_url = config["PUBLIC_BASE_URL"].rstrip("/")
        self.dial_timeout = int(config.get("VOICE_DIAL_TIMEOUT", 30))
        self.record_calls = bool(config.get("RECORD_CALLS", False))

    def url(self, path: str, call_id: int) -> str:
        return f"{self.base_url}{path}?call={call_id}"

    def place(self, call_id: int, agent_phone: str) -> Placed:
        """Ask Twilio to ring the agent's phone; the TwiML at AGENT_TWIML_PATH takes it from there.

        VoiceError: Twilio answered with an error, or the request never reached it.
        VoiceOutcomeUnknown: it may have reached Twilio but its answer did not come back."""
        try:
            call = self.client.calls.create(
                to=agent_phone,
                from_=self.caller_id,
                url=self.url(AGENT_TWIML_PATH, call_id),
                method="POST",
                status_callback=self.url(STATUS_PATH, call_id),
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=30,
            )
        except TwilioRestException as exc:
            raise VoiceError(exc.status, exc.code, str(exc.msg)[:200]) from exc
        except Exception as exc:
            if never_reached_twilio(exc):
                raise VoiceError(503, None, f"{type(exc).__name__}: {exc}"[:200]) from exc
            raise VoiceOutcomeUnknown(f"{type(exc).__name__}: {exc}") from exc
        return Placed(sid=call.sid, status=call.status or "queued")

    def delete_recording(self, sid: str) -> bool:
        """Delete a recording at Twilio; True when it is gone (deleted now, or already: 404)."""
        try:
            return bool(self.client.recordings(sid).delete())
        except TwilioRestException as exc:
            if exc.status == 404:
                return True
            raise

    def recording_audio(self, sid: str) -> tuple[Iterator[bytes], str]:
        """The recording's audio (MP3) streamed from Twilio with our credentials, for the app to pass on: the
        media URL is never handed to a browser. Raises `VoiceError` when Twilio does not have it."""
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}.mp3"
        answer = requests.get(url, auth=(self.account_sid, self.auth_token), stream=True, timeout=self.timeout)
        if answer.status_code != 200:
            answer.close()
            raise VoiceError(answer.status_code, None, "recording not available")
        return answer.iter_content(64 * 1024), answer.headers.get("Content-Type", "audio/mpeg")


def voice_from_config(config: dict) -> NoVoice | TwilioVoice:
    """The voice backend the settings ask for; a half-configured Twilio Voice stops the app at start."""
    backend = config.get("VOICE_BACKEND", "none")
    if backend == "none":
        return NoVoice()
    if backend != "twilio":
        raise ValueError(f"VOICE_BACKEND must be none or twilio, got {backend!r}")
    missing = [k for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_VOICE_CALLER_ID") if not config.get(k)]
    base = str(config.get("PUBLIC_BASE_URL") or "")
    if not base.startswith(("http://", "https://")):
        missing.append("PUBLIC_BASE_URL (the address Twilio reaches this app at)")
    if missing:
        raise ValueError(f"VOICE_BACKEND=twilio needs {', '.join(missing)}")
    caller = str(config["TWILIO_VOICE_CALLER_ID"])
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(caller, None)) and caller.startswith("+")
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise ValueError(f"TWILIO_VOICE_CALLER_ID must be a number in E.164 (+62…), got {caller!r}")
    if int(config.get("RECORDING_DAYS", 30)) < 1:
        raise ValueError("RECORDING_DAYS must be 1 or more")
    return TwilioVoice(config)
