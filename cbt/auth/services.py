"""Account operations shared by the web views and the CLI. They flush; the caller commits."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from cbt.audit.services import record
from cbt.auth import passwords, throttle
from cbt.auth.models import ROLES, User
from cbt.db import session, utcnow


class AccountError(ValueError):
    """A translated, user-facing reason an account operation was refused."""


def hash_policy() -> passwords.HashPolicy:
    return passwords.HashPolicy(
        memory_kib=int(current_app.config["PASSWORD_HASH_MEMORY_KIB"]),
        time_cost=int(current_app.config["PASSWORD_HASH_TIME_COST"]),
    )


def normalize_username(username: str) -> str:
    return username.strip().lower()


def find_user(username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def password_errors(password: str, username: str) -> list[str]:
    """Translated reasons ``password`` is refused for ``username``."""
    min_length = int(current_app.config["PASSWORD_MIN_LENGTH"])
    messages = {
        passwords.TOO_SHORT: ngettext(
            "The password must have at least %(num)d character.",
            "The password must have at least %(num)d characters.",
            min_length,
        ),
        passwords.SAME_AS_USERNAME: _("The password must not contain the username."),
        passwords.TOO_COMMON: _("This password is too common; choose another."),
    }
    return [messages[p] for p in passwords.password_problems(password, username=username, min_length=min_length)]


def authenticate(username: str, password: str, client_address: str | None = None) -> User | None:
    """The active user with these credentials, or None; the same time is spent either way.

    Raises :class:`~cbt.auth.throttle.SignInThrottled` before looking at the password when this account
    (known or not) or this client address has failed too often lately. A failure is counted for throttling,
    a success clears the account's failures from this address, and a stored hash made with older
    parameters is upgraded on success.
    """
    try:
        throttle.check(username, client_address)
    except throttle.SignInThrottled as refusal:
        record("auth.sign_in_throttled", username=normalize_username(username)[:80], scope=refusal.scope)
        throttle.log_event("auth.sign_in_throttled", username, client_address, scope=refusal.scope,
                           retry_after=refusal.retry_after)
        raise
    policy = hash_policy()
    user = find_user(username)
    ok = policy.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        record("auth.sign_in_failed", actor_id=user.id if user else None, username=normalize_username(username)[:80])
        throttle.record_failure(username, client_address)
        throttle.log_event("auth.sign_in_failed", username, client_address)
        return None
    throttle.clear(username, client_address)
    if policy.needs_rehash(user.password_hash):
        user.password_hash = policy.hash(password)
    user.last_login_at = utcnow()
    record("auth.sign_in", actor_id=user.id, target=f"user:{user.id}")
    return user


def create_user(
    username: str,
    password: str,
    *,
    role: str = "trainee",
    full_name: str | None = None,
    service_number: str | None = None,
    site_id: int | None = None,
    agency_id: int | None = None,
    locale: str | None = None,
    actor_id: int | None = None,
) -> User:
    username = normalize_username(username)
    if not username or len(username) > 80 or any(ch.isspace() for ch in username):
        raise AccountError(_("A username must be 1 to 80 characters without spaces."))
    if role not in ROLES:
        raise AccountError(_("Unknown role %(role)s; use one of: %(roles)s.", role=role, roles=", ".join(ROLES)))
    if locale is not None and locale not in current_app.config["LOCALES"]:
        raise AccountError(_("Unknown language %(locale)s.", locale=locale))
    if session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        raise AccountError(_("The username %(username)s is already taken.", username=username))
    problems = password_errors(password, username)
    if problems:
        raise AccountError(" ".join(problems))
    user = User(
        username=username,
        full_name=(full_name or username).strip(),
        service_number=service_number,
        role=role,
        site_id=site_id,
        agency_id=agency_id,
        locale=locale,
        password_hash=hash_policy().hash(password),
        password_changed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    record("user.create", actor_id=actor_id, target=f"user:{user.id}", role=role)
    return user


def change_password(user: User, current: str, new: str) -> None:
    policy = hash_policy()
    if not policy.verify(user.password_hash, current):
        raise AccountError(_("The current password is not correct."))
    problems = password_errors(new, user.username)
    if problems:
        raise AccountError(" ".join(problems))
    user.password_hash = policy.hash(new)
    user.password_changed_at = utcnow()
    record("user.password_change", actor_id=user.id, target=f"user:{user.id}")
