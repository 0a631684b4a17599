"""Progress records. They carry UUIDs because they will travel from classroom servers to a central one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.courses.models import Course, CourseVersion
from cbt.db import Base, UUIDMixin, utcnow


class Enrollment(UUIDMixin, Base):
    """A trainee's place in a course: the version they study and where they stopped.

    Created on first visit. The version stays fixed until the course is completed, so a new publication
    never moves a trainee's lessons or questions under them.
    """

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Where "Continue" goes: ``{"kind": "lesson" | "quiz", "id": N}``.
    last_location: Mapped[dict[str, Any] | None]

    course: Mapped[Course] = relationship()
    course_version: Mapped[CourseVersion] = relationship()


class LessonProgress(UUIDMixin, Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"), index=True)
    first_viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    #: Bounded sum of the gaps between activity on this lesson (see ``learn.services.MAX_GAP``).
    seconds_spent: Mapped[int] = mapped_column(default=0)


class CourseCompletion(UUIDMixin, Base):
    """Stored once, when the course's completion rule is first met (a unique key makes it so)."""

    __tablename__ = "course_completions"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_course_completions_completed_at", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Best final-exam percentage at completion, if the course has an exam.
    score: Mapped[float | None]
    #: Site of the trainee at completion time; reports group by where training happened.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(5))
