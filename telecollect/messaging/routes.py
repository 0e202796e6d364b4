"""Supervisor pages: the outbox, a message's history, opt-outs, SMS templates and reminder settings; the
WhatsApp inbox (telecollectors too): conversations, replies and participants' media."""

import uuid
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from telecollect.audit import disclosure
from telecollect.audit import services as audit
from telecollect.auth.scoping import scope_of, user_may_write
from telecollect.clock import day_bounds
from telecollect.contacts.labels import CONSENT_LABELS, CONSENT_SOURCE_LABELS
from telecollect.contacts.models import Consent, ConsentChannel, ConsentSource
from telecollect.db import now_utc
from telecollect.errors import ServiceError, TooManyRequests
from telecollect.extensions import db
from telecollect.messaging import conversations, rates, templates, whatsapp
from telecollect.messaging.dispatch import Pace
from telecollect.messaging.encoding import encoding_of, non_gsm_characters, segment_count
from telecollect.messaging.models import (
    TEMPLATED_KINDS,
    ContentCategory,
    Conversation,
    InboundMedia,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from telecollect.messaging.outbox import whatsapp_on
from telecollect.messaging.reminder_settings import (
    DEFAULT_SETTINGS,
    channel_order_of,
    own_reminder_kinds,
    revert_reminder,
    save_channel_order,
    save_reminder,
    setting_of,
)
from telecollect.messaging.services import resolve_unknown
from telecollect.participants.models import Participant
from telecollect.phones import InvalidPhone, mask_phone, normalize_mobile
from telecollect.policy.optouts import opt_in, opt_out
from telecollect.regions.models import District
from telecollect.runtime import acting_settings, settings_of_branch
from telecollect.security import (
    roles_required,
    settings_branch_arg,
    settings_branch_context,
    settings_branch_of_request,
)

bp = Blueprint("messaging", __name__, url_prefix="/sms")
SAMPLE = {
    "nama": "Siti Aminah",
    "jumlah": "Rp210.000",
    "bulan": "6",
    "jatuh_tempo": "10-12-2026",
    "tanggal_janji": "28-11-2026",
    "cicilan": "Rp70.000",
    "va": "8888800012345678",
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
    now = now_utc()
    pace = Pace.from_config(current_app.config)
    queued = [
        {**row, "clears_at": now + timedelta(seconds=row["seconds"]) if row["seconds"] is not None else None}
        for row in rates.backlog(db.session, now, pace.rates)
    ]
    return render_template(
        "messaging/outbox.html",
        backlog=queued,
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
            start, end = day_bounds(day, day, acting_settings().branch_timezone)  # a branch day
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
            channel = ConsentChannel(request.form.get("channel", "sms"))
        except (InvalidPhone, ValueError) as exc:
            flash(_("Not a valid mobile number or channel: %(error)s", error=str(exc)), "error")
            return redirect(url_for("messaging.opt_outs"))
        if request.form.get("action") == "opt_in":
            opt_in(db.session, phone, channel, source=ConsentSource.supervisor, by_user_id=current_user.id)
            flash(_("%(phone)s may be contacted again by %(channel)s.", phone=phone, channel=channel.value), "success")
        elif opt_out(
            db.session,
            phone,
            channel,
            request.form.get("reason") or f"by {current_user.username}",
            source=ConsentSource.supervisor,
            by_user_id=current_user.id,
        ):
            flash(_("%(phone)s will not be contacted by %(channel)s.", phone=phone, channel=channel.value), "success")
        return redirect(url_for("messaging.opt_outs"))
    rows = db.session.scalars(select(Consent).where(Consent.phone.is_not(None)).order_by(Consent.at.desc())).all()
    return render_template(
        "messaging/opt_outs.html",
        rows=rows,
        consent_labels=CONSENT_LABELS,
        source_labels=CONSENT_SOURCE_LABELS,
        channels=[c for c in ConsentChannel if c != ConsentChannel.visit],
    )


@bp.route("/templates", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def sms_templates():
    """Edit SMS templates with a preview, their encoding and segment count; switch reminders on and off (the
    branch's own, else the installation's)."""
    branch = settings_branch_of_request()
    branch_id = branch.id if branch is not None else None
    typed: dict = {}
    refused = False
    if request.method == "POST":
        try:
            _save_settings(request.form, branch_id)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            typed, refused = request.form.to_dict(), True  # what was typed stays on the page
        else:
            flash(_("Message saved."), "success")
            return redirect(url_for("messaging.sms_templates", branch=settings_branch_arg(branch)))
    # The edited branch's values (the acting branch's when the installation's row is edited): the preview
    # and the budget use them.
    settings = settings_of_branch(branch.id) if branch is not None else acting_settings()
    own = {
        "cabang": settings.branch_name,
        "kontak": templates.contact_text(settings.branch_whatsapp),
        "va_all": templates.va_values([p.prefix + "00012345678" for p in settings.va_prefixes], settings.va_prefixes)[
            "va_all"
        ],
    }
    sample = {**SAMPLE, **own}
    own_keys = templates.own_template_keys(db.session, branch_id) if branch_id is not None else None
    own_kinds = own_reminder_kinds(db.session, branch_id) if branch_id is not None else None
    rows = []
    for key in templates.SMS_DEFAULTS:
        body = templates.template_body_of(db.session, key, branch_id)
        kind = SmsKind(key.removeprefix("sms_"))
        enabled, days = setting_of(db.session, kind, branch_id) if kind in DEFAULT_SETTINGS else (True, 0)
        if typed.get("key") == key:
            body, enabled, days = typed.get("body", body), bool(typed.get("enabled")), typed.get("days_before", days)
        preview = templates.render(body, sample)
        # The budget is checked on the widest family (a 30-character name, the largest amounts): one segment.
        widest = templates.widest_render(body, {k: SAMPLE[k] for k in ("kanal", "rehab", "autodebit")} | own)
        rows.append(
            {
                "key": key,
                "kind": kind,
                "body": body,
                "preview": preview,
                "encoding": encoding_of(preview),
                "segments": segment_count(preview),
                "ucs2": non_gsm_characters(preview),
                "widest_segments": segment_count(widest),
                "widest_length": len(widest),
                "over_budget": segment_count(widest) > templates.SMS_BUDGET,
                "enabled": enabled,
                "days": days,
                "tunable": kind in DEFAULT_SETTINGS,
                "days_label": DAYS_LABELS.get(kind),
                # None: the installation's page (nothing is inherited); else whether the branch set its own.
                "own_body": None if own_keys is None else key in own_keys,
                "own_setting": None if own_kinds is None else kind in own_kinds,
            }
        )
    page = render_template(
        "messaging/templates.html",
        rows=rows,
        variables=templates.SMS_VARIABLES,
        sample=sample,
        max_days=MAX_DAYS,
        widest_name_length=len(templates.WIDEST["nama"]),
        **settings_branch_context(branch),
    )
    return (page, 400) if refused else page


@bp.route("/templates/revert", methods=["POST"])
@roles_required("supervisor", "admin")
def revert_sms_template():
    """The branch follows the installation's template `key` (`what=template`: an SMS, the cadres' WhatsApp
    message, the call script) or an SMS kind's reminder settings (`what=reminder`) again: its own row goes."""
    branch = settings_branch_of_request()
    key = request.form.get("key", "")
    what = request.form.get("what", "")
    back = TEMPLATE_PAGES.get(key, "messaging.sms_templates")
    if branch is None or key not in templates.DEFAULTS or what not in ("template", "reminder"):
        abort(400)
    if what == "reminder" and key not in templates.SMS_DEFAULTS:
        abort(400)
    if what == "template":
        done = templates.revert_template(db.session, key, branch.id, user=current_user)
    else:
        done = revert_reminder(db.session, SmsKind(key.removeprefix("sms_")), branch.id, user=current_user)
    if done:
        flash(_("The branch follows the installation's settings again."), "success")
    return redirect(url_for(back, branch=settings_branch_arg(branch)))


#: The page of each template that is not an SMS (the cadres' WhatsApp message, the call script).
TEMPLATE_PAGES = {templates.CADRE_WHATSAPP: "queue.edit_template", templates.CALL_SCRIPT: "queue.edit_call_script"}


@bp.route("/whatsapp-templates", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def whatsapp_templates():
    """Each kind's approved WhatsApp template (Content SID, the approved body, the order of its variables,
    Meta's category) and the kind's channel order, with a preview of what the participant reads (the
    branch's own, else the installation's)."""
    branch = settings_branch_of_request()
    branch_id = branch.id if branch is not None else None
    refused = False
    if request.method == "POST":
        try:
            kind = SmsKind(request.form.get("kind", ""))
            if kind == SmsKind.agent_reply:
                raise ValueError(kind)
        except ValueError:
            return render_template("error.html", status=400), 400
        try:
            whatsapp.save_content(
                db.session,
                kind,
                request.form.get("content_sid", ""),
                variables=request.form.get("variables", "").split(","),
                body=request.form.get("body", ""),
                category=ContentCategory(request.form.get("category", "utility")),
                user=current_user,
                branch_id=branch_id,
            )
            save_channel_order(db.session, kind, request.form.get("channel_order", ""), branch_id, user=current_user)
        except (ServiceError, ValueError) as exc:
            db.session.rollback()
            flash(exc.message if isinstance(exc, ServiceError) else str(exc), "error")
            refused = True
        else:
            db.session.commit()
            flash(_("Message saved."), "success")
            return redirect(url_for("messaging.whatsapp_templates", branch=settings_branch_arg(branch)))
    sample = {**SAMPLE, "va": "8888800012345678"}
    own_kinds = whatsapp.own_content_kinds(db.session, branch_id) if branch_id is not None else None
    own_orders = own_reminder_kinds(db.session, branch_id) if branch_id is not None else None
    rows = []
    for kind in TEMPLATED_KINDS:
        content = whatsapp.content_of(db.session, kind, branch_id)
        rows.append(
            {
                "kind": kind,
                "content": content,
                "preview": whatsapp.fill(content, sample)[1],
                "order": ",".join(c.value for c in channel_order_of(db.session, kind, branch_id)),
                "own_content": None if own_kinds is None else kind in own_kinds,
                "own_order": None if own_orders is None else kind in own_orders,
            }
        )
    page = render_template(
        "messaging/whatsapp.html",
        rows=rows,
        variables=whatsapp.VARIABLES,
        categories=list(ContentCategory),
        enabled=whatsapp_on(current_app.config),
        **settings_branch_context(branch),
    )
    return (page, 400) if refused else page


@bp.route("/whatsapp-templates/revert", methods=["POST"])
@roles_required("supervisor", "admin")
def revert_whatsapp_template():
    """The branch follows the installation's WhatsApp template (`what=content`) or channel order and reminder
    settings (`what=reminder`) of one kind again: its own row is deleted."""
    branch = settings_branch_of_request()
    try:
        kind = SmsKind(request.form.get("kind", ""))
    except ValueError:
        abort(400)
    what = request.form.get("what", "")
    if branch is None or kind not in TEMPLATED_KINDS or what not in ("content", "reminder"):
        abort(400)
    if what == "content":
        done = whatsapp.revert_content(db.session, kind, branch.id, user=current_user)
    else:
        done = revert_reminder(db.session, kind, branch.id, user=current_user)
    if done:
        flash(_("The branch follows the installation's settings again."), "success")
    return redirect(url_for("messaging.whatsapp_templates", branch=settings_branch_arg(branch)))


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


def _save_settings(form, branch_id: int | None) -> None:
    key = form.get("key", "")
    if key not in templates.SMS_DEFAULTS:
        raise ServiceError("unknown_template", "key")
    templates.save_template(db.session, key, form.get("body", ""), current_user, branch_id=branch_id)
    kind = SmsKind(key.removeprefix("sms_"))
    if kind in DEFAULT_SETTINGS:
        save_reminder(
            db.session,
            kind,
            branch_id,
            user=current_user,
            is_enabled=bool(form.get("enabled")),
            days_before=_days(form.get("days_before", "")) if kind in DAYS_LABELS else None,
        )


def _days(written: str) -> int:
    """The number of days as a supervisor wrote it: a whole number from 0 to `MAX_DAYS` (not "tiga")."""
    written = written.strip()
    if not (written.isascii() and written.isdigit()) or int(written) > MAX_DAYS:
        raise ServiceError("sms_days", "days_before", value=written[:20], max=MAX_DAYS)
    return int(written)


# -- WhatsApp: the inbox of conversations, replies, participants' media (issue 14, item 3)

inbox_bp = Blueprint("inbox", __name__, url_prefix="/whatsapp")


def _visible_conversation(conversation_id: int) -> Conversation:
    """The conversation, if the signed-in user may see it (404 otherwise, like any participant data)."""
    conversation = db.get_or_404(Conversation, conversation_id)
    members = conversations.family_members(db.session, conversation.family_id) if conversation.family_id else []
    if not conversations.conversation_visible(scope_of(current_user), members):
        abort(404)
    return conversation


@inbox_bp.route("/conversations", endpoint="conversations")
@roles_required("telecollector", "supervisor", "admin")
def conversations_page():
    """Participants' WhatsApp conversations, newest first, unread ones marked; ?unread=1 lists those only."""
    now = now_utc()
    unread_only = request.args.get("unread") == "1"
    scope = scope_of(current_user)
    return render_template(
        "messaging/inbox.html",
        rows=conversations.inbox(db.session, scope, now, unread_only=unread_only),
        unread_only=unread_only,
        unread=conversations.unread_count(db.session, scope),
    )


@inbox_bp.route("/conversations/<int:conversation_id>")
@roles_required("telecollector", "supervisor", "admin")
def conversation(conversation_id):
    """One conversation, both ways, with the reply form (free text inside the 24-hour window, an approved
    template after it); opening it marks it read."""
    now = now_utc()
    found = _visible_conversation(conversation_id)
    if user_may_write(current_user):  # a regional or national reader looks without marking it read for the branch
        conversations.mark_read(db.session, found, user_id=current_user.id, now=now)
    return render_template("messaging/conversation.html", **_conversation_context(found, now))


def _conversation_context(found: Conversation, now) -> dict:
    members = conversations.family_members(db.session, found.family_id) if found.family_id else []
    return {
        **conversations.conversation_view(db.session, found, now),
        "members": scope_of(current_user).visible(members),
        "may_see_media": current_user.is_privileged,
        "token": uuid.uuid4().hex,
    }


@inbox_bp.route("/conversations/<int:conversation_id>/reply", methods=["POST"])
@roles_required("telecollector", "supervisor", "admin")
def reply(conversation_id):
    """Answer the participant: free text inside the 24-hour window, else the chosen approved template. The
    writer must be allowed to see the conversation's family; the form's token makes a double submit one."""
    now = now_utc()
    found = _visible_conversation(conversation_id)
    kind = request.form.get("kind", "")
    token = request.form.get("token", "")
    try:
        if kind:
            message_id = conversations.queue_template_reply(
                db.session, found, kind, user_id=current_user.id, token=token, now=now
            )
        else:
            message_id = conversations.queue_agent_reply(
                db.session, found, request.form.get("body", ""), user_id=current_user.id, token=token, now=now
            )
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(_back_to(found))
    audit.record(db.session, "whatsapp.reply", user=current_user, target=found, detail=f"message {message_id}")
    flash(_("Your answer is queued for WhatsApp."), "success")
    return redirect(_back_to(found))


def _back_to(found: Conversation) -> str:
    """Back to the agent desktop when the reply was written there, else to the conversation."""
    back = request.form.get("back", "")
    if back.startswith("/queue/items/") and back.removeprefix("/queue/items/").isdigit():
        return back
    return url_for("inbox.conversation", conversation_id=found.id)


@inbox_bp.route("/media/<int:media_id>")
@roles_required("supervisor", "admin")
def media(media_id):
    """A photo or file a participant sent (often a KTP or a family card): only for the roles that may see a
    full NIK; every view is audited before the browser is sent on to it, and opening many quickly is refused
    (429) like other disclosures."""
    try:
        disclosure.check_read(db.session, current_user, f"media:{media_id}", now_utc())
    except TooManyRequests as exc:
        flash(exc.message, "error")
        return render_template("error.html", status=429), 429, {"Retry-After": str(exc.retry_after)}
    item = db.get_or_404(InboundMedia, media_id)
    members = conversations.family_of_media(db.session, item)
    if not conversations.conversation_visible(scope_of(current_user), members):
        abort(404)
    disclosure.record_shown(
        db.session,
        current_user,
        "whatsapp.media.view",
        [m.card_no for m in members] or [mask_phone(item.inbound.from_phone)],
        via="whatsapp media",
        target=item,
    )
    response = redirect(item.url)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
