"""Report tables (standings kept up to date by database triggers) and the indexes report filters use.

Counting a dashboard from 200,000 attempts every time it is opened costs seconds: folding each trainee's
attempts and lesson visits into a few figures per course, and joining enrolment, completion and trainee to
place each one. :class:`ReportStanding` keeps the result, one row per enrolment (trainee and course) with
every figure and every filter column the reports need, so a dashboard is one grouped scan of one table.
:class:`ReportStale` lists the (trainee, course) pairs whose sources changed since: triggers (created by the
migration ``0010_report_indexes`` for SQLite and PostgreSQL) add a pair on every insert, relevant update or
delete of ``attempts``, ``lesson_progress``, ``enrollments`` and ``course_completions``, and every pair of a
trainee whose site or agency changes, whatever code path wrote it (services, bulk seeding, raw SQL). Reports
call :func:`cbt.reports.standings.refresh` first, which recomputes only the stale pairs.

The other tables belong to other features; the indexes declared here only serve report filters, and
``tests/reports/test_indexes.py`` checks with ``EXPLAIN`` on both engines that every filter of the report
statements can use one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from cbt.db import Base
from cbt.learn.models import Enrollment
from cbt.quiz.models import Attempt

#: Period filter on enrolments (the standings' refresh and older reports); migration 0003.
ix_enrollments_started_at = Index("ix_enrollments_started_at", Enrollment.started_at)
#: Period filter on the raw attempts export; migration 0003.
ix_attempts_started_at = Index("ix_attempts_started_at", Attempt.started_at)
# Declared by their own features and used by the attempts export's filters: users.site_id (site),
# users.agency_id (agency), sites.country_id and agencies.country_id (country), attempts.course_version_id
# (course), cohort_members (cohort_id, user_id) and cohort_courses (cohort_id, course_id) (cohort), attempts
# (user_id, status) (trainee). The standings' refresh reads attempts and lesson progress by trainee.


class ReportStanding(Base):
    """One enrolment with everything the statistics count and filter on (see the module docstring)."""

    __tablename__ = "report_standings"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "course_id"),
        # Period filter: one index per event, so "any event in the period" is a union of index ranges.
        Index("ix_report_standings_enrolled_at", "enrolled_at"),
        Index("ix_report_standings_started_at", "started_at"),
        Index("ix_report_standings_completed_at", "completed_at"),
        Index("ix_report_standings_exam_passed_at", "exam_passed_at"),
        #: The dashboard's grouped count reads only this index, in order (no table access, no sort); its
        #: first column serves the course filter.
        Index("ix_report_standings_summary", "course_id", "site_id", "agency_id", "enrolled_at", "started_at",
              "completed_at", "exam_passed_at", "best_exam", "seconds_spent"),
        Index("ix_report_standings_site_id", "site_id"),
        Index("ix_report_standings_agency_id", "agency_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    #: Where the training happened: the site recorded at completion, else the trainee's current site.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    enrolled_at: Mapped[datetime]
    #: The first lesson opened or the first quiz begun, whichever came first.
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    #: When the final exam was first passed (None: not passed, or no exam).
    exam_passed_at: Mapped[datetime | None]
    #: Best finished final-exam percentage.
    best_exam: Mapped[float | None]
    seconds_spent: Mapped[int] = mapped_column(default=0)


class ReportStale(Base):
    """A (trainee, course) pair whose standing must be recomputed; written by triggers only."""

    __tablename__ = "report_stale"
    __table_args__ = (PrimaryKeyConstraint("user_id", "course_id"),)

    user_id: Mapped[int]
    course_id: Mapped[int]
    #: Bumped by each further change (so a trigger's upsert takes the row lock a refresh waits on).
    changes: Mapped[int] = mapped_column(default=1)
    #: Set by the refresh that is processing the row; rows marked later are left for the next one.
    batch: Mapped[str | None] = mapped_column(String(36))
