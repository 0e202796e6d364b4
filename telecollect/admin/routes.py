"""Administrator pages: staff accounts and cadre areas."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from telecollect.admin.forms import UserForm
from telecollect.admin.queries import recent_events
from telecollect.auth.models import ApiToken, User
from telecollect.auth.services import area_choices, areas_by_id, create_user, revoke_token, tokens_of, update_user
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.security import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles_required("admin")
def users():
    """List every account."""
    accounts = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=accounts)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    """Create an account."""
    form = _user_form(UserForm())
    if form.validate_on_submit():
        user = _save(
            form,
            lambda: create_user(
                db.session,
                username=form.username.data,
                password=form.password.data or "",
                actor=current_user,
                **_profile(form),
            ),
        )
        if user is not None:
            flash(_("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id):
    """Change an account: name, role, password, activity, areas."""
    user = db.get_or_404(User, user_id)
    form = _user_form(UserForm(obj=user))
    if not form.is_submitted():
        form.role.data = user.role.value
        form.areas.data = [f"d:{a.district_id}" if a.district_id else f"v:{a.village_id}" for a in user.areas]
    form.username.data = user.username
    if form.validate_on_submit():
        saved = _save(
            form,
            lambda: update_user(db.session, user, password=form.password.data, actor=current_user, **_profile(form)),
        )
        if saved is not None:
            flash(_("Account %(username)s saved.", username=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html", form=form, user=user, tokens=tokens_of(db.session, user), now=now_utc()
    )


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required("admin")
def revoke_user_token(user_id, token_id):
    """Revoke one of the user's API tokens at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        abort(404)
    revoke_token(db.session, token, now=now_utc(), actor=current_user)
    flash(_("Token %(id)s revoked.", id=token.id), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id))


def _profile(form: UserForm) -> dict:
    return {
        "name": form.name.data,
        "role": form.role.data,
        "is_active": form.is_active.data,
        "timezone": form.timezone.data,
        "daily_call_target": form.daily_call_target.data,
        "areas": areas_by_id(db.session, form.areas.data),
    }


def _save(form: UserForm, save):
    """Run one account service and commit, or put its refusal on the form."""
    try:
        user = save()
    except ServiceError as exc:
        db.session.rollback()
        field = getattr(form, exc.field or "", None)
        if field is not None:
            field.errors = [*field.errors, exc.message]
        else:
            flash(exc.message, "error")
        return None
    return user


def _user_form(form: UserForm) -> UserForm:
    form.areas.choices = [SelectChoice(value, label) for value, label in area_choices(db.session)]
    return form


@bp.route("/audit")
@roles_required("admin")
def audit_log():
    """The audit log, newest first: sign-ins and who viewed or changed what."""
    page = max(request.args.get("page", 1, type=int), 1)
    action = request.args.get("action", "").strip()
    username = request.args.get("user", "").strip()
    events, has_more = recent_events(db.session, action=action, username=username, page=page, per_page=100)
    return render_template(
        "admin/audit.html", events=events, page=page, has_more=has_more, action=action, username=username
    )
