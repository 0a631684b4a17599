"""Settings: defaults here, then ``CBT_*`` environment variables, then the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    #: SQLAlchemy URL; None means an SQLite file ``cbt.sqlite3`` in the instance folder.
    "DATABASE_URL": None,
    #: None means: read or create ``secret_key`` (mode 0600) in the instance folder.
    "SECRET_KEY": None,
    #: UI language when neither the user, the switcher nor the browser decides.
    "DEFAULT_LOCALE": "kk",
    "LOCALES": ("kk", "ru", "en"),
    #: Order in which a missing lesson language falls back.
    "CONTENT_FALLBACK": ("kk", "ru", "en"),
    "SESSION_IDLE_MINUTES": 20,
    "SESSION_ABSOLUTE_HOURS": 12,
    "PASSWORD_MIN_LENGTH": 12,
    #: Failed sign-ins allowed per account and client address within the window (0 = no limit).
    "SIGNIN_MAX_FAILURES": 5,
    #: Failed sign-ins allowed per client address over all accounts: high, a classroom shares one NAT address.
    "SIGNIN_MAX_FAILURES_PER_ADDRESS": 100,
    "SIGNIN_WINDOW_MINUTES": 15,
    #: Number of reverse proxies in front of the server whose X-Forwarded-For/-Proto are trusted (0 = none).
    #: Behind a TLS proxy set 1, or every trainee shares the proxy's address for sign-in throttling.
    "PROXY_COUNT": 0,
    "PASSWORD_HASH_MEMORY_KIB": 19 * 1024,
    "PASSWORD_HASH_TIME_COST": 2,
    "SQLITE_BUSY_TIMEOUT_MS": 15000,
    #: Set true when served over HTTPS (behind a TLS proxy on a central server): Secure cookies, HSTS, and the
    #: session cookie named with the ``__Host-`` prefix (the browser then refuses it without HTTPS and Path=/).
    "SECURE_COOKIES": False,
    #: Two-step verification for administrators: "optional" (staff may enrol) or "required" (an administrator
    #: without it is sent to enrol before any other page).
    "ADMIN_MFA": "optional",
    #: The name authenticator apps show next to the account.
    "MFA_ISSUER": "CBT",
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "SQL_ECHO": False,
}


ADMIN_MFA_MODES = ("optional", "required")
SESSION_COOKIE = "cbt_session"
SECURE_SESSION_COOKIE = "__Host-cbt_session"


def configure(app: Flask, config: dict[str, Any] | None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("CBT")
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + str(Path(app.instance_path) / "cbt.sqlite3")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    for key in ("LOCALES", "CONTENT_FALLBACK"):
        value = app.config[key]
        if isinstance(value, str):
            app.config[key] = tuple(part.strip() for part in value.split(",") if part.strip())
    if app.config["DEFAULT_LOCALE"] not in app.config["LOCALES"]:
        raise ValueError(f"CBT_DEFAULT_LOCALE must be one of {app.config['LOCALES']}")
    app.config["ADMIN_MFA"] = str(app.config["ADMIN_MFA"]).strip().lower()
    if app.config["ADMIN_MFA"] not in ADMIN_MFA_MODES:
        raise ValueError(f"CBT_ADMIN_MFA must be one of {ADMIN_MFA_MODES}")
    secure = bool(app.config["SECURE_COOKIES"])
    app.config.update(
        # ``__Host-`` makes the browser accept the cookie only if it is Secure, has Path=/ and no Domain, so a
        # sibling host or a plain-HTTP page cannot plant or overwrite it. Plain-HTTP classrooms keep the plain
        # name: the browser would refuse the prefixed one without HTTPS.
        SESSION_COOKIE_NAME=SECURE_SESSION_COOKIE if secure else SESSION_COOKIE,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        # The CSRF token lives as long as the signed-in session; an exam lasting longer than an hour must not
        # lose its final submit to Flask-WTF's default one-hour limit.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
        BABEL_DEFAULT_LOCALE=app.config["DEFAULT_LOCALE"],
    )


def _instance_secret(path: Path) -> str:
    """Read the instance's secret key, creating it once with owner-only permissions."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:  # another worker created it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
