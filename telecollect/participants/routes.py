"""Participant list, detail and the import upload page."""

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from telecollect.audit import disclosure
from telecollect.audit import services as audit
from telecollect.auth.scoping import scope_of
from telecollect.contacts.labels import CONSENT_LABELS, CONSENT_SOURCE_LABELS
from telecollect.contacts.models import ConsentChannel, ConsentSource
from telecollect.contacts.queries import consent_ledger
from telecollect.db import now_utc
from telecollect.errors import TooManyRequests
from telecollect.extensions import db
from telecollect.formatting import mask_nik
from telecollect.imports.models import ImportRun
from telecollect.imports.web import upload_page
from telecollect.participants import bp
from telecollect.participants.models import BUCKETS, Participant, Segment
from telecollect.participants.queries import (
    ParticipantFilters,
    arrears_history,
    family_arrears,
    family_members,
    list_participants,
    may_view,
    search_kind,
)
from telecollect.policy import optouts
from telecollect.regions.queries import place_options
from telecollect.reports.timeline import family_timeline
from telecollect.security import roles_required
from telecollect.workflows.imports import import_participants


@bp.route("/participants")
@login_required
def index():
    """Participants in arrears, searchable and filtered, largest arrears first. A search is counted
    (too many in a minute: 429) and on record, naming what was looked for and who was found."""
    filters = _filters_from(request.args)
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = current_app.config["PAGE_SIZE"]
    status, headers = 200, {}
    if filters.q:
        try:
            disclosure.check_search(db.session, current_user, now_utc())
        except TooManyRequests as exc:
            flash(exc.message, "error")
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
    if status == 429:
        rows, total = [], 0
    else:
        rows, total = list_participants(db.session, current_user, filters, page, per_page)
    if filters.q and status == 200:
        kind = search_kind(filters.q)
        audit.record(
            db.session,
            "participant.search",
            user=current_user,
            detail=f"{kind} {_shown_query(filters.q, kind)}: {', '.join(p.card_no for p in rows)}"[:2000],
        )
    nik_refused = filters.q and search_kind(filters.q) == "nik" and not current_user.is_privileged
    return (
        render_template(
            "participants/index.html",
            nik_refused=nik_refused,
            rows=rows,
            total=total,
            page=page,
            per_page=per_page,
            filters=filters,
            buckets=[b[0] for b in BUCKETS],
            segments=[s.value for s in Segment],
            places=place_options(db.session, *scope_of(current_user).as_lists()),
        ),
        status,
        headers,
    )


def _shown_query(q: str, kind: str) -> str:
    """The search as the audit log keeps it: a NIK or phone number masked like everywhere else."""
    return mask_nik(_digits(q)) if kind in ("nik", "phone") else q


def _digits(q: str) -> str:
    return "".join(c for c in q if c.isdigit())


@bp.route("/participants/<card_no>")
@login_required
def detail(card_no):
    """One participant with family, arrears history and activity; the view is audited, and opening
    many different participants quickly is refused (429)."""
    try:
        disclosure.check_read(db.session, current_user, f"participant:{card_no}", now_utc())
    except TooManyRequests as exc:
        flash(exc.message, "error")
        return render_template("error.html", status=429), 429, {"Retry-After": str(exc.retry_after)}
    participant = db.first_or_404(db.select(Participant).where(Participant.card_no == card_no))
    if not may_view(current_user, participant):
        abort(404)  # outside a cadre's areas the participant does not exist for them
    everyone = family_members(db.session, participant)
    members = scope_of(current_user).visible(everyone)  # a cadre sees the members inside her areas only
    audit.record(db.session, "participant.view", user=current_user, target=participant)
    amount, months = family_arrears(everyone)
    numbers = _family_numbers(everyone)
    return render_template(
        "participants/detail.html",
        numbers=numbers,
        consents=consent_ledger(db.session, numbers, participant.family_id),
        consent_labels=CONSENT_LABELS,
        source_labels=CONSENT_SOURCE_LABELS,
        consent_channels=list(ConsentChannel),
        p=participant,
        members=members,
        family_amount=amount,
        family_months=months,
        history=arrears_history(db.session, participant),
        events=family_timeline(db.session, participant),
        show_full_nik=current_user.is_privileged,
    )


@bp.route("/participants/<card_no>/consent", methods=["POST"])
@roles_required("supervisor", "admin")
def consent(card_no):
    """A supervisor records a consent for one of the family's numbers (by its place in the list, never the
    number in the URL) or for the family's visits, with a reason; the ledger keeps who and when."""
    participant = db.first_or_404(db.select(Participant).where(Participant.card_no == card_no))
    if not may_view(current_user, participant):
        abort(404)
    numbers = _family_numbers(family_members(db.session, participant))
    try:
        channel = ConsentChannel(request.form.get("channel", ""))
        action = request.form["action"]
        if action not in ("opt_in", "opt_out"):
            raise ValueError(action)
        index = int(request.form.get("number", "0") or 0)
        phone = None if channel == ConsentChannel.visit else numbers[index]
    except (KeyError, ValueError, IndexError):
        abort(400)
    reason = (request.form.get("reason") or "").strip() or f"by {current_user.username}"
    now = now_utc()
    done = {"source": ConsentSource.supervisor, "now": now, "by_user_id": current_user.id}
    if phone is None and action == "opt_out":
        optouts.family_opt_out(db.session, participant.family_id, reason, **done)
    elif phone is None:
        optouts.family_opt_in(db.session, participant.family_id, reason=reason, **done)
    elif action == "opt_out":
        optouts.opt_out(db.session, phone, channel, reason, **done)
    else:
        optouts.opt_in(db.session, phone, channel, reason=reason, **done)
    audit.record(db.session, f"consent.{action}", user=current_user, target=participant, detail=channel.value)
    db.session.commit()
    flash(_("Consent recorded."), "success")
    return redirect(url_for("participants.detail", card_no=card_no))


def _family_numbers(members) -> list[str]:
    return list(dict.fromkeys(n for m in members for n in (m.phone, m.phone2) if n))


@bp.route("/participants/import", methods=["GET", "POST"])
@roles_required("admin", "supervisor")
def upload():
    """Upload the month's arrears list (CSV or XLSX)."""
    return upload_page(import_participants, "participants/import.html", has_places=True)


@bp.route("/participants/imports/<int:run_id>/rejects.csv")
@roles_required("admin", "supervisor")
def rejects_csv(run_id):
    """Download the rows an import skipped, with their reasons."""
    run = db.get_or_404(ImportRun, run_id)
    if not run.rejects_csv:
        abort(404)
    return Response(
        run.rejects_csv,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=rejects-{run.id}.csv"},
    )


def _filters_from(args) -> ParticipantFilters:
    return ParticipantFilters(
        q=args.get("q", "").strip()[:100],
        city_id=args.get("city", type=int),
        district_id=args.get("kecamatan", type=int),
        village_id=args.get("kelurahan", type=int),
        segment=args.get("segment", ""),
        bucket=args.get("bucket", ""),
        autodebit=args.get("autodebit", ""),
    )
