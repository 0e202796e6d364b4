"""A fake Twilio REST API on 127.0.0.1 that speaks the real paths and JSON.

The real `twilio` SDK is pointed at it (TWILIO_API_BASE_URL), so tests and
benchmarks exercise the SDK's own request and error handling. Answers can be
scripted: a queue of one-off answers (429, 500 …) and per-number errors
(21610, 21211 …). Run it by hand with `python -m tests.fake_twilio --port 8765`.
"""

import argparse
import base64
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ERRORS = {
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    20429: (429, "Too Many Requests"),
    30001: (400, "Queue overflow"),
}


class FakeTwilio:
    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token"):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[dict] = []
        self.script: list[tuple[int, int | None]] = []  # one-off answers, consumed in order
        self.number_errors: dict[str, int] = {}  # To → Twilio error code
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
        body = form.get("Body", "")
        return 201, {
            "sid": f"SM{number:032x}",
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": None,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": body,
            "status": "accepted",
            "num_segments": "1" if len(body) <= 160 else str(-(-len(body) // 153)),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": None,
            "date_sent": None,
            "date_updated": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/SM{number:032x}.json",
            "subresource_uris": {},
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

            def do_POST(self):
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if self.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    return self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                return self._send(*fake.answer(form))

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
