"""Learning progress: enrolment, lesson visits and completion, bounded time, course completion.

Services add and flush; the caller commits (one commit per request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, select, update

from cbt.courses.models import Course, CourseVersion, Lesson, Module, Quiz
from cbt.db import insert_ignoring_conflicts, session, utcnow
from cbt.learn import completion
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress


def max_gap() -> timedelta:
    """Longest pause counted as study time: a terminal left open overnight adds no more than this."""
    return timedelta(minutes=float(current_app.config.get("ACTIVITY_GAP_MINUTES", 10)))


def published_versions() -> list[CourseVersion]:
    """The newest published version of every course, ordered by course slug."""
    latest = (
        select(CourseVersion.course_id, func.max(CourseVersion.version).label("version"))
        .where(CourseVersion.status == "published")
        .group_by(CourseVersion.course_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(CourseVersion)
            .join(
                latest, and_(CourseVersion.course_id == latest.c.course_id, CourseVersion.version == latest.c.version)
            )
            .join(Course)
            .order_by(Course.slug)
        )
    )


def enrollments_for(user_id: int) -> dict[int, Enrollment]:
    rows = session.scalars(select(Enrollment).where(Enrollment.user_id == user_id))
    return {row.course_id: row for row in rows}


def version_for(user_id: int, course_slug: str) -> tuple[CourseVersion, Enrollment | None] | None:
    """The version this trainee studies: the one they started on, else the newest published one."""
    course = session.scalar(select(Course).where(Course.slug == course_slug))
    if course is None:
        return None
    enrollment = session.scalar(
        select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course.id)
    )
    if enrollment is not None:
        return enrollment.course_version, enrollment
    latest = session.scalar(
        select(CourseVersion)
        .where(CourseVersion.course_id == course.id, CourseVersion.status == "published")
        .order_by(CourseVersion.version.desc())
        .limit(1)
    )
    return (latest, None) if latest is not None else None


def latest_version_id(course_id: int) -> int | None:
    return session.scalar(
        select(CourseVersion.id)
        .where(CourseVersion.course_id == course_id, CourseVersion.status == "published")
        .order_by(CourseVersion.version.desc())
        .limit(1)
    )


#: A repeat view of the same place within this time records nothing (a reload is not progress).
RECORD_EVERY = timedelta(seconds=60)


def visit_needs_recording(enrollment: Any, kind: str, target_id: int) -> bool:
    """Whether this view moves the trainee (``enrollment``: a row with last_location and last_activity_at)."""
    if enrollment is None or enrollment.last_location != {"kind": kind, "id": target_id}:
        return True
    return utcnow() - enrollment.last_activity_at > RECORD_EVERY


def ensure_enrollment(user_id: int, version: Any) -> Enrollment:
    """The trainee's enrolment in ``version``'s course, created on first visit (``version``: id and course_id)."""
    session.execute(
        insert_ignoring_conflicts(
            Enrollment,
            {
                "user_id": user_id,
                "course_id": version.course_id,
                "course_version_id": version.id,
                "started_at": utcnow(),
                "last_activity_at": utcnow(),
                "uuid": _uuid(),
            },
            ["user_id", "course_id"],
        )
    )
    return session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == user_id, Enrollment.course_id == version.course_id)
        .execution_options(populate_existing=True)
    ).one()


def _uuid() -> Any:
    import uuid

    return uuid.uuid4()


def record_visit(user_id: int, enrollment: Enrollment, kind: str, target_id: int, lesson: Lesson | None = None) -> None:
    """Note where the trainee is (for Continue) and credit the bounded time since their last step."""
    now = utcnow()
    _credit_time(user_id, enrollment, now)
    if lesson is not None:
        session.execute(
            insert_ignoring_conflicts(
                LessonProgress,
                {
                    "user_id": user_id,
                    "lesson_id": lesson.id,
                    "course_version_id": lesson.course_version_id,
                    "first_viewed_at": now,
                    "last_viewed_at": now,
                    "seconds_spent": 0,
                    "uuid": _uuid(),
                },
                ["user_id", "lesson_id"],
            )
        )
        session.execute(
            update(LessonProgress)
            .where(LessonProgress.user_id == user_id, LessonProgress.lesson_id == lesson.id)
            .values(last_viewed_at=now)
        )
    enrollment.last_activity_at = now
    enrollment.last_location = {"kind": kind, "id": target_id}
    session.flush()


def _credit_time(user_id: int, enrollment: Enrollment, now: Any) -> None:
    previous = enrollment.last_location or {}
    if previous.get("kind") != "lesson":
        return
    gap = min(max(now - enrollment.last_activity_at, timedelta(0)), max_gap())
    seconds = int(gap.total_seconds())
    if seconds:
        session.execute(
            update(LessonProgress)
            .where(
                LessonProgress.user_id == user_id,
                LessonProgress.lesson_id == previous["id"],
            )
            .values(seconds_spent=LessonProgress.seconds_spent + seconds)
        )


def complete_lesson(user_id: int, enrollment: Enrollment, lesson: Lesson) -> bool:
    """Mark ``lesson`` completed (once) and store the course completion if the rule is now met."""
    record_visit(user_id, enrollment, "lesson", lesson.id, lesson)
    session.execute(
        update(LessonProgress)
        .where(
            LessonProgress.user_id == user_id,
            LessonProgress.lesson_id == lesson.id,
            LessonProgress.completed_at.is_(None),
        )
        .values(completed_at=utcnow())
    )
    return check_completion(user_id, enrollment.course_version)


@dataclass(frozen=True)
class QuizStanding:
    attempted: bool
    passed: bool
    best_percent: float | None
    last_percent: float | None
    attempts: int


def quiz_standings(user_id: int, quiz_ids: list[int]) -> dict[int, QuizStanding]:
    """Best and last finished attempt per quiz, in one query."""
    from cbt.quiz.models import Attempt

    if not quiz_ids:
        return {}
    finished = Attempt.status != "in_progress"
    rows = session.execute(
        select(
            Attempt.quiz_id,
            func.count(Attempt.id),
            func.max(Attempt.percent),
            func.max(case((Attempt.passed.is_(True), 1), else_=0)),
            func.max(Attempt.number),
        )
        .where(Attempt.user_id == user_id, Attempt.quiz_id.in_(quiz_ids), finished)
        .group_by(Attempt.quiz_id)
    ).all()
    last_numbers = {quiz_id: number for quiz_id, _c, _b, _p, number in rows}
    last = {}
    if last_numbers:
        conditions = [and_(Attempt.quiz_id == q, Attempt.number == n) for q, n in last_numbers.items()]
        from sqlalchemy import or_

        last = dict(
            session.execute(
                select(Attempt.quiz_id, Attempt.percent).where(Attempt.user_id == user_id, or_(*conditions))
            ).all()
        )
    return {
        quiz_id: QuizStanding(
            attempted=count > 0, passed=bool(passed), best_percent=best, last_percent=last.get(quiz_id), attempts=count
        )
        for quiz_id, count, best, passed, _n in rows
    }


def progress_for(user_id: int, version: CourseVersion) -> tuple[completion.Progress, dict[int, QuizStanding]]:
    lessons_total = session.scalar(select(func.count(Lesson.id)).where(Lesson.course_version_id == version.id)) or 0
    lessons_completed = (
        session.scalar(
            select(func.count(LessonProgress.id)).where(
                LessonProgress.user_id == user_id,
                LessonProgress.course_version_id == version.id,
                LessonProgress.completed_at.is_not(None),
            )
        )
        or 0
    )
    quizzes = session.execute(select(Quiz.id, Quiz.module_id).where(Quiz.course_version_id == version.id)).all()
    standings = quiz_standings(user_id, [q for q, _m in quizzes])

    def result(quiz_id: int) -> completion.QuizResult:
        s = standings.get(quiz_id)
        return completion.QuizResult(s.attempted, s.passed, s.best_percent) if s else completion.QuizResult()

    exam_ids = [q for q, m in quizzes if m is None]
    progress = completion.Progress(
        lessons_total=lessons_total,
        lessons_completed=lessons_completed,
        module_quizzes={q: result(q) for q, m in quizzes if m is not None},
        exam=result(exam_ids[0]) if exam_ids else None,
    )
    return progress, standings


def check_completion(user_id: int, version: CourseVersion) -> bool:
    """Store the completion once, when the rule is first met; True if the course is (now) complete.

    The trainee's enrolment row is locked first (``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already
    serializes writers). Without it, on PostgreSQL an exam submitted in one tab and the last lesson
    finished in another each count only their own uncommitted step, both conclude "not yet", and the
    completion is never stored. With it, the second check waits for the first to commit and sees both.
    """
    session.execute(
        select(Enrollment.id)
        .where(Enrollment.user_id == user_id, Enrollment.course_id == version.course_id)
        .with_for_update()
    )
    progress, _standings = progress_for(user_id, version)
    if not completion.is_complete(version.completion, progress):
        return False
    from cbt.auth.models import User

    user = session.get(User, user_id)
    session.execute(
        insert_ignoring_conflicts(
            CourseCompletion,
            {
                "user_id": user_id,
                "course_id": version.course_id,
                "course_version_id": version.id,
                "completed_at": utcnow(),
                "score": progress.exam.best_percent if progress.exam else None,
                "site_id": user.site_id if user else None,
                "locale": user.locale if user else None,
                "uuid": _uuid(),
            },
            ["user_id", "course_id"],
        )
    )
    from cbt.certificates.services import ensure_certificate

    ensure_certificate(user_id, version.course_id)  # one per completion: a unique key on completion_id
    return True


def completions_for(user_id: int) -> dict[int, CourseCompletion]:
    return {
        c.course_id: c for c in session.scalars(select(CourseCompletion).where(CourseCompletion.user_id == user_id))
    }


def lesson_counts(version_ids: list[int], user_id: int) -> dict[int, tuple[int, int]]:
    """``version id -> (lessons, completed lessons)`` for several versions in two queries."""
    if not version_ids:
        return {}
    totals = dict(
        session.execute(
            select(Lesson.course_version_id, func.count(Lesson.id))
            .where(Lesson.course_version_id.in_(version_ids))
            .group_by(Lesson.course_version_id)
        ).all()
    )
    done = dict(
        session.execute(
            select(LessonProgress.course_version_id, func.count(LessonProgress.id))
            .where(
                LessonProgress.user_id == user_id,
                LessonProgress.course_version_id.in_(version_ids),
                LessonProgress.completed_at.is_not(None),
            )
            .group_by(LessonProgress.course_version_id)
        ).all()
    )
    return {v: (totals.get(v, 0), done.get(v, 0)) for v in version_ids}


def outline(version_id: int) -> list[tuple[Module, list[Lesson]]]:
    """Modules and their lessons in order, in two queries."""
    modules = session.scalars(
        select(Module).where(Module.course_version_id == version_id).order_by(Module.position)
    ).all()
    lessons = session.scalars(
        select(Lesson).where(Lesson.course_version_id == version_id).order_by(Lesson.position)
    ).all()
    by_module: dict[int, list[Lesson]] = {}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, []).append(lesson)
    return [(m, by_module.get(m.id, [])) for m in modules]
