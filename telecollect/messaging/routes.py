"""Supervisor pages: the outbox, a message's history, opt-outs, SMS templates and reminder settings."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from telecollect.audit import services as audit
from telecollect.clock import day_bounds
from telecollect.contacts.models import Channel, OptOut
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.messaging import templates
from telecollect.messaging.encoding import encoding_of, non_gsm_characters, segment_count
from telecollect.messaging.models import ReminderSetting, SmsKind, SmsMessage, SmsStatus
from telecollect.messaging.reminders import DEFAULT_SETTINGS, setting
from telecollect.messaging.services import resolve_unknown
from telecollect.participants.models import Participant
from telecollect.phones import InvalidPhone, normalize_mobile
from telecollect.policy.optouts import opt_in, opt_out
from telecollect.regions.models import District
from telecollect.security import roles_required
from telecollect.settings import installation

bp = Blueprint("messaging", __name__, url_prefix="/sms")
SAMPLE = {
    "nama": "Siti Aminah",
    "jumlah": "Rp210.000",
    "bulan": "6",
    "jatuh_tempo": "10-12-2026",
    "tanggal_janji": "28-11-2026",
    "cicilan": "Rp70.000",
    "kanal": templates.OFFICIAL_CHANNELS,
    "rehab": templates.SMS_SNIPPETS["rehab"],
    "autodebit": templates.SMS_SNIPPETS["autodebit"],
    "cabang": "Jakarta Utara",
}


@bp.route("/outbox")
@roles_required("supervisor", "admin")
def outbox():
    """Every SMS with its status, filtered by status, kind, day and district, with totals."""
    query = _filtered(select(SmsMessage), request.args)
    totals = dict(
        db.session.execute(
            _filtered(select(SmsMessage.status, func.count()), request.args).group_by(SmsMessage.status)
        ).all()
    )
    messages = db.session.scalars(query.order_by(SmsMessage.id.desc()).limit(200)).all()
    waiting = db.session.scalar(select(func.count()).where(SmsMessage.status == SmsStatus.unknown))
    return render_template(
        "messaging/outbox.html",
        messages=messages,
        totals=totals,
        waiting=waiting,
        args=request.args,
        statuses=list(SmsStatus),
        kinds=list(SmsKind),
        districts=db.session.scalars(select(District).order_by(District.name)).all(),
    )


def _filtered(query, args):
    if args.get("status") in SmsStatus.__members__:
        query = query.where(SmsMessage.status == SmsStatus(args["status"]))
    if args.get("kind") in SmsKind.__members__:
        query = query.where(SmsMessage.kind == SmsKind(args["kind"]))
    if args.get("day"):
        try:
            day = date.fromisoformat(args["day"])
        except ValueError:
            day = None
        if day:
            start, end = day_bounds(day, day, installation().branch_timezone)  # a branch day
            query = query.where(SmsMessage.created_at >= start, SmsMessage.created_at < end)
    if args.get("district", "").isascii() and args.get("district", "").isdigit():
        query = query.where(
            SmsMessage.participant_id.in_(
                select(Participant.id).where(Participant.district_id == int(args["district"]))
            )
        )
    return query


@bp.route("/messages/<int:message_id>")
@roles_required("supervisor", "admin")
def message(message_id):
    """One message and its status history."""
    return render_template("messaging/message.html", message=db.get_or_404(SmsMessage, message_id))


@bp.route("/messages/<int:message_id>/resolve", methods=["POST"])
@roles_required("supervisor")
def resolve(message_id):
    """A supervisor settles a message whose outcome is unknown: mark it sent, or send it again (audited)."""
    message = db.get_or_404(SmsMessage, message_id)
    decision = request.form.get("decision", "")
    try:
        resolve_unknown(db.session, message, decision, by=current_user.username, now=now_utc())
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("messaging.message", message_id=message_id))
    audit.record(db.session, f"sms.{decision}", user=current_user, target=message, detail="outcome was unknown")
    flash(_("Queued to be sent again.") if decision == "send_again" else _("Marked as sent."), "success")
    return redirect(url_for("messaging.message", message_id=message_id))


@bp.route("/opt-outs", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def opt_outs():
    """Numbers that must not be contacted, per channel; add or lift one by hand with a reason."""
    if request.method == "POST":
        try:
            phone = normalize_mobile(request.form.get("phone", ""))
            channel = Channel(request.form.get("channel", "sms"))
        except (InvalidPhone, ValueError) as exc:
            flash(_("Not a valid mobile number or channel: %(error)s", error=str(exc)), "error")
            return redirect(url_for("messaging.opt_outs"))
        if request.form.get("action") == "opt_in":
            opt_in(db.session, phone, channel)
            flash(_("%(phone)s may be contacted again by %(channel)s.", phone=phone, channel=channel.value), "success")
        elif opt_out(db.session, phone, channel, request.form.get("reason") or f"by {current_user.username}"):
            flash(_("%(phone)s will not be contacted by %(channel)s.", phone=phone, channel=channel.value), "success")
        return redirect(url_for("messaging.opt_outs"))
    rows = db.session.scalars(select(OptOut).order_by(OptOut.created_at.desc())).all()
    return render_template("messaging/opt_outs.html", rows=rows, channels=list(Channel))


@bp.route("/templates", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def sms_templates():
    """Edit SMS templates with a preview, their encoding and segment count; switch reminders on and off."""
    typed: dict = {}
    refused = False
    if request.method == "POST":
        try:
            _save_settings(request.form)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            typed, refused = request.form.to_dict(), True  # what was typed stays on the page
        else:
            flash(_("Message saved."), "success")
            return redirect(url_for("messaging.sms_templates"))
    rows = []
    for key in templates.SMS_DEFAULTS:
        body = templates.template_body(db.session, key)
        kind = SmsKind(key.removeprefix("sms_"))
        enabled, days = setting(db.session, kind) if kind in DEFAULT_SETTINGS else (True, 0)
        if typed.get("key") == key:
            body, enabled, days = typed.get("body", body), bool(typed.get("enabled")), typed.get("days_before", days)
        preview = templates.render(body, SAMPLE)
        rows.append(
            {
                "key": key,
                "kind": kind,
                "body": body,
                "preview": preview,
                "encoding": encoding_of(preview),
                "segments": segment_count(preview),
                "ucs2": non_gsm_characters(preview),
                "enabled": enabled,
                "days": days,
                "tunable": kind in DEFAULT_SETTINGS,
                "days_label": DAYS_LABELS.get(kind),
            }
        )
    page = render_template(
        "messaging/templates.html", rows=rows, variables=templates.SMS_VARIABLES, sample=SAMPLE, max_days=MAX_DAYS
    )
    return (page, 400) if refused else page


#: The reminders whose timing is a number of days, and what the number means for each: days before
#: the due day, the promised date or the installment; days after a broken promise. The others
#: (the autodebit prompt, the pre-call message) go out when their event happens: no field.
DAYS_LABELS = {
    SmsKind.due_reminder: _l("Days before the due day"),
    SmsKind.promise_reminder: _l("Days before the promised date"),
    SmsKind.installment_reminder: _l("Days before the installment"),
    SmsKind.promise_broken: _l("Days after the promise was broken"),
}
MAX_DAYS = 9


def _save_settings(form) -> None:
    key = form.get("key", "")
    if key not in templates.SMS_DEFAULTS:
        raise ServiceError("unknown_template", "key")
    templates.save_template(db.session, key, form.get("body", ""), current_user)
    kind = SmsKind(key.removeprefix("sms_"))
    if kind in DEFAULT_SETTINGS:
        row = db.session.scalar(
            select(ReminderSetting).where(ReminderSetting.kind == kind, ReminderSetting.branch_id.is_(None))
        )
        if row is None:
            row = ReminderSetting(kind=kind, is_enabled=True, days_before=DEFAULT_SETTINGS[kind][1])
            db.session.add(row)
        row.is_enabled = bool(form.get("enabled"))
        if kind in DAYS_LABELS:
            row.days_before = _days(form.get("days_before", ""))


def _days(written: str) -> int:
    """The number of days as a supervisor wrote it: a whole number from 0 to `MAX_DAYS` (not "tiga")."""
    written = written.strip()
    if not (written.isascii() and written.isdigit()) or int(written) > MAX_DAYS:
        raise ServiceError("sms_days", "days_before", value=written[:20], max=MAX_DAYS)
    return int(written)
