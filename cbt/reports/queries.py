"""The report queries: a fixed, small number of statements whatever the size of the data (no N+1).

``facts()`` returns one row per trainee and course with everything the statistics need (one statement,
lesson and attempt figures folded in by grouped subqueries); ``attempt_rows()`` streams attempts for the
raw export; ``lookups()`` loads the few organisation and course names once. With ``stream=True`` the rows
are fetched in chunks (``yield_per``), so an export of 100,000 rows keeps a bounded amount in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import aliased

from cbt.auth.models import User
from cbt.certificates.models import Certificate
from cbt.courses.models import Course, CourseVersion, Quiz
from cbt.db import session
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.org.models import Agency, Country, Site
from cbt.quiz.models import Attempt
from cbt.reports.aggregate import Fact, Period

CHUNK = 1000


@dataclass(frozen=True)
class Filters:
    period: Period = field(default_factory=Period)
    course_id: int | None = None
    site_id: int | None = None
    agency_id: int | None = None
    country_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class FactRow:
    """A :class:`Fact` and who it is about (for lists and the per-trainee export)."""

    fact: Fact
    username: str
    full_name: str
    service_number: str | None
    completion_score: float | None
    certificate_code: str | None


def _site_expr() -> Any:
    """Where the training happened: the site recorded at completion, else the trainee's current site."""
    return func.coalesce(CourseCompletion.site_id, User.site_id)


def facts_statement(filters: Filters) -> Select[Any]:
    lessons = (
        select(LessonProgress.user_id.label("user_id"), CourseVersion.course_id.label("course_id"),
               func.min(LessonProgress.first_viewed_at).label("first_lesson_at"),
               func.sum(LessonProgress.seconds_spent).label("seconds"))
        .join(CourseVersion, CourseVersion.id == LessonProgress.course_version_id)
        .group_by(LessonProgress.user_id, CourseVersion.course_id)
        .subquery("lessons")
    )
    is_exam = Quiz.module_id.is_(None)
    attempts = (
        select(Attempt.user_id.label("user_id"), CourseVersion.course_id.label("course_id"),
               func.min(Attempt.started_at).label("first_attempt_at"),
               func.max(case((and_(is_exam, Attempt.status != "in_progress"), Attempt.percent))).label("best_exam"),
               func.min(case((and_(is_exam, Attempt.passed.is_(True)), Attempt.submitted_at))).label("exam_passed_at"))
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(CourseVersion, CourseVersion.id == Attempt.course_version_id)
        .group_by(Attempt.user_id, CourseVersion.course_id)
        .subquery("attempts")
    )
    exams = (
        select(CourseVersion.course_id.label("course_id"))
        .join(Quiz, Quiz.course_version_id == CourseVersion.id).where(Quiz.module_id.is_(None))
        .group_by(CourseVersion.course_id)
        .subquery("exams")
    )
    site = aliased(Site)
    site_id = _site_expr()
    country_id = func.coalesce(site.country_id, Agency.country_id)
    stmt = (
        select(
            Enrollment.user_id, Enrollment.course_id, site_id.label("site_id"), User.agency_id,
            country_id.label("country_id"), Enrollment.started_at, lessons.c.first_lesson_at,
            attempts.c.first_attempt_at, CourseCompletion.completed_at, attempts.c.exam_passed_at,
            attempts.c.best_exam, func.coalesce(lessons.c.seconds, 0), exams.c.course_id.is_not(None),
            User.username, User.full_name, User.service_number, CourseCompletion.score, Certificate.code,
        )
        .join(User, User.id == Enrollment.user_id)
        .outerjoin(CourseCompletion, and_(CourseCompletion.user_id == Enrollment.user_id,
                                          CourseCompletion.course_id == Enrollment.course_id))
        .outerjoin(Certificate, Certificate.completion_id == CourseCompletion.id)
        .outerjoin(lessons, and_(lessons.c.user_id == Enrollment.user_id, lessons.c.course_id == Enrollment.course_id))
        .outerjoin(attempts, and_(attempts.c.user_id == Enrollment.user_id,
                                  attempts.c.course_id == Enrollment.course_id))
        .outerjoin(exams, exams.c.course_id == Enrollment.course_id)
        .outerjoin(site, site.id == site_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .order_by(Enrollment.course_id, User.username)
    )
    if filters.course_id is not None:
        stmt = stmt.where(Enrollment.course_id == filters.course_id)
    if filters.site_id is not None:
        stmt = stmt.where(site_id == filters.site_id)
    if filters.agency_id is not None:
        stmt = stmt.where(User.agency_id == filters.agency_id)
    if filters.country_id is not None:
        stmt = stmt.where(country_id == filters.country_id)
    if filters.user_id is not None:
        stmt = stmt.where(Enrollment.user_id == filters.user_id)
    return stmt


def fact_rows(filters: Filters, *, stream: bool = False) -> Iterator[FactRow]:
    stmt = facts_statement(filters)
    if stream:
        stmt = stmt.execution_options(yield_per=CHUNK)
    for row in session.execute(stmt):
        (user_id, course_id, site_id, agency_id, country_id, enrolled_at, first_lesson_at, first_attempt_at,
         completed_at, exam_passed_at, best_exam, seconds, has_exam, username, full_name, service_number,
         score, code) = row
        fact = Fact(user_id, course_id, site_id, agency_id, country_id, enrolled_at, _aware(first_lesson_at),
                    _aware(first_attempt_at), completed_at, _aware(exam_passed_at),
                    float(best_exam) if best_exam is not None else None, int(seconds or 0), bool(has_exam))
        yield FactRow(fact, username, full_name, service_number, score, code)


def facts(filters: Filters) -> Iterator[Fact]:
    return (row.fact for row in fact_rows(filters, stream=True))


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates (min over a UTC column) lose the column type: SQLite returns text, both return naive."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def attempts_statement(filters: Filters) -> Select[Any]:
    """Finished and running attempts with who, where and what; the period applies to the start time."""
    site = aliased(Site)
    site_id = func.coalesce(Attempt.site_id, User.site_id)
    country_id = func.coalesce(site.country_id, Agency.country_id)
    stmt = (
        select(
            Attempt.uuid, Attempt.number, Attempt.status, Attempt.started_at, Attempt.submitted_at, Attempt.score,
            Attempt.max_score, Attempt.percent, Attempt.passed, Quiz.kind, Quiz.title, Quiz.module_id,
            Course.slug, CourseVersion.version, CourseVersion.title,
            User.username, User.full_name, User.service_number,
            Agency.code, Agency.names, site.code, site.names, Country.code, Country.names,
        )
        .join(User, User.id == Attempt.user_id)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(CourseVersion, CourseVersion.id == Attempt.course_version_id)
        .join(Course, Course.id == CourseVersion.course_id)
        .outerjoin(site, site.id == site_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .outerjoin(Country, Country.id == country_id)
        .order_by(Attempt.id)
    )
    period = filters.period
    if period.start is not None:
        stmt = stmt.where(Attempt.started_at >= _day_start(period.start))
    if period.end is not None:
        stmt = stmt.where(Attempt.started_at < _day_start(period.end, 1))
    if filters.course_id is not None:
        stmt = stmt.where(CourseVersion.course_id == filters.course_id)
    if filters.site_id is not None:
        stmt = stmt.where(site_id == filters.site_id)
    if filters.agency_id is not None:
        stmt = stmt.where(User.agency_id == filters.agency_id)
    if filters.country_id is not None:
        stmt = stmt.where(country_id == filters.country_id)
    if filters.user_id is not None:
        stmt = stmt.where(Attempt.user_id == filters.user_id)
    return stmt


def _day_start(day: Any, plus_days: int = 0) -> datetime:
    from datetime import UTC, timedelta

    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=plus_days)


def attempt_rows(filters: Filters) -> Iterator[Any]:
    yield from session.execute(attempts_statement(filters).execution_options(yield_per=CHUNK))


@dataclass
class Lookups:
    """Names of everything a report shows, loaded once per page or export."""

    courses: dict[int, tuple[str, dict[str, Any]]]
    sites: dict[int, Site]
    agencies: dict[int, Agency]
    countries: dict[int, Country]


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
    return Lookups(courses, sites, agencies, countries)
