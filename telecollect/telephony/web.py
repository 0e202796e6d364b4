"""Agents' states on the desktop (ready, or paused with a reason) and the pause reasons a supervisor edits."""

from datetime import datetime

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from telecollect.auth.models import Role
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.formatting import local_datetime
from telecollect.policy.rules import zones_open
from telecollect.reports.board import live_board
from telecollect.runtime import acting_settings, contact_rules
from telecollect.security import roles_required
from telecollect.telephony import agents
from telecollect.telephony.labels import state_label
from telecollect.telephony.models import PauseReason
from telecollect.telephony.services import current_state, pause_reasons

bp = Blueprint("agents", __name__)


@bp.app_context_processor
def _agent_desk():
    """`agent_desk()` in templates: the signed-in telecollector's state, since when, and the pause menu."""

    def agent_desk() -> dict | None:
        if not current_user.is_authenticated or current_user.role != Role.telecollector:
            return None
        row = current_state(db.session, current_user)
        reasons = pause_reasons(db.session)
        return {
            "state": row.state.value if row else None,
            "label": state_label(row.state if row else None),
            "reason_code": row.reason_code if row else None,
            "reason_label": next((r.label for r in reasons if row and r.code == row.reason_code), None),
            "since": row.since if row else None,
            "reasons": reasons,
        }

    return {"agent_desk": agent_desk}


@bp.route("/agent/state", methods=["POST"])
@roles_required("telecollector")
def set_state():
    """Siap / Jeda: the telecollector sets herself ready, or paused with a reason (audited)."""
    try:
        row = agents.change_own_state(
            db.session,
            current_user,
            request.form.get("state", ""),
            reason_code=request.form.get("reason_code") if request.form.get("state") == "paused" else None,
            now=now_utc(),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        if row.reason_code:
            flash(_("You are paused: %(reason)s.", reason=_reason_label(row.reason_code)), "success")
        else:
            flash(_("You are ready."), "success")
    return redirect(_back())


def _reason_label(code: str) -> str:
    reason = db.session.query(PauseReason).filter_by(code=code).one_or_none()
    return reason.label if reason else code


def _back() -> str:
    """Back to the page she pressed it on (a path of ours only), else the call queue."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("queue.home")


@bp.route("/pause-reasons", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def reasons():
    """Alasan jeda: the pause reasons telecollectors choose from; a new one is added here."""
    if request.method == "POST":
        try:
            agents.add_pause_reason(
                db.session, request.form.get("code", ""), request.form.get("label", ""), by=current_user
            )
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return _reasons_page(request.form), 400
        flash(_("Pause reason saved."), "success")
        return redirect(url_for("agents.reasons"))
    return _reasons_page({})


@bp.route("/pause-reasons/<int:reason_id>", methods=["POST"])
@roles_required("supervisor", "admin")
def edit_reason(reason_id):
    """Rename, reorder, retire or bring back one pause reason."""
    reason = db.session.get(PauseReason, reason_id)
    if reason is None:
        abort(404)
    try:
        order = int(request.form.get("sort_order", reason.sort_order))
    except ValueError:
        order = reason.sort_order
    try:
        agents.update_pause_reason(
            db.session,
            reason,
            label=request.form.get("label", ""),
            sort_order=max(0, min(order, 999)),
            is_active=request.form.get("is_active") == "1",
            by=current_user,
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _reasons_page({}), 400
    flash(_("Pause reason saved."), "success")
    return redirect(url_for("agents.reasons"))


def _reasons_page(form):
    return render_template(
        "telephony/pause_reasons.html", reasons=pause_reasons(db.session, active_only=False), form=form
    )


#: How often the live board asks for fresh figures (the issue asks for at least every 10 s).
BOARD_REFRESH_SECONDS = 5


def _board() -> dict:
    now = now_utc()
    data = live_board(db.session, now, acting_settings().branch_timezone, zones_open(db.session, contact_rules(), now))
    data["at_text"] = local_datetime(now, current_user.timezone)  # in the supervisor's zone, as pages show times
    for cadre in data["cadres"]:
        cadre["last_activity_text"] = (
            local_datetime(datetime.fromisoformat(cadre["last_activity"]), current_user.timezone)
            if cadre["last_activity"]
            else _("never")
        )
    return data


@bp.route("/board")
@roles_required("supervisor", "admin")
def board():
    """Papan langsung: the team now (agents' states and time in state, calls and talk time today, cadres'
    last activity, families callable per zone); the page refreshes itself from `board.json`."""
    return render_template("telephony/board.html", board=_board(), refresh_seconds=BOARD_REFRESH_SECONDS)


@bp.route("/board.json")
@roles_required("supervisor", "admin")
def board_data():
    """The live board's figures, polled by the page (static/board.js) every few seconds."""
    response = jsonify(_board())
    response.headers["Cache-Control"] = "no-store"
    return response
