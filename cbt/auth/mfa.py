"""Two-step verification: TOTP codes from an authenticator app, and one-time recovery codes.

Codes are checked server-side only (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits, one step of clock drift
either way). Each accepted code moves ``last_counter`` forward with a conditional UPDATE, so the same code (or
an older one) is refused if it is sent again, even by two requests racing on two servers. Recovery codes are
random, shown once, stored as salted SHA-256 hashes and spent by a conditional UPDATE as well.

Functions flush; the caller commits. Throttling of wrong codes is the sign-in throttle's (see
:mod:`cbt.auth.services`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from cbt.audit.services import record
from cbt.auth.models import RecoveryCode, TotpCredential, User
from cbt.db import session, utcnow

#: Seconds per code and digits per code: what every authenticator app uses by default.
STEP = 30
DIGITS = 6
#: Steps of clock drift accepted before and after the server's current step.
DRIFT = 1
RECOVERY_CODE_COUNT = 10
#: Letters and digits that cannot be mistaken for one another; 10 of them carry about 49 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10


def credential(user_id: int) -> TotpCredential | None:
    return session.scalar(select(TotpCredential).where(TotpCredential.user_id == user_id))


def is_enabled(user_id: int) -> bool:
    """True when the user has a confirmed authenticator (two-step verification is on)."""
    return bool(session.scalar(
        select(func.count()).select_from(TotpCredential)
        .where(TotpCredential.user_id == user_id, TotpCredential.confirmed_at.is_not(None))
    ))


def recovery_codes_left(user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0


# --- enrolment ------------------------------------------------------------------------------------------

def start_enrolment(user: User) -> TotpCredential:
    """A new, unconfirmed secret for ``user`` (replacing an unconfirmed one); refused when already enabled."""
    existing = credential(user.id)
    if existing is not None and existing.confirmed_at is not None:
        raise ValueError("two-step verification is already on")
    if existing is not None:
        session.delete(existing)
        session.flush()
    row = TotpCredential(user_id=user.id, secret=pyotp.random_base32(32))
    session.add(row)
    session.flush()
    return row


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(
        name=user.username, issuer_name=str(current_app.config["MFA_ISSUER"]))


def qr_svg(uri: str, title: str) -> str:
    """The QR code of ``uri`` as inline SVG markup (made here: no external service, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", title=title,
                                                 svgclass="qr", lineclass=None)


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Turn two-step verification on if ``code`` is right; return the new recovery codes (shown once)."""
    row = credential(user.id)
    if row is None or row.confirmed_at is not None:
        return None
    counter = _matching_step(row.secret, code, row.last_counter)
    if counter is None:
        return None
    row.confirmed_at = utcnow()
    row.last_counter = counter  # the code that confirmed enrolment cannot sign in afterwards
    codes = _new_recovery_codes(user.id)
    session.flush()
    record("auth.mfa_enabled", actor_id=user.id, target=f"user:{user.id}")
    return codes


def reset(user: User, *, actor_id: int | None) -> bool:
    """Remove the user's authenticator and recovery codes (an administrator's help); False if there were none."""
    had = session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id)).rowcount
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    if had:
        record("user.mfa_reset", actor_id=actor_id, target=f"user:{user.id}")
    return bool(had)


# --- sign-in --------------------------------------------------------------------------------------------

def verify_second_factor(user: User, code: str) -> str | None:
    """Spend ``code`` for ``user``: ``"totp"`` or ``"recovery_code"`` when accepted, None when not.

    A six-digit code is an authenticator code; anything else is tried as a recovery code.
    """
    cleaned = "".join(code.split())
    if cleaned.isdigit() and len(cleaned) == DIGITS:
        row = credential(user.id)
        if row is None or row.confirmed_at is None:
            return None
        counter = _matching_step(row.secret, cleaned, row.last_counter)
        if counter is None:
            return None
        moved = session.execute(
            update(TotpCredential)
            .where(TotpCredential.id == row.id,
                   or_(TotpCredential.last_counter.is_(None), TotpCredential.last_counter < counter))
            .values(last_counter=counter)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.expire(row)
        return "totp" if moved == 1 else None
    return "recovery_code" if _spend_recovery_code(user.id, cleaned) else None


def _matching_step(secret: str, code: str, last_counter: int | None, now: float | None = None) -> int | None:
    """The time step whose code is ``code``, later than ``last_counter`` and within the drift; else None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == DIGITS):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    current = int((time.time() if now is None else now) // STEP)
    for counter in range(current - DRIFT, current + DRIFT + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


# --- recovery codes -------------------------------------------------------------------------------------

def _normalize_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash_recovery(code: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.sha256(salt + _normalize_recovery(code).encode()).hexdigest()
    return f"sha256${salt.hex()}${digest}"


def _recovery_matches(stored: str, code: str) -> bool:
    try:
        _scheme, salt, _digest = stored.split("$")
        expected = _hash_recovery(code, bytes.fromhex(salt))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


def _new_recovery_codes(user_id: int) -> list[str]:
    """Replace the user's recovery codes with new ones; return them formatted ``xxxxx-xxxxx``."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user_id, code_hash=_hash_recovery(raw)))
    return codes


def _spend_recovery_code(user_id: int, code: str) -> bool:
    if len(_normalize_recovery(code)) != RECOVERY_LENGTH:
        return False
    rows = session.execute(select(RecoveryCode.id, RecoveryCode.code_hash)
                           .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).all()
    for row_id, stored in rows:
        if _recovery_matches(stored, code):
            spent = session.execute(
                update(RecoveryCode).where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow()).execution_options(synchronize_session=False)
            ).rowcount
            return spent == 1
    return False
