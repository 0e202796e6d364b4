"""Who is asking: session sign-in for pages, bearer tokens for the API, and CSRF."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, Request, abort, current_app, g, request
from flask_login import current_user

from telecollect.auth.models import User
from telecollect.auth.services import user_for_token
from telecollect.extensions import csrf, db, login_manager


def register_security(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_user_from_bearer)
    app.before_request(_protect_from_csrf)


def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


def _load_user_from_bearer(req: Request) -> User | None:
    raw = bearer_token(req)
    if raw is None:
        return None
    user = user_for_token(db.session, raw)
    if user is not None:
        g.authenticated_by_token = True  # last_used_at, when it moved, is committed with the request
    return user


def bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _protect_from_csrf() -> None:
    # A request that carries a bearer token and no session cookie cannot be
    # forged by another site (a browser never adds the header by itself), so
    # only cookie-authenticated writes need the CSRF token. Views that receive
    # third-party callbacks opt out with @csrf.exempt.
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if bearer_token(request) is not None and request.path.startswith("/api/"):
        return
    csrf.protect(apply_exemptions=True)


P = ParamSpec("P")
R = TypeVar("R")


def roles_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Allow only signed-in users with one of `roles` (403 for the others)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role.value not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
