"""A fake Twilio REST API on 127.0.0.1 that speaks the real paths and JSON.

The real `twilio` SDK is pointed at it (TWILIO_API_BASE_URL), so tests and
benchmarks exercise the SDK's own request and error handling. Answers can be
scripted: a queue of one-off answers (429, 500 …) and per-number errors
(21610, 21211 …; 63xxx for a `whatsapp:` address). WhatsApp: `To`/`From` as `whatsapp:+62…`, a template
by `ContentSid` with `ContentVariables` (listed with the variables as its body, as the fake has no Content
API), or free text by `Body`. It keeps what it accepted and lists it like Twilio (GET
Messages.json filtered by `To` and `DateSent`, page by page), and it can be
slow: a create it has accepted answers only after `slow_answers` seconds, so a
client whose timeout is shorter never hears of it, and a client killed
meanwhile dies after Twilio took the message. Run it by hand with
`python -m tests.fake_twilio --port 8765`.

Voice (Calls.json): a call it accepts is played like Twilio plays it, by
`run_call(sid)` (or at once in a thread, `runs_calls_at_once`), following a
`VoiceScript` (per agent number, else the default): the agent's leg rings and
answers (or not), the TwiML `Url` is fetched, the `<Gather>` action posted with
the key pressed, the `<Dial>` read (its `<Number url>` fetched when the
participant answers, its recording reported), the `<Dial action>` posted with
DialCallStatus and DialCallDuration, and the status callbacks posted; every
request signed with X-Twilio-Signature as Twilio signs it. Relative URLs are
resolved against the TwiML's own URL. A script can post callbacks twice or out
of order. `deliver` carries each request (a real HTTP POST by default; tests
hand it to the Flask test client). Recordings can be fetched (.mp3) and
deleted, as the REST API does.
"""

import argparse
import base64
import contextlib
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

ERRORS = {
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    20429: (429, "Too Many Requests"),
    30001: (400, "Queue overflow"),
    # WhatsApp (Twilio reports most of these later, on the status callback; a test may script them at send).
    63003: (400, "Channel could not find the destination (not on WhatsApp)"),
    63014: (400, "The user blocked messages from this business"),
    63016: (400, "Failed to send freeform message because you are outside the allowed window"),
    63024: (400, "Invalid message recipient"),
    63049: (400, "Meta chose not to deliver this WhatsApp marketing message"),
}


@dataclass
class VoiceScript:
    """What happens on a call: the agent's leg, the key she presses, the participant's leg."""

    #: The agent's leg: "answer", or Twilio's final status when she does not ("no-answer", "busy", "failed").
    agent: str = "answer"
    #: What she presses at the <Gather> ("" : nothing, as a voicemail).
    digits: str = "1"
    #: The participant's leg, as DialCallStatus: completed, busy, no-answer, failed, canceled.
    dial: str = "completed"
    talk_seconds: int = 42
    #: Post the Dial action and the final status callback twice each.
    twice: bool = False
    #: Post the final status callback before the Dial action.
    out_of_order: bool = False


@dataclass
class Delivered:
    url: str
    form: dict
    status: int
    body: str


#: Twilio gives up on a webhook after 15 seconds (error 11205).
WEBHOOK_TIMEOUT = 15


def http_deliver(url: str, form: dict, headers: dict) -> tuple[int, str]:
    """POST the form to `url` over HTTP, as Twilio does; status 0 when no answer came within WEBHOOK_TIMEOUT."""
    request = urllib.request.Request(url, data=urlencode(form).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (TimeoutError, urllib.error.URLError) as exc:
        return 0, f"{type(exc).__name__}: {exc}"


class FakeTwilio:
    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token"):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[dict] = []
        self.script: list[tuple[int, int | None]] = []  # one-off answers, consumed in order
        self.number_errors: dict[str, int] = {}  # To → Twilio error code
        self.messages: list[dict] = []  # what it accepted, oldest first, as it lists them
        self.list_requests: list[dict] = []  # the query of every GET Messages.json
        #: Seconds the next accepted creates wait before answering, one per create, consumed in order.
        self.slow_answers: list[float] = []
        self.max_page_size = 50
        #: False: what it accepts stays queued (no date sent, so in no DateSent list), as under a long queue.
        self.sends_at_once = True
        #: Twilio's clock, for `date_sent` (tests pin it to their business time).
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.answered = threading.Event()  # set after each answer to a create (a slow one included)
        # Voice.
        self.calls: dict[str, dict] = {}  #: sid → the call as accepted (with its form and script)
        self.call_requests: list[dict] = []  #: the form of every POST Calls.json
        self.voice_scripts: dict[str, VoiceScript] = {}  #: agent's number (To) → script
        self.default_voice_script = VoiceScript()
        #: Play each accepted call at once, in a thread (a server under test); else tests call `run_call`.
        self.runs_calls_at_once = False
        #: How each callback reaches the app: (url, form, headers) → (status, body).
        self.deliver: Callable[[str, dict, dict], tuple[int, str]] = http_deliver
        self.delivered: list[Delivered] = []  #: every request the fake made to the app, in order
        self.recordings: dict[str, dict] = {}  #: sid → recording (call sid, duration)
        self.deleted_recordings: list[str] = []
        self.recording_fetches: list[str] = []
        self.call_threads: list[threading.Thread] = []
        #: When each create-call request arrived (time.perf_counter()), by the call id in its Url (benchmarks).
        self.call_received_at: dict[str, float] = {}
        self._release = threading.Event()  # set by stop(): slow answers stop waiting
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "FakeTwilio":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def config(self, **extra) -> dict:
        """Settings that point the app's Twilio gateway here."""
        return {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
            "TWILIO_FROM_NUMBER": "",
            "TWILIO_API_BASE_URL": self.url,
            "TWILIO_TIMEOUT_SECONDS": 5,
            **extra,
        }

    def voice_config(self, **extra) -> dict:
        """Settings that place calls through this fake (VOICE_BACKEND=twilio)."""
        return self.config(
            **{
                "VOICE_BACKEND": "twilio",
                "TWILIO_VOICE_CALLER_ID": "+62214301234",
                "PUBLIC_BASE_URL": "https://telecollect.example.id",
                **extra,
            }
        )

    def answer(self, form: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(form)
            scripted = self.script.pop(0) if self.script else None
            number = next(self._ids)
        if scripted is not None:
            status, code = scripted
            return status, self._error(status, code)
        code = self.number_errors.get(form.get("To", ""))
        if code is not None:
            return ERRORS[code][0], self._error(ERRORS[code][0], code)
        body = form.get("Body") or (
            f"{form['ContentSid']} {form.get('ContentVariables', '')}" if "ContentSid" in form else ""
        )
        now = self.now()
        message = {
            "sid": f"SM{number:032x}",
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": body,
            "content_sid": form.get("ContentSid"),
            "status": "accepted",
            "num_segments": "1" if len(body) <= 160 else str(-(-len(body) // 153)),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": format_datetime(now),
            "date_sent": None,
            "date_updated": format_datetime(now),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/SM{number:032x}.json",
            "subresource_uris": {},
        }
        with self._lock:
            # Listed as Twilio shows it a moment later: sent, with the day it left.
            if self.sends_at_once:
                self.messages.append({**message, "status": "sent", "date_sent": format_datetime(now), "_sent_on": now})
            else:
                self.messages.append({**message, "status": "queued", "_sent_on": None})
            delay = self.slow_answers.pop(0) if self.slow_answers else 0
        if delay:
            self._release.wait(delay)
        return 201, message

    def listing(self, query: dict) -> dict:
        """GET Messages.json: newest first, filtered by To and DateSent (a UTC day), in Twilio's paging shape."""
        with self._lock:
            self.list_requests.append(query)
            rows = list(reversed(self.messages))
        if query.get("To"):
            rows = [m for m in rows if m["to"] == query["To"]]
        if query.get("From"):
            rows = [m for m in rows if m["from"] == query["From"]]
        if query.get("DateSent"):
            day = query["DateSent"][:10]  # YYYY-MM-DD, or the SDK's YYYY-MM-DDT00:00:00Z
            rows = [m for m in rows if m["_sent_on"] and m["_sent_on"].astimezone(UTC).date().isoformat() == day]
        size = max(1, min(int(query.get("PageSize") or 50), self.max_page_size))
        page = int(query.get("Page") or 0)
        chunk = rows[page * size : (page + 1) * size]
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        filters = {k: v for k, v in query.items() if k in ("To", "From", "DateSent")}

        def uri(n: int) -> str:
            return f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': n, 'PageToken': f'PA{n}'})}"

        return {
            "messages": [{k: v for k, v in m.items() if not k.startswith("_")} for m in chunk],
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(0, len(chunk) - 1),
            "uri": uri(page),
            "first_page_uri": uri(0),
            "previous_page_uri": uri(page - 1) if page else None,
            "next_page_uri": uri(page + 1) if (page + 1) * size < len(rows) else None,
        }

    # --- voice ---------------------------------------------------------------------------------------

    def create_call(self, form: dict) -> tuple[int, dict]:
        """POST Calls.json: accept the call (or answer a scripted error), as Twilio's CallInstance."""
        received = time.perf_counter()
        with self._lock:
            self.call_received_at[parse_qs(urlsplit(form.get("Url", "")).query).get("call", [""])[0]] = received
            self.call_requests.append(form)
            scripted = self.script.pop(0) if self.script else None
            number = next(self._ids)
        if scripted is not None:
            status, code = scripted
            return status, self._error(status, code)
        code = self.number_errors.get(form.get("To", ""))
        if code is not None:
            return ERRORS[code][0], self._error(ERRORS[code][0], code)
        now = format_datetime(self.now())
        sid = f"CA{number:032x}"
        call = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
            "subresource_uris": {},
        }
        with self._lock:
            self.calls[sid] = {**call, "_form": form}
        return 201, call

    def sign(self, url: str, form: dict) -> dict:
        return {"X-Twilio-Signature": RequestValidator(self.auth_token).compute_signature(url, form)}

    def post(self, url: str, form: dict) -> str:
        """One signed request to the app, as Twilio makes it; the answer's body (TwiML or nothing)."""
        status, body = self.deliver(url, form, self.sign(url, form))
        with self._lock:
            self.delivered.append(Delivered(url, dict(form), status, body))
        return body

    def run_call(self, sid: str) -> None:
        """Play the call as Twilio would, following its script (see `VoiceScript`)."""
        call = self.calls[sid]
        form = call["_form"]
        script = self.voice_scripts.get(form["To"], self.default_voice_script)
        base = {
            "AccountSid": self.account_sid,
            "CallSid": sid,
            "From": form.get("From", ""),
            "To": form["To"],
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }
        status_url = form.get("StatusCallback")

        def status(word: str, **extra) -> None:
            if status_url:
                self.post(status_url, {**base, "CallStatus": word, **extra})

        status("initiated")
        status("ringing")
        if script.agent != "answer":
            status(script.agent)
            return
        twiml_url = form["Url"]
        document = self.post(twiml_url, {**base, "CallStatus": "in-progress"})
        status("in-progress")
        gather = _find(document, "Gather")
        if gather is None or not script.digits:
            status("completed", CallDuration="9")
            return
        action = urljoin(twiml_url, gather.get("action") or twiml_url)
        document = self.post(action, {**base, "CallStatus": "in-progress", "Digits": script.digits})
        dial = _find(document, "Dial")
        if dial is None:
            status("completed", CallDuration="12")
            return
        number = dial.find("Number")
        child = {**base, "CallSid": sid.replace("CA", "CB", 1), "ParentCallSid": sid, "To": (number.text or "")}
        if script.dial == "completed" and number is not None and number.get("url"):
            self.post(urljoin(action, number.get("url")), {**child, "CallStatus": "in-progress"})
        if script.dial == "completed" and dial.get("record"):
            with self._lock:
                rec_sid = f"RE{next(self._ids):032x}"
                self.recordings[rec_sid] = {"call_sid": sid, "duration": script.talk_seconds}
            if dial.get("recordingStatusCallback"):
                self.post(
                    urljoin(action, dial.get("recordingStatusCallback")),
                    {
                        **base,
                        "RecordingSid": rec_sid,
                        "RecordingDuration": str(script.talk_seconds),
                        "RecordingStatus": "completed",
                        "RecordingUrl": f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{rec_sid}",
                    },
                )
        result = {**base, "DialCallStatus": script.dial, "DialCallSid": child["CallSid"]}
        if script.dial == "completed":
            result["DialCallDuration"] = str(script.talk_seconds)
        dial_action = urljoin(action, dial.get("action") or action)
        final = {"CallDuration": str(script.talk_seconds + 15)}
        for _time in range(2 if script.twice else 1):
            if script.out_of_order:
                status("completed", **final)
                self.post(dial_action, result)
            else:
                self.post(dial_action, result)
                status("completed", **final)

    def wait_for_calls(self, timeout: float = 10) -> None:
        """Wait for the calls being played in threads (`runs_calls_at_once`)."""
        for thread in list(self.call_threads):
            thread.join(timeout)

    @staticmethod
    def _error(status: int, code: int | None) -> dict:
        message = ERRORS.get(code, (status, "Internal Server Error" if status >= 500 else "Error"))[1]
        return {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; without TCP_NODELAY the body
            # waits for the client's delayed ACK, 40 ms per request.
            disable_nagle_algorithm = True

            def _refused(self, path: str) -> bool:
                account = f"/2010-04-01/Accounts/{fake.account_sid}"
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return True
                if path not in (account + "/Messages.json", account + "/Calls.json") and not path.startswith(
                    account + "/Recordings/"
                ):
                    self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                    return True
                return False

            def do_DELETE(self):
                path = urlsplit(self.path).path
                if self._refused(path):
                    return
                sid = path.rsplit("/", 1)[1].removesuffix(".json")
                with fake._lock:
                    known = sid in fake.recordings and sid not in fake.deleted_recordings
                    if known:
                        fake.deleted_recordings.append(sid)
                if not known:
                    self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                    return
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self._refused(self.path):
                    return
                if self.path.endswith("/Calls.json"):
                    status, payload = fake.create_call(form)
                    self._send(status, payload)
                    if status == 201 and fake.runs_calls_at_once:
                        thread = threading.Thread(target=fake.run_call, args=(payload["sid"],), daemon=True)
                        fake.call_threads.append(thread)
                        thread.start()
                    return
                status, payload = fake.answer(form)
                # The client may have given up waiting (timeout) or died: Twilio has the message all the same.
                with contextlib.suppress(OSError):
                    self._send(status, payload)
                fake.answered.set()

            def do_GET(self):
                parts = urlsplit(self.path)
                if self._refused(parts.path):
                    return
                if "/Recordings/" in parts.path:
                    sid = parts.path.rsplit("/", 1)[1].removesuffix(".mp3")
                    with fake._lock:
                        fake.recording_fetches.append(sid)
                        known = sid in fake.recordings and sid not in fake.deleted_recordings
                    if not known:
                        self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                        return
                    audio = b"ID3" + sid.encode() + b"\x00" * 64  # enough to tell one recording from another
                    self.send_response(200)
                    self.send_header("Content-Type", "audio/mpeg")
                    self.send_header("Content-Length", str(len(audio)))
                    self.end_headers()
                    self.wfile.write(audio)
                    return
                self._send(200, fake.listing({k: v[0] for k, v in parse_qs(parts.query).items()}))

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


def _find(document: str, tag: str):
    """The first element `tag` of a TwiML document (None when the answer is not TwiML)."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return None
    return next(root.iter(tag), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    fake = FakeTwilio()
    fake._server.server_close()
    fake._server = ThreadingHTTPServer(("127.0.0.1", args.port), fake._handler())
    print(f"fake Twilio on http://127.0.0.1:{args.port} account {fake.account_sid} token {fake.auth_token}")
    fake._server.serve_forever()


if __name__ == "__main__":
    main()
