"""The report queries: a fixed, small number of statements whatever the size of the data (no N+1).

Facts are one row per enrolment (trainee and course): the rows of ``report_standings``, kept current by
triggers (see :mod:`cbt.reports.models`; call :func:`refresh` before reading). :func:`summary` counts them
in SQL, grouped, with the rules of :mod:`cbt.reports.aggregate`; :func:`fact_rows` lists them (per-trainee
export and lists); :func:`attempt_rows` streams attempts for the raw export as plain tuples with dates
already formatted by the database.

Every filter is written so that an index can serve it (``tests/reports/test_indexes.py`` checks the plans):
equality on indexed standings columns, membership through sub-selects on indexed columns, and the period as
an OR of one index range per event date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from cbt.auth.models import User
from cbt.certificates.models import Certificate
from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
from cbt.courses.models import Course, CourseVersion, Quiz
from cbt.db import UTCDateTime, session
from cbt.learn.models import CourseCompletion
from cbt.org.models import Agency, Country, Site
from cbt.quiz.models import Attempt
from cbt.reports import aggregate
from cbt.reports.aggregate import Fact, Period
from cbt.reports.models import ReportStanding
from cbt.reports.standings import refresh
from cbt.reports.tabular import neutralize

__all__ = ["Filters", "FactRow", "refresh", "summary", "fact_rows", "attempt_rows", "lookups", "cohorts_of"]

CHUNK = 2000


@dataclass(frozen=True)
class Filters:
    period: Period = field(default_factory=Period)
    course_id: int | None = None
    site_id: int | None = None
    agency_id: int | None = None
    country_id: int | None = None
    user_id: int | None = None
    #: Members of this cohort, in the courses it assigned (all their courses if it assigned none).
    cohort_id: int | None = None


@dataclass(frozen=True)
class FactRow:
    """A :class:`Fact` and who it is about (for lists and the per-trainee export)."""

    fact: Fact
    username: str
    full_name: str
    service_number: str | None
    completion_score: float | None
    certificate_code: str | None


# --- SQL the two engines spell differently -------------------------------------------------------------------


def _engine_sql(name: str, doc: str, sqlite: str, postgresql: str) -> type[FunctionElement[str]]:
    """A SQL function of one column that each engine spells its own way; ``{}`` in a template is the column."""

    def spell(template: str) -> Any:
        return lambda element, compiler, **kw: template.replace("{}", compiler.process(element.clauses, **kw))

    function = type(name, (FunctionElement,), {"type": String(), "inherit_cache": True, "__doc__": doc})
    compiles(function)(spell(sqlite))
    compiles(function, "postgresql")(spell(postgresql))
    return function


# SQLite stores UTC timestamps as "YYYY-MM-DD HH:MM:SS.ffffff": the text as stored, and the reader keeps the first
# 19 characters (slicing in Python costs less than substr() in SQLite). PostgreSQL: "YYYY-MM-DD HH:MM:SS[.ffffff]"
# whatever the session's time zone; a cast costs less than to_char().
utc_text = _engine_sql("utc_text", "A UTC timestamp as text starting ``YYYY-MM-DD HH:MM:SS`` (read 19 characters).",
                       sqlite="{}", postgresql="CAST(({}) AT TIME ZONE 'UTC' AS TEXT)")
utc_month = _engine_sql("utc_month", "The UTC month of a timestamp as ``YYYY-MM``.",
                        sqlite="substr({}, 1, 7)", postgresql="to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM')")
# SQLite keeps UUIDs as 32 hex digits: the reader adds the dashes (see dashed()).
uuid_text = _engine_sql("uuid_text", "A UUID as text: 8-4-4-4-12 on PostgreSQL, bare hex on SQLite (see dashed()).",
                        sqlite="{}", postgresql="CAST({} AS TEXT)")


def dashed(value: str) -> str:
    """A UUID from :data:`uuid_text` in its 8-4-4-4-12 form (SQLite gives the 32 bare hex digits)."""
    if len(value) != 32:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


# --- periods --------------------------------------------------------------------------------------------------


def _day_start(day: date, plus_days: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=plus_days)


def _within(column: Any, period: Period) -> ColumnElement[bool]:
    """``column`` is set and falls in ``period`` (bound as UTC timestamps, so both engines compare alike)."""
    conditions = []  # a bound already excludes NULL (and an index serves a plain range best)
    if period.start is not None:
        conditions.append(column >= literal(_day_start(period.start), UTCDateTime()))
    if period.end is not None:
        conditions.append(column < literal(_day_start(period.end, 1), UTCDateTime()))
    return and_(*conditions) if conditions else column.is_not(None)


# --- facts ----------------------------------------------------------------------------------------------------


def _fact_parts() -> SimpleNamespace:
    """The columns of a fact (a row of ``report_standings``) and a function that adds the joins they need."""
    exam_courses = (select(CourseVersion.course_id).join(Quiz, Quiz.course_version_id == CourseVersion.id)
                    .where(Quiz.module_id.is_(None)))
    site = aliased(Site, name="fact_site")
    has_exam = ReportStanding.course_id.in_(exam_courses)
    standing = ReportStanding
    parts = SimpleNamespace(
        user_id=standing.user_id, course_id=standing.course_id, site_id=standing.site_id,
        agency_id=standing.agency_id, country_id=func.coalesce(site.country_id, Agency.country_id),
        enrolled_at=standing.enrolled_at, started_at=standing.started_at, completed_at=standing.completed_at,
        exam_passed_at=standing.exam_passed_at,
        passed_at=case((has_exam, standing.exam_passed_at), else_=standing.completed_at),
        best_exam=standing.best_exam, seconds=standing.seconds_spent, has_exam=has_exam,
    )

    def joined(stmt: Select[Any], *, places: bool = True) -> Select[Any]:
        """Add the joins; ``places=False`` leaves out the two that only ``country_id`` needs."""
        stmt = stmt.select_from(standing)
        if places:
            stmt = (stmt.outerjoin(site, site.id == standing.site_id)
                    .outerjoin(Agency, Agency.id == standing.agency_id))
        return stmt

    parts.joined = joined
    return parts


def _flags(parts: SimpleNamespace, period: Period) -> tuple[ColumnElement[bool], ...]:
    """Enrolled, started, completed, passed in the period (the rules of :mod:`cbt.reports.aggregate`)."""
    return tuple(_within(c, period) for c in (parts.enrolled_at, parts.started_at, parts.completed_at,
                                                parts.passed_at))


def cohort_scope(cohort_id: int, user_column: Any, course_column: Any) -> ColumnElement[bool]:
    """The rows a cohort covers: its members, in the courses it assigned (every course if it assigned none)."""
    assigned = select(CohortCourse.course_id).where(CohortCourse.cohort_id == cohort_id)
    return and_(
        user_column.in_(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id)),
        or_(course_column.in_(assigned), ~exists(assigned)),
    )


def _fact_conditions(filters: Filters, parts: SimpleNamespace) -> list[ColumnElement[bool]]:
    standing = ReportStanding
    conditions: list[ColumnElement[bool]] = []
    if filters.course_id is not None:
        conditions.append(standing.course_id == filters.course_id)
    if filters.user_id is not None:
        conditions.append(standing.user_id == filters.user_id)
    if filters.agency_id is not None:
        conditions.append(standing.agency_id == filters.agency_id)
    if filters.site_id is not None:
        conditions.append(standing.site_id == filters.site_id)
    if filters.country_id is not None:
        conditions.append(or_(
            standing.site_id.in_(select(Site.id).where(Site.country_id == filters.country_id)),
            and_(standing.site_id.is_(None),
                 standing.agency_id.in_(select(Agency.id).where(Agency.country_id == filters.country_id))),
        ))
    if filters.cohort_id is not None:
        conditions.append(cohort_scope(filters.cohort_id, standing.user_id, standing.course_id))
    if not filters.period.is_open:
        # The (trainee, course) pairs with any event in the period, one index range per event date ...
        events = aliased(ReportStanding, name="events")
        conditions.append(tuple_(standing.user_id, standing.course_id).in_(union(*(
            select(events.user_id, events.course_id).where(_within(getattr(events, column), filters.period))
            for column in ("enrolled_at", "started_at", "completed_at", "exam_passed_at")))))
        # ... counted exactly by the rules (passing a course without exam is completing it).
        conditions.append(or_(*_flags(parts, filters.period)))
    return conditions


def summary_statement(filters: Filters) -> Select[Any]:
    """Counts of active facts per course, site and agency: one grouped statement.

    Country is not a column: it follows from site and agency (:func:`summary` derives it). Without joins, the
    statement reads only the covering index ``ix_report_standings_summary``, in its order, so grouping needs
    no sort.
    """
    parts = _fact_parts()
    enrolled, started, completed, passed = _flags(parts, filters.period)

    def count_of(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    columns = [parts.course_id, parts.site_id, parts.agency_id]
    stmt = parts.joined(select(
        *columns, count_of(enrolled), count_of(started), count_of(completed), count_of(passed), func.count(),
        func.sum(parts.best_exam), func.count(parts.best_exam), func.sum(parts.seconds),
    ), places=False)
    return stmt.where(*_fact_conditions(filters, parts)).group_by(*columns)


def months_statement(filters: Filters) -> Select[Any]:
    """Completions per UTC month (``YYYY-MM``) in the period, for the chart over time."""
    parts = _fact_parts()
    month = utc_month(parts.completed_at).label("completion_month")
    stmt = parts.joined(select(month, func.count()), places=False)
    # Grouped by name: PostgreSQL would not match an expression to its copy in GROUP BY.
    return (stmt.where(*_fact_conditions(filters, parts), _within(parts.completed_at, filters.period))
            .group_by(literal_column("completion_month")))


@dataclass
class Summary:
    """Grouped statistics as the pages need them."""

    report: aggregate.Report
    by_site: aggregate.Report


def summary(filters: Filters, dimensions: tuple[str, ...], names: Lookups) -> Summary:
    """The report by ``dimensions`` and by site (for the chart): two statements, folded by ``rollup``."""
    keys = aggregate.DIMENSIONS
    groups = []
    for (course_id, site_id, agency_id, enrolled, started, completed, passed, active, score_sum, score_count,
         seconds) in session.execute(summary_statement(filters)):
        # The fact's country: its site's, else its agency's (as in the facts statement).
        place = names.sites.get(site_id) if site_id is not None else names.agencies.get(agency_id)
        key = (course_id, site_id, agency_id, place.country_id if place is not None else None)
        groups.append((key, aggregate.Stats(int(enrolled), int(started), int(completed), int(passed), int(active),
                                            float(score_sum or 0), int(score_count), int(seconds or 0))))
    report = aggregate.rollup(keys, groups, dimensions)
    for month, count in session.execute(months_statement(filters)):
        report.by_month[(int(month[:4]), int(month[5:7]))] = int(count)
    return Summary(report, aggregate.rollup(keys, groups, ("site",)))


def facts_statement(filters: Filters) -> Select[Any]:
    """Active facts with who they are about, ordered by course and username."""
    parts = _fact_parts()
    standing = ReportStanding
    stmt = (
        parts.joined(select(
            parts.user_id, parts.course_id, parts.site_id, parts.agency_id, parts.country_id, parts.enrolled_at,
            parts.started_at, parts.completed_at, parts.exam_passed_at, parts.best_exam, parts.seconds,
            parts.has_exam, User.username, User.full_name, User.service_number, CourseCompletion.score,
            Certificate.code,
        ))
        .join(User, User.id == standing.user_id)
        .outerjoin(CourseCompletion, and_(CourseCompletion.user_id == standing.user_id,
                                          CourseCompletion.course_id == standing.course_id))
        .outerjoin(Certificate, Certificate.completion_id == CourseCompletion.id)
    )
    return stmt.where(*_fact_conditions(filters, parts)).order_by(standing.course_id, User.username)


def fact_rows(filters: Filters, *, stream: bool = False, limit: int | None = None) -> Iterator[FactRow]:
    stmt = facts_statement(filters)
    if limit is not None:
        stmt = stmt.limit(limit)
    if stream:
        stmt = stmt.execution_options(yield_per=CHUNK)
    for (user_id, course_id, site_id, agency_id, country_id, enrolled_at, started_at, completed_at, exam_passed_at,
         best_exam, seconds, has_exam, username, full_name, service_number, score, code) in session.execute(stmt):
        fact = Fact(user_id, course_id, site_id, agency_id, country_id, enrolled_at, started_at, completed_at,
                    exam_passed_at, float(best_exam) if best_exam is not None else None, int(seconds or 0),
                    bool(has_exam))
        yield FactRow(fact, username, full_name, service_number, score, code)


def facts(filters: Filters) -> Iterator[Fact]:
    return (row.fact for row in fact_rows(filters, stream=True))


# --- attempts -------------------------------------------------------------------------------------------------


def attempts_statement(filters: Filters) -> Select[Any]:
    """Attempts as plain values (ids for names the caller looks up); the period applies to the start time."""
    site_id = func.coalesce(Attempt.site_id, User.site_id)
    stmt = (
        select(
            User.username, User.full_name, User.service_number, User.agency_id, site_id, Attempt.course_version_id,
            Attempt.quiz_id, Attempt.number, Attempt.status, utc_text(Attempt.started_at),
            utc_text(Attempt.submitted_at), Attempt.score, Attempt.max_score,
            cast(func.round(cast(Attempt.percent, Numeric), 1), Float), Attempt.passed,
            uuid_text(Attempt.uuid), Attempt.user_id,
        )
        .join(User, User.id == Attempt.user_id)
        .order_by(Attempt.id)
    )
    period = filters.period
    if period.start is not None:
        stmt = stmt.where(Attempt.started_at >= literal(_day_start(period.start), UTCDateTime()))
    if period.end is not None:
        stmt = stmt.where(Attempt.started_at < literal(_day_start(period.end, 1), UTCDateTime()))
    versions_of = select(CourseVersion.id)
    if filters.course_id is not None:
        stmt = stmt.where(
            Attempt.course_version_id.in_(versions_of.where(CourseVersion.course_id == filters.course_id)))
    if filters.site_id is not None:
        stmt = stmt.where(or_(
            Attempt.site_id == filters.site_id,
            and_(Attempt.site_id.is_(None),
                 Attempt.user_id.in_(select(User.id).where(User.site_id == filters.site_id))),
        ))
    if filters.agency_id is not None:
        stmt = stmt.where(Attempt.user_id.in_(select(User.id).where(User.agency_id == filters.agency_id)))
    if filters.country_id is not None:
        stmt = stmt.where(or_(
            site_id.in_(select(Site.id).where(Site.country_id == filters.country_id)),
            and_(site_id.is_(None),
                 User.agency_id.in_(select(Agency.id).where(Agency.country_id == filters.country_id))),
        ))
    if filters.user_id is not None:
        stmt = stmt.where(Attempt.user_id == filters.user_id)
    if filters.cohort_id is not None:
        assigned = select(CohortCourse.course_id).where(CohortCourse.cohort_id == filters.cohort_id)
        stmt = stmt.where(
            Attempt.user_id.in_(select(CohortMember.user_id).where(CohortMember.cohort_id == filters.cohort_id)),
            or_(Attempt.course_version_id.in_(versions_of.where(CourseVersion.course_id.in_(assigned))),
                ~exists(assigned)),
        )
    return stmt


def attempt_rows(filters: Filters) -> Iterator[Any]:
    """Rows of :func:`attempts_statement`, fetched in chunks (bounded memory).

    The driver's tuples are read straight from its cursor: wrapping 100,000 rows in result objects costs more
    than the query, and these columns need no conversion (text, numbers, 0/1 or booleans for ``passed``).
    SQLite's cursor fetches lazily; on PostgreSQL a named (server-side) cursor keeps memory bounded. Its SQL
    and parameters are SQLAlchemy's own compilation; the only bound values are ids and UTC datetimes, which
    psycopg adapts as they are.
    """
    connection = session.connection()
    stmt = attempts_statement(filters)
    if connection.dialect.name == "sqlite":
        result = connection.execute(stmt)
        try:
            while rows := result.cursor.fetchmany(CHUNK):
                yield from rows
        finally:
            result.close()
        return
    compiled = stmt.compile(dialect=connection.dialect)
    with connection.connection.dbapi_connection.cursor(name="cbt_attempts_export") as cursor:
        cursor.itersize = CHUNK
        cursor.execute(str(compiled), compiled.params)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


# --- names ----------------------------------------------------------------------------------------------------


@dataclass
class Lookups:
    """Names of everything a report shows, loaded once per page or export."""

    courses: dict[int, tuple[str, dict[str, Any]]]
    sites: dict[int, Site]
    agencies: dict[int, Agency]
    countries: dict[int, Country]
    #: Cohort id -> name, for the filter (archived cohorts included: their results still count).
    cohorts: dict[int, str] = field(default_factory=dict)


def lookups() -> Lookups:
    latest = (
        select(CourseVersion.course_id, func.max(CourseVersion.version).label("version"))
        .group_by(CourseVersion.course_id).subquery()
    )
    courses = {
        course_id: (slug, title)
        for course_id, slug, title in session.execute(
            select(Course.id, Course.slug, CourseVersion.title)
            .join(latest, latest.c.course_id == Course.id)
            .join(CourseVersion, and_(CourseVersion.course_id == Course.id, CourseVersion.version == latest.c.version))
            .order_by(Course.slug)
        )
    }
    sites = {s.id: s for s in session.scalars(select(Site).order_by(Site.code))}
    agencies = {a.id: a for a in session.scalars(select(Agency).order_by(Agency.code))}
    countries = {c.id: c for c in session.scalars(select(Country).order_by(Country.code))}
    cohorts = dict(session.execute(select(Cohort.id, Cohort.name).order_by(Cohort.name, Cohort.id)).all())
    return Lookups(courses, sites, agencies, countries, cohorts)


class CohortNames:
    """The cohort column of a trainee row: names of the cohorts that cover (trainee, course), joined "; ".

    A cohort covers a row when the trainee is a member and the cohort assigned that course, or assigned no
    course at all (the same rule as the cohort filter). Built from two statements (the cohorts with what
    they assigned, and the memberships of the trainees a report can show); the answer per (trainee, course)
    is remembered, already neutralised for spreadsheets.
    """

    def __init__(self, cohorts: dict[int, tuple[str, frozenset[int] | None]],
                 memberships: dict[int, list[int]]) -> None:
        #: Cohort id -> (name, assigned course ids or None), in name order.
        self._cohorts = cohorts
        self._memberships = memberships
        self._cache: dict[tuple[int, int | None], str] = {}

    def __call__(self, user_id: int, course_id: int | None) -> str:
        key = (user_id, course_id)
        names = self._cache.get(key)
        if names is None:
            chosen = []
            for cohort_id in self._memberships.get(user_id, ()):
                name, courses = self._cohorts[cohort_id]
                if courses is None or course_id in courses:
                    chosen.append(name)
            names = self._cache[key] = neutralize("; ".join(chosen))
        return names


def cohorts_of(filters: Filters) -> CohortNames:
    """Cohorts and the memberships of the trainees ``filters`` can show (two statements, see :class:`CohortNames`)."""
    assigned: dict[int, tuple[str, set[int]]] = {}
    stmt = (select(Cohort.id, Cohort.name, CohortCourse.course_id)
            .outerjoin(CohortCourse, CohortCourse.cohort_id == Cohort.id).order_by(Cohort.name, Cohort.id))
    for cohort_id, name, course_id in session.execute(stmt):
        entry = assigned.setdefault(cohort_id, (name, set()))
        if course_id is not None:
            entry[1].add(course_id)
    cohorts = {cid: (name, frozenset(courses) or None) for cid, (name, courses) in assigned.items()}
    rank = {cohort_id: position for position, cohort_id in enumerate(cohorts)}
    members = select(CohortMember.user_id, CohortMember.cohort_id)
    if filters.user_id is not None:
        members = members.where(CohortMember.user_id == filters.user_id)
    if filters.cohort_id is not None:
        members = members.where(CohortMember.user_id.in_(
            select(CohortMember.user_id).where(CohortMember.cohort_id == filters.cohort_id)))
    memberships: dict[int, list[int]] = {}
    for user_id, cohort_id in session.execute(members):
        memberships.setdefault(user_id, []).append(cohort_id)
    for cohort_ids in memberships.values():
        cohort_ids.sort(key=rank.__getitem__)
    return CohortNames(cohorts, memberships)
