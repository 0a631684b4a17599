"""The exported tables: translated headers and rows for summaries, per-trainee completions and attempts.

Used by the report pages and by ``cbt export``. Each trainee row carries service number, agency, site,
country and **cohort**, what ministries group by. A trainee may belong to several cohorts; the cohort column
names the cohorts that *cover the row's course*: those of the trainee's cohorts that assigned that course,
plus those that assigned no course at all (a class that follows everything its members study), joined with
"; " in name order. So a course an officer took on their own, outside every class that assigned courses,
has an empty cohort cell, and filtering by a cohort keeps exactly the rows whose cell names it: the filter
and the column follow one rule (:func:`cbt.reports.queries.cohort_scope`). Archived cohorts still count:
their results are history.

Rows are generated lazily from streamed queries; nothing here holds a whole export in memory. Names come from
small lookup dictionaries built once (organisation, courses, quizzes, translated labels) rather than from
joins per row, and each table tells the writers what its columns hold, so they do the least per cell.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext

from cbt.i18n import current_locale, localized
from cbt.reports import aggregate, queries, tabular
from cbt.reports.tabular import DATETIME, NUMBER, SAFE_TEXT, TEXT, TRIGGER_SET, UTC_TEXT, neutralize

KINDS = ("summary", "completions", "attempts")
FORMATS = ("csv", "xlsx")


@dataclass
class Table:
    name: str
    header: list[str]
    rows: Iterator[Sequence[Any]]
    #: What each column holds (see :mod:`cbt.reports.tabular`); None: the writers look at each cell.
    kinds: Sequence[str] | None = None


def _name(obj: Any) -> str:
    return obj.name(current_locale()) if obj is not None else ""


def dimension_labels() -> dict[str, str]:
    return {"course": _("Course"), "site": _("Site"), "agency": _("Agency"), "country": _("Country")}


def summary_table(filters: queries.Filters, dimensions: Sequence[str]) -> Table:
    """The grouped statistics exactly as the dashboard shows them (plus codes), then a total row."""
    names = queries.lookups()
    report = queries.summary(filters, tuple(dimensions), names).report
    labels = dimension_labels()
    header = []
    for d in dimensions:
        header += [labels[d], _("%(dimension)s code", dimension=labels[d])]
    header += [pgettext("trainees", "Enrolled"), pgettext("trainees", "Started"), pgettext("trainees", "Completed"),
               pgettext("trainees", "Passed"), _("Average best score (%)"),
               _("Average time spent (minutes)")]

    def describe(dimension: str, key: int | None) -> list[str]:
        if key is None:
            return [_("Not set"), ""]
        if dimension == "course":
            slug, title = names.courses.get(key, ("", {}))
            return [localized(title), slug]
        table = {"site": names.sites, "agency": names.agencies, "country": names.countries}[dimension]
        obj = table.get(key)
        return [_name(obj), obj.code if obj else ""]

    def stats(s: aggregate.Stats) -> list[Any]:
        return [s.enrolled, s.started, s.completed, s.passed, _round(s.average_best_score), _round(s.average_minutes)]

    def rows() -> Iterator[Sequence[Any]]:
        for key in sort_keys(report, names):
            cells: list[Any] = []
            for dimension, value in zip(report.dimensions, key, strict=True):
                cells += describe(dimension, value)
            yield cells + stats(report.groups[key])
        yield [_("Total"), ""] + ["", ""] * (len(dimensions) - 1) + stats(report.total)

    kinds = [TEXT, TEXT] * len(dimensions) + [NUMBER] * 6
    return Table("summary", header, rows(), kinds)


def sort_keys(report: aggregate.Report, names: queries.Lookups) -> list[tuple[int | None, ...]]:
    """Group keys in a readable order: by course slug, then site, agency and country code; unknown last."""
    def part(dimension: str, key: int | None) -> tuple[int, str]:
        if key is None:
            return (1, "")
        if dimension == "course":
            return (0, names.courses.get(key, ("", {}))[0])
        table = {"site": names.sites, "agency": names.agencies, "country": names.countries}[dimension]
        obj = table.get(key)
        return (0, obj.code if obj else "")

    return sorted(report.groups, key=lambda k: [part(d, v) for d, v in zip(report.dimensions, k, strict=True)])


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _trainee_header() -> list[str]:
    return [_("Username"), _("Full name"), _("Service number"), _("Agency"), _("Agency code"), _("Site"),
            _("Site code"), _("Country"), _("Cohort")]


#: Username, full name and service number are typed by people: the writers neutralise them. The rest of the
#: trainee columns come from lookups neutralised once (:func:`_places`, :func:`cbt.reports.queries.cohorts_of`).
_TRAINEE_KINDS = [TEXT, TEXT, TEXT] + [SAFE_TEXT] * 6


@dataclass(frozen=True)
class _Place:
    """A site or agency as the trainee columns show it: name, code (both neutralised) and country id."""

    name: str
    code: str
    country_id: int | None


def _places(names: queries.Lookups) -> tuple[dict[int, _Place], dict[int, _Place], dict[int, str]]:
    locale = current_locale()
    sites = {k: _Place(neutralize(s.name(locale)), neutralize(s.code), s.country_id) for k, s in names.sites.items()}
    agencies = {k: _Place(neutralize(a.name(locale)), neutralize(a.code), a.country_id)
                for k, a in names.agencies.items()}
    countries = {k: neutralize(c.name(locale)) for k, c in names.countries.items()}
    return sites, agencies, countries


_NOWHERE = _Place("", "", None)


def completions_table(filters: queries.Filters) -> Table:
    """One row per trainee and course with the dates of each step (UTC), result and certificate code."""
    names = queries.lookups()
    sites, agencies, countries = _places(names)
    cohorts = queries.cohorts_of(filters)
    courses = {k: (neutralize(slug), neutralize(localized(title))) for k, (slug, title) in names.courses.items()}
    yes, no = neutralize(_("yes")), neutralize(_("no"))
    header = _trainee_header() + [
        _("Course code"), _("Course"), _("Enrolled (UTC)"), _("Started (UTC)"), _("Completed (UTC)"),
        _("Passed"), _("Passed on (UTC)"), _("Best exam score (%)"), _("Time spent (minutes)"),
        _("Certificate code"),
    ]
    kinds = _TRAINEE_KINDS + [SAFE_TEXT, SAFE_TEXT, DATETIME, DATETIME, DATETIME, SAFE_TEXT, DATETIME, NUMBER,
                              NUMBER, TEXT]

    def rows() -> Iterator[Sequence[Any]]:
        for row in queries.fact_rows(filters, stream=True):
            fact = row.fact
            agency = agencies.get(fact.agency_id, _NOWHERE) if fact.agency_id else _NOWHERE
            site = sites.get(fact.site_id, _NOWHERE) if fact.site_id else _NOWHERE
            slug, title = courses.get(fact.course_id, ("", ""))
            passed_at = fact.passed_at
            yield [
                row.username, row.full_name, row.service_number, agency.name, agency.code, site.name, site.code,
                countries.get(fact.country_id, "") if fact.country_id else "", cohorts(fact.user_id, fact.course_id),
                slug, title, fact.enrolled_at, fact.started_at, fact.completed_at,
                yes if passed_at is not None else no, passed_at, _round(fact.best_score),
                round(fact.seconds_spent / 60), _format_code(row.certificate_code),
            ]

    return Table("completions", header, rows(), kinds)


def _format_code(code: str | None) -> str:
    from cbt.certificates.services import format_code

    return format_code(code) if code else ""


def attempts_table(filters: queries.Filters) -> Table:
    """Every attempt (the period applies to its start), with the trainee's organisation and cohorts."""
    from sqlalchemy import select

    from cbt.courses.models import CourseVersion, Quiz
    from cbt.db import session

    names = queries.lookups()
    sites, agencies, countries = _places(names)
    cohorts = queries.cohorts_of(filters)
    header = _trainee_header() + [
        _("Course code"), _("Course"), _("Course version"), _("Quiz"), _("Kind"), _("Attempt"), _("Status"),
        _("Started (UTC)"), _("Submitted (UTC)"), _("Score"), _("Maximum score"), _("Score (%)"), _("Passed"),
        _("Attempt ID"),
    ]
    # Every text column is neutralised here (names once in the lookups, what people typed per row), so the CSV
    # writer can hand the rows to the csv module untouched: this table is the one that runs to 100,000 rows.
    kinds = [SAFE_TEXT] * 9 + [SAFE_TEXT, SAFE_TEXT, NUMBER, SAFE_TEXT, SAFE_TEXT, NUMBER, SAFE_TEXT, UTC_TEXT,
                               UTC_TEXT, NUMBER, NUMBER, NUMBER, SAFE_TEXT, SAFE_TEXT]
    labels = {"practice": neutralize(_("Practice quiz")), "exam": neutralize(_("Final exam"))}
    states = {"in_progress": _("In progress"), "submitted": _("Submitted"), "expired": _("Time expired")}
    states = {key: neutralize(label) for key, label in states.items()}
    yes, no = neutralize(_("yes")), neutralize(_("no"))
    #: Version id -> (course id, slug, version number, title); quiz id -> (title, kind label). A few hundred.
    versions = {
        vid: (course_id, neutralize(names.courses.get(course_id, ("", {}))[0]), number, neutralize(localized(title)))
        for vid, course_id, number, title in session.execute(
            select(CourseVersion.id, CourseVersion.course_id, CourseVersion.version, CourseVersion.title))
    }
    quizzes = {}
    for qid, kind, title, module_id in session.execute(select(Quiz.id, Quiz.kind, Quiz.title, Quiz.module_id)):
        kind_label = labels.get(kind, neutralize(kind))
        default = labels["exam"] if module_id is None else labels["practice"]
        quizzes[qid] = (neutralize(localized(title)) if title else default, kind_label)

    #: (agency id, site id) -> the five place columns; (trainee, course) -> cohort names. Filled as met.
    places: dict[tuple[int | None, int | None], tuple[str, str, str, str, str]] = {}
    cohort_cells: dict[tuple[int, int | None], str] = {}

    def place(agency_id: int | None, site_id: int | None) -> tuple[str, str, str, str, str]:
        agency, site = agencies.get(agency_id, _NOWHERE), sites.get(site_id, _NOWHERE)
        country_id = site.country_id or agency.country_id
        cells = (agency.name, agency.code, site.name, site.code, countries.get(country_id, "") if country_id else "")
        places[(agency_id, site_id)] = cells
        return cells

    def rows() -> Iterator[Sequence[Any]]:
        no_version, no_quiz, triggers, dashed = (None, "", None, ""), ("", ""), TRIGGER_SET, queries.dashed
        for (username, full_name, service_number, agency_id, site_id, version_id, quiz_id, number, status,
             started_at, submitted_at, score, max_score, percent, passed, attempt_uuid,
             user_id) in queries.attempt_rows(filters):
            agency_name, agency_code, site_name, site_code, country = (
                places.get((agency_id, site_id)) or place(agency_id, site_id))
            course_id, slug, version, course_title = versions.get(version_id, no_version)
            quiz_title, kind = quizzes.get(quiz_id, no_quiz)
            cohort = cohort_cells.get((user_id, course_id))
            if cohort is None:
                cohort = cohort_cells[(user_id, course_id)] = cohorts(user_id, course_id)
            yield (
                "'" + username if username[:1] in triggers else username,
                "'" + full_name if full_name[:1] in triggers else full_name,
                "'" + service_number if service_number and service_number[0] in triggers else service_number,
                agency_name, agency_code, site_name, site_code, country, cohort,
                slug, course_title, version, quiz_title, kind, number, states.get(status) or neutralize(status),
                started_at[:19], submitted_at[:19] if submitted_at else None, score, max_score, percent,
                "" if status == "in_progress" or passed is None else (yes if passed else no), dashed(attempt_uuid),
            )

    return Table("attempts", header, rows(), kinds)


def build(kind: str, filters: queries.Filters, dimensions: Sequence[str] = ("course", "site")) -> Table:
    queries.refresh()
    if kind == "summary":
        return summary_table(filters, dimensions)
    if kind == "completions":
        return completions_table(filters)
    if kind == "attempts":
        return attempts_table(filters)
    raise ValueError(kind)


def chunks(table: Table, fmt: str) -> Iterator[bytes]:
    if fmt == "csv":
        return tabular.csv_chunks(table.header, table.rows, table.kinds)
    if fmt == "xlsx":
        return tabular.xlsx_chunks(table.header, table.rows, title=table.name, kinds=table.kinds)
    raise ValueError(fmt)


def filename(kind: str, fmt: str) -> str:
    from cbt.db import utcnow

    return f"cbt-{kind}-{utcnow():%Y%m%d-%H%M}.{fmt}"
