"""The exported tables: translated headers and rows for summaries, per-trainee completions and attempts.

Used by the report pages and by ``cbt export``. Each trainee row carries service number, agency, site and
country, and a cohort column that stays empty until cohorts exist. Rows are generated lazily from streamed
queries; nothing here holds a whole export in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext

from cbt.i18n import current_locale, localized
from cbt.reports import aggregate, queries, tabular

KINDS = ("summary", "completions", "attempts")
FORMATS = ("csv", "xlsx")


@dataclass
class Table:
    name: str
    header: list[str]
    rows: Iterator[Sequence[Any]]


def _name(obj: Any) -> str:
    return obj.name(current_locale()) if obj is not None else ""


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("yes") if value else _("no")


def dimension_labels() -> dict[str, str]:
    return {"course": _("Course"), "site": _("Site"), "agency": _("Agency"), "country": _("Country")}


def summary_table(filters: queries.Filters, dimensions: Sequence[str]) -> Table:
    """The grouped statistics exactly as the dashboard shows them (plus codes), then a total row."""
    names = queries.lookups()
    report = aggregate.fold(queries.facts(filters), dimensions, filters.period)
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

    return Table("summary", header, rows())


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


def completions_table(filters: queries.Filters) -> Table:
    """One row per trainee and course with the dates of each step (UTC), result and certificate code."""
    names = queries.lookups()
    header = _trainee_header() + [
        _("Course code"), _("Course"), _("Enrolled (UTC)"), _("Started (UTC)"), _("Completed (UTC)"),
        _("Passed"), _("Passed on (UTC)"), _("Best exam score (%)"), _("Time spent (minutes)"),
        _("Certificate code"),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        for row in queries.fact_rows(filters, stream=True):
            fact = row.fact
            if not filters.period.is_open and not aggregate.is_active(fact, filters.period):
                continue
            agency = names.agencies.get(fact.agency_id) if fact.agency_id else None
            site = names.sites.get(fact.site_id) if fact.site_id else None
            country = names.countries.get(fact.country_id) if fact.country_id else None
            slug, title = names.courses.get(fact.course_id, ("", {}))
            yield [
                row.username, row.full_name, row.service_number or "", _name(agency), agency.code if agency else "",
                _name(site), site.code if site else "", _name(country), "",
                slug, localized(title), fact.enrolled_at, fact.started_at, fact.completed_at,
                _yes_no(fact.passed_at is not None), fact.passed_at, _round(fact.best_score),
                round(fact.seconds_spent / 60), _format_code(row.certificate_code),
            ]

    return Table("completions", header, rows())


def _format_code(code: str | None) -> str:
    from cbt.certificates.services import format_code

    return format_code(code) if code else ""


def attempts_table(filters: queries.Filters) -> Table:
    """Every attempt (the period applies to its start), with the trainee's organisation."""
    locale = current_locale()
    header = _trainee_header() + [
        _("Course code"), _("Course"), _("Course version"), _("Quiz"), _("Kind"), _("Attempt"), _("Status"),
        _("Started (UTC)"), _("Submitted (UTC)"), _("Score"), _("Maximum score"), _("Score (%)"), _("Passed"),
        _("Attempt ID"),
    ]
    kinds = {"practice": _("Practice quiz"), "exam": _("Final exam")}
    states = {"in_progress": _("In progress"), "submitted": _("Submitted"), "expired": _("Time expired")}

    def names_in(texts: dict[str, Any] | None) -> str:
        from cbt.org.models import localized_name

        return localized_name(texts or {}, locale)

    def rows() -> Iterator[Sequence[Any]]:
        for (uuid, number, status, started_at, submitted_at, score, max_score, percent, passed, kind, quiz_title,
             module_id, slug, version, course_title, username, full_name, service_number, agency_code,
             agency_names, site_code, site_names, _country_code, country_names) in queries.attempt_rows(filters):
            quiz = localized(quiz_title) if quiz_title else (kinds["exam"] if module_id is None else kinds["practice"])
            yield [
                username, full_name, service_number or "", names_in(agency_names), agency_code or "",
                names_in(site_names), site_code or "", names_in(country_names), "",
                slug, localized(course_title), version, quiz, kinds.get(kind, kind), number,
                states.get(status, status), started_at, submitted_at, score, max_score,
                _round(percent), _yes_no(passed) if status != "in_progress" else "", str(uuid),
            ]

    return Table("attempts", header, rows())


def build(kind: str, filters: queries.Filters, dimensions: Sequence[str] = ("course", "site")) -> Table:
    if kind == "summary":
        return summary_table(filters, dimensions)
    if kind == "completions":
        return completions_table(filters)
    if kind == "attempts":
        return attempts_table(filters)
    raise ValueError(kind)


def chunks(table: Table, fmt: str) -> Iterator[bytes]:
    if fmt == "csv":
        return tabular.csv_chunks(table.header, table.rows)
    if fmt == "xlsx":
        return tabular.xlsx_chunks(table.header, table.rows, title=table.name)
    raise ValueError(fmt)


def filename(kind: str, fmt: str) -> str:
    from cbt.db import utcnow

    return f"cbt-{kind}-{utcnow():%Y%m%d-%H%M}.{fmt}"
