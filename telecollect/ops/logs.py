"""Logs: one line per event, as JSON (`LOG_FORMAT=json`, for a log shipper) or as text (`make run`'s default).

Every request logs one `request` event when answered: its request id (the load balancer's `X-Request-ID`
when it sends a sane one, else a new one, echoed in the answer's header), the user's id, their branch when
known, the route (the endpoint's name, never the path: paths carry ids), the method, the status and the
duration. Any other line logged during a request carries the same request id. No personal data: no names,
numbers, paths or query strings.
"""

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from time import perf_counter

from flask import Flask, Response, g, has_request_context, request

from telecollect.metrics import REQUEST_SECONDS

log = logging.getLogger("telecollect.request")
#: A request id from outside is used only if it looks like one (no room for log injection).
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: The fields a record may carry beside its message (given with `extra=`).
FIELDS = ("request_id", "user_id", "branch", "route", "method", "status", "duration_ms", "job", "host", "pid", "role")
_MARK = "telecollect_handler"


class RequestIdFilter(logging.Filter):
    """Gives every record logged inside a request that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None) and has_request_context():
            record.request_id = g.get("request_id")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        given = ((name, getattr(record, name, None)) for name in FIELDS)
        extra = " ".join(f"{name}={value}" for name, value in given if value is not None)
        return f"{super().format(record)} {extra}".rstrip()


def configure_logging(log_format: str, *, level: int = logging.INFO) -> None:
    """One handler on the root logger, on stderr, in `log_format` ("json" or "text"); calling again replaces
    it (an app made twice in one process logs each line once)."""
    if log_format not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, got {log_format!r}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _MARK, True)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)


def register_request_logging(app: Flask) -> None:
    """The request id, the `request` event and the latency histogram, for every request."""
    if not app.testing:  # tests read records through pytest's capture, not a stderr handler
        configure_logging(app.config["LOG_FORMAT"])

    @app.before_request
    def start():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # answered before `start` ran (another before_request hook refused it)
            g.request_id, started = uuid.uuid4().hex, perf_counter()
        seconds = perf_counter() - started
        route = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(seconds)
        response.headers["X-Request-ID"] = g.request_id
        log.info(
            "request",
            extra={
                "request_id": g.request_id,
                "user_id": g.get("log_user_id"),
                "branch": g.get("log_branch"),
                "route": route,
                "method": request.method,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
        return response


def register_identity_note(app: Flask) -> None:
    """Who made the request, noted for its log line before the commit (which expires the user: reading them
    after it would cost a query). Only a user the request loaded anyway is read; registered after the
    transaction boundary, so that it runs before it (Flask runs `after_request` hooks last-in first)."""

    @app.after_request
    def note_who(response: Response) -> Response:
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            g.log_user_id = user.id
            g.log_branch = getattr(user, "branch_id", None)
        return response
