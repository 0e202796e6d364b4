"""The payments upload page."""

from flask import Blueprint

from telecollect.imports.web import upload_page
from telecollect.security import roles_required
from telecollect.workflows.imports import import_payments

bp = Blueprint("payments", __name__)


@bp.route("/payments/import", methods=["GET", "POST"])
@roles_required("admin", "supervisor")
def upload():
    """Upload yesterday's payments (CSV or XLSX)."""
    return upload_page(import_payments, "payments/import.html")
