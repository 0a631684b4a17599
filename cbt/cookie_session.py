"""Flask's signed-cookie session, with each distinct cookie's signature checked once per process.

A signed-in user sends the same session cookie with every request (the session token, the CSRF secret, the
language), and Flask checks its HMAC and decodes it each time: an eighth of a lesson page. Here a cookie whose
signature was verified, byte for byte the same and under the same keys, is found again by lookup instead. The
age limit is applied on every request as before; a cookie that fails the check is checked in full again
(and fails again) each time it is sent.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

if TYPE_CHECKING:
    from flask import Flask, Request

#: Distinct cookies remembered per process: a few classrooms of trainees, each with one cookie at a time.
REMEMBERED = 4096

_SCALARS = (str, int, float, bool, type(None))


class RememberingCookieSessions(SecureCookieSessionInterface):
    """Remembers cookies that hold only plain values; one holding a list or a dict (flashed messages) is
    decoded every time, as a request may change those in place."""

    def __init__(self) -> None:
        self._verified = functools.lru_cache(maxsize=REMEMBERED)(self._verify)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        verified = self._verified(app, keys, value)
        if verified is None:
            return super().open_session(app, request)
        signed_at, items = verified
        # As itsdangerous checks it: whole seconds, neither older than the limit nor from the future.
        age = int(time.time()) - signed_at
        if age < 0 or age > int(app.permanent_session_lifetime.total_seconds()):
            return self.session_class()
        return self.session_class(items)

    def _verify(self, app: Flask, keys: tuple[Any, ...], value: str) -> tuple[int, tuple[tuple[str, Any], ...]] | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed_at = serializer.loads(value, return_timestamp=True)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not all(isinstance(item, _SCALARS) for item in data.values()):
            return None
        return int(signed_at.timestamp()), tuple(data.items())
