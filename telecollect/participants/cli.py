"""`flask import participants FILE`."""

from telecollect.imports.cli import register_import_command
from telecollect.workflows.imports import import_participants

register_import_command(
    "participants",
    import_participants,
    "Import participants and their arrears from a CSV or XLSX FILE.",
    has_places=True,
)
