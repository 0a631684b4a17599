"""Certificates: exactly one per course completion, verifiable by a short public code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db import Base, UUIDMixin, utcnow
from cbt.learn.models import CourseCompletion


class Certificate(UUIDMixin, Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unique: a completion has one certificate, however many requests race to issue it.
    completion_id: Mapped[int] = mapped_column(ForeignKey("course_completions.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    #: 12 Crockford base32 characters (60 random bits), stored without the dashes shown to people.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    completion: Mapped[CourseCompletion] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
