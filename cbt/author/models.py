"""Drafts of courses being authored in the browser, and who may author which course.

A draft's content is not in the database: it is a course package folder on disk
(``<drafts>/<draft uuid>/<course id>/``), read and written through :mod:`cbt.content`, so the browser and
``cbt courses validate`` judge a course with the same loader. The row here holds what the folder cannot:
who started it, from which published version, the change log for the next version, and a revision number
that stops a stale browser tab from overwriting newer work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cbt.db import Base, UUIDMixin, utcnow


class Draft(UUIDMixin, Base):
    """The one open draft of a course; its ``uuid`` names its folder."""

    __tablename__ = "drafts"
    __table_args__ = (
        # One open draft per course: two drafts would compete for the next version number.
        UniqueConstraint("course_slug"),
        CheckConstraint("revision >= 0", name="revision_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The package id (``course.yaml`` ``id``, the folder name). Not a foreign key: a course created in the
    #: browser has no ``courses`` row until its first version is published.
    course_slug: Mapped[str] = mapped_column(String(80))
    #: The published version this draft was written out from; None for a new course or an imported zip.
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("course_versions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: What changed, for the trainees and trainers of the next version; stored on the published version.
    changelog: Mapped[str] = mapped_column(Text, default="")
    #: Raised by every saved change. Forms carry it, so a form opened before another change is refused.
    revision: Mapped[int] = mapped_column(default=0)
    #: Errors the loader found after the last change (publishing needs 0); kept for the course list.
    error_count: Mapped[int] = mapped_column(default=0)
    #: ``{"total": n, "kk": n, "ru": n, "en": n}``: localized fields present per locale after the last change.
    translation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The loader's problems (errors and warnings) after the last change, as dicts; ``None`` until known.
    #: Editors show them without re-reading the whole course, and the next change is compared with them.
    problems: Mapped[list[dict[str, Any]] | None]
    #: Media file name -> the file name it was uploaded with (a hint for alt texts and labels).
    media_labels: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CourseGrant(Base):
    """Permission for one user to author one course (the creator gets one; administrators add others)."""

    __tablename__ = "course_grants"
    __table_args__ = (UniqueConstraint("course_slug", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The package id; like :attr:`Draft.course_slug` it may name a course not yet published.
    course_slug: Mapped[str] = mapped_column(String(80), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
