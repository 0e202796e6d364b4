"""The contact settings page."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
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
                calling_days=request.form.get("calling_days", ""),
                max_per_day=request.form.get("max_per_day", ""),
                max_per_week=request.form.get("max_per_week", ""),
                is_cuti_bersama_closed=bool(request.form.get("cuti_bersama_closed")),
                user=current_user,
                now=now_utc(),
            )
        except ServiceError as exc:
            # What was typed stays in the form, with the reason beside its field.
            return render_template("policy/settings.html", form=request.form, error=exc), 400
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
    return render_template("policy/settings.html", form=form, error=None, defaults=default_contact_rules())
