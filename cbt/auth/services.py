"""Account operations shared by the web views and the CLI. They flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from cbt.audit.services import record
from cbt.auth import mfa, passwords, throttle
from cbt.auth.models import ROLES, User
from cbt.db import reading, session, utcnow, writing


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


@dataclass(frozen=True)
class PasswordAccepted:
    """The outcome of a right password for an active account."""

    user: User
    #: Two-step verification is on: the sign-in is only complete after :func:`verify_code`.
    needs_code: bool


def authenticate(username: str, password: str, client_address: str | None = None) -> PasswordAccepted | None:
    """Check a sign-in; None when refused. The same time is spent for known and unknown usernames.

    Raises :class:`~cbt.auth.throttle.SignInThrottled` before looking at the password when this account
    (known or not) or this client address has failed too often lately.

    The work is split so that the slow part holds no lock: the throttle check and the account are read in
    a plain read transaction, which is then ended; argon2 verifies (and, for a hash made with older
    parameters, re-hashes) with no transaction open; then one short write transaction records the outcome:
    a failure row, or the cleared failures, the upgraded hash and the audit record (the caller adds the
    session row and commits). On SQLite, where writers queue for one lock, a sign-in therefore does not make
    autosaves wait for a password hash. The throttle is checked again inside that write transaction, so
    parallel guesses cannot push the outcomes past the limit.

    For an account with two-step verification a right password does not clear its failures: only a right
    code does, otherwise someone who knows the password could keep guessing codes for ever.
    """
    policy = hash_policy()
    with reading():
        refusal = _throttled(username, client_address)
        user = None if refusal else find_user(username)
        needs_code = mfa.is_enabled(user.id if user else 0) and user is not None  # same queries either way
    if refusal is not None:
        with writing():
            _refuse(refusal, username, client_address)
    ok = policy.verify(user.password_hash if user else None, password)
    accepted = user is not None and ok and user.is_active
    new_hash = policy.hash(password) if accepted and policy.needs_rehash(user.password_hash) else None
    with writing():
        refusal = _throttled(username, client_address)
        if refusal is not None:
            _refuse(refusal, username, client_address)
        if not accepted:
            _count_failure("auth.sign_in_failed", user, username, client_address)
            return None
        if new_hash is not None:
            user.password_hash = new_hash
        if needs_code:
            return PasswordAccepted(user, needs_code=True)
        _signed_in(user, username, client_address, method="password")
        return PasswordAccepted(user, needs_code=False)


def verify_code(user_id: int, code: str, client_address: str | None = None) -> User | None:
    """The second step of a sign-in: the user behind the pending sign-in if ``code`` is accepted, else None.

    Wrong codes are counted and throttled exactly like wrong passwords (same account and address counters),
    and a throttled attempt is refused before the code is looked at. Nothing here is slow, so it all runs in
    the request's write transaction; the caller adds the session row and commits.
    """
    with writing():
        user = session.get(User, user_id)
        username = user.username if user is not None else ""
        refusal = _throttled(username, client_address)
        if refusal is not None:
            _refuse(refusal, username, client_address)
        method = mfa.verify_second_factor(user, code) if user is not None and user.is_active else None
        if method is None:
            _count_failure("auth.mfa_failed", user, username, client_address)
            return None
        _signed_in(user, username, client_address, method=method)
        if method == "recovery_code":
            record("auth.mfa_recovery_code_used", actor_id=user.id, target=f"user:{user.id}",
                   left=mfa.recovery_codes_left(user.id))
        return user


def _throttled(username: str, client_address: str | None) -> throttle.SignInThrottled | None:
    try:
        throttle.check(username, client_address)
    except throttle.SignInThrottled as refusal:
        return refusal
    return None


def _refuse(refusal: throttle.SignInThrottled, username: str, client_address: str | None) -> NoReturn:
    record("auth.sign_in_throttled", username=normalize_username(username)[:80], scope=refusal.scope)
    throttle.log_event("auth.sign_in_throttled", username, client_address, scope=refusal.scope,
                       retry_after=refusal.retry_after)
    session.flush()  # inside the caller's write block, so SQLite takes the write lock here, not at commit
    raise refusal


def _count_failure(event: str, user: User | None, username: str, client_address: str | None) -> None:
    record(event, actor_id=user.id if user else None, username=normalize_username(username)[:80])
    throttle.record_failure(username, client_address)
    throttle.log_event(event, username, client_address)


def _signed_in(user: User, username: str, client_address: str | None, *, method: str) -> None:
    throttle.clear(username, client_address)
    user.last_login_at = utcnow()
    second_factor = {} if method == "password" else {"second_factor": method}
    record("auth.sign_in", actor_id=user.id, target=f"user:{user.id}", **second_factor)


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
    must_change_password: bool = False,
) -> User:
    """Create an account (flush only). ``must_change_password`` for a password someone else chose."""
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
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    record("user.create", actor_id=actor_id, target=f"user:{user.id}", role=role)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """The user's own change: needs the current password; clears a forced change.

    Nothing here touches the database before both hashes are done, so a caller that ended its transaction
    first (the view does) hashes without holding a lock; the changes are flushed with the caller's commit.
    """
    policy = hash_policy()
    if not policy.verify(user.password_hash, current):
        raise AccountError(_("The current password is not correct."))
    problems = password_errors(new, user.username)
    if problems:
        raise AccountError(" ".join(problems))
    user.password_hash = policy.hash(new)
    user.password_changed_at = utcnow()
    forced, user.must_change_password = user.must_change_password, False
    record("user.password_change", actor_id=user.id, target=f"user:{user.id}", **({"forced": True} if forced else {}))
