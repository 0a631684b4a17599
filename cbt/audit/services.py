"""Recording audit events. Adds to the session; the caller commits with its own unit of work."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from cbt.audit.models import AuditEvent
from cbt.db import session


def record(action: str, *, actor_id: int | None = None, target: str | None = None, **details: Any) -> AuditEvent:
    address = request.remote_addr if has_request_context() else None
    event = AuditEvent(action=action, actor_id=actor_id, target=target, details=details, client_address=address)
    session.add(event)
    return event
