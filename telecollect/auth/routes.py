"""Signing in and out, the home page per role, and the language switch."""

from datetime import timedelta
from math import ceil
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from telecollect.audit import services as audit
from telecollect.auth import bp
from telecollect.auth.forms import LoginForm
from telecollect.auth.models import Role
from telecollect.auth.services import SignInLimits, authenticate, end_sessions
from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.security import start_session

#: Where each role starts its day.
HOME_ENDPOINTS = {
    Role.admin: "admin.users",
    Role.supervisor: "reports.dashboard",
    Role.telecollector: "queue.home",
    Role.cadre: "queue.cadre",
    Role.regional_supervisor: "reports.dashboard",
    Role.national_viewer: "reports.dashboard",
}


@bp.route("/")
def home():
    """Send a signed-in user to their role's start page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME_ENDPOINTS[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password; repeated failures are throttled."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if form.validate_on_submit():
        now = now_utc()
        attempt = authenticate(
            db.session,
            form.username.data,
            form.password.data,
            request.remote_addr,
            limits=SignInLimits(
                per_username_and_ip=current_app.config["LOGIN_MAX_FAILURES"],
                per_ip=current_app.config["LOGIN_MAX_FAILURES_PER_IP"],
                window=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
            ),
            now=now,
        )
        # Counted even when the answer is 401 (the boundary rolls back error answers): throttling needs it.
        db.session.commit()
        if attempt.user is not None:
            start_session(attempt.user, now)
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
        if attempt.problem == "throttled" and attempt.retry_at is not None:
            minutes = max(1, ceil((attempt.retry_at - now).total_seconds() / 60))
            flash(_("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes), "error")
        else:
            flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", form=form), 401
    if request.method == "POST":
        # An empty field (or an expired form) is answered in a sentence, with nothing counted against anyone.
        flash(_("Enter your username and your password."), "error")
        return render_template("auth/login.html", form=form), 400
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out, ending this user's sessions everywhere (a copy of the cookie is refused from now on)."""
    user = current_user._get_current_object()
    audit.record(db.session, "logout", user=user)
    end_sessions(user)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    """Switch the interface language for this browser session."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.home"))


def _safe_next(target: str | None) -> str | None:
    """Only follow redirects to paths on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None
