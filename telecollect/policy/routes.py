"""The contact settings page."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.policy.rules import DAY_NAMES, PolicyConfigError, parse_days
from telecollect.policy.services import save_contact_settings
from telecollect.runtime import contact_rules, default_contact_rules
from telecollect.security import roles_required

bp = Blueprint("policy", __name__)


@bp.route("/settings/contact", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def contact_settings():
    """When and how often families may be contacted; a change applies to the next claim, call and message."""
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
            )
        except ServiceError as exc:
            # What was typed stays in the form, with the reason beside its field.
            days = _ticked(request.form.getlist("calling_days"))
            return render_template("policy/settings.html", form=request.form, days=days, error=exc), 400
        flash(_("Contact settings saved."), "success")
        return redirect(url_for("policy.contact_settings"))
    rules = contact_rules()
    form = {
        "calling_hours": rules.hours_written(),
        "calling_days": rules.days_written(),
        "max_per_day": rules.max_per_day,
        "max_per_week": rules.max_per_week,
        "cuti_bersama_closed": rules.cuti_bersama_blocks,
    }
    days = [DAY_NAMES[day] for day in sorted(rules.days)]
    return render_template("policy/settings.html", form=form, days=days, error=None, defaults=default_contact_rules())


def _ticked(values: list[str]) -> list[str]:
    """The day boxes to show ticked again after a refusal ("mon-fri" from a script counts as five)."""
    try:
        return [DAY_NAMES[day] for day in sorted(parse_days(",".join(values)))]
    except PolicyConfigError:
        return [value for value in values if value in DAY_NAMES]
