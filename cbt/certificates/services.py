"""Issuing, finding and revoking certificates. Functions flush; the caller commits.

A verification code is 12 characters of Crockford's base32 (60 random bits from ``secrets``): short enough
to read over the telephone or type from paper, shown as ``XXXX-XXXX-XXXX``; typing is forgiving (case,
dashes, spaces, and the look-alikes O/0 and I/L/1 do not matter).
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select

from cbt.audit.services import record
from cbt.certificates.models import Certificate
from cbt.db import insert_ignoring_conflicts, session, utcnow
from cbt.learn.models import CourseCompletion

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``ABCD2345WXYZ`` -> ``ABCD-2345-WXYZ``."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(typed: str) -> str | None:
    """The stored form of a code as a person typed it, or None when it cannot be a code."""
    cleaned = "".join(ch for ch in typed.upper() if not ch.isspace() and ch not in "-_.").translate(_LOOK_ALIKES)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def ensure_certificate(user_id: int, course_id: int) -> Certificate | None:
    """The certificate of the user's completion of the course, issued now if it does not exist yet.

    The unique key on ``completion_id`` decides between racing requests, so a completion never gets two.
    Returns None when the course is not completed.
    """
    completion = session.scalar(
        select(CourseCompletion).where(CourseCompletion.user_id == user_id, CourseCompletion.course_id == course_id)
    )
    if completion is None:
        return None
    existing = session.scalar(select(Certificate).where(Certificate.completion_id == completion.id))
    if existing is not None:
        return existing
    session.execute(insert_ignoring_conflicts(
        Certificate,
        {"completion_id": completion.id, "user_id": user_id, "course_id": course_id, "code": new_code(),
         "issued_at": utcnow(), "uuid": uuid.uuid4()},
        ["completion_id"],
    ))
    return session.scalar(
        select(Certificate).where(Certificate.completion_id == completion.id).execution_options(populate_existing=True)
    )


def find_by_code(typed: str) -> Certificate | None:
    code = normalize_code(typed)
    if code is None:
        return None
    return session.scalar(select(Certificate).where(Certificate.code == code))


def revoke(certificate: Certificate, *, actor_id: int, reason: str) -> bool:
    """Revoke once (a second revocation keeps the first date and reason); audited. True if revoked now."""
    if certificate.revoked_at is not None:
        return False
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = actor_id
    certificate.revoked_reason = reason
    session.flush()
    record("certificate.revoke", actor_id=actor_id, target=f"certificate:{certificate.id}",
           code=certificate.code, user_id=certificate.user_id, course_id=certificate.course_id)
    return True
