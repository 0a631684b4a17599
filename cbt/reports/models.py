"""Indexes the reports filter on, declared here so the reporting needs stay with the reporting code.

The tables belong to other features; these indexes only serve report filters (period by enrolment date,
attempts by trainee and date) and are created by the reporting migration.
"""

from __future__ import annotations

from sqlalchemy import Index

from cbt.learn.models import Enrollment
from cbt.quiz.models import Attempt

#: Period filter on enrolments ("enrolled between ...").
ix_enrollments_started_at = Index("ix_enrollments_started_at", Enrollment.started_at)
#: Period filter on the raw attempts export.
ix_attempts_started_at = Index("ix_attempts_started_at", Attempt.started_at)
