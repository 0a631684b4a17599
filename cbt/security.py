"""Access control: every view declares who may call it, and a test sweeps the URL map to keep it so.

``public`` marks the few views anyone may open (sign-in, health check, certificate verification, static
files). ``roles_required()`` with no roles means "any signed-in user". Anything else must not exist: the
access test fails for a view that carries neither mark.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user

from cbt.auth.models import ROLES

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on every view function: ``("public",)`` or the tuple of allowed roles.
ACCESS_ATTR = "_cbt_access"


def public(view: F) -> F:
    setattr(view, ACCESS_ATTR, ("public",))
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only signed-in users with one of ``roles`` (any role when none are named).

    Anonymous users are sent to the sign-in page (with ``next``); a signed-in user with the wrong role gets
    a translated 403 page.
    """
    allowed = roles or ROLES
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from cbt.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, tuple(allowed))
        return wrapped  # type: ignore[return-value]

    return decorator


def safe_next_url(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a local path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def current_path() -> str:
    """The path and query of the current request, for ``next`` parameters."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")
