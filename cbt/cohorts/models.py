"""Cohorts: a class of trainees run by one trainer, and the courses assigned to it with due dates.

A cohort is never deleted (its history explains past results); a finished class is archived instead.
Assignments point at a course, not a version: a trainee studies whatever version they started on, and a
new publication does not re-assign anything.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.auth.models import User
from cbt.courses.models import Course
from cbt.db import Base, UUIDMixin, utcnow
from cbt.org.models import Site


class Cohort(UUIDMixin, Base):
    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: Where the class meets; None for a class spread over several posts.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    #: The trainer who runs the class: the only trainer who may see or change it (admins see all).
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A finished class: hidden from lists by default, its assignments no longer shown to trainees.
    is_archived: Mapped[bool] = mapped_column(default=False)

    trainer: Mapped[User] = relationship(lazy="joined")
    site: Mapped[Site | None] = relationship(lazy="joined")


class CohortMember(Base):
    __tablename__ = "cohort_members"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"))
    #: Indexed: My learning looks up a trainee's cohorts on every visit.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class CohortCourse(Base):
    """A course assigned to a cohort, with an optional due date (inclusive: overdue from the next day)."""

    __tablename__ = "cohort_courses"
    __table_args__ = (UniqueConstraint("cohort_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    due_date: Mapped[date | None]
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()
