"""Supervisor reports."""
from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l

from telecollect.extensions import db
from telecollect.reports.export import to_csv
from telecollect.reports.queries import ARREARS_GROUPINGS, arrears_by
from telecollect.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: How each grouping is named on screen (the CSV keeps the machine names).
GROUPING_LABELS = {
    "city": _l("city/regency"),
    "kecamatan": _l("district (kecamatan)"),
    "kelurahan": _l("village (kelurahan)"),
    "segment": _l("segment"),
    "bucket": _l("months in arrears"),
}


@bp.route("/arrears")
@roles_required("admin", "supervisor")
def arrears():
    """Arrears by city, kecamatan, kelurahan, segment or bucket; ?format=csv downloads it."""
    by = request.args.get("by", "kecamatan")
    if by not in ARREARS_GROUPINGS:
        by = "kecamatan"
    rows = arrears_by(db.session, by)
    if request.args.get("format") == "csv":
        return Response(to_csv(rows, [by, "participants", "arrears_amount"]), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=arrears-by-{by}.csv"})
    totals = {"participants": sum(r["participants"] for r in rows),
              "arrears_amount": sum(r["arrears_amount"] for r in rows)}
    return render_template("reports/arrears.html", rows=rows, by=by, groupings=ARREARS_GROUPINGS,
                           labels=GROUPING_LABELS, totals=totals)
