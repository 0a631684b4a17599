"""A trainee's transcript: every course started, its state, dates and best scores (shared with admin views)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from cbt.courses.models import CourseVersion, Quiz
from cbt.db import session
from cbt.learn import services
from cbt.learn.models import Enrollment, LessonProgress


@dataclass(frozen=True)
class TranscriptRow:
    version: CourseVersion
    started_at: datetime
    last_activity_at: datetime
    completed_at: datetime | None
    lessons_done: int
    lessons_total: int
    minutes_spent: int
    exam_best: float | None
    quizzes_passed: int
    quizzes_total: int


def transcript_rows(user_id: int) -> list[TranscriptRow]:
    enrollments = session.scalars(select(Enrollment).where(Enrollment.user_id == user_id)).all()
    version_ids = [e.course_version_id for e in enrollments]
    counts = services.lesson_counts(version_ids, user_id)
    seconds = dict(
        session.execute(
            select(LessonProgress.course_version_id, func.sum(LessonProgress.seconds_spent))
            .where(LessonProgress.user_id == user_id)
            .group_by(LessonProgress.course_version_id)
        ).all()
    )
    quizzes = session.execute(
        select(Quiz.id, Quiz.course_version_id, Quiz.module_id).where(Quiz.course_version_id.in_(version_ids))
    ).all()
    standings = services.quiz_standings(user_id, [q for q, _v, _m in quizzes])
    completions = services.completions_for(user_id)
    versions = {v.id: v for v in session.scalars(select(CourseVersion).where(CourseVersion.id.in_(version_ids)))}
    rows = []
    for enrollment in enrollments:
        vid = enrollment.course_version_id
        module_quizzes = [q for q, v, m in quizzes if v == vid and m is not None]
        exam = next((q for q, v, m in quizzes if v == vid and m is None), None)
        total, done = counts.get(vid, (0, 0))  # lesson_counts gives (lessons, completed)
        completion = completions.get(enrollment.course_id)
        rows.append(
            TranscriptRow(
                version=versions[vid],
                started_at=enrollment.started_at,
                last_activity_at=enrollment.last_activity_at,
                completed_at=completion.completed_at if completion else None,
                lessons_done=done,
                lessons_total=total,
                minutes_spent=int((seconds.get(vid) or 0) // 60),
                exam_best=standings[exam].best_percent if exam in standings else None,
                quizzes_passed=sum(1 for q in module_quizzes if q in standings and standings[q].passed),
                quizzes_total=len(module_quizzes),
            )
        )
    rows.sort(key=lambda r: r.version.course.slug)
    return rows
