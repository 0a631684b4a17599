"""Attempts and responses.

A response is an idempotent upsert keyed on (attempt, question version), so autosaves from two tabs, a
retry after a network error or a double click can never create two answers; ``seq`` lets the server
refuse a stale page's write over a newer one. An attempt is graded once: the status change from
``in_progress`` is a conditional update that only one request can win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.courses.models import QuestionVersion, Quiz
from cbt.db import Base, UUIDMixin, utcnow

ATTEMPT_STATES = ("in_progress", "submitted", "expired")


class Attempt(UUIDMixin, Base):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_id", "number"),
        CheckConstraint(f"status IN {ATTEMPT_STATES!r}", name="status_known"),
        Index("ix_attempts_quiz_status", "quiz_id", "status"),
        Index("ix_attempts_user_status", "user_id", "status"),
        Index("ix_attempts_submitted_at", "submitted_at"),
        # At most one running attempt per trainee and quiz, whatever the number of servers or tabs.
        Index("uq_attempts_one_running", "user_id", "quiz_id", unique=True,
              sqlite_where=text("status = 'in_progress'"), postgresql_where=text("status = 'in_progress'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"), index=True)
    #: 1 for the trainee's first attempt at this quiz, 2 for the second...
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Server-side deadline (start + time limit, capped by the quiz's close time); None = untimed.
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    #: The questions drawn for this attempt, in the order shown: question_version ids.
    question_ids: Mapped[list[int]] = mapped_column(default=list)
    #: Shuffled option/item order per question id (as str), fixed for the attempt.
    layout: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Bumped by every accepted save; a page carries the value it was rendered with.
    seq: Mapped[int] = mapped_column(default=0)
    score: Mapped[float | None]
    max_score: Mapped[float | None]
    percent: Mapped[float | None]
    passed: Mapped[bool | None]
    #: Site of the trainee when the attempt started (for reports).
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)

    quiz: Mapped[Quiz] = relationship()
    responses: Mapped[list[Response]] = relationship(back_populates="attempt")


class Response(UUIDMixin, Base):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("attempt_id", "question_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    #: The question exactly as graded; editing the bank later never changes this grade.
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"), index=True)
    answer: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The attempt's ``seq`` when this answer was accepted.
    seq: Mapped[int] = mapped_column(default=0)
    score: Mapped[float | None]
    #: 1.0 fully right ... 0.0 wrong; None until graded.
    fraction: Mapped[float | None]

    attempt: Mapped[Attempt] = relationship(back_populates="responses")
    question_version: Mapped[QuestionVersion] = relationship()
