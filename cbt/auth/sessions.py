"""Server-side sessions: the cookie holds a random token, the database decides whether it is still good.

Flask's signed-cookie session cannot be revoked; on a shared classroom terminal a copy of the cookie taken
before sign-out must stop working, so every authenticated request checks its row here. Rows are touched at
most once a minute to keep page views free of writes on the hot path.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, g, request
from sqlalchemy import bindparam, select, update

from cbt.auth import signed_in
from cbt.auth.models import User, UserSession
from cbt.auth.signed_in import SignedInUser
from cbt.db import read_target, session, utcnow, write_transaction
from cbt.driver_read import DriverRead

TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=float(current_app.config["SESSION_IDLE_MINUTES"]))


def absolute_limit() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_ABSOLUTE_HOURS"]))


def start_session(user: User) -> str:
    """Create a session row for ``user`` and return the token for the cookie (flush only)."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=_hash(token),
        client_address=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:255] or None,
    )
    session.add(row)
    session.flush()
    user.session_token = token
    return token


def end_session(token: str | None, reason: str) -> None:
    if not token:
        return
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )


def end_all_sessions(user_id: int, reason: str, *, keep_token: str | None = None) -> int:
    """End every open session of a user (password change, deactivation), optionally sparing the caller's.

    Returns how many were ended.
    """
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != _hash(keep_token))
    return session.execute(stmt.values(ended_at=utcnow(), ended_reason=reason)).rowcount


#: Every authenticated request runs this, through the driver: one row with the user and the session's times.
_LIVE_SESSION = DriverRead(
    select(
        *(getattr(User, name) for name in signed_in.COLUMNS),
        UserSession.id.label("session_id"),
        UserSession.last_seen_at.label("session_last_seen_at"), UserSession.created_at.label("session_created_at"),
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"), UserSession.ended_at.is_(None))
)


def load_user_from_token(token: str) -> SignedInUser | None:
    """Flask-Login's user loader: the live user behind ``token``, or None.

    An idle or over-age session is ended here and flagged on ``g`` so the sign-in page can say why.
    """
    found = _live_session(_hash(token))
    if found is None:  # no such session, or it has ended
        return None
    now = utcnow()
    user = SignedInUser(found._asdict(), token)
    if not user.is_active:
        reason = "deactivated"
    elif now - found.session_last_seen_at > idle_limit() and not _idle_exempt(user):
        reason = "idle"
    elif now - found.session_created_at > absolute_limit():
        reason = "expired"
    else:
        reason = None
    if reason is not None:
        with write_transaction():
            end_session(token, reason)
        g.session_end_reason = reason
        return None
    if now - found.session_last_seen_at > TOUCH_EVERY:
        with write_transaction() as db:
            db.execute(update(UserSession).where(UserSession.id == found.session_id).values(last_seen_at=now))
    return user


def _live_session(token_hash: str) -> Any:
    # The first statement of a request: it runs outside any transaction (see cbt.driver_read), so a request
    # that writes holds SQLite's single write lock for its own writes only, not while its form is checked.
    return _LIVE_SESSION.first(read_target(), {"token_hash": token_hash})


def _idle_exempt(user: User | SignedInUser) -> bool:
    """Hook for features that keep a session alive while idle (an open timed exam)."""
    checks = current_app.extensions.get("cbt.idle_exemptions", [])
    return any(check(user) for check in checks)


def active_sessions(user: User | SignedInUser) -> list[UserSession]:
    """The user's sessions that would still be accepted now, newest first (for "My sessions")."""
    now = utcnow()
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
               UserSession.created_at > now - absolute_limit())
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    exempt = _idle_exempt(user)
    return [row for row in rows if exempt or now - row.last_seen_at <= idle_limit()]


def is_current(row: UserSession, token: str | None) -> bool:
    return bool(token) and row.token_hash == _hash(token or "")


def end_own_session(user_id: int, session_id: int, reason: str = "ended_by_user") -> bool:
    """End one of the user's own open sessions; False when there is no such open session of theirs."""
    ended = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    ).rowcount
    return ended == 1


_BROWSERS = (("Edge", r"Edg(?:e|A|iOS)?/(\d+)"), ("Opera", r"OPR/(\d+)"), ("Yandex", r"YaBrowser/(\d+)"),
             ("Firefox", r"Firefox/(\d+)"), ("Chrome", r"Chrom(?:e|ium)/(\d+)"), ("Safari", r"Version/(\d+).*Safari/"))
_SYSTEMS = (("Android", "Android"), ("iOS", "iPhone"), ("iOS", "iPad"), ("Windows", "Windows"),
            ("macOS", "Mac OS X"), ("ChromeOS", "CrOS"), ("Linux", "Linux"))


def short_agent(user_agent: str | None) -> str:
    """A browser and system a person recognises ("Firefox 128, Windows") from a User-Agent header."""
    text = user_agent or ""
    browser = next((f"{name} {match.group(1)}" for name, pattern in _BROWSERS
                    if (match := re.search(pattern, text))), None)
    system = next((name for name, token in _SYSTEMS if token in text), None)
    parts = [part for part in (browser, system) if part]
    if parts:
        return ", ".join(parts)
    return text[:40] + ("…" if len(text) > 40 else "")
