"""``cbt export``: the report exports from the command line (for scheduled jobs and very large extracts)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from cbt.audit.services import record
from cbt.db import session, writing
from cbt.reports import aggregate, exports, queries


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(_("Use the form YYYY-MM-DD.")) from error


@click.command("export")
@click.argument("kind", type=click.Choice(["completions", "attempts", "summary"]))
@click.option("--format", "fmt", type=click.Choice(list(exports.FORMATS)), default="csv", show_default=True)
@click.option("--from", "date_from", callback=_date, help="First day (YYYY-MM-DD, UTC).")
@click.option("--to", "date_to", callback=_date, help="Last day, included (YYYY-MM-DD, UTC).")
@click.option("--site", "site_code", help="Only this site (code).")
@click.option("--course", "course_slug", help="Only this course (id).")
@click.option("--cohort", "cohort_ref",
              help="Only members of this cohort, in the courses it assigned (its number, UUID or exact name).")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="File to write ('-' for standard output).")
@with_appcontext
def export_command(kind: str, fmt: str, date_from: date | None, date_to: date | None, site_code: str | None,
                   course_slug: str | None, cohort_ref: str | None, out: str) -> None:
    """Export completions, attempts or the summary table as CSV or XLSX."""
    from cbt.courses.models import Course
    from cbt.org.models import Site

    if date_from and date_to and date_to < date_from:
        raise click.BadParameter(_("The end of the period is before its start."), param_hint="--to")
    site_id = course_id = None
    if site_code:
        site_id = session.scalar(select(Site.id).where(Site.code == site_code))
        if site_id is None:
            raise click.ClickException(_("Unknown site %(code)s.", code=site_code))
    if course_slug:
        course_id = session.scalar(select(Course.id).where(Course.slug == course_slug))
        if course_id is None:
            raise click.ClickException(_("Unknown course %(slug)s.", slug=course_slug))
    cohort_id = _cohort_id(cohort_ref) if cohort_ref else None
    filters = queries.Filters(period=aggregate.Period(date_from, date_to), site_id=site_id, course_id=course_id,
                              cohort_id=cohort_id)
    with writing():
        record("report.export", target=f"report:{kind}", format=fmt, via="cli",
               filters={"from": str(date_from) if date_from else None, "to": str(date_to) if date_to else None,
                        "site": site_code, "course": course_slug, "cohort": cohort_id})
        session.commit()
    table = exports.build(kind, filters)
    written = 0
    stream = click.open_file(out, "wb")
    with stream:
        for chunk in exports.chunks(table, fmt):
            stream.write(chunk)
            written += len(chunk)
    if out != "-":
        click.echo(_("Wrote %(size)s bytes to %(path)s.", size=written, path=out), err=True)


def _cohort_id(reference: str) -> int:
    """A cohort by number, UUID or exact name (a name shared by several cohorts is refused)."""
    import uuid

    from cbt.cohorts.models import Cohort

    stmt = select(Cohort.id)
    if reference.isdigit():
        stmt = stmt.where(Cohort.id == int(reference))
    else:
        try:
            stmt = stmt.where(Cohort.uuid == uuid.UUID(reference))
        except ValueError:
            stmt = stmt.where(Cohort.name == reference)
    found = session.scalars(stmt.limit(2)).all()
    if not found:
        raise click.ClickException(_("Unknown cohort %(cohort)s.", cohort=reference))
    if len(found) > 1:
        raise click.ClickException(_("Several cohorts are called %(cohort)s: give its number instead.",
                                     cohort=reference))
    return found[0]
