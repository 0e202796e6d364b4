"""`flask import regions FILE [--dry-run]`."""

import sys
from pathlib import Path

import click
from flask_babel import gettext as _

from telecollect.cli import fail, import_group
from telecollect.extensions import db
from telecollect.regions.importing import RegionImportError, import_regions


@import_group.command("regions")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and count, write nothing.")
def regions(path, dry_run):
    """Load places from a CSV of Kemendagri codes (`code,name`), checked against the Kemendagri list, all-or-nothing."""
    data = path.read_bytes()
    with click.progressbar(length=1, label=_("Importing places"), file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            result = import_regions(db.session, data, on_progress=progress)
        except RegionImportError as exc:
            db.session.rollback()
            bar.render_finish()
            for message in exc.messages():
                click.echo(message, err=True)
            fail(_("%(count)s invalid row(s); nothing was imported", count=len(exc.errors)))
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    counts = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    if dry_run:
        click.echo(
            _(
                "dry run, nothing written: would create %(created)s, update %(updated)s, leave %(unchanged)s unchanged",
                **counts,
            )
        )
    else:
        click.echo(_("created %(created)s, updated %(updated)s, unchanged %(unchanged)s", **counts))
