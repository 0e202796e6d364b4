"""Administrator pages: staff accounts and cadre areas."""

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from telecollect.admin.forms import UserForm
from telecollect.admin.queries import recent_events, targets_of
from telecollect.audit.labels import ACTION_LABELS, action_label
from telecollect.auth.models import READ_ONLY_ROLES, ApiToken, User
from telecollect.auth.scoping import current_branch_scope, may_see_user, users_condition
from telecollect.auth.services import area_choices, areas_by_id, create_user, revoke_token, tokens_of, update_user
from telecollect.branches.queries import all_branches, all_deputy_regions
from telecollect.clock import day_start
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.reasons import quoted
from telecollect.runtime import acting_settings
from telecollect.security import roles_required
from telecollect.settings import installation

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles_required("admin")
def users():
    """List the accounts of the branches the administrator administers (every account for an installation
    administrator)."""
    scope = current_branch_scope(db.session)
    accounts = db.session.scalars(select(User).where(users_condition(scope)).order_by(User.role, User.username)).all()
    branches = {b.id: b for b in all_branches(db.session)}
    return render_template("admin/users.html", users=accounts, branches=branches)


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
    """Change an account: name, role, password, activity, areas, branch."""
    user = _visible_user(user_id)
    form = _user_form(UserForm(obj=user))
    if not form.is_submitted():
        form.role.data = user.role.value
        form.branch.data = str(user.branch_id or "")
        form.deputy_region.data = str(user.deputy_region_id or "")
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
    _visible_user(user_id)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        abort(404)
    revoke_token(db.session, token, now=now_utc(), actor=current_user)
    flash(_("Token %(id)s revoked.", id=token.id), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id))


def _visible_user(user_id: int) -> User:
    """An account of a branch the administrator administers; 404 for another branch's."""
    user = db.get_or_404(User, user_id)
    if not may_see_user(current_branch_scope(db.session), user):
        abort(404)
    return user


def _profile(form: UserForm) -> dict:
    """The account's fields; a branch administrator's accounts are of her branch and of a branch role."""
    profile = {
        "name": form.name.data,
        "role": form.role.data,
        "is_active": form.is_active.data,
        "timezone": form.timezone.data,
        "daily_call_target": form.daily_call_target.data,
        "areas": areas_by_id(db.session, form.areas.data),
        "agent_phone": (form.agent_phone.data or "").strip(),
    }
    if current_user.is_installation_admin:
        profile.update(
            branch_id=int(form.branch.data) if form.branch.data else None,
            deputy_region_id=int(form.deputy_region.data) if form.deputy_region.data else None,
            is_installation_admin=bool(form.is_installation_admin.data),
        )
    elif form.role.data in {r.value for r in READ_ONLY_ROLES}:
        raise ServiceError("installation_admin_only", "role")
    else:
        profile.update(branch_id=current_user.branch_id)
    return profile


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
    settings = installation()  # the name of a branch that has none of its own (the first): the installation's
    form.branch.choices = [SelectChoice("", "–")] + [
        SelectChoice(str(b.id), f"{b.code} {b.name or settings.branch_name}") for b in all_branches(db.session)
    ]
    form.deputy_region.choices = [SelectChoice("", "–")] + [
        SelectChoice(str(d.id), d.name) for d in all_deputy_regions(db.session)
    ]
    if not current_user.is_installation_admin:
        form.role.choices = [c for c in form.role.choices if c.value not in {r.value for r in READ_ONLY_ROLES}]
    return form


@bp.route("/audit")
@roles_required("admin")
def audit_log():
    """The audit log, newest first: who did what to whom, in names and words, with links; filtered by
    person, action (chosen from a list) and date range (branch days)."""
    page = max(request.args.get("page", 1, type=int), 1)
    action = request.args.get("action", "").strip()
    username = request.args.get("user", "").strip()
    start, end = request.args.get("from", "").strip(), request.args.get("to", "").strip()
    filters = {"user": username, "action": action, "from": start, "to": end}
    try:
        since, until = _audit_days(start, end)
    except ServiceError as exc:
        page_html = render_template(
            "admin/audit.html",
            events=[],
            targets={},
            page=1,
            has_more=False,
            filters=filters,
            actions=_action_choices(),
            action_label=action_label,
            error=exc.message,
        )
        return page_html, 400
    events, has_more = recent_events(
        db.session, action=action, username=username, since=since, until=until, page=page, per_page=100
    )
    return render_template(
        "admin/audit.html",
        events=events,
        targets=targets_of(db.session, [e for e, _user in events]),
        page=page,
        has_more=has_more,
        filters=filters,
        actions=_action_choices(),
        action_label=action_label,
        error=None,
    )


def _audit_days(start: str, end: str) -> tuple[datetime | None, datetime | None]:
    """The [since, until) instants of the branch days `start`..`end` (YYYY-MM-DD, either may be blank)."""
    zone = acting_settings().branch_timezone
    days = []
    for written, field in ((start, "from"), (end, "to")):
        try:
            days.append(date.fromisoformat(written) if written else None)
        except ValueError:
            raise ServiceError("report_date_format", field, value=quoted(written)) from None
    first, last = days
    if first and last and last < first:
        raise ServiceError("report_range_order", "from")
    since = day_start(first, zone) if first else None
    until = day_start(last + timedelta(days=1), zone) if last else None
    return since, until


def _action_choices() -> list[tuple[str, str]]:
    """The actions to filter by, in words: each code, and "every import" for the import family."""
    choices = [(code, str(label)) for code, label in ACTION_LABELS.items()]
    choices.append(("import.", _("every import, including trial runs and refused files")))
    return sorted(choices, key=lambda choice: choice[1].lower())
