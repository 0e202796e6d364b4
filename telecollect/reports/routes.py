"""Supervisor reports."""

from flask import Blueprint, Response, abort, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from telecollect.auth.models import Role
from telecollect.auth.scoping import areas_of, current_branch_scope, narrow_branch_scope, scope_of
from telecollect.branches.models import Branch
from telecollect.branches.settings import acting_branch_config, acting_branch_settings
from telecollect.clock import local_day
from telecollect.contacts.models import Promise
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.formatting import local_date
from telecollect.participants.models import Participant
from telecollect.replica import reports_session
from telecollect.reports import charts
from telecollect.reports import dashboard as panels
from telecollect.reports.export import to_csv, to_xlsx
from telecollect.reports.funnel import (
    CALL_COLUMNS,
    COUNTS,
    GROUPINGS,
    RATES,
    ROLLUPS,
    Period,
    Scope,
    branch_label,
    calls_by_agent_and_day,
    rates,
    totals,
)
from telecollect.reports.labels import CALL_PAGE_LABELS, GROUP_LABELS, METRIC_LABELS
from telecollect.reports.messages import MESSAGE_COLUMNS, PAYMENT_DAYS, messages_report
from telecollect.reports.queries import ARREARS_COLUMNS, ARREARS_GROUPINGS, arrears_by, arrears_columns
from telecollect.reports.rollups import families_across, funnel_across, zones_of
from telecollect.security import roles_required

#: The funnel table's columns, as the page shows them and the downloads carry them.
FUNNEL_COLUMNS = (
    "families_assigned",
    "families_attempted",
    "attempts",
    "contacts",
    "rpc",
    "promises",
    "promised_amount",
    "promises_due",
    "promises_kept",
    "promises_partly_kept",
    "promises_broken",
    "payments",
    "collected_amount",
    "reactivated",
)
DRILLABLE = set(COUNTS) - {
    "promised_amount",
    "collected_amount",
    "arrears_assigned",
    "talk_seconds",
    "wrap_up_seconds",
    "wrap_ups",
}

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: How each grouping is named on screen (the CSV keeps the machine names).
GROUPING_LABELS = {
    "city": _l("city/regency"),
    "kecamatan": _l("district (kecamatan)"),
    "kelurahan": _l("village (kelurahan)"),
    "segment": _l("segment"),
    "bucket": _l("months in arrears"),
}
#: The arrears table's other place columns: the code and the parents that tell same-named places apart.
COLUMN_LABELS = {
    **GROUPING_LABELS,
    "province": _l("province"),
    "city_code": _l("code"),
    "kecamatan_code": _l("code"),
    "kelurahan_code": _l("code"),
}


@bp.route("/arrears")
@roles_required("admin", "supervisor")
def arrears():
    """Arrears by city, kecamatan, kelurahan, segment or bucket; ?format=csv downloads it."""
    by = request.args.get("by", "kecamatan")
    if by not in ARREARS_GROUPINGS:
        by = "kecamatan"
    rows, columns = arrears_by(reports_session(), by), arrears_columns(by)
    headers = [str({**COLUMN_LABELS, **ARREARS_AMOUNT_LABELS}.get(c, c)) for c in columns]
    if request.args.get("format") == "csv":
        return Response(
            to_csv(rows, columns, headers),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=arrears-by-{by}.csv"},
        )
    if request.args.get("format") == "xlsx":
        today = local_day(now_utc(), acting_branch_settings(db.session()).branch_timezone)
        title = _("Arrears by %(group)s, %(day)s", group=GROUPING_LABELS[by], day=local_date(today))
        return Response(
            to_xlsx(rows, columns, headers, formats=EXPORT_FORMATS, title=title),
            headers={"Content-Disposition": f"attachment; filename=arrears-by-{by}.xlsx"},
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    totals = {
        "participants": sum(r["participants"] for r in rows),
        "arrears_amount": sum(r["arrears_amount"] for r in rows),
    }
    return render_template(
        "reports/arrears.html",
        rows=rows,
        by=by,
        groupings=ARREARS_GROUPINGS,
        labels=GROUPING_LABELS,
        columns=ARREARS_COLUMNS[by],
        column_labels=COLUMN_LABELS,
        totals=totals,
    )


class Branches:
    """The branches a report page reads: the user's (her branch scope), narrowed by the URL to one regional
    deputy (?deputy=ID) or one branch (?branch=ID) of them, the drill-down of the roll-ups. A region or a
    branch she may not see is a 404. `zones`: {zone: branch ids}, each branch's days in its own zone."""

    def __init__(self):
        scope = current_branch_scope(db.session)
        self.visible = list(db.session.scalars(select(Branch).where(scope.condition(Branch.id)).order_by(Branch.code)))
        self.deputy_id = request.args.get("deputy", type=int)
        self.branch_id = request.args.get("branch", type=int)
        shown = self.visible
        if self.deputy_id is not None:
            shown = [b for b in shown if b.deputy_region_id == self.deputy_id]
        if self.branch_id is not None:
            shown = [b for b in shown if b.id == self.branch_id]
        if not shown and (self.deputy_id is not None or self.branch_id is not None):
            abort(404)
        if shown != self.visible:
            narrow_branch_scope(db.session, tuple(b.id for b in shown))
        self.shown = shown
        default = acting_branch_settings(db.session()).branch_timezone
        self.zones = zones_of(shown, default)
        #: "Today" and the default month are those of the branches' zone (the installation's if they differ).
        self.zone = next(iter(self.zones)) if len(self.zones) == 1 else default

    @property
    def several(self) -> bool:
        return len(self.shown) > 1

    @property
    def link(self) -> dict:
        """The URL arguments that keep this narrowing on the page's links."""
        return {
            **({"deputy": self.deputy_id} if self.deputy_id is not None else {}),
            **({"branch": self.branch_id} if self.branch_id is not None else {}),
        }


def _filters():
    """Date range (branch days), grouping and queue from the URL (so a view can be bookmarked); this month
    by default. A range the reports do not cover (`dashboard.report_period`) answers 400 with the filters
    as they were typed and the reason, so they can be corrected. Also the branches the page reads."""
    branches = Branches()
    zone = branches.zone
    today = local_day(now_utc(), zone)
    by = request.args.get("by", "user")
    queue = request.args.get("queue") or None
    # A grouping or queue the reports do not know (an old bookmark, a typo) falls back to the default.
    if by not in GROUPINGS + ROLLUPS:
        by = "user"
    if queue not in (None, "telecollect", "cadre"):
        queue = None
    try:
        period = panels.report_period(
            request.args.get("from") or today.replace(day=1), request.args.get("to") or today, zone
        )
    except ServiceError as exc:
        page = render_template(
            "reports/range_error.html",
            error=exc,
            start=request.args.get("from", ""),
            end=request.args.get("to", ""),
            by=by,
            queue=queue,
            groupings=GROUPINGS,
        )
        abort(make_response(page, 400))
    return period, by, queue, branches


def _scope(queue) -> Scope:
    """Supervisors and admins see everyone; telecollectors and cadres their own figures only."""
    if current_user.role == Role.cadre:  # her work list: hers and the pool's families in her areas (D26)
        return Scope(user_id=current_user.id, queue=queue, cadre_areas=areas_of(current_user))
    return Scope(user_id=None if current_user.reads_as_staff else current_user.id, queue=queue)


@bp.route("/dashboard")
@login_required
def dashboard():
    """Key figures, trends, the outcome funnel and the team panels for a date range."""
    period, by, queue, branches = _filters()
    funnel = _funnel_once(_scope(queue), branches.zones)
    rows = funnel(by, period)
    trend = panels.daily_trend(period, funnel("day", period, panels.TREND_MEASURES))
    by_district = funnel("kecamatan", period, {"collected_amount"})
    by_person = funnel("user", period, {"attempts"})
    context = {
        "period": period,
        "by": by,
        "queue": queue,
        "rows": rows,
        "total": totals(rows),
        "columns": FUNNEL_COLUMNS,
        "rates": RATES,
        "call_columns": CALL_COLUMNS,
        "call_labels": CALL_PAGE_LABELS,
        "calls_by_agent_day": calls_by_agent_and_day(reports_session(), period, _scope(queue)),
        "drillable": DRILLABLE,
        "groupings": GROUPINGS + ROLLUPS if len(branches.visible) > 1 else GROUPINGS,
        "branches": branches,
        "rollups": _rollups(funnel, period, branches),
        "figures": panels.key_figures(funnel("month", period), funnel("month", period.previous())),
        "trend_charts": [
            charts.column_chart([(d["day"], d[m]) for d in trend], title=str(TREND_TITLES[m])) for m in TREND_TITLES
        ],
        "district_chart": charts.bar_chart(
            [
                (r["kecamatan"], r["collected_amount"])
                for r in sorted(by_district, key=lambda r: -r["collected_amount"])
            ],
            title=str(_l("Collected by district (Rp)")),
        ),
        "person_chart": charts.bar_chart(
            [(r["user"], r["attempts"]) for r in sorted(by_person, key=lambda r: -r["attempts"])],
            title=str(_l("Attempts by person")),
        ),
    }
    if current_user.reads_as_staff:
        config = acting_branch_config(db.session())  # the branch's own targets where it set them
        context.update(
            skips=panels.skips_today(reports_session(), now_utc(), period.zone),
            people=panels.people(
                reports_session(),
                now_utc(),
                period.zone,
                call_target=config["DAILY_CALL_TARGET"],
                cadre_weekly_target=config["CADRE_WEEKLY_TARGET"],
                quiet_days=config["QUIET_DAYS"],
                whatsapp_limit=acting_branch_settings(db.session()).cadre_whatsapp_daily_limit,
            ),
            programs=panels.programs_and_channels(reports_session(), period),
            arrears=panels.arrears_by_district_with_change(reports_session()),
        )
    return render_template("reports/dashboard.html", **context)


def _funnel_once(scope: Scope, zones: dict[str, tuple[int, ...]]):
    """The outcome funnel for this request: each grouping and period is read once, however many
    panels show it, and a chart of a few figures reads only the sources behind them (unless the
    whole funnel for its grouping was already read, e.g. the table grouped the same way). Over
    branches in several zones, each branch's figures are of its own days (`rollups.funnel_across`)."""
    computed: dict[tuple[str, Period], list[dict]] = {}

    def funnel(by: str, period: Period, measures=None) -> list[dict]:
        if (by, period) in computed:
            return computed[by, period]
        if measures is not None:
            return funnel_across(reports_session(), by, period, scope, zones, measures=frozenset(measures))
        computed[by, period] = funnel_across(reports_session(), by, period, scope, zones)
        return computed[by, period]

    return funnel


#: The roll-up tables' columns: what a regional deputy compares branch by branch.
ROLLUP_COLUMNS = (
    "families_assigned",
    "families_attempted",
    "attempts",
    "contacts",
    "promises",
    "payments",
    "collected_amount",
    "reactivated",
)
ROLLUP_RATES = ("contact_rate", "ptp_rate", "recovery_rate")


def _rollups(funnel, period: Period, branches: Branches) -> dict | None:
    """Over several branches: the branches side by side (every one, quiet ones too) and, over several
    regional deputies, the regions; each with its sum. None for one branch."""
    if not branches.several:
        return None
    by_branch = {r["key"]: r for r in funnel("branch", period)}
    for b in branches.shown:
        if b.id not in by_branch:
            zero = dict.fromkeys(COUNTS, 0)
            by_branch[b.id] = {"branch": branch_label(b.code, b.name), "key": b.id, **zero, **rates(zero)}
    shown = {b.id for b in branches.shown}
    branch_rows = sorted((r for k, r in by_branch.items() if k in shown), key=lambda r: r["branch"])
    deputies = {b.deputy_region_id for b in branches.shown}
    deputy_rows = funnel("deputy", period) if len(deputies) > 1 else None
    return {
        "branches": branch_rows,
        "deputies": deputy_rows,
        "total": totals(branch_rows),
        "deputy_total": totals(deputy_rows) if deputy_rows is not None else None,
        "columns": ROLLUP_COLUMNS,
        "rates": ROLLUP_RATES,
    }


TREND_TITLES = {
    "attempts": _l("Attempts per day"),
    "contacts": _l("Contacts per day"),
    "promises": _l("Promises per day"),
    "collected_amount": _l("Collected per day (Rp)"),
}


#: The downloads' number formats (the values stay numbers): amounts with thousands, rates as percentages.
EXPORT_FORMATS = {
    **dict.fromkeys(("promised_amount", "collected_amount", "arrears_assigned", "arrears_amount"), "#,##0"),
    **dict.fromkeys(("contact_rate", "rpc_rate", "ptp_rate", "kept_rate", "recovery_rate"), "0.0%"),
    "attempts_per_family": "0.00",
}
#: The arrears download's figures, in words.
ARREARS_AMOUNT_LABELS = {"participants": _l("Participants"), "arrears_amount": _l("Arrears (Rp)")}


@bp.route("/dashboard.<fmt>")
@login_required
def dashboard_export(fmt):
    """The funnel table as CSV or XLSX for people: the same rows and numbers as the page, headed in the
    reader's language (the CLI's `report outcomes` keeps the column names as its contract); the XLSX
    names the report and its period above the header, and formats amounts and rates, as numbers."""
    period, by, queue, branches = _filters()
    rows = funnel_across(reports_session(), by, period, _scope(queue), branches.zones)
    columns = [by, *FUNNEL_COLUMNS, *RATES, *CALL_COLUMNS]
    headers = [str(GROUP_LABELS.get(by, by)).capitalize(), *(str(METRIC_LABELS[c]) for c in columns[1:])]
    name = f"outcomes-by-{by}-{period.start}-{period.end}"
    if fmt == "csv":
        return Response(
            to_csv(rows, columns, headers),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={name}.csv"},
        )
    if fmt != "xlsx":
        abort(404)
    title = _(
        "Collection results by %(group)s, %(start)s – %(end)s",
        group=GROUP_LABELS.get(by, by),
        start=local_date(period.start),
        end=local_date(period.end),
    )
    return Response(
        to_xlsx(rows, columns, headers, formats=EXPORT_FORMATS, title=title),
        headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


#: The figures about promises: their drill-down shows each family's promise (date, amount, state).
PROMISE_METRICS = frozenset({"promises", "promises_due", "promises_kept", "promises_partly_kept", "promises_broken"})
#: How a promise's state is named on the drill-down.
PROMISE_STATES = {
    "pending": _l("pending"),
    "kept": _l("kept"),
    "partly_kept": _l("partly kept"),
    "broken": _l("broken"),
}
#: At most this many families are listed (the count above the table says how many there are).
DRILL_LIMIT = 1000


@bp.route("/families")
@login_required
def families():
    """The families behind one figure of the dashboard, one row a family (its members' names, place,
    months and arrears; for a figure about promises, the promise's date, amount and state); a cadre sees
    only the families inside her areas."""
    period, by, queue, branches = _filters()
    metric = request.args.get("metric", "")
    if metric not in DRILLABLE:
        abort(400)
    key = request.args.get("key", "")
    family_ids = families_across(reports_session(), metric, by, key, period, _scope(queue), branches.zones)
    members = (
        reports_session()
        .scalars(
            select(Participant)
            .where(
                Participant.family_id.in_(family_ids[:DRILL_LIMIT]),
                scope_of(current_user).condition(Participant.district_id, Participant.village_id),
            )
            .order_by(Participant.family_id, Participant.card_no)
        )
        .all()
    )
    grouped: dict[int, list[Participant]] = {}
    for member in members:
        grouped.setdefault(member.family_id, []).append(member)
    promises = _promises_of(list(grouped), period) if metric in PROMISE_METRICS else {}
    rows = [
        {
            "members": people,
            "head": people[0],
            "district": people[0].district,
            "months": max(p.months_in_arrears for p in people),
            "arrears": sum(p.arrears_amount for p in people),
            "promise": promises.get(family_id),
        }
        for family_id, people in grouped.items()
    ]
    return render_template(
        "reports/families.html",
        rows=rows,
        metric=metric,
        count=len(family_ids),
        shown_all=len(family_ids) <= DRILL_LIMIT,
        limit=DRILL_LIMIT,
        period=period,
        by=by,
        with_promise=metric in PROMISE_METRICS,
        promise_states=PROMISE_STATES,
    )


def _promises_of(family_ids: list[int], period: Period) -> dict[int, Promise]:
    """Each family's promise that the period is about: made or due inside it, the latest made."""
    found: dict[int, Promise] = {}
    if not family_ids:
        return found
    promises = reports_session().scalars(
        select(Promise)
        .where(
            Promise.family_id.in_(family_ids),
            or_(
                Promise.made_on.between(period.start, period.end),
                Promise.promised_on.between(period.start, period.end),
            ),
        )
        .order_by(Promise.made_on, Promise.id)
    )
    for promise in promises:
        found[promise.family_id] = promise
    return found


@bp.route("/messages")
@roles_required("admin", "supervisor")
def messages():
    """Messages by channel and kind (delivered and read rates, cost where Twilio reports a price), and payments
    within seven days of a delivered reminder, by channel, for a date range; ?format=csv downloads the first."""
    period, _by, _queue, _branches = _filters()
    report = messages_report(reports_session(), period)
    if request.args.get("format") == "csv":
        return Response(
            to_csv(report.messages, list(MESSAGE_COLUMNS)),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=messages-{period.start}-{period.end}.csv"},
        )
    return render_template(
        "reports/messages.html",
        period=period,
        report=report,
        payment_days=PAYMENT_DAYS,
    )
