"""``cbt courses``: validate, import, export and list course packages."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from cbt.content.__main__ import validate_paths
from cbt.content.errors import ContentError
from cbt.courses import importer
from cbt.courses.models import Course, CourseVersion
from cbt.db import session, writing

courses_cli = AppGroup("courses", help="Validate, import and export course packages.")


@courses_cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate_command(paths: tuple[str, ...]) -> None:
    """Check course folders or zips; print every problem with file, line and field."""
    code = validate_paths(paths, gettext=_, echo=click.echo, ngettext=ngettext)
    if code:
        raise SystemExit(code)


@courses_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def import_command(paths: tuple[Path, ...]) -> None:
    """Import course folders or zips (idempotent: the same version twice changes nothing)."""
    failed = False
    for path in paths:
        with writing():
            try:
                outcome = importer.import_path(path)
            except ContentError as error:
                session.rollback()
                failed = True
                click.echo(_("%(path)s was not imported:", path=str(path)), err=True)
                for problem in error.problems:
                    click.echo(f"  {problem.format(_)}", err=True)
                continue
            session.commit()
        version = outcome.version
        if outcome.created:
            click.echo(
                _("Imported %(course)s version %(version)d.", course=version.course.slug, version=version.version)
            )
        else:
            click.echo(
                _(
                    "%(course)s version %(version)d is already imported; nothing changed.",
                    course=version.course.slug,
                    version=version.version,
                )
            )
    if failed:
        raise SystemExit(1)


@courses_cli.command("export")
@click.argument("slug")
@click.option("--version", "number", type=int, help="Version to export (default: the latest published).")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    help="A folder (the course is written inside it) or a file name ending in .zip.",
)
def export_command(slug: str, number: int | None, target: Path) -> None:
    """Write a stored course version back out in the package format."""
    from cbt.content.writer import write_course, write_zip

    stmt = select(CourseVersion).join(Course).where(Course.slug == slug)
    stmt = stmt.where(CourseVersion.version == number) if number else stmt.order_by(CourseVersion.version.desc())
    version = session.scalars(stmt.limit(1)).first()
    if version is None:
        raise click.ClickException(_("No course %(course)s with that version.", course=slug))
    course = importer.to_schema(version)
    source = importer.media_source(version)
    if target.suffix.lower() == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".zip", delete=False) as tmp:
            write_zip(course, tmp, source)
        Path(tmp.name).replace(target)
        written = target
    else:
        try:
            written = write_course(course, target, source)
        except FileExistsError as error:
            raise click.ClickException(_("%(path)s exists and is not empty.", path=str(target / slug))) from error
    click.echo(
        _(
            "Exported %(course)s version %(version)d to %(path)s.",
            course=slug,
            version=version.version,
            path=str(written),
        )
    )


@courses_cli.command("list")
def list_command() -> None:
    """List imported courses and their versions."""
    rows = session.execute(
        select(Course.slug, CourseVersion.version, CourseVersion.status)
        .join(CourseVersion, CourseVersion.course_id == Course.id)
        .order_by(Course.slug, CourseVersion.version)
    ).all()
    for slug, version, status in rows:
        click.echo(f"{slug}\t{version}\t{status}")
