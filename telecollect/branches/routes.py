"""The installation administrator's pages for branches: list, add, change."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.fields.choices import SelectChoice, SelectField
from wtforms.validators import DataRequired, Length, Optional

from telecollect.branches.models import ZONES, Branch
from telecollect.branches.queries import all_branches, branch_overrides
from telecollect.branches.services import add_branch, edit_branch, set_branch_setting
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.runtime import check_branch_setting
from telecollect.security import roles_required
from telecollect.settings import installation

bp = Blueprint("branches", __name__, url_prefix="/admin/branches")

#: The installation settings a branch may set for itself on this page, by form field (the rest:
#: `flask branches set`; see telecollect.branches.settings.OVERRIDABLE).
EDITABLE_SETTINGS = {
    "va_prefixes": "VA_PREFIXES",
    "sms_sender_id": "TWILIO_FROM_NUMBER",
    "daily_call_target": "DAILY_CALL_TARGET",
    "cadre_weekly_target": "CADRE_WEEKLY_TARGET",
}


class BranchForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=16)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    zone = SelectField(_l("Time zone"), choices=[SelectChoice(z, z) for z in ZONES])
    deputy = StringField(_l("Regional deputy (Kedeputian Wilayah)"), validators=[Optional(), Length(max=120)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=500)])
    va_prefixes = StringField(_l("Virtual account prefixes"), validators=[Optional(), Length(max=200)])
    sms_sender_id = StringField(_l("SMS sender ID"), validators=[Optional(), Length(max=20)])
    daily_call_target = StringField(_l("Daily call target"), validators=[Optional(), Length(max=5)])
    cadre_weekly_target = StringField(_l("Cadre weekly target"), validators=[Optional(), Length(max=5)])


def _installation_admin() -> None:
    if not current_user.is_installation_admin:
        abort(403)


@bp.route("")
@roles_required("admin")
def index():
    """Every branch, with its zone and regional deputy."""
    _installation_admin()
    return render_template("branches/index.html", branches=all_branches(db.session), settings=installation())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    """Add a branch."""
    _installation_admin()
    form = BranchForm()
    if form.validate_on_submit():
        try:
            branch = add_branch(
                db.session,
                code=form.code.data or "",
                name=form.name.data or "",
                zone=form.zone.data or "",
                deputy=form.deputy.data or None,
                address=form.address.data,
            )
            _save_settings(branch, form)
        except ServiceError as exc:
            db.session.rollback()
            _put_error(form, exc)
        else:
            flash(_("Branch %(code)s added.", code=branch.code), "success")
            return redirect(url_for("branches.index"))
    return render_template("branches/form.html", form=form, branch=None)


@bp.route("/<int:branch_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(branch_id):
    """Change a branch: its code, name, zone, deputy, address and own settings."""
    _installation_admin()
    branch = db.get_or_404(Branch, branch_id)
    form = BranchForm(obj=branch)
    if not form.is_submitted():
        form.zone.data = branch.zone or installation().branch_timezone
        form.deputy.data = branch.deputy_region.name if branch.deputy_region else ""
        for field, key in EDITABLE_SETTINGS.items():
            getattr(form, field).data = branch_overrides(branch).get(key, "")
    if form.validate_on_submit():
        try:
            edit_branch(
                db.session,
                branch,
                code=form.code.data,
                name=form.name.data,
                zone=form.zone.data,
                deputy=form.deputy.data or "",
                address=form.address.data or "",
            )
            _save_settings(branch, form)
        except ServiceError as exc:
            db.session.rollback()
            _put_error(form, exc)
        else:
            flash(_("Branch %(code)s saved.", code=branch.code), "success")
            return redirect(url_for("branches.index"))
    return render_template("branches/form.html", form=form, branch=branch)


def _save_settings(branch: Branch, form: BranchForm) -> None:
    for field, key in EDITABLE_SETTINGS.items():
        value = (getattr(form, field).data or "").strip()
        if value:
            check_branch_setting(key, value)
        set_branch_setting(branch, key, value)
    db.session.flush()


def _put_error(form: BranchForm, exc: ServiceError) -> None:
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "error")
