"""Bring :class:`~cbt.reports.models.ReportStanding` up to date before a report reads it.

Triggers list in ``report_stale`` every (trainee, course) whose attempts, lesson progress, enrolment or
completion changed, or whose trainee moved (see :mod:`cbt.reports.models`); a report calls :func:`refresh`
first. With nothing stale that is one indexed read. Otherwise, in one write transaction and a fixed number
of statements: mark the stale rows with a batch token, delete and recompute the standings of their trainees
(every enrolment of a marked trainee, which is cheap: everything is read through the trainee indexes of
``enrollments``, ``attempts`` and ``lesson_progress``), and delete the marked rows.

Concurrency: rows a trigger adds after the marking keep no token and wait for the next refresh. On
PostgreSQL a trigger that changes an already marked row waits for the refresh to commit (the upsert takes
the row lock), then inserts the row afresh; refreshes themselves take a transaction-scoped advisory lock, so
two never recompute the same trainee at once. On SQLite the write transaction serialises all of it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, insert, literal, null, select, text, update

from cbt.auth.models import User
from cbt.courses.models import CourseVersion, Quiz
from cbt.db import session, write_transaction
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.quiz.models import Attempt
from cbt.reports import triggers
from cbt.reports.models import ReportStale, ReportStanding

logger = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock that serialises refreshes (any constant unique to this use).
LOCK_KEY = 0x5245504F5254  # "REPORT"


def standings_select(user_ids: Select[Any] | None = None) -> Select[Any]:
    """One row per enrolment (of some trainees, optionally) in the columns of :data:`COLUMNS`."""
    is_exam = Attempt.quiz_id.in_(select(Quiz.id).where(Quiz.module_id.is_(None)))
    attempts = (
        select(Attempt.user_id.label("user_id"), Attempt.course_version_id.label("version_id"),
               func.min(Attempt.started_at).label("started_at"),
               func.max(case((and_(is_exam, Attempt.status != "in_progress"), Attempt.percent))).label("best_exam"),
               func.min(case((and_(is_exam, Attempt.passed.is_(True)), Attempt.submitted_at))).label("passed_at"),
               literal(0).label("seconds"))
        .group_by(Attempt.user_id, Attempt.course_version_id)
    )
    lessons = (
        select(LessonProgress.user_id, LessonProgress.course_version_id, func.min(LessonProgress.first_viewed_at),
               null(), null(), func.sum(LessonProgress.seconds_spent))
        .group_by(LessonProgress.user_id, LessonProgress.course_version_id)
    )
    if user_ids is not None:
        attempts = attempts.where(Attempt.user_id.in_(user_ids))
        lessons = lessons.where(LessonProgress.user_id.in_(user_ids))
    both = attempts.union_all(lessons).subquery("parts")
    activity = (
        select(both.c.user_id, CourseVersion.course_id, func.min(both.c.started_at).label("started_at"),
               func.min(both.c.passed_at).label("passed_at"), func.max(both.c.best_exam).label("best_exam"),
               func.sum(both.c.seconds).label("seconds"))
        .join(CourseVersion, CourseVersion.id == both.c.version_id)
        .group_by(both.c.user_id, CourseVersion.course_id)
        .subquery("activity")
    )
    stmt = (
        select(Enrollment.user_id, Enrollment.course_id, func.coalesce(CourseCompletion.site_id, User.site_id),
               User.agency_id, Enrollment.started_at, activity.c.started_at, CourseCompletion.completed_at,
               activity.c.passed_at, activity.c.best_exam, func.coalesce(activity.c.seconds, 0))
        .join(User, User.id == Enrollment.user_id)
        .outerjoin(CourseCompletion, and_(CourseCompletion.user_id == Enrollment.user_id,
                                          CourseCompletion.course_id == Enrollment.course_id))
        .outerjoin(activity, and_(activity.c.user_id == Enrollment.user_id,
                                  activity.c.course_id == Enrollment.course_id))
    )
    return stmt if user_ids is None else stmt.where(Enrollment.user_id.in_(user_ids))


COLUMNS = ["user_id", "course_id", "site_id", "agency_id", "enrolled_at", "started_at", "completed_at",
           "exam_passed_at", "best_exam", "seconds_spent"]


def ensure_triggers() -> None:
    """Once per process: put back triggers a table rebuild dropped, and mark everything stale if any was.

    SQLite drops a table's triggers when a batch migration rebuilds it (see :mod:`cbt.reports.triggers`);
    changes made since were not listed, so every enrolment is recomputed.
    """
    from flask import current_app

    if current_app.extensions.get("cbt.report_triggers"):
        return
    if triggers.missing(session.connection()):
        with write_transaction():
            installed = triggers.install(session.connection())
            if installed:
                logger.warning("report triggers were missing and have been reinstalled: %s", sorted(installed))
                stale = select(Enrollment.user_id, Enrollment.course_id, literal(1))
                session.execute(delete(ReportStale))
                session.execute(insert(ReportStale).from_select(["user_id", "course_id", "changes"], stale))
    current_app.extensions["cbt.report_triggers"] = True


def refresh() -> bool:
    """Recompute the standings of stale trainees; False when nothing was stale (one cheap read)."""
    ensure_triggers()
    if session.scalar(select(ReportStale.user_id).limit(1)) is None:
        return False
    token = uuid.uuid4().hex
    with write_transaction():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        session.execute(update(ReportStale).values(batch=token))
        marked = select(ReportStale.user_id).where(ReportStale.batch == token).distinct()
        session.execute(delete(ReportStanding).where(ReportStanding.user_id.in_(marked)))
        session.execute(insert(ReportStanding).from_select(COLUMNS, standings_select(marked)))
        session.execute(delete(ReportStale).where(ReportStale.batch == token))
    return True


def rebuild() -> None:
    """Recompute every standing (after bulk loads; the caller commits)."""
    session.execute(delete(ReportStale))
    session.execute(delete(ReportStanding))
    session.execute(insert(ReportStanding).from_select(COLUMNS, standings_select()))
