"""Audit events. Rows are only ever inserted; nothing in the application updates or deletes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cbt.db import Base, UUIDMixin, utcnow


class AuditEvent(UUIDMixin, Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: None for the system or a failed sign-in by an unknown name.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Dotted verb, e.g. ``auth.sign_in``, ``auth.sign_in_failed``, ``user.create``, ``course.import``.
    action: Mapped[str] = mapped_column(String(60), index=True)
    #: What the action was about, e.g. ``user:12`` or ``course:vehicle-inspection@3``.
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    client_address: Mapped[str | None] = mapped_column(String(64))
