"""How large a request body may be, per route: small everywhere, large only where a file is uploaded.

One app-wide limit (MAX_CONTENT_LENGTH, the upload limit of 200 MB) let anyone, signed in or not, make a
worker read and parse 200 MB (a 150 MB POST to /login cost 410 MB). Here every request may send at most
`MAX_BODY_BYTES` (64 KB: any form or JSON body the app takes is far smaller), and only the import upload
pages, for a signed-in user allowed to import, may send up to MAX_CONTENT_LENGTH. A larger body is
refused with 413 before it is read.

The limit is a property of the request (not a hook) so that it holds whoever reads the body first: the
CSRF check reads the form before any view.
"""

from flask import Flask, Request, current_app
from flask_login import current_user

#: The import upload pages (endpoint names), the only routes that take a large body.
UPLOAD_ENDPOINTS = frozenset({"participants.upload", "payments.upload"})
#: Any other body: forms and JSON are a few kilobytes.
DEFAULT_MAX_BODY_BYTES = 64 * 1024


class BoundedRequest(Request):
    """A request whose body limit depends on its route and on who sends it."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:  # set by hand on this request
            return self._max_content_length
        config = current_app.config
        if self.endpoint in UPLOAD_ENDPOINTS and _may_import():
            return config["MAX_CONTENT_LENGTH"]
        return config["MAX_BODY_BYTES"]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def _may_import() -> bool:
    # The upload pages are for admins and supervisors (`roles_required("admin", "supervisor")`).
    return bool(current_user.is_authenticated and current_user.is_privileged)


def register_body_limits(app: Flask) -> None:
    """Every request of `app` is bounded (`BoundedRequest`); MAX_BODY_BYTES may be set in config.py."""
    app.config.setdefault("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
    app.request_class = BoundedRequest
