"""Sign-in throttling that a classroom behind one NAT address survives.

Failed sign-ins are counted twice: per account *and* client address (a low ceiling, 5 in 15 minutes by
default) and per client address overall (a high ceiling, 100 in 15 minutes). Thirty trainees behind the
classroom router share one address, so an address-only limit low enough to stop guessing would lock the
whole class out after a few typos; an account-only limit would let anyone lock any officer out from
anywhere. The pair throttles the targeted account on the address that attacks it and still caps what one
address can try across many accounts.

The counters are rows in ``sign_in_failures`` (never process memory), so every thread, worker and server
sharing the database sees the same numbers. Rows older than the window are pruned when a failure is
recorded. An unknown username is counted exactly like a real one, and a throttled attempt is refused
before its password is looked at, so neither the answer nor its timing says whether the account exists.

Throttled attempts are not counted as failures: otherwise an attacker who keeps trying would keep the real
officer locked out for ever; the lock ends at most one window after the failures that caused it.

A sign-in checks twice: once before the password hash is verified (no transaction open during argon2, see
:func:`cbt.auth.services.authenticate`) and again inside the short write transaction that records the
outcome. On SQLite that second check and the insert are serialized, so no outcome is accepted past the
ceiling; on PostgreSQL a burst of parallel guesses can overshoot it by at most the number of requests
served at once. Wrong second-step codes are counted here too, under the same account and address.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import delete, func, select

from cbt.auth.models import SignInFailure
from cbt.db import session, utcnow

#: Security events go to their own logger so an operator can route them (syslog, SIEM) separately.
security_log = logging.getLogger("cbt.security")

#: Stored when the server does not know the client's address (never the case behind waitress or gunicorn).
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class Limits:
    per_account: int
    per_address: int
    window: timedelta


def limits() -> Limits:
    config = current_app.config
    return Limits(
        per_account=int(config["SIGNIN_MAX_FAILURES"]),
        per_address=int(config["SIGNIN_MAX_FAILURES_PER_ADDRESS"]),
        window=timedelta(minutes=float(config["SIGNIN_WINDOW_MINUTES"])),
    )


class SignInThrottled(Exception):  # noqa: N818 - a refusal, not an error
    """Too many recent failures for this account from this address, or from this address overall.

    ``scope`` is ``"account"`` or ``"address"`` (for logs and audit only; the page says the same either
    way) and ``retry_after`` the whole seconds until an attempt will be considered again.
    """

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(scope, retry_after)
        self.scope = scope
        self.retry_after = retry_after

    def message(self) -> str:
        """The translated text for the sign-in page (identical for known and unknown usernames)."""
        minutes = max(1, math.ceil(self.retry_after / 60))
        return ngettext(
            "Too many failed sign-in attempts. Wait %(num)d minute and try again, or ask your training "
            "coordinator for help.",
            "Too many failed sign-in attempts. Wait %(num)d minutes and try again, or ask your training "
            "coordinator for help.",
            minutes,
        )


def normalize(username: str, address: str | None) -> tuple[str, str]:
    """The key stored for an attempt: username as the account lookup sees it, address as given."""
    return username.strip().lower()[:80], (address or UNKNOWN_ADDRESS)[:64]


def check(username: str, address: str | None) -> None:
    """Raise :class:`SignInThrottled` when this attempt must be refused without checking the password."""
    username, address = normalize(username, address)
    rules = limits()
    now = utcnow()
    since = now - rules.window
    for scope, ceiling, condition in (
        ("account", rules.per_account, (SignInFailure.username == username)),
        ("address", rules.per_address, None),
    ):
        if ceiling <= 0:  # 0 switches a limit off
            continue
        where = [SignInFailure.client_address == address, SignInFailure.created_at >= since]
        if condition is not None:
            where.append(condition)
        count = session.scalar(select(func.count()).select_from(SignInFailure).where(*where)) or 0
        if count >= ceiling:
            # The attempt is allowed again when this failure leaves the window: then fewer than ``ceiling`` remain.
            freeing = session.scalar(
                select(SignInFailure.created_at).where(*where).order_by(SignInFailure.created_at)
                .offset(count - ceiling).limit(1)
            )
            left = (freeing + rules.window - now).total_seconds() if freeing else rules.window.total_seconds()
            raise SignInThrottled(scope, max(1, math.ceil(left)))


def record_failure(username: str, address: str | None) -> None:
    """Count one failed sign-in and prune rows no window needs any more (flush only)."""
    username, address = normalize(username, address)
    now = utcnow()
    session.execute(delete(SignInFailure).where(SignInFailure.created_at < now - limits().window))
    session.add(SignInFailure(username=username, client_address=address, created_at=now))
    session.flush()


def clear(username: str, address: str | None) -> None:
    """Forget this account's failures from this address after it signed in successfully."""
    username, address = normalize(username, address)
    session.execute(
        delete(SignInFailure).where(SignInFailure.username == username, SignInFailure.client_address == address)
    )


def log_event(event: str, username: str, address: str | None, **fields: object) -> None:
    """Write a structured security event: a readable line plus the fields as ``LogRecord`` attributes.

    The username is what an anonymous client typed, so it is shown with ``%r`` (no forged log lines).
    """
    username, address = normalize(username, address)
    level = logging.WARNING if event == "auth.sign_in_throttled" else logging.INFO
    security_log.log(
        level,
        "%s username=%r client_address=%s %s",
        event,
        username,
        address,
        " ".join(f"{key}={value}" for key, value in sorted(fields.items())),
        extra={"security_event": event, "username": username, "client_address": address, **fields},
    )
