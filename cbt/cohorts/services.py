"""Cohort operations and the queries behind the cohort pages. Services add and flush; the view commits.

Every read that takes a user decides visibility the same way: an administrator sees every cohort, a trainer
only the cohorts they run. Views turn "not visible" into 404, so a trainer cannot even learn that another
trainer's cohort exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from cbt.audit.services import record
from cbt.auth.models import User
from cbt.cohorts import stats
from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
from cbt.courses.models import Course, CourseVersion, Lesson, Module, QuestionVersion, Quiz
from cbt.db import insert_ignoring_conflicts, session, utcnow
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.quiz.models import Attempt, Response

#: At most this many entries in one pasted list (a class, not a ministry).
MAX_PASTED = 500
#: At most this many trainees listed when picking.
MAX_CANDIDATES = 200


# --- visibility ----------------------------------------------------------------------------------------

def visible(stmt: Select[Any], user: Any) -> Select[Any]:
    """Limit a query over cohorts to those ``user`` may see."""
    return stmt if user.role == "admin" else stmt.where(Cohort.trainer_id == user.id)


def cohort_for(user: Any, cohort_id: int) -> Cohort | None:
    """The cohort, if ``user`` may see it."""
    return session.scalar(visible(select(Cohort).where(Cohort.id == cohort_id), user))


def cohorts_of(user: Any, *, archived: bool = False) -> list[Cohort]:
    """Cohorts ``user`` may see, newest first; archived ones only when asked."""
    stmt = visible(select(Cohort), user)
    if not archived:
        stmt = stmt.where(Cohort.is_archived.is_(False))
    return list(session.scalars(stmt.order_by(Cohort.is_archived, Cohort.created_at.desc(), Cohort.id.desc())))


def counts_for(cohort_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Members and assigned courses per cohort, in two queries."""
    if not cohort_ids:
        return {}, {}
    members = dict(session.execute(
        select(CohortMember.cohort_id, func.count(CohortMember.id)).where(CohortMember.cohort_id.in_(cohort_ids))
        .group_by(CohortMember.cohort_id)).all())
    courses = dict(session.execute(
        select(CohortCourse.cohort_id, func.count(CohortCourse.id)).where(CohortCourse.cohort_id.in_(cohort_ids))
        .group_by(CohortCourse.cohort_id)).all())
    return members, courses


def is_member(cohort: Cohort, user_id: int) -> bool:
    return session.scalar(select(CohortMember.id).where(
        CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id)) is not None


def members_of(cohort: Cohort) -> list[User]:
    return list(session.scalars(
        select(User).join(CohortMember, CohortMember.user_id == User.id).where(CohortMember.cohort_id == cohort.id)
        .options(joinedload(User.site), joinedload(User.agency)).order_by(User.full_name, User.username)))


# --- changes -------------------------------------------------------------------------------------------

def create_cohort(actor: Any, *, name: str, trainer_id: int, site_id: int | None, start_date: date | None,
                  end_date: date | None) -> Cohort:
    cohort = Cohort(name=name.strip(), trainer_id=trainer_id, site_id=site_id, start_date=start_date,
                    end_date=end_date)
    session.add(cohort)
    session.flush()
    record("cohort.create", actor_id=actor.id, target=f"cohort:{cohort.id}")
    return cohort


def update_cohort(actor: Any, cohort: Cohort, **fields: Any) -> None:
    for key, value in fields.items():
        setattr(cohort, key, value.strip() if isinstance(value, str) else value)
    session.flush()
    record("cohort.update", actor_id=actor.id, target=f"cohort:{cohort.id}", fields=sorted(fields))


def add_members(actor: Any, cohort: Cohort, user_ids: Iterable[int]) -> int:
    """Add trainees (duplicates and existing members are skipped); returns how many were added."""
    added = 0
    for user_id in dict.fromkeys(user_ids):
        # RETURNING, not rowcount: psycopg reports -1 for a conflict-ignoring insert.
        inserted = session.execute(insert_ignoring_conflicts(
            CohortMember, {"cohort_id": cohort.id, "user_id": user_id, "added_at": utcnow()},
            ["cohort_id", "user_id"], returning=["id"])).first()
        added += inserted is not None
    if added:
        record("cohort.members_add", actor_id=actor.id, target=f"cohort:{cohort.id}", count=added)
    return added


def remove_member(actor: Any, cohort: Cohort, user_id: int) -> bool:
    row = session.scalar(select(CohortMember).where(
        CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    record("cohort.member_remove", actor_id=actor.id, target=f"cohort:{cohort.id}", user_id=user_id)
    return True


def assign_course(actor: Any, cohort: Cohort, course_id: int, due_date: date | None) -> bool:
    """Assign a course (or change its due date); True when it is a new assignment."""
    row = session.scalar(select(CohortCourse).where(
        CohortCourse.cohort_id == cohort.id, CohortCourse.course_id == course_id))
    created = row is None
    if row is None:
        row = CohortCourse(cohort_id=cohort.id, course_id=course_id, due_date=due_date)
        session.add(row)
    else:
        row.due_date = due_date
    session.flush()
    record("cohort.course_assign", actor_id=actor.id, target=f"cohort:{cohort.id}", course_id=course_id,
           due_date=due_date.isoformat() if due_date else None)
    return created


def unassign_course(actor: Any, cohort: Cohort, course_id: int) -> bool:
    row = session.scalar(select(CohortCourse).where(
        CohortCourse.cohort_id == cohort.id, CohortCourse.course_id == course_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    record("cohort.course_unassign", actor_id=actor.id, target=f"cohort:{cohort.id}", course_id=course_id)
    return True


# --- finding trainees ----------------------------------------------------------------------------------

def parse_identifiers(text: str) -> list[str]:
    """Usernames or service numbers pasted one per line or separated by commas (or semicolons).

    Spreadsheet columns pasted from Excel arrive as lines; duplicates are dropped, case-insensitively.
    """
    seen: dict[str, str] = {}
    for raw in re.split(r"[\r\n,;]+", text or ""):
        token = raw.strip().strip('"').strip()
        if token and token.casefold() not in seen:
            seen[token.casefold()] = token
    return list(seen.values())


@dataclass
class Resolution:
    """Pasted entries sorted into people found and entries that cannot be used, each kept as typed."""

    users: list[User] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: A service number shared by several accounts: the username must be used instead.
    ambiguous: list[str] = field(default_factory=list)
    #: Accounts that exist but are not active trainees.
    not_trainees: list[str] = field(default_factory=list)


def resolve_identifiers(tokens: Sequence[str]) -> Resolution:
    """Match each entry to a username (first) or a service number, in one query."""
    if not tokens:
        return Resolution()
    lowered = [t.lower() for t in tokens]
    upper = [t.upper() for t in tokens]
    rows = session.scalars(select(User).where(or_(
        User.username.in_(lowered), func.upper(User.service_number).in_(upper)))).all()
    by_username = {u.username: u for u in rows}
    by_number: dict[str, list[User]] = {}
    for user in rows:
        if user.service_number:
            by_number.setdefault(user.service_number.upper(), []).append(user)
    result = Resolution()
    chosen: set[int] = set()
    for token in tokens:
        user = by_username.get(token.lower())
        if user is None:
            matches = by_number.get(token.upper(), [])
            if len(matches) > 1:
                result.ambiguous.append(token)
                continue
            user = matches[0] if matches else None
        if user is None:
            result.unknown.append(token)
        elif user.role != "trainee" or not user.is_active:
            result.not_trainees.append(token)
        elif user.id not in chosen:
            chosen.add(user.id)
            result.users.append(user)
    return result


def candidates(cohort: Cohort, *, site_id: int | None, agency_id: int | None, text: str) -> tuple[list[User],
                                                                                                  bool]:
    """Active trainees not yet in the cohort, filtered; returns (at most MAX_CANDIDATES users, truncated).

    The name filter runs in Python with ``casefold``: SQLite's LIKE and lower() only fold ASCII, and a
    trainer typing "айгерим" must find "Айгерим".
    """
    already = select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
    stmt = (select(User).where(User.role == "trainee", User.is_active.is_(True), User.id.not_in(already))
            .options(joinedload(User.site), joinedload(User.agency)).order_by(User.full_name, User.username))
    if site_id:
        stmt = stmt.where(User.site_id == site_id)
    if agency_id:
        stmt = stmt.where(User.agency_id == agency_id)
    needle = text.strip().casefold()
    found = []
    for user in session.scalars(stmt):
        haystack = " ".join((user.full_name, user.username, user.service_number or "")).casefold()
        if needle and needle not in haystack:
            continue
        found.append(user)
        if len(found) > MAX_CANDIDATES:
            return found[:MAX_CANDIDATES], True
    return found, False


def trainee_ids_among(user_ids: Iterable[int]) -> list[int]:
    """The ids that belong to active trainees (a picked list is checked, never trusted)."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    found = set(session.scalars(select(User.id).where(
        User.id.in_(ids), User.role == "trainee", User.is_active.is_(True))))
    return [i for i in ids if i in found]


# --- assignments ---------------------------------------------------------------------------------------

def latest_published() -> Any:
    """Subquery: the newest published version number of each course."""
    return (select(CourseVersion.course_id, func.max(CourseVersion.version).label("version"))
            .where(CourseVersion.status == "published").group_by(CourseVersion.course_id).subquery())


def assignable_courses() -> list[CourseVersion]:
    """The newest published version of every course (what an assignment shows)."""
    from cbt.learn.services import published_versions

    return published_versions()


@dataclass(frozen=True)
class AssignedCourse:
    assignment: CohortCourse
    course: Course
    #: The newest published version, for its title; None when the course has none any more.
    version: CourseVersion | None


def assigned_courses(cohort: Cohort) -> list[AssignedCourse]:
    """The cohort's courses by due date (undated last), then slug, in one query."""
    latest = latest_published()
    rows = session.execute(
        select(CohortCourse, Course, CourseVersion)
        .join(Course, Course.id == CohortCourse.course_id)
        .outerjoin(latest, latest.c.course_id == CohortCourse.course_id)
        .outerjoin(CourseVersion, and_(CourseVersion.course_id == latest.c.course_id,
                                       CourseVersion.version == latest.c.version))
        .where(CohortCourse.cohort_id == cohort.id)
    ).all()
    items = [AssignedCourse(a, c, v) for a, c, v in rows]
    items.sort(key=lambda i: (i.assignment.due_date is None, i.assignment.due_date or date.max, i.course.slug))
    return items


def assignments_for(user_id: int) -> dict[int, date | None]:
    """Course id -> the earliest due date among the trainee's active cohorts (None: no date), one query."""
    rows = session.execute(
        select(CohortCourse.course_id, func.min(CohortCourse.due_date))
        .join(CohortMember, CohortMember.cohort_id == CohortCourse.cohort_id)
        .join(Cohort, Cohort.id == CohortCourse.cohort_id)
        .where(CohortMember.user_id == user_id, Cohort.is_archived.is_(False))
        .group_by(CohortCourse.course_id)
    ).all()
    return {course_id: _as_date(due) for course_id, due in rows}


def _as_date(value: Any) -> date | None:
    """``min()`` over a DATE column comes back as text on SQLite (the type is lost in the aggregate)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def local_today() -> date:
    """Today in the users' time zone (the one dates are shown in): due dates are calendar days."""
    from flask_babel import to_user_timezone

    return to_user_timezone(utcnow()).date()


def is_overdue(due: date | None, today: date, completed: bool) -> bool:
    """A due date is the last allowed day: overdue from the day after, until completed."""
    return due is not None and today > due and not completed


# --- progress grid -------------------------------------------------------------------------------------

NOT_STARTED, IN_PROGRESS, COMPLETED = "not_started", "in_progress", "completed"


@dataclass(frozen=True)
class Cell:
    state: str
    overdue: bool
    completed_at: datetime | None = None
    #: Best finished final-exam attempt, percent; None when no exam was taken.
    best_exam: float | None = None
    exam_attempts: int = 0
    #: (completed, total) lessons of the version the trainee studies; None before they start.
    lessons: tuple[int, int] | None = None


@dataclass
class Grid:
    members: list[User]
    courses: list[AssignedCourse]
    cells: dict[tuple[int, int], Cell]
    #: course id -> (completed, overdue) counts.
    totals: dict[int, tuple[int, int]]


def progress_grid(cohort: Cohort, today: date) -> Grid:
    """Trainee x course states for the cohort in a fixed number of queries, whatever its size."""
    members = members_of(cohort)
    courses = assigned_courses(cohort)
    member_ids = select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
    course_ids = select(CohortCourse.course_id).where(CohortCourse.cohort_id == cohort.id)
    completions = {(u, c): (at, score) for u, c, at, score in session.execute(
        select(CourseCompletion.user_id, CourseCompletion.course_id, CourseCompletion.completed_at,
               CourseCompletion.score)
        .where(CourseCompletion.user_id.in_(member_ids), CourseCompletion.course_id.in_(course_ids)))}
    enrollments = {(u, c): v for u, c, v in session.execute(
        select(Enrollment.user_id, Enrollment.course_id, Enrollment.course_version_id)
        .where(Enrollment.user_id.in_(member_ids), Enrollment.course_id.in_(course_ids)))}
    exams = {(u, c): (best, n) for u, c, best, n in session.execute(
        select(Attempt.user_id, CourseVersion.course_id, func.max(Attempt.percent), func.count(Attempt.id))
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(CourseVersion, CourseVersion.id == Attempt.course_version_id)
        .where(Attempt.user_id.in_(member_ids), CourseVersion.course_id.in_(course_ids),
               Quiz.module_id.is_(None), Attempt.status != "in_progress")
        .group_by(Attempt.user_id, CourseVersion.course_id))}
    enrolled_versions = (select(Enrollment.course_version_id)
                         .where(Enrollment.user_id.in_(member_ids), Enrollment.course_id.in_(course_ids)))
    lesson_totals = dict(session.execute(
        select(Lesson.course_version_id, func.count(Lesson.id)).where(Lesson.course_version_id.in_(enrolled_versions))
        .group_by(Lesson.course_version_id)).all())
    lessons_done = {(u, v): n for u, v, n in session.execute(
        select(LessonProgress.user_id, LessonProgress.course_version_id, func.count(LessonProgress.id))
        .where(LessonProgress.user_id.in_(member_ids), LessonProgress.course_version_id.in_(enrolled_versions),
               LessonProgress.completed_at.is_not(None))
        .group_by(LessonProgress.user_id, LessonProgress.course_version_id))}
    cells: dict[tuple[int, int], Cell] = {}
    totals: dict[int, tuple[int, int]] = {}
    for item in courses:
        course_id, due = item.course.id, item.assignment.due_date
        done = late = 0
        for member in members:
            key = (member.id, course_id)
            completion = completions.get(key)
            version_id = enrollments.get(key)
            best, attempts = exams.get(key, (None, 0))
            state = COMPLETED if completion else (IN_PROGRESS if version_id or attempts else NOT_STARTED)
            overdue = is_overdue(due, today, completion is not None)
            lessons = ((lessons_done.get((member.id, version_id), 0), lesson_totals.get(version_id, 0))
                       if version_id else None)
            cells[key] = Cell(state, overdue, completion[0] if completion else None, best, attempts, lessons)
            done += state == COMPLETED
            late += overdue
        totals[course_id] = (done, late)
    return Grid(members, courses, cells, totals)


# --- a member's attempts -------------------------------------------------------------------------------

def attempts_of_member(user_id: int) -> list[tuple[Attempt, CourseVersion]]:
    """Every attempt of the trainee with its quiz, module and course version, newest first, in one query."""
    rows = session.execute(
        select(Attempt, CourseVersion).join(CourseVersion, CourseVersion.id == Attempt.course_version_id)
        .where(Attempt.user_id == user_id)
        .options(joinedload(Attempt.quiz).joinedload(Quiz.module))
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
    ).all()
    return [(a, v) for a, v in rows]


# --- question statistics -------------------------------------------------------------------------------

FINISHED = Attempt.status != "in_progress"


def statistics_scope(user: Any, cohort: Cohort | None) -> Any:
    """The user ids whose attempts count (a subquery), or None for everyone.

    A cohort limits to its members. Otherwise an administrator sees everyone, and a trainer the members
    of all the cohorts they run: "own cohorts" holds for statistics too.
    """
    if cohort is not None:
        return select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
    if user.role == "admin":
        return None
    return (select(CohortMember.user_id).join(Cohort, Cohort.id == CohortMember.cohort_id)
            .where(Cohort.trainer_id == user.id))


def _scoped(stmt: Select[Any], scope: Any, first_only: bool) -> Select[Any]:
    stmt = stmt.where(FINISHED)
    if scope is not None:
        stmt = stmt.where(Attempt.user_id.in_(scope))
    if first_only:
        stmt = stmt.where(Attempt.number == 1)
    return stmt


@dataclass(frozen=True)
class QuizEntry:
    quiz: Quiz
    version: CourseVersion
    attempts: int


def quizzes_with_attempts(scope: Any, first_only: bool = False) -> list[QuizEntry]:
    """Quizzes that have finished attempts in scope, with their counts, by course, version, module."""
    counts = _scoped(select(Attempt.quiz_id, func.count(Attempt.id).label("n")), scope, first_only) \
        .group_by(Attempt.quiz_id).subquery()
    rows = session.execute(
        select(Quiz, CourseVersion, counts.c.n).join(counts, counts.c.quiz_id == Quiz.id)
        .join(CourseVersion, CourseVersion.id == Quiz.course_version_id).options(joinedload(Quiz.module))
    ).all()
    entries = [QuizEntry(q, v, n) for q, v, n in rows]
    entries.sort(key=lambda e: (e.version.course.slug, -e.version.version, e.quiz.module is None,
                                e.quiz.module.position if e.quiz.module else 0))
    return entries


@dataclass
class QuizStatistics:
    attempts: int
    mean_percent: float | None
    rows: list[tuple[QuestionVersion, stats.QuestionStats]]


def quiz_statistics(quiz: Quiz, scope: Any, first_only: bool = False) -> QuizStatistics:
    """Load the finished attempts in scope and their responses (three queries) and analyse them."""
    attempts = session.execute(
        _scoped(select(Attempt.id, Attempt.percent, Attempt.question_ids), scope, first_only)
        .where(Attempt.quiz_id == quiz.id)).all()
    responses = session.execute(
        _scoped(select(Response.attempt_id, Response.question_version_id, Response.fraction, Response.answer)
                .join(Attempt, Attempt.id == Response.attempt_id), scope, first_only)
        .where(Attempt.quiz_id == quiz.id)).all()
    shown_ids = {qid for _a, _p, ids in attempts for qid in ids or []}
    rows = session.execute(
        select(QuestionVersion, Module.position).join(Module, Module.id == QuestionVersion.module_id)
        .where(QuestionVersion.course_version_id == quiz.course_version_id)
    ).all() if shown_ids else []
    # Bank order: module, then position in the bank file.
    rows.sort(key=lambda r: (r[1], r[0].position, r[0].slug))
    questions = [q for q, _position in rows if q.id in shown_ids]
    by_id = {q.id: q for q in questions}
    answers: dict[int, dict[int, tuple[float | None, Any]]] = {}
    for attempt_id, question_id, fraction, answer in responses:
        answers.setdefault(attempt_id, {})[question_id] = (fraction, answer)
    records = []
    for attempt_id, percent, ids in attempts:
        items = {}
        for qid in ids or []:
            question = by_id.get(qid)
            if question is None:
                continue
            fraction, answer = answers.get(attempt_id, {}).get(qid, (None, None))
            items[question.slug] = stats.ItemResult(
                fraction=float(fraction or 0.0), answered=bool(answer),
                choices=stats.choices_of(question.type, answer))
        records.append(stats.AttemptRecord(attempt_id, float(percent or 0.0), items))
    infos = [_info(q) for q in questions]
    results = stats.question_statistics(infos, records)
    percents = [r.percent for r in records]
    return QuizStatistics(
        attempts=len(records), mean_percent=sum(percents) / len(percents) if percents else None,
        rows=list(zip(questions, results, strict=True)),
    )


def _info(question: QuestionVersion) -> stats.QuestionInfo:
    spec = question.spec or {}
    if question.type in ("single", "multiple"):
        options = tuple(str(o["id"]) for o in spec.get("options") or [])
        key = spec.get("answer")
        correct = frozenset([str(key)] if question.type == "single" else [str(k) for k in key or []])
        return stats.QuestionInfo(question.slug, question.type, options, correct)
    if question.type == "true_false":
        return stats.QuestionInfo(question.slug, question.type, ("true", "false"),
                                  frozenset(["true" if spec.get("answer") else "false"]))
    return stats.QuestionInfo(question.slug, question.type)
