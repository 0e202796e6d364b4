"""Who is asking: session sign-in for pages, bearer tokens for the API, and CSRF.

A session ends at sign-out, at a new password (both raise the user's `session_version`, which the session
must carry) and `PERMANENT_SESSION_LIFETIME` after sign-in whatever the activity in between (the sign-in
time is in the session). A request to the API that carries a bearer token is authenticated by the token
alone, never by the cookie beside it, and only such a request skips the CSRF check.
"""

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, Request, Response, abort, current_app, g, jsonify, render_template, request, session
from flask_login import current_user, login_user
from sqlalchemy.orm import joinedload
from twilio.request_validator import RequestValidator

from telecollect.auth.models import User
from telecollect.auth.scoping import branch_scope, enter_branch_scope, settings_branch, user_may_write
from telecollect.auth.services import user_for_token
from telecollect.branches.models import Branch
from telecollect.branches.queries import all_branches
from telecollect.branches.stamping import act_in_branch
from telecollect.db import now_utc
from telecollect.errors import ServiceError, error_envelope
from telecollect.extensions import csrf, db, login_manager
from telecollect.reasons import describe

#: Session keys: the user's session version at sign-in, and the sign-in time (Unix seconds).
SESSION_VERSION = "session_version"
SIGNED_IN_AT = "signed_in_at"
#: What a sign-in keeps of the session it replaces.
KEPT_AT_SIGN_IN = ("lang",)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Scripts and styles come only from our static files (no inline script, no inline style), nothing may frame
#: a page, forms post only here.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def register_security(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_user_from_bearer)
    app.before_request(_protect_from_csrf)
    app.before_request(_refuse_read_only_writes)
    app.after_request(_security_headers)


def start_session(user: User, now: datetime) -> None:
    """Sign `user` in on a fresh session (nothing of the one before but the language: no fixation),
    stamped with the user's session version and the sign-in time."""
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    session.permanent = True
    login_user(user)
    _enter_branch_of(user)
    session[SESSION_VERSION] = user.session_version
    session[SIGNED_IN_AT] = int(now.timestamp())


def _load_user(user_id: str) -> User | None:
    if _is_bearer_api_request(request):
        return None  # the token decides, not the cookie beside it
    user = db.session.get(User, int(user_id), options=[joinedload(User.home_branch)])  # her branch's settings: no query
    if user is None or not user.is_active or not _session_is_live(user):
        _forget_sign_in()
        return None
    _enter_branch_of(user)
    return user


def _session_is_live(user: User) -> bool:
    signed_in_at = session.get(SIGNED_IN_AT)
    if session.get(SESSION_VERSION) != user.session_version or not isinstance(signed_in_at, int):
        return False
    age = now_utc().timestamp() - signed_in_at
    return 0 <= age < current_app.permanent_session_lifetime.total_seconds()


def _forget_sign_in() -> None:
    for key in ("_user_id", "_fresh", "_id", SESSION_VERSION, SIGNED_IN_AT):
        session.pop(key, None)


def _load_user_from_bearer(req: Request) -> User | None:
    raw = bearer_token(req)
    if raw is None or not req.path.startswith("/api/"):
        return None
    user = user_for_token(db.session, raw, now=now_utc())
    if user is not None:
        g.authenticated_by_token = True  # last_used_at, when it moved, is committed with the request
        _enter_branch_of(user)
    return user


def _enter_branch_of(user: User) -> None:
    """The request reads the branches `user` may see and writes in her branch (telecollect.auth.scoping)."""
    session = db.session()
    act_in_branch(session, user.branch_id)
    enter_branch_scope(session, branch_scope(session, user))


#: What a read-only role (regional supervisor, national viewer) may still post: signing in and out,
#: the language.
READ_ONLY_MAY_POST = frozenset({"auth.login", "auth.logout", "auth.set_language"})


def _refuse_read_only_writes() -> None:
    if request.method not in UNSAFE_METHODS or request.endpoint in READ_ONLY_MAY_POST:
        return
    if current_user.is_authenticated and not user_may_write(current_user):
        abort(403)


def settings_branch_of_request() -> Branch | None:
    """The branch whose settings this settings page shows and saves (`auth.scoping.settings_branch`), named by
    its code in the `branch` query or form field; a refusal ends the request with its error page."""
    try:
        return settings_branch(db.session(), current_user, request.values.get("branch"))
    except ServiceError as exc:
        abort(Response(render_template("error.html", status=exc.status, message=exc.message), exc.status))


def settings_branch_context(branch: Branch | None) -> dict:
    """What every settings page shows of whose settings these are (templates/_settings_branch.html)."""
    return {
        "settings_branch": branch,
        "settings_branches": _choosable_branches(),
        "branch_code": branch.code if branch is not None and _chooses_branch() else "",
    }


def settings_branch_arg(branch: Branch | None) -> str | None:
    """The `branch` query of the settings page to go back to: an installation administrator's choice (a
    branch's staff have one branch, and a clean address)."""
    return branch.code if branch is not None and _chooses_branch() else None


def _chooses_branch() -> bool:
    return current_user.is_installation_admin or not user_may_write(current_user)


def _choosable_branches() -> list[Branch]:
    if not _chooses_branch():
        return []
    scope = branch_scope(db.session(), current_user)
    return [b for b in all_branches(db.session()) if scope.covers(b.id)]


def bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _is_bearer_api_request(req: Request) -> bool:
    return req.path.startswith("/api/") and bearer_token(req) is not None


def _protect_from_csrf() -> Response | None:
    # A request authenticated by a valid bearer token (and not by the cookie: see _load_user) cannot be
    # forged by another site (a browser never adds the header by itself), so only cookie-authenticated
    # writes need the CSRF token. Views that receive third-party callbacks opt out with @csrf.exempt.
    if request.path.startswith("/api/"):
        if request.routing_exception is not None:
            return None  # 404 or 405, answered as JSON by the error handlers
        if request.method in UNSAFE_METHODS and not current_user.is_authenticated:
            return unauthorized_json()
        if g.get("authenticated_by_token"):
            return None
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    csrf.protect(apply_exemptions=True)
    return None


def _security_headers(response: Response) -> Response:
    """Headers on every answer; `no-store` on every answer to a signed-in user or the API (personal data
    must not stay in a shared browser's or a proxy's cache), HSTS when the request came over https."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # The signed-in user as loaded for this request (a type test: reading a column after the commit would
    # cost a query).
    signed_in = isinstance(g.get("_login_user"), User)
    if request.endpoint != "static" and (signed_in or request.path.startswith("/api/")):
        headers["Cache-Control"] = "no-store"
    return response


def unauthorized_json() -> Response:
    """The API's 401: no credentials, or a token that is unknown, revoked or expired."""
    response = jsonify(error_envelope("unauthorized", describe("unauthorized", {})))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


P = ParamSpec("P")
R = TypeVar("R")


def _reader_may_read(roles: tuple[str, ...]) -> bool:
    """The read-only roles read what supervisors read (their writes are refused before any view)."""
    return "supervisor" in roles and current_user.is_reader and request.method not in UNSAFE_METHODS


def roles_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Allow only signed-in users with one of `roles` (403 for the others)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role.value not in roles and not _reader_may_read(roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def require_twilio_signature() -> None:
    """403 unless X-Twilio-Signature matches PUBLIC_BASE_URL + path and query (so it works behind a proxy)
    under TWILIO_AUTH_TOKEN: the one check for every Twilio webhook."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    if not token or not signature or not RequestValidator(token).validate(url, request.form.to_dict(), signature):
        abort(403)
