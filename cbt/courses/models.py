"""Versioned course content.

A published :class:`CourseVersion` never changes: importing or authoring a change creates a new version,
and attempts and progress point at the exact version (and question version) they were made on. Lesson HTML
is rendered and sanitized once, at import, and served as stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db import Base, UUIDMixin, utcnow

VERSION_STATES = ("draft", "published", "retired")


class Course(UUIDMixin, Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The package id (folder name); stable for the life of the course.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    versions: Mapped[list[CourseVersion]] = relationship(
        back_populates="course", order_by="CourseVersion.version", viewonly=True
    )


class CourseVersion(UUIDMixin, Base):
    __tablename__ = "course_versions"
    __table_args__ = (
        UniqueConstraint("course_id", "version"),
        CheckConstraint(f"status IN {VERSION_STATES!r}", name="status_known"),
        CheckConstraint("version > 0", name="version_positive"),
        Index("ix_course_versions_status_course", "status", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="published")
    source_locale: Mapped[str] = mapped_column(String(5))
    title: Mapped[dict[str, Any]]
    #: Markdown per locale, as authored (kept for export).
    description: Mapped[dict[str, Any]]
    #: Sanitized HTML per locale, rendered at import.
    description_html: Mapped[dict[str, Any]]
    audience: Mapped[dict[str, Any] | None]
    estimated_minutes: Mapped[int]
    #: ``{"lessons": "all", "quizzes": "passed", "exam": "passed"}``
    completion: Mapped[dict[str, Any]]
    #: SHA-256 of the canonical content: re-importing identical content is a no-op.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changelog: Mapped[str | None] = mapped_column(Text)

    course: Mapped[Course] = relationship(back_populates="versions", lazy="joined")
    modules: Mapped[list[Module]] = relationship(order_by="Module.position", back_populates="course_version")


class Module(Base):
    __tablename__ = "course_modules"
    __table_args__ = (UniqueConstraint("course_version_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"), index=True)
    position: Mapped[int]
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[dict[str, Any]]
    description: Mapped[dict[str, Any] | None]

    course_version: Mapped[CourseVersion] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(order_by="Lesson.position", back_populates="module")


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("module_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"), index=True)
    #: Denormalized so progress queries over a course need no join through modules.
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"), index=True)
    position: Mapped[int]
    slug: Mapped[str] = mapped_column(String(80))

    module: Mapped[Module] = relationship(back_populates="lessons")
    texts: Mapped[list[LessonText]] = relationship(back_populates="lesson")


class LessonText(Base):
    """One language version of a lesson, with its HTML rendered once at import."""

    __tablename__ = "lesson_texts"
    __table_args__ = (UniqueConstraint("lesson_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    locale: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(300))
    minutes: Mapped[int]
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)

    lesson: Mapped[Lesson] = relationship(back_populates="texts")


class QuestionVersion(UUIDMixin, Base):
    """A question exactly as it stood in one course version; responses point here, so grades never shift."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("course_version_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"), index=True)
    #: The question id from the bank file, stable across versions (statistics group by it).
    slug: Mapped[str] = mapped_column(String(80), index=True)
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(20))
    points: Mapped[float]
    difficulty: Mapped[str] = mapped_column(String(10))
    tags: Mapped[list[str]] = mapped_column(default=list)
    prompt: Mapped[dict[str, Any]]
    feedback: Mapped[dict[str, Any] | None]
    #: Type-specific fields (options, answer key, regions, steps...): never sent to a browser as such.
    spec: Mapped[dict[str, Any]]
    #: The localized texts of prompt, feedback and spec rendered to sanitized HTML at import.
    rendered: Mapped[dict[str, Any]]


class Quiz(UUIDMixin, Base):
    """A module's practice quiz, or (``module_id`` None) the course's final exam."""

    __tablename__ = "quizzes"
    __table_args__ = (
        CheckConstraint("kind IN ('practice', 'exam')", name="kind_known"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 100", name="pass_mark_percent"),
        CheckConstraint("grading_method IN ('highest', 'last', 'first', 'average')", name="grading_method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"), index=True)
    module_id: Mapped[int | None] = mapped_column(ForeignKey("course_modules.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[dict[str, Any] | None]
    #: Fixed list of question slugs, or None for "all" (ignored when ``draw`` is not empty).
    question_slugs: Mapped[list[str] | None]
    #: ``[{"module": ..., "tags": [...], "count": N}, ...]``
    draw: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    pass_mark: Mapped[float]
    time_limit_minutes: Mapped[int | None]
    #: 0 = unlimited.
    attempts: Mapped[int]
    shuffle_questions: Mapped[bool]
    shuffle_options: Mapped[bool]
    review: Mapped[str] = mapped_column(String(20))
    # Delivery settings a trainer sets for a class (not part of the package format).
    #: highest | last | first | average: which attempt counts.
    grading_method: Mapped[str] = mapped_column(String(10), default="highest")
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    #: Given out by the trainer in the classroom; None = no code needed.
    access_code: Mapped[str | None] = mapped_column(String(40))
    #: Minimum wait between two attempts.
    attempt_delay_minutes: Mapped[int] = mapped_column(default=0)
    #: Seconds after the deadline during which the final submit is still accepted.
    grace_seconds: Mapped[int] = mapped_column(default=30)

    module: Mapped[Module | None] = relationship()


class MediaAsset(Base):
    """A media file of a course version; the bytes live in the content-addressed media store."""

    __tablename__ = "media_assets"
    __table_args__ = (UniqueConstraint("course_version_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    #: Relative to the course folder: ``media/truck.svg``.
    path: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(60))
