"""Bulk user imports waiting between preview and confirmation.

The uploaded file is parsed once, at upload, and its rows are kept here under a random token until the
administrator confirms or cancels; the browser only carries the token, never the data. The rows are
cleared when the batch is finished, so personal data does not linger in the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cbt.db import Base, utcnow

IMPORT_STATES = ("pending", "done", "cancelled")


class UserImport(Base):
    __tablename__ = "user_imports"
    __table_args__ = (CheckConstraint(f"status IN {IMPORT_STATES!r}", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random, unguessable key of the batch in URLs (``secrets.token_urlsafe``).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The uploaded file's name as the browser sent it (shown only, never used as a path).
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    #: Column names found in the file, in order.
    columns: Mapped[list[str]] = mapped_column(default=list)
    #: ``[{"line": N, "values": {column: text}}]``; emptied once the batch is done or cancelled.
    rows: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    #: Problems with the whole file (missing columns...): ``[{"code": ..., "params": {...}}]``.
    file_problems: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    finished_at: Mapped[datetime | None]
    #: Counts after confirmation: ``{"created": N, "updated": N, "skipped": N}``.
    summary: Mapped[dict[str, Any] | None]
