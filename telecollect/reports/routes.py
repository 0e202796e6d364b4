"""Supervisor reports."""

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from telecollect.auth.models import Role
from telecollect.auth.scoping import areas_of, scope_of
from telecollect.clock import local_day
from telecollect.contacts.models import Promise
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.extensions import db, reports_session
from telecollect.formatting import local_date
from telecollect.participants.models import Participant
from telecollect.reports import charts
from telecollect.reports import dashboard as panels
from telecollect.reports.export import to_csv, to_xlsx
from telecollect.reports.funnel import COUNTS, GROUPINGS, RATES, Period, Scope, families_behind, outcome_funnel, totals
from telecollect.reports.labels import GROUP_LABELS, METRIC_LABELS
from telecollect.reports.queries import ARREARS_COLUMNS, ARREARS_GROUPINGS, arrears_by, arrears_columns
from telecollect.security import roles_required
from telecollect.settings import installation

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
DRILLABLE = set(COUNTS) - {"promised_amount", "collected_amount", "arrears_assigned"}

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
        today = local_day(now_utc(), installation().branch_timezone)
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


def _filters():
    """Date range (branch days), grouping and queue from the URL (so a view can be bookmarked); this month
    by default. A range the reports do not cover (`dashboard.report_period`) answers 400 with the filters
    as they were typed and the reason, so they can be corrected."""
    zone = installation().branch_timezone
    today = local_day(now_utc(), zone)
    by = request.args.get("by", "user")
    queue = request.args.get("queue") or None
    # A grouping or queue the reports do not know (an old bookmark, a typo) falls back to the default.
    if by not in GROUPINGS:
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
    return period, by, queue


def _scope(queue) -> Scope:
    """Supervisors and admins see everyone; telecollectors and cadres their own figures only."""
    if current_user.role == Role.cadre:  # her work list: hers and the pool's families in her areas (D26)
        return Scope(user_id=current_user.id, queue=queue, cadre_areas=areas_of(current_user))
    return Scope(user_id=None if current_user.is_privileged else current_user.id, queue=queue)


@bp.route("/dashboard")
@login_required
def dashboard():
    """Key figures, trends, the outcome funnel and the team panels for a date range."""
    period, by, queue = _filters()
    funnel = _funnel_once(_scope(queue))
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
        "drillable": DRILLABLE,
        "groupings": GROUPINGS,
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
    if current_user.is_privileged:
        config = current_app.config
        context.update(
            skips=panels.skips_today(db.session, now_utc(), period.zone),
            people=panels.people(
                db.session,
                now_utc(),
                period.zone,
                call_target=config["DAILY_CALL_TARGET"],
                cadre_weekly_target=config["CADRE_WEEKLY_TARGET"],
                quiet_days=config["QUIET_DAYS"],
            ),
            programs=panels.programs_and_channels(db.session, period),
            arrears=panels.arrears_by_district_with_change(db.session),
        )
    return render_template("reports/dashboard.html", **context)


def _funnel_once(scope: Scope):
    """The outcome funnel for this request: each grouping and period is read once, however many
    panels show it, and a chart of a few figures reads only the sources behind them (unless the
    whole funnel for its grouping was already read, e.g. the table grouped the same way)."""
    computed: dict[tuple[str, Period], list[dict]] = {}

    def funnel(by: str, period: Period, measures=None) -> list[dict]:
        if (by, period) in computed:
            return computed[by, period]
        if measures is not None:
            return outcome_funnel(reports_session(), by, period, scope, measures=frozenset(measures))
        computed[by, period] = outcome_funnel(reports_session(), by, period, scope)
        return computed[by, period]

    return funnel


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
    period, by, queue = _filters()
    rows = outcome_funnel(reports_session(), by, period, _scope(queue))
    columns = [by, *FUNNEL_COLUMNS, *RATES]
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
    period, by, queue = _filters()
    metric = request.args.get("metric", "")
    if metric not in DRILLABLE:
        abort(400)
    family_ids = families_behind(db.session, metric, by, request.args.get("key", ""), period, _scope(queue))
    members = db.session.scalars(
        select(Participant)
        .where(
            Participant.family_id.in_(family_ids[:DRILL_LIMIT]),
            scope_of(current_user).condition(Participant.district_id, Participant.village_id),
        )
        .order_by(Participant.family_id, Participant.card_no)
    ).all()
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
    promises = db.session.scalars(
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
