"""The contact settings page and the branch's own holidays."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from telecollect.contacts.models import Holiday
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.policy.holidays import add_holiday, holidays_of, remove_holiday
from telecollect.policy.rules import DAY_NAMES, PolicyConfigError, parse_days
from telecollect.policy.services import has_own_contact_settings, revert_contact_settings, save_contact_settings
from telecollect.reasons import quoted
from telecollect.runtime import branch_rules, default_contact_rules
from telecollect.security import (
    roles_required,
    settings_branch_arg,
    settings_branch_context,
    settings_branch_of_request,
)

bp = Blueprint("policy", __name__)


@bp.route("/settings/contact", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def contact_settings():
    """When and how often families may be contacted (the branch's own, else the installation's); a change
    applies to the next claim, call and message."""
    branch = settings_branch_of_request()
    branch_id = branch.id if branch is not None else None
    own = branch_id is None or has_own_contact_settings(db.session, branch_id)
    if request.method == "POST":
        try:
            save_contact_settings(
                db.session,
                calling_hours=request.form.get("calling_hours", ""),
                calling_days=",".join(request.form.getlist("calling_days")),  # one box per day
                max_per_day=request.form.get("max_per_day", ""),
                max_per_week=request.form.get("max_per_week", ""),
                is_cuti_bersama_closed=bool(request.form.get("cuti_bersama_closed")),
                user=current_user,
                now=now_utc(),
                branch_id=branch_id,
            )
        except ServiceError as exc:
            db.session.rollback()
            # What was typed stays in the form, with the reason beside its field.
            days = _ticked(request.form.getlist("calling_days"))
            page = render_template(
                "policy/settings.html",
                form=request.form,
                days=days,
                error=exc,
                own=own,
                **settings_branch_context(branch),
            )
            return page, 400
        flash(_("Contact settings saved."), "success")
        return redirect(url_for("policy.contact_settings", branch=settings_branch_arg(branch)))
    rules = branch_rules(db.session, branch_id)
    form = {
        "calling_hours": rules.hours_written(),
        "calling_days": rules.days_written(),
        "max_per_day": rules.max_per_day,
        "max_per_week": rules.max_per_week,
        "cuti_bersama_closed": rules.cuti_bersama_blocks,
    }
    days = [DAY_NAMES[day] for day in sorted(rules.days)]
    return render_template(
        "policy/settings.html",
        form=form,
        days=days,
        error=None,
        defaults=default_contact_rules(),
        own=own,
        **settings_branch_context(branch),
    )


@bp.route("/settings/contact/revert", methods=["POST"])
@roles_required("supervisor", "admin")
def revert_contact():
    """The branch follows the installation's contact settings again (its own are deleted)."""
    branch = settings_branch_of_request()
    if branch is None:
        abort(400)  # the installation's settings have nothing to go back to
    if revert_contact_settings(db.session, branch.id, user=current_user):
        flash(_("The branch follows the installation's settings again."), "success")
    return redirect(url_for("policy.contact_settings", branch=settings_branch_arg(branch)))


@bp.route("/settings/holidays", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def holidays():
    """The days off a branch adds to the national calendar (a regional holiday); the installation's own
    (national) days for an installation administrator who chose no branch."""
    branch = settings_branch_of_request()
    branch_id = branch.id if branch is not None else None
    error = None
    if request.method == "POST":
        try:
            add_holiday(
                db.session,
                branch_id,
                _day(request.form.get("on", "")),
                request.form.get("name", ""),
                user=current_user,
            )
        except ServiceError as exc:
            db.session.rollback()
            error = exc
        else:
            flash(_("Holiday saved."), "success")
            return redirect(url_for("policy.holidays", branch=settings_branch_arg(branch)))
    year = now_utc().year
    page = render_template(
        "policy/holidays.html",
        rows=holidays_of(db.session, branch_id, since=date(year, 1, 1)),
        error=error,
        form=request.form,
        **settings_branch_context(branch),
    )
    return (page, 400) if error else page


@bp.route("/settings/holidays/<int:holiday_id>/delete", methods=["POST"])
@roles_required("supervisor", "admin")
def delete_holiday(holiday_id):
    """Remove one of the branch's own holidays (another branch's, or the installation's for a branch's staff:
    not found)."""
    branch = settings_branch_of_request()
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None or holiday.branch_id != (branch.id if branch is not None else None):
        abort(404)
    remove_holiday(db.session, holiday, user=current_user)
    flash(_("Holiday removed."), "success")
    return redirect(url_for("policy.holidays", branch=settings_branch_arg(branch)))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ServiceError("iso_date", "on", value=quoted(text.strip())) from None


def _ticked(values: list[str]) -> list[str]:
    """The day boxes to show ticked again after a refusal ("mon-fri" from a script counts as five)."""
    try:
        return [DAY_NAMES[day] for day in sorted(parse_days(",".join(values)))]
    except PolicyConfigError:
        return [value for value in values if value in DAY_NAMES]
