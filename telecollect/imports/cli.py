"""One command shape for every file import: `flask import KIND FILE [--dry-run] [--skip-invalid] [--rejects OUT]`."""

import sys
from contextlib import ExitStack
from pathlib import Path

import click
from flask_babel import gettext as _

from telecollect.branch_commands import branch_option, command_settings, enter_branch
from telecollect.cli import fail, import_group
from telecollect.db import now_utc
from telecollect.extensions import db
from telecollect.imports.reader import FileFormatError, TableReader
from telecollect.imports.runner import RejectsWriter
from telecollect.reasons import PLACE_LEVELS
from telecollect.settings import installation
from telecollect.workflows.imports import resume_imports


def register_import_command(name: str, importer, help_text: str, *, has_places: bool = False) -> None:
    """Add `flask import NAME` running `importer(session, reader, **options)`.

    `has_places` adds `--no-new-places` (for files whose rows name places)."""

    def places_option(command):
        if not has_places:
            return command
        return click.option(
            "--no-new-places", is_flag=True, help="Refuse rows naming a place not yet known instead of adding it."
        )(command)

    @import_group.command(name, help=help_text)
    @places_option
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
    @click.option("--skip-invalid", is_flag=True, help="Import the valid rows, reject the others.")
    @click.option(
        "--rejects",
        "rejects_path",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Write rejected rows with their reasons to this CSV.",
    )
    @click.option("--batch-size", type=click.IntRange(100, 50000), default=None, help="Rows per write batch.")
    @branch_option
    def command(path, dry_run, skip_invalid, rejects_path, batch_size, branch_code=None, no_new_places=False):
        options = {"allow_new_places": not no_new_places} if has_places else {}
        branch = enter_branch(branch_code)
        report = _run(
            importer,
            path,
            settings=command_settings(branch),
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            rejects_path=rejects_path,
            batch_size=batch_size,
            **options,
        )
        for error in report.errors:
            click.echo(str(error), err=True)
        if report.errors_not_kept:
            click.echo(_("… more errors not shown; use --rejects to get every rejected row."), err=True)
        for place in report.new_places:
            click.echo(_new_place_line(place, kept=report.is_kept))
        prefix = _("dry run, nothing written: ") if dry_run else ""
        click.echo(f"{prefix}{report.summary()}")
        if report.rejected and not skip_invalid and not dry_run:
            fail(
                _(
                    "%(count)s invalid row(s); nothing was imported (use --skip-invalid to import the valid rows)",
                    count=report.rejected,
                )
            )
        if dry_run and report.rejected:
            raise SystemExit(1)


@import_group.command("resume", help="Finish the imports a process left half-applied (killed while applying).")
def resume_command():
    reports = resume_imports(db.session, settings=installation())  # each run with its branch's: the runner
    for report in reports:
        click.echo(_("import %(run)s finished: %(summary)s", run=report.run_id, summary=report.summary()))
    if not reports:
        click.echo(_("No import was left half-applied."))


def _run(importer, path: Path, *, rejects_path, settings, **options):
    with ExitStack() as stack:
        stream = stack.enter_context(path.open("rb"))
        try:
            reader = TableReader(stream, path.name, max_unzipped_bytes=installation().import_xlsx_max_unzipped_bytes)
        except FileFormatError as exc:
            fail(f"{path.name}: {exc}", 2)
        rejects = None
        if rejects_path:
            out = stack.enter_context(rejects_path.open("w", newline="", encoding="utf-8"))
            rejects = RejectsWriter(out, reader.header)
        bar = stack.enter_context(click.progressbar(length=1000, label="Importing", file=sys.stderr))
        try:
            return importer(
                db.session,
                reader,
                filename=path.name,
                rejects=rejects,
                now=now_utc(),
                settings=settings,
                on_batch=lambda: bar.update(int(reader.progress() * 1000) - bar.pos),
                **options,
            )
        except FileFormatError as exc:
            db.session.rollback()
            fail(f"{path.name}: {exc}", 2)


def _new_place_line(place, *, kept: bool) -> str:
    values = {"level": PLACE_LEVELS[place.level], "name": place.name, "parent": place.parent}
    if kept:
        return _("new %(level)s: %(name)s (in %(parent)s)", **values)
    return _("would add %(level)s: %(name)s (in %(parent)s)", **values)
