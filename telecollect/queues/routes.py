"""The telecollector's call screen, the cadre's work list, the supervisor's queue page, and the holidays."""

import uuid
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from telecollect import letters
from telecollect.accounts import family_virtual_accounts
from telecollect.audit import disclosure
from telecollect.audit import services as audit
from telecollect.auth.models import Role, User
from telecollect.auth.scoping import scope_of
from telecollect.contacts.labels import channel_label, outcome_label
from telecollect.contacts.models import Channel
from telecollect.contacts.outcomes import CADRE_OUTCOMES, OUTCOMES
from telecollect.contacts.queries import (
    family_attempts,
    last_contact,
    my_promises,
    open_promises,
    opted_out_channels,
    promise_status,
    today_counters,
)
from telecollect.contacts.services import (
    HAND_CHANNELS,
    MAX_DAYS_AHEAD,
    find_recorded,
    parse_occurred_at,
    parse_outcome,
)
from telecollect.db import now_utc
from telecollect.errors import ServiceError, TooManyRequests
from telecollect.extensions import db
from telecollect.formatting import ZONES, local_date, local_datetime, rupiah
from telecollect.messaging import conversations
from telecollect.messaging import templates as message_templates
from telecollect.messaging.outbox import messages_for_family
from telecollect.money import parse_positive_rupiah
from telecollect.participants.models import BUCKETS, Segment
from telecollect.participants.queries import family_arrears
from telecollect.phones import wa_digits
from telecollect.policy import rules as policy
from telecollect.programs.queries import active_plan
from telecollect.programs.rules import rehab_quote
from telecollect.queues import handouts
from telecollect.queues import services as queues
from telecollect.queues.models import QueueName, WorkItem, WorkState
from telecollect.queues.queries import (
    CADRE_FIRST_SCREEN,
    cadre_work_list,
    item_for_user,
    item_score,
    my_callbacks,
    whatsapp_opened_today,
)
from telecollect.reasons import Refusal
from telecollect.regions.queries import place_options
from telecollect.runtime import acting_config, acting_settings, contact_rules, lease, retry_delays, voice
from telecollect.security import (
    roles_required,
    settings_branch_arg,
    settings_branch_context,
    settings_branch_of_request,
)
from telecollect.telephony import queries as telephony_queries
from telecollect.workflows import queue_work

bp = Blueprint("queue", __name__)
#: The years the holidays page lists; the package knows Indonesia's calendar for all of them.
FIRST_YEAR, LAST_YEAR = 2000, 2100


@bp.route("/queue")
@roles_required("telecollector")
def home():
    """The telecollector's start: today's counters and the Next button."""
    now = now_utc()
    held = queue_work.owed_family(db.session, current_user, lease=lease(), now=now) or queues.current_claim(
        db.session, current_user, now
    )
    if held is not None:
        return redirect(url_for("queue.item", item_id=held.id))
    return render_template(
        "queues/home.html", **_counters(now), open_zones=policy.zones_open(db.session, contact_rules(), now)
    )


@bp.route("/queue/next", methods=["POST"])
@roles_required("telecollector", "cadre")
def next_item():
    """Berikutnya: claim the family most worth contacting now."""
    item = queue_work.claim(db.session, current_user, contact_rules(), lease=lease(), now=now_utc())
    if item is None:
        flash(_("Nobody may be contacted right now. Try again later."), "info")
        return redirect(url_for("queue.home" if current_user.role == Role.telecollector else "queue.cadre"))
    return redirect(url_for("queue.item", item_id=item.id))


@bp.route("/queue/items/<int:item_id>")
@roles_required("telecollector", "cadre", "supervisor", "admin")
def item(item_id):
    """The call screen: the family, its history and the outcome form."""
    now = now_utc()
    try:
        disclosure.check_read(db.session, current_user, f"work_item:{item_id}", now)
    except TooManyRequests as exc:
        return _too_many(exc)
    work = _item_or_error(item_id, to_work=False)
    # A cadre sees the members inside her areas only; the family's totals stay whole.
    members = scope_of(current_user).visible(work.family.members)
    opted_out = opted_out_channels(db.session, [n for m in members for n in (m.phone, m.phone2)])
    # The call screen shows full phone numbers: every opening is on record, naming whose.
    audit.record(
        db.session,
        "work_item.view",
        user=current_user,
        target=work,
        detail=f"screen: {', '.join(m.card_no for m in members if m.phone or m.phone2)}",
    )
    amount, months = family_arrears(work.family.members)
    draft = session.pop(DRAFT_KEY, None)
    draft = draft if isinstance(draft, dict) and draft.get("item_id") == item_id else {}
    number_draft = session.pop(NUMBER_DRAFT_KEY, None)
    number_draft = number_draft if isinstance(number_draft, dict) and number_draft.get("item_id") == item_id else None
    is_mine = work.claimed_by_id == current_user.id and work.is_claimed(now)
    accounts = _accounts(work)
    return render_template(
        "queues/item.html",
        accounts=accounts,
        draft=draft,
        new_number_draft=number_draft,
        why=_why_next(work, now),
        script=_call_script(work, members, amount, months, now, accounts[0][1] if accounts else ""),
        skip_reasons=[(code, _skip_label(code)) for code in queue_work.SKIP_REASONS],
        may_claim=(
            current_user.role == Role.telecollector
            and not is_mine
            and work.state != WorkState.closed
            and not work.is_claimed(now)
        ),
        item=work,
        members=members,
        opted_out={number: {c.value for c in channels} for number, channels in opted_out.items()},
        family_amount=amount,
        family_months=months,
        priority=item_score(work, now),
        attempts=family_attempts(db.session, work.family_id),
        outcomes=[o for o in OUTCOMES.values() if o.call],
        channels=HAND_CHANNELS[work.queue],
        is_mine=is_mine,
        local_today=now.astimezone(ZONES[work.timezone]).date(),
        show_full_nik=current_user.is_privileged,
        rehab=rehab_quote(db.session, work.family.members, now.astimezone(ZONES[work.timezone]).date()),
        plan=active_plan(db.session, work.family_id),
        sms=messages_for_family(db.session, work.family_id),
        whatsapp=_whatsapp_on_desk(work.family_id, now),
        renew_seconds=max(60, int(lease().total_seconds() // 3)),
        voice_calls=voice().is_enabled and current_user.role == Role.telecollector,
        live_call=telephony_queries.live_call_on(db.session, current_user, work.id, now),
        **_counters(now),
    )


def _whatsapp_on_desk(family_id: int, now) -> dict | None:
    """The family's WhatsApp conversation for the desktop (staff only: cadres write from their own phones)."""
    if current_user.role == Role.cadre:
        return None
    found = conversations.conversation_of_family(db.session, family_id)
    if found is None:
        return None
    return {
        **conversations.conversation_view(db.session, found, now),
        "may_see_media": current_user.is_privileged,
        "token": uuid.uuid4().hex,
        "back": request.path,
    }


@bp.route("/queue/items/<int:item_id>/outcome", methods=["POST"])
@roles_required("telecollector", "cadre")
def record(item_id):
    """Save the outcome typed on the call screen; the same `client_ref` twice (even at once) saves once.
    A telecollector's save opens the next family ("save and next"). A refusal keeps everything typed."""
    work = _item_or_error(item_id, to_work=True)
    now = now_utc()
    client_ref = request.form.get("client_ref")
    recorded = find_recorded(db.session, current_user, client_ref)
    following = None
    if recorded is None:
        try:
            given = parse_outcome(request.form.to_dict(), work, now=now)
            if current_user.role == Role.telecollector:
                result, following = queue_work.save_and_next(
                    db.session,
                    work,
                    current_user,
                    given,
                    rules=contact_rules(),
                    retry_delays=retry_delays(),
                    lease=lease(),
                    now=now,
                    settings=acting_settings(),
                )
            else:
                result = queue_work.record_outcome(
                    db.session,
                    work,
                    current_user,
                    given,
                    rules=contact_rules(),
                    retry_delays=retry_delays(),
                    now=now,
                    settings=acting_settings(),
                )
            recorded = result.attempt
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            # Validation never discards what was typed (D4): the form comes back filled in.
            session[DRAFT_KEY] = {"item_id": item_id, **{k: request.form.get(k, "")[:1000] for k in DRAFT_FIELDS}}
            return redirect(url_for("queue.item", item_id=item_id))
    flash(_("Saved: %(outcome)s.", outcome=outcome_label(recorded.outcome)), "success")
    return _to_next(following)


def _to_next(following: WorkItem | None):
    """The next family's call screen, or the queue's start page when nobody may be contacted now."""
    if following is not None:
        return redirect(url_for("queue.item", item_id=following.id))
    if current_user.role == Role.telecollector:
        flash(_("Nobody may be contacted right now. Try again later."), "info")
        return redirect(url_for("queue.home"))
    return redirect(url_for("queue.cadre"))


@bp.route("/queue/items/<int:item_id>/skip", methods=["POST"])
@roles_required("telecollector")
def skip(item_id):
    """Skip with a reason: the family goes back without an attempt, and the next one opens."""
    work = _item_or_error(item_id, to_work=True)
    reason = request.form.get("reason", "")
    try:
        following = queue_work.skip(
            db.session, work, current_user, reason, rules=contact_rules(), lease=lease(), now=now_utc()
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("queue.item", item_id=item_id))
    flash(_("Skipped: %(reason)s. No attempt counted.", reason=_skip_label(reason)), "success")
    return _to_next(following)


@bp.route("/queue/items/<int:item_id>/work", methods=["POST"])
@roles_required("telecollector")
def work(item_id):
    """Work this family now (from a promise or callback list): claim it if it is free."""
    item = _item_or_error(item_id, to_work=True)
    now = now_utc()
    held = queues.current_claim(db.session, current_user, now)
    if held is not None and held.id != item.id:
        flash(_("Finish or skip the family you hold first."), "error")
        return redirect(url_for("queue.item", item_id=held.id))
    try:
        queue_work.work_family(db.session, item, current_user, contact_rules(), lease=lease(), now=now)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("queue.item", item_id=item_id))


@bp.route("/queue/items/<int:item_id>/numbers", methods=["POST"])
@roles_required("telecollector")
def add_number(item_id):
    """A new number heard on the call, kept on the member (validated, audited, source "telepon")."""
    item = _item_or_error(item_id, to_work=True)
    try:
        phone = queue_work.add_heard_number(
            db.session,
            item,
            current_user,
            request.form.get("card_no", ""),
            request.form.get("phone", ""),
            now=now_utc(),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        session[NUMBER_DRAFT_KEY] = {
            "item_id": item_id,
            "card_no": request.form.get("card_no", "")[:13],
            "phone": request.form.get("phone", "")[:40],
        }
    else:
        flash(_("Number saved: %(phone)s.", phone=phone), "success")
    return redirect(url_for("queue.item", item_id=item_id))


#: What the outcome form keeps through a refusal (flask session, read once by the call screen).
DRAFT_KEY, NUMBER_DRAFT_KEY = "outcome_draft", "number_draft"
DRAFT_FIELDS = ("outcome", "channel", "promise_date", "promise_amount", "callback_at", "note")


def _skip_label(code: str) -> str:
    return {
        "wrong_time": _("wrong time to call"),
        "needs_visit": _("needs a cadre visit"),
        "number_doubtful": _("number looks wrong"),
        "other": _("other reason"),
    }.get(code, code)


def _why_next(work: WorkItem, now) -> list[str]:
    """Why this family is next, in words (the parts of `item_score`, not its points)."""
    lines = []
    if work.follow_up.value == "callback":
        lines.append(
            _("They asked to be called back at %(at)s.", at=local_datetime(work.next_action_at, work.timezone))
        )
    elif work.follow_up.value == "promise":
        lines.append(_("Promise follow-up: the promised date has passed."))
    parts = dict(item_score(work, now).parts)
    amount, months = family_arrears(work.family.members)
    if parts["amount"] >= 20 or parts["months"] >= 12:
        lines.append(_("Owes a lot: %(amount)s over %(n)s months.", amount=rupiah(amount), n=months))
    else:
        lines.append(_("Owes %(amount)s over %(n)s months.", amount=rupiah(amount), n=months))
    if work.last_contact_at is None:
        lines.append(_("Nobody has reached this family yet."))
    else:
        days = (now - work.last_contact_at).days
        lines.append(_("Reached today.") if days == 0 else _("Last reached %(n)s days ago.", n=days))
    if work.attempts == 0:
        lines.append(_("Not called before."))
    else:
        lines.append(_("Answered %(c)s of %(a)s calls.", c=work.contacts, a=work.attempts))
    return lines


def _accounts(work: WorkItem) -> list[tuple[str, str]]:
    """The family's virtual accounts as (bank, number), the first prefix's first ("" names BPJS's own)."""
    prefixes = acting_settings().va_prefixes
    return [(p.bank, n) for p, n in zip(prefixes, family_virtual_accounts(work.family, prefixes), strict=False)]


def _call_script(work: WorkItem, members, amount: int, months: int, now, va: str) -> str:
    """The supervisors' call script with this family's figures filled in."""
    body = message_templates.template_body(db.session, message_templates.CALL_SCRIPT)
    head = members[0] if members else work.family.members[0]
    return message_templates.render(
        body,
        {
            "salam": message_templates.greeting(now.astimezone(ZONES[work.timezone]).hour),
            "nama": head.name,
            "petugas": current_user.name,
            "cabang": acting_settings().branch_name,
            "jumlah": rupiah(amount),
            "bulan": str(months),
            "kanal": message_templates.OFFICIAL_CHANNELS,
            "rehab": message_templates.SMS_SNIPPETS["rehab"],
            "va": va,
        },
    )


@bp.route("/queue/items/<int:item_id>/plan", methods=["POST"])
@roles_required("telecollector", "cadre")
def register_plan(item_id):
    """Record the REHAB plan the participant registered."""
    work = _item_or_error(item_id, to_work=True)
    now = now_utc()
    today = now.astimezone(ZONES[work.timezone]).date()
    try:
        start = date.fromisoformat(request.form.get("start_month", "") + "-01")
        installments = int(request.form.get("installments", "0"))
        plan = queue_work.register_plan(
            db.session,
            work,
            installments=installments,
            start_month=start,
            on=today,
            user=current_user,
            settings=acting_settings(),
            now=now,
        )
    except ValueError:
        db.session.rollback()
        flash(_("Choose the number of installments and the first month."), "error")
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("REHAB plan recorded: %(n)d installments.", n=plan.installments), "success")
    return redirect(url_for("queue.item", item_id=item_id))


@bp.route("/queue/promises")
@roles_required("telecollector", "cadre")
def promises():
    """Janji bayar saya: my pending promises, due and overdue first."""
    today = now_utc().astimezone(ZONES[current_user.timezone]).date()
    promises = my_promises(db.session, current_user)
    # The live item of each family in my queue: the list opens the call screen for it.
    items = dict(
        db.session.execute(
            select(WorkItem.family_id, WorkItem.id).where(
                WorkItem.family_id.in_({p.family_id for p in promises}),
                WorkItem.queue == queues.queue_for(current_user),
                WorkItem.state != WorkState.closed,
            )
        ).all()
    )
    rows = [(p, promise_status(p, today), family_arrears(p.family.members), items.get(p.family_id)) for p in promises]
    return render_template("queues/promises.html", rows=rows)


@bp.route("/queue/callbacks")
@roles_required("telecollector", "cadre")
def callbacks():
    """Panggilan ulang saya: callbacks I promised to make."""
    return render_template("queues/callbacks.html", items=my_callbacks(db.session, current_user), now=now_utc())


@bp.route("/cadre")
@roles_required("cadre")
def cadre():
    """The cadre's work list: its first screen (the most urgent families) as a small page; the whole
    list comes as compact data (`/cadre/list.json`), which the phone keeps for offline use, and is
    searched and filtered on the phone. Serving the numbers of the cards is one audit event."""
    now = now_utc()
    items, _more = cadre_work_list(db.session, current_user, per_page=CADRE_FIRST_SCREEN)
    cards = _cadre_cards(items, now)
    disclosure.record_shown(
        db.session, current_user, "cadre_list.view", [c["phone_of"] for c in cards if c["phone_of"]], via="cadre list"
    )
    today = now.astimezone(ZONES[current_user.timezone]).date()
    sheet_outcomes = [{"code": o.code, "label": outcome_label(o.code), "needs": _needs(o)} for o in CADRE_OUTCOMES]
    return render_template(
        "queues/cadre.html",
        cards=cards,
        wa_opened=whatsapp_opened_today(db.session, current_user, today),
        wa_limit=acting_settings().cadre_whatsapp_daily_limit,
        outcomes=sheet_outcomes,
        channels=HAND_CHANNELS[QueueName.cadre],
        today=today,
        last_day=today + timedelta(days=MAX_DAYS_AHEAD),
        max_days_ahead=MAX_DAYS_AHEAD,
    )


@bp.route("/cadre/list.json")
@roles_required("cadre")
def cadre_list_data():
    """The whole work list (up to CADRE_LIST_MAX families, the most urgent first) as compact data: one
    short record per family, the WhatsApp message once. The service worker keeps it for offline use (the
    browser's own cache may not: no-store) and asks with its ETag; an unchanged list answers 304.
    Serving the numbers is one audit event naming the families."""
    now = now_utc()
    items, more = cadre_work_list(db.session, current_user)
    cards = _cadre_cards(items, now, links=False)
    disclosure.record_shown(
        db.session,
        current_user,
        "cadre_list.view",
        [c["phone_of"] for c in cards if c["phone_of"]],
        via="cadre list data",
    )
    body = message_templates.template_body(db.session, message_templates.CADRE_WHATSAPP)
    message = message_templates.render(
        body,
        {
            "salam": "{salam}",
            "nama": "{nama}",
            "kader": current_user.name,
            "kelurahan": "{kelurahan}",
            "cabang": acting_settings().branch_name,
            "va": "{va}",
        },
    )
    response = current_app.json.response(
        {
            "families": [_compact(c) for c in cards],
            "more": more,
            "wa_text": message,
            "va_banks": [p.bank for p in acting_settings().va_prefixes],
        }
    )
    response.add_etag()  # the service worker asks with If-None-Match: an unchanged list is not sent again
    return response.make_conditional(request)


@bp.route("/cadre/items/<int:item_id>/whatsapp", methods=["POST"])
@roles_required("cadre")
def whatsapp_opened(item_id):
    """The cadre's app tells that she opened WhatsApp for this family (sent from her phone's outbox, so
    possibly later): counted once per `client_ref`, on her local day. Answers today's count and the limit."""
    item = _item_or_error(item_id, to_work=True)
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else request.form
    now = now_utc()
    zone = current_user.timezone
    try:
        opened_at = parse_occurred_at(body.get("occurred_at"), zone, now)
        new = queues.record_whatsapp_open(
            db.session, item, current_user, client_ref=body.get("client_ref", ""), opened_at=opened_at, zone=zone
        )
    except ServiceError as exc:
        db.session.rollback()
        return current_app.json.response({"error": exc.to_json()["error"]}), exc.status
    today = now.astimezone(ZONES[zone]).date()
    opened = whatsapp_opened_today(db.session, current_user, today)
    limit = acting_settings().cadre_whatsapp_daily_limit
    return current_app.json.response(
        {"recorded": new, "day": today.isoformat(), "opened": opened, "today": len(opened), "limit": limit}
    ), (201 if new else 200)


def _needs(kind) -> list[str]:
    """The fields an outcome needs on the cadre's sheet (checked on the phone before it is saved)."""
    if kind.promise:
        return ["promise_date", "promise_amount"]
    if kind.callback:
        return ["callback_at"]
    return []


def _compact(card: dict) -> dict:
    """One family on the offline list: short keys, empty parts left out."""
    record = {
        "i": card["item"].id,
        "n": card["head"].name,
        "m": len(card["members"]) - 1,
        "k": card["village"],
        "rt": card["head"].rt or "",
        "rw": card["head"].rw or "",
        "a": card["head"].address or "",
        "o": card["amount"],
        "mo": card["months"],
        "c": card["contact_text"],
        "s": card["stale"],
        "t": card["phone"],
        "w": card["wa_phone"],
        "x": card["opted_out_text"],
        "y": card["why"],
        "v": [number for _bank, number in card["accounts"]],
    }
    return {key: value for key, value in record.items() if value not in (None, "", [], 0, False) or key == "i"}


def _cadre_cards(items: list[WorkItem], now, *, links: bool = True) -> list[dict]:
    reached = last_contact(db.session, [i.family_id for i in items])
    body = message_templates.template_body(db.session, message_templates.CADRE_WHATSAPP) if links else ""
    scope = scope_of(current_user)
    visible = {i.id: scope.visible(i.family.members) for i in items}
    opted_out = opted_out_channels(db.session, (m.phone for i in items for m in visible[i.id]))
    promised = open_promises(db.session, [i.family_id for i in items if not family_arrears(i.family.members)[0]])
    return [
        _cadre_card(i, visible[i.id], reached.get(i.family_id), body, now, opted_out, promised.get(i.family_id))
        for i in items
        if visible[i.id]
    ]


def _cadre_card(work: WorkItem, members, last_reached, body: str, now, opted_out: dict, promise) -> dict:
    """One family's card: the members she may see, its whole arrears, the number to call or WhatsApp."""
    head = members[0]
    amount, months = family_arrears(work.family.members)
    valid = [m for m in members if m.phone and not m.is_phone_invalid]
    # A button starts a contact: only to a number that did not opt out of that channel.
    caller = next((m for m in valid if Channel.phone not in opted_out.get(m.phone, ())), None)
    writer = next((m for m in valid if Channel.whatsapp not in opted_out.get(m.phone, ())), None)
    phone = caller.phone if caller else None
    wa_phone = writer.phone if writer else None
    # No button, but a number there: every valid number opted out of that channel (said instead of the button).
    refused = [
        channel.value
        for channel, usable in ((Channel.phone, phone), (Channel.whatsapp, wa_phone))
        if usable is None and valid
    ]
    village = head.village.name if head.village else head.district.name
    accounts = _accounts(work)  # the family's, like its totals: it pays as one
    wa_link = None
    if wa_phone and body:
        local = now.astimezone(ZONES[work.timezone])
        text = message_templates.render(
            body,
            {
                "salam": message_templates.greeting(local.hour),
                "nama": head.name,
                "kader": current_user.name,
                "kelurahan": village,
                "cabang": acting_settings().branch_name,
                "va": accounts[0][1] if accounts else "",
            },
        )
        wa_link = message_templates.whatsapp_link(wa_phone, text)
    zone = ZONES[current_user.timezone]
    days = None if last_reached is None else (now.astimezone(zone).date() - last_reached.astimezone(zone).date()).days
    return {
        "item": work,
        "head": head,
        "members": members,
        "village": village,
        "amount": amount,
        "months": months,
        "accounts": accounts,
        "owed_text": f"{rupiah(amount)} · {_memo('%(n)s months', months)}" if amount else "",
        # Why a family that owes nothing is still listed (D8).
        "why": _(
            "Owes nothing now; a promise of %(amount)s for %(date)s is still open.",
            amount=rupiah(promise.amount),
            date=local_date(promise.promised_on),
        )
        if promise and not amount
        else "",
        "phone": phone,
        "wa_phone": wa_digits(wa_phone) if wa_phone else None,
        "wa_link": wa_link,
        "opted_out": refused,
        "opted_out_text": [_("refuses contact via %(channel)s", channel=channel_label(c)) for c in refused],
        # Whose number the card discloses (the audit names them).
        "phone_of": ", ".join(sorted({m.card_no for m in (caller, writer) if m})) or None,
        "days": days,
        "stale": days is None or days > 30,
        "contact_text": _memo("contact", days),
    }


def _memo(message: str, n: int | None) -> str:
    """A count's sentence, translated once per request (a list of 1,000 families has a few dozen distinct)."""
    texts = g.setdefault("_cadre_texts", {})
    if (message, n) not in texts:
        texts[message, n] = _contact_text(n) if message == "contact" else _(message, n=n)
    return texts[message, n]


def _contact_text(days: int | None) -> str:
    """When the family was last reached, in words (D9: today is "today", not "0 days ago")."""
    if days is None:
        return _("never contacted")
    if days <= 0:
        return _("last contacted today")
    if days == 1:
        return _("last contacted yesterday")
    return _("last contacted %(n)s days ago", n=days)


@bp.route("/sw.js")
def service_worker():
    """The cadre list's service worker, served from the root so it may cover /cadre."""
    from flask import send_from_directory

    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/cadre/letter")
@roles_required("cadre")
def letter():
    """Surat tugas: the printable letter of assignment shown to RT/RW heads, with its number, issue
    date, signatory and a QR code to the public page that says whether it is valid (`telecollect.letters`)."""
    issued = now_utc().astimezone(ZONES[current_user.timezone]).date()
    signed = letters.issue(current_user, issued)
    url = letters.public_url(signed)
    audit.record(db.session, "letter.issue", user=current_user, target=current_user, detail=signed.number)
    return render_template(
        "queues/letter.html",
        letter=signed,
        issued=issued,
        valid_until=signed.valid_until,
        branch=acting_settings().branch_name,
        signatory_name=acting_config()["LETTER_SIGNATORY_NAME"],
        signatory_title=acting_config()["LETTER_SIGNATORY_TITLE"],
        check_url=url,
        qr=letters.qr_svg(url),
    )


#: Unassigning more families than this asks for a confirmation first.
CONFIRM_UNASSIGN_OVER = 10
#: The assignment form's fields, kept on the page after a preview or a refusal.
ASSIGN_FIELDS = ("queue", "user", "city", "kecamatan", "kelurahan", "segment", "bucket", "min_amount")


@bp.route("/queue/manage", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def manage():
    """Hand out work: count what a filter matches, assign by filters, balance a pool, send someone's
    work back to the pool (confirmed when it is many families), undo the latest handout."""
    context: dict = {}
    if request.method == "POST":
        try:
            message, context = _manage_action(request.form)
        except (ServiceError, ValueError) as exc:
            db.session.rollback()
            flash(getattr(exc, "message", str(exc)), "error")
            if request.form.get("action") in ("assign", "preview"):
                return _manage_page({"form": request.form}), 400
        else:
            if message is not None:
                flash(message, "success")
                return redirect(url_for("queue.manage"))
            return _manage_page(context)
        return redirect(url_for("queue.manage"))
    return _manage_page(context)


def _manage_page(context: dict):
    workers = db.session.scalars(
        select(User)
        .where(User.role.in_([Role.telecollector, Role.cadre]), User.is_active.is_(True))
        .order_by(User.role, User.username)
    ).all()
    last = handouts.latest(db.session)
    places = place_options(db.session)
    return render_template(
        "queues/manage.html",
        loads=_loads(),
        workers=workers,
        queues=list(QueueName),
        places=places,
        # Each place's parent by name, so the page narrows the kelurahan to the chosen kecamatan (and the
        # kecamatan to the chosen city) as it is filled in.
        city_names={c.id: c.name for c in places["cities"]},
        district_names={d.id: d.name for d in places["districts"]},
        segments=[s.value for s in Segment],
        buckets=[b[0] for b in BUCKETS],
        last=last,
        last_by=db.session.get(User, last.user_id) if last else None,
        form=context.pop("form", {}),
        **context,
    )


def _assign_filters(form) -> "queues.AssignFilters":
    return queues.AssignFilters(
        city=form.get("city") or None,
        kecamatan=form.get("kecamatan") or None,
        kelurahan=form.get("kelurahan") or None,
        segment=form.get("segment") or None,
        bucket=form.get("bucket") or None,
        min_amount=_min_amount(form.get("min_amount", "")),
    )


def _manage_action(form) -> tuple[str | None, dict]:
    """Do what the form asks; (the message to flash, None) when done, or (None, what the page shows)
    when the page must answer first (a preview count, a confirmation)."""
    action = form.get("action")
    now = now_utc()
    if action == "undo":
        undone = handouts.undo(db.session, int(form.get("handout", 0)), by=current_user, now=now)
        audit.record(db.session, "queue.undo", user=current_user, detail=f"handout {form.get('handout')}")
        message = _("Undone: %(n)d families are back with their previous owners.", n=undone.restored)
        if undone.left:
            message += " " + _("%(n)d changed since and stay as they are.", n=undone.left)
        return message, {}
    queue = QueueName(form.get("queue", ""))
    if action == "preview":
        filters = _assign_filters(form)
        return None, {"form": form, "matching": queues.count_matching(db.session, filters)}
    if action == "assign":
        user = db.session.get(User, int(form["user"])) if form.get("user") else None
        filters = _assign_filters(form)
        before = handouts.owners(db.session, queue)
        result = queues.assign(db.session, queue=queue, filters=filters, user=user, now=now)
        after = handouts.owners(db.session, queue, result.family_ids)
        handouts.remember(
            db.session, action="assign", queue=queue, before=before, after=after, by=current_user, now=now
        )
        audit.record(
            db.session,
            "queue.assign",
            user=current_user,
            target=user,
            detail=f"{queue.value}: {len(result.family_ids)} families, {result.created} new, {result.reassigned} moved",
        )
        message = _(
            "%(n)d families assigned: %(c)d new, %(r)d moved.",
            n=len(result.family_ids),
            c=result.created,
            r=result.reassigned,
        )
        if result.outside_areas:
            message += " " + _("%(n)d outside her areas stay in the pool.", n=result.outside_areas)
        return message, {}
    if action == "balance":
        users = [db.session.get(User, int(uid)) for uid in form.getlist("users")]
        shared = queues.balance(db.session, queue, users)
        message = _("Pool shared: %(n)d families.", n=sum(shared.received.values()))
        if shared.returned:
            message += " " + _(
                "%(n)d families held outside their holders' areas went back to the pool.", n=shared.returned
            )
        if shared.left_in_pool:
            message += " " + _("%(n)d stay in the pool: outside every area of these cadres.", n=shared.left_in_pool)
        return message, {}
    if action == "unassign":
        owner = db.session.get(User, int(form["user"]))
        if owner is None:
            raise ServiceError("unknown_user", "user")
        ids = list(
            db.session.scalars(
                select(WorkItem.id).where(
                    WorkItem.queue == queue, WorkItem.assigned_user_id == owner.id, WorkItem.state != WorkState.closed
                )
            ).all()
        )
        if len(ids) > CONFIRM_UNASSIGN_OVER and form.get("confirm") != "1":
            return None, {"confirm_unassign": {"queue": queue, "owner": owner, "count": len(ids)}}
        moved = queues.unassign(db.session, ids)
        handouts.remember(
            db.session,
            action="unassign",
            queue=queue,
            before=dict.fromkeys(ids, owner.id),
            after=dict.fromkeys(ids),
            by=current_user,
            now=now,
        )
        audit.record(db.session, "queue.unassign", user=current_user, target=owner, detail=f"{queue.value}: {moved}")
        return _("%(n)d families back in the pool.", n=moved), {}
    raise ValueError("unknown action")


def _min_amount(written: str) -> int | None:
    """The minimum amount as the supervisor wrote it (Rp1.000.000, 1000000 …); blank means no minimum."""
    if not written.strip():
        return None
    try:
        return parse_positive_rupiah(written)
    except Refusal as exc:
        raise ServiceError.of(exc, "min_amount", label="field_min_amount") from None


def _loads() -> list[dict]:
    """Live items per queue and owner (None: the pool), with how many are due now."""
    now = now_utc()
    rows = db.session.execute(
        select(
            WorkItem.queue, WorkItem.assigned_user_id, func.count(), func.count().filter(WorkItem.next_action_at <= now)
        )
        .where(WorkItem.state != WorkState.closed)
        .group_by(WorkItem.queue, WorkItem.assigned_user_id)
    ).all()
    names = dict(db.session.execute(select(User.id, User.name)).all())
    return [
        {"queue": q, "user_id": uid, "name": names.get(uid), "live": live, "due": due}
        for q, uid, live, due in sorted(rows, key=lambda r: (r[0].value, names.get(r[1]) or ""))
    ]


@bp.route("/queue/templates", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def edit_template():
    """Edit the cadres' WhatsApp opening message, with a preview of what the participant reads."""
    key = message_templates.CADRE_WHATSAPP
    branch = settings_branch_of_request()  # a branch's own message, or the installation's (its administrator)
    branch_id = branch.id if branch is not None else None
    if request.method == "POST":
        try:
            message_templates.save_template(
                db.session, key, request.form.get("body", ""), current_user, branch_id=branch_id
            )
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return _template_page(request.form.get("body", ""), branch), 400
        flash(_("Message saved."), "success")
        return redirect(url_for("queue.edit_template", branch=settings_branch_arg(branch)))
    return _template_page(message_templates.template_body_of(db.session, key, branch_id), branch)


def _own_template(key: str, branch) -> bool | None:
    """None on the installation's page; else whether the branch wrote its own `key`."""
    return None if branch is None else key in message_templates.own_template_keys(db.session, branch.id)


def _template_page(body: str, branch):
    """The WhatsApp editor, with sample values of the kind a cadre's message gets."""
    sample = {
        "salam": message_templates.greeting(10),
        "nama": "Siti Aminah",
        "kader": "Ani Lestari",
        "kelurahan": "Lagoa",
        "cabang": acting_settings().branch_name,
        "va": "8888800012345678",
    }
    return render_template(
        "queues/template.html",
        body=body,
        variables=message_templates.VARIABLES[message_templates.CADRE_WHATSAPP],
        sample=sample,
        preview=message_templates.render(body, sample),
        own=_own_template(message_templates.CADRE_WHATSAPP, branch),
        template_key=message_templates.CADRE_WHATSAPP,
        **settings_branch_context(branch),
    )


@bp.route("/queue/call-script", methods=["GET", "POST"])
@roles_required("supervisor", "admin")
def edit_call_script():
    """Edit the telecollectors' call script (the agent desktop fills in each family's figures)."""
    key = message_templates.CALL_SCRIPT
    variables = message_templates.VARIABLES[key]
    branch = settings_branch_of_request()  # a branch's own script, or the installation's (its administrator)
    branch_id = branch.id if branch is not None else None
    page = {"variables": variables, "own": _own_template(key, branch), "template_key": key}
    if request.method == "POST":
        body = request.form.get("body", "")
        try:
            message_templates.save_template(db.session, key, body, current_user, branch_id=branch_id)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            context = settings_branch_context(branch)
            return render_template("queues/call_script.html", body=body, **page, **context), 400
        flash(_("Call script saved."), "success")
        return redirect(url_for("queue.edit_call_script", branch=settings_branch_arg(branch)))
    body = message_templates.template_body_of(db.session, key, branch_id)
    return render_template("queues/call_script.html", body=body, **page, **settings_branch_context(branch))


@bp.route("/holidays")
@login_required
def holidays():
    """Hari libur: the year's national holidays, cuti bersama and branch days, and which of them close contact."""
    this_year = now_utc().astimezone(ZONES[current_user.timezone]).year
    year = _year_arg(request.args.get("year", ""), default=this_year)
    rules = contact_rules()
    rows = [(day, policy.blocks_contact(rules, day)) for day in policy.year_days_off(db.session, year)]
    return render_template(
        "queues/holidays.html",
        rows=rows,
        year=year,
        this_year=this_year,
        first_year=FIRST_YEAR,
        last_year=LAST_YEAR,
        cuti_bersama_blocks=rules.cuti_bersama_blocks,
    )


def _year_arg(text: str, *, default: int) -> int:
    """?year=2027 → 2027; nothing → `default`; anything else is a bad request (400), never a 500."""
    if not text.strip():
        return default
    try:
        year = int(text)
    except ValueError:
        abort(400)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(400)
    return year


def _too_many(exc: TooManyRequests):
    """A throttled page: 429 with the reason and when to come back."""
    flash(exc.message, "error")
    return render_template("error.html", status=429), 429, {"Retry-After": str(exc.retry_after)}


def _item_or_error(item_id: int, *, to_work: bool) -> WorkItem:
    try:
        return item_for_user(db.session, current_user, item_id, to_work=to_work)
    except ServiceError as exc:
        abort(exc.status)


def _counters(now) -> dict:
    target = current_user.daily_call_target or acting_config()["DAILY_CALL_TARGET"]
    return {"today": today_counters(db.session, current_user, now), "target": target}
