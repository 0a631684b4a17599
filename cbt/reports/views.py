"""Report pages and exports (administrators only). Views read; the only write is the export's audit record."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cbt.audit.services import record
from cbt.auth.models import User
from cbt.courses.models import Course
from cbt.db import session, write_transaction
from cbt.i18n import localized
from cbt.org.models import Site
from cbt.reports import aggregate, charts, exports, queries
from cbt.reports.forms import ReportFilterForm
from cbt.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

#: Trainee rows listed on a course or site page; the export has them all.
LIST_LIMIT = 200


def _form(names: queries.Lookups) -> ReportFilterForm:
    form = ReportFilterForm(formdata=request.args)
    form.fill_choices(names)
    form.validate()
    return form


def _month_label(year: int, month: int) -> str:
    from datetime import date

    from flask_babel import format_date

    return format_date(date(year, month, 1), "LLL yyyy")


def _site_label(names: queries.Lookups, site_id: int | None, locale: str) -> str:
    site = names.sites.get(site_id) if site_id is not None else None
    return site.name(locale) if site else _("Not set")


@bp.get("/")
@roles_required("admin")
def dashboard() -> str:
    from cbt.i18n import current_locale

    queries.refresh()
    names = queries.lookups()
    form = _form(names)
    filters = form.filters()
    dimensions = form.dimensions()
    result = queries.summary(filters, dimensions, names)
    report = result.report
    locale = current_locale()
    months = [(_month_label(y, m), count) for (y, m), count in aggregate.month_series(report.by_month, filters.period)]
    sites = sorted(((_site_label(names, key[0], locale), stats.completed)
                    for key, stats in result.by_site.groups.items()),
                   key=lambda item: (-item[1], item[0]))
    return render_template(
        "reports/dashboard.html", form=form, report=report, names=names, keys=exports.sort_keys(report, names),
        labels=exports.dimension_labels(), month_chart=charts.columns(months) if months else None,
        site_chart=charts.rows(sites) if sites else None, months=months, sites=sites,
        query=request.query_string.decode("latin-1"),
    )


def _trainee_list(filters: queries.Filters) -> list[queries.FactRow]:
    return list(queries.fact_rows(filters, limit=LIST_LIMIT))


@bp.get("/courses/<slug>")
@roles_required("admin")
def course(slug: str) -> str:
    course_row = session.scalar(select(Course).where(Course.slug == slug))
    if course_row is None:
        abort(404)
    queries.refresh()
    names = queries.lookups()
    form = _form(names)
    filters = queries.Filters(**{**form.filters().__dict__, "course_id": course_row.id})
    report = queries.summary(filters, ("site", "agency"), names).report
    return render_template(
        "reports/detail.html", kind="course", title=localized(names.courses[course_row.id][1]), form=form,
        report=report, keys=exports.sort_keys(report, names), names=names, labels=exports.dimension_labels(),
        trainees=_trainee_list(filters), total=report.total.active, limit=LIST_LIMIT,
        query=_with(course=course_row.id, group=("site", "agency")),
    )


@bp.get("/sites/<code>")
@roles_required("admin")
def site(code: str) -> str:
    site_row = session.scalar(select(Site).where(Site.code == code))
    if site_row is None:
        abort(404)
    from cbt.i18n import current_locale

    queries.refresh()
    names = queries.lookups()
    form = _form(names)
    filters = queries.Filters(**{**form.filters().__dict__, "site_id": site_row.id})
    report = queries.summary(filters, ("course", "agency"), names).report
    return render_template(
        "reports/detail.html", kind="site", title=site_row.name(current_locale()), form=form, report=report,
        keys=exports.sort_keys(report, names), names=names, labels=exports.dimension_labels(),
        trainees=_trainee_list(filters), total=report.total.active, limit=LIST_LIMIT,
        query=_with(site=site_row.id, group=("course", "agency")),
    )


def _with(**overrides: object) -> str:
    from urllib.parse import urlencode

    args = request.args.to_dict(flat=False)
    for key, value in overrides.items():
        args[key] = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    return urlencode(args, doseq=True)


@bp.get("/trainees/<int:user_id>")
@roles_required("admin")
def trainee(user_id: int) -> str:
    from flask import current_app

    from cbt.learn.transcript import transcript_rows

    person = session.get(User, user_id)
    if person is None:
        abort(404)
    return render_template("learn/transcript.html", rows=transcript_rows(person.id), person=person, generated=None,
                           fallback_order=current_app.config["CONTENT_FALLBACK"])


@bp.get("/export/<kind>.<fmt>")
@roles_required("admin")
def export(kind: str, fmt: str) -> Response:
    """Stream a table as CSV or XLSX with the page's filters; the export itself is audited."""
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    names = queries.lookups()
    form = _form(names)
    filters = form.filters()
    user_id = request.args.get("user", type=int)
    if user_id is not None:
        filters = queries.Filters(**{**filters.__dict__, "user_id": user_id})
    with write_transaction():  # a GET that writes: the audit record, committed before streaming starts
        record("report.export", actor_id=current_user.id, target=f"report:{kind}", format=fmt,
               filters={k: (str(v) if v is not None else None) for k, v in _filter_details(filters).items()})
    table = exports.build(kind, filters, form.dimensions())
    mimetype = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = exports.filename(kind, fmt)
    response = Response(stream_with_context(exports.chunks(table, fmt)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return response


def _filter_details(filters: queries.Filters) -> dict[str, object]:
    return {"from": filters.period.start, "to": filters.period.end, "course": filters.course_id,
            "site": filters.site_id, "agency": filters.agency_id, "country": filters.country_id,
            "user": filters.user_id, "cohort": filters.cohort_id}
