"""Helpers for the cohort tests: arranging cohorts, progress and attempts directly in the database.

Pages are always exercised over HTTP; the arrangement is written straight to the database when going
through the trainee's pages would only slow the test down without testing anything of the cohort pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
from cbt.courses.models import CourseVersion, QuestionVersion
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.quiz.models import Attempt, Response
from tests.conftest import csrf_token

TODAY = date.today()
NOW = datetime.now(UTC)


def make_cohort(db: Session, trainer_id: int, *, name: str = "Kordai class", members: Iterable[int] = (),
                courses: Iterable[tuple[int, date | None]] = (), archived: bool = False) -> int:
    db.rollback()  # a fresh transaction: an old snapshot cannot be upgraded to a write on SQLite
    cohort = Cohort(name=name, trainer_id=trainer_id, is_archived=archived)
    db.add(cohort)
    db.flush()
    db.add_all([CohortMember(cohort_id=cohort.id, user_id=u) for u in members])
    db.add_all([CohortCourse(cohort_id=cohort.id, course_id=c, due_date=due) for c, due in courses])
    db.commit()
    return cohort.id


def course_id_of(db: Session, version_id: int) -> int:
    db.rollback()
    course_id = db.scalar(select(CourseVersion.course_id).where(CourseVersion.id == version_id))
    db.commit()
    return course_id


def enroll(db: Session, user_id: int, version_id: int, course_id: int) -> None:
    db.rollback()
    db.add(Enrollment(user_id=user_id, course_id=course_id, course_version_id=version_id))
    db.commit()


def complete_lessons(db: Session, user_id: int, version_id: int, lesson_ids: Iterable[int]) -> None:
    db.rollback()
    db.add_all([LessonProgress(user_id=user_id, lesson_id=lesson, course_version_id=version_id, completed_at=NOW)
                for lesson in lesson_ids])
    db.commit()


def complete_course(db: Session, user_id: int, version_id: int, course_id: int, score: float | None = None,
                    at: datetime = NOW) -> None:
    db.rollback()
    db.add(CourseCompletion(user_id=user_id, course_id=course_id, course_version_id=version_id,
                            completed_at=at, score=score))
    db.commit()


def questions_by_slug(db: Session, version_id: int) -> dict[str, QuestionVersion]:
    db.rollback()
    rows = {q.slug: q for q in db.scalars(
        select(QuestionVersion).where(QuestionVersion.course_version_id == version_id))}
    db.commit()
    return rows


def add_attempt(db: Session, *, user_id: int, quiz_id: int, version_id: int, percent: float,
                answers: dict[QuestionVersion, tuple[dict[str, Any] | None, float]], number: int = 1,
                status: str = "submitted", shown: Iterable[QuestionVersion] | None = None) -> int:
    """A finished attempt with the given answers: ``{question: (answer or None, fraction)}``.

    ``shown`` lists the questions drawn (default: those in ``answers``); a question shown but missing from
    ``answers`` was left unanswered.
    """
    shown = list(shown if shown is not None else answers)
    db.rollback()
    attempt = Attempt(
        user_id=user_id, quiz_id=quiz_id, course_version_id=version_id, number=number, status=status,
        started_at=NOW - timedelta(minutes=30), submitted_at=None if status == "in_progress" else NOW,
        question_ids=[q.id for q in shown], layout={str(q.id): {} for q in shown}, percent=percent,
        score=percent / 100 * len(shown), max_score=float(len(shown)), passed=percent >= 50,
    )
    db.add(attempt)
    db.flush()
    for question, (answer, fraction) in answers.items():
        if answer is None:
            continue
        db.add(Response(attempt_id=attempt.id, question_version_id=question.id, answer=answer,
                        fraction=fraction, score=fraction * question.points))
    db.commit()
    return attempt.id


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Post ``data`` to ``action`` with the CSRF token read from ``page``, like a browser submitting it."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})


def cell(page: str, user_id: int, course_id: int) -> str:
    """The visible text of one progress-grid cell."""
    match = re.search(rf'id="cell-{user_id}-{course_id}">(.*?)</td>', page, re.S)
    assert match, f"no cell for user {user_id}, course {course_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def cell_classes(page: str, user_id: int, course_id: int) -> set[str]:
    match = re.search(rf'<td class="([^"]*)" id="cell-{user_id}-{course_id}">', page)
    assert match
    return set(match.group(1).split())
