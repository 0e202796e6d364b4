"""`flask import regions FILE`."""
from pathlib import Path

import click

from telecollect.cli import fail, import_group
from telecollect.extensions import db
from telecollect.regions.services import RegionImportError, import_regions


@import_group.command("regions")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def regions(path):
    """Load places from a CSV of Kemendagri codes (`code,name`), all-or-nothing."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        try:
            result = import_regions(db.session, stream)
        except RegionImportError as exc:
            db.session.rollback()
            for error in exc.errors:
                click.echo(error, err=True)
            fail(f"{len(exc.errors)} invalid row(s); nothing was imported")
    db.session.commit()
    click.echo(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")
