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
"""

import argparse
import base64
import contextlib
import itertools
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

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
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return True
                if path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                    return True
                return False

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self._refused(self.path):
                    return
                status, payload = fake.answer(form)
                # The client may have given up waiting (timeout) or died: Twilio has the message all the same.
                with contextlib.suppress(OSError):
                    self._send(status, payload)
                fake.answered.set()

            def do_GET(self):
                parts = urlsplit(self.path)
                if not self._refused(parts.path):
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
