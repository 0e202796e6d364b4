"""The upload page every import shares (participants, payments)."""

import io

from flask import render_template, request
from flask_login import current_user

from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.imports.models import ImportRun
from telecollect.imports.reader import FileFormatError, TableReader
from telecollect.imports.runner import RejectsWriter
from telecollect.runtime import acting_settings
from telecollect.settings import installation


def upload_page(importer, template: str, *, has_places: bool = False):
    """GET shows the form; POST runs `importer` on the uploaded file and shows the report.

    422 when invalid rows stopped an all-or-nothing import; the rejected rows of
    a skip-invalid import are kept on the run for download.
    """
    if request.method == "GET":
        return render_template(template, report=None, has_places=has_places)
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return render_template(template, report=None, file_error="no_file", has_places=has_places), 400
    dry_run, skip_invalid = bool(request.form.get("dry_run")), bool(request.form.get("skip_invalid"))
    options = {"allow_new_places": not request.form.get("no_new_places")} if has_places else {}
    rejects_buffer = io.StringIO()
    try:
        reader = TableReader(
            upload_file.stream,
            upload_file.filename,
            max_unzipped_bytes=installation().import_xlsx_max_unzipped_bytes,
        )
        rejects = RejectsWriter(rejects_buffer, reader.header) if skip_invalid else None
        report = importer(
            db.session,
            reader,
            filename=upload_file.filename,
            user=current_user,
            now=now_utc(),
            settings=acting_settings(),  # the admin's branch: its VA prefixes, its zone
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            rejects=rejects,
            **options,
        )
    except FileFormatError as exc:
        db.session.rollback()
        return render_template(template, report=None, file_error=str(exc), has_places=has_places), 400
    if rejects is not None and report.rejected:
        db.session.get(ImportRun, report.run_id).rejects_csv = rejects_buffer.getvalue()
    status = 200 if report.rejected == 0 or skip_invalid else 422
    return render_template(template, report=report, dry_run=dry_run, has_places=has_places), status
