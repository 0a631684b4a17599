"""Users and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db import Base, UUIDMixin, utcnow
from cbt.org.models import Agency, Site

ROLES = ("trainee", "trainer", "admin")


class User(UUIDMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased: officers type their username on shared keyboards in any case.
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    service_number: Mapped[str | None] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(10), default="trainee")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    #: Preferred UI language; None until the user picks one.
    locale: Mapped[str | None] = mapped_column(String(5))
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    #: Set when an administrator created the account or reset its password: the password they handed over
    #: must be replaced before the user can open any other page. Cleared by the user's own password change.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    agency: Mapped[Agency | None] = relationship()
    site: Mapped[Site | None] = relationship()

    #: Token of the server-side session this object was loaded for (not a column).
    session_token = None  # type: str | None  (set per instance by the session loader)

    # Flask-Login protocol. ``is_active`` is the column above.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        """Flask-Login stores this in the cookie: the session token, never the user id.

        So a cookie names a server-side session that sign-out can end, and a copy of the cookie taken
        before sign-out is worthless afterwards.
        """
        return self.session_token

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class UserSession(Base):
    """One signed-in session on one terminal; ended at sign-out, idle timeout or absolute timeout."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: SHA-256 of the random token held in the cookie; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    #: signed_out | idle | expired | password_changed | password_reset | deactivated | ended_by_user | mfa_reset
    ended_reason: Mapped[str | None] = mapped_column(String(20))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(lazy="joined")


class SignInFailure(Base):
    """One failed sign-in, kept only as long as the throttling window needs it.

    The counters live in the database, not in a worker's memory, so every waitress thread, gunicorn worker
    and server behind a load balancer sees the same count. Rows carry no password and no user id: a
    mistyped or unknown username is counted exactly like a real one.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_client_address_created_at", "username", "client_address", "created_at"),
        Index("ix_sign_in_failures_client_address_created_at", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Normalized (stripped, lower-cased, at most 80 characters) as typed, whether or not such a user exists.
    username: Mapped[str] = mapped_column(String(80))
    client_address: Mapped[str] = mapped_column(String(64))
    #: Also what pruning deletes by.
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TotpCredential(Base):
    """A user's authenticator-app secret (RFC 6238 TOTP, 30-second steps, 6 digits).

    Created unconfirmed when enrolment starts; two-step verification is on only once ``confirmed_at`` is set by
    a valid code. The secret must be readable to check codes, so it is stored as is: it is shown to its owner
    during enrolment and never again, and an administrator (or `cbt users reset-2fa`) can only remove it.
    """

    __tablename__ = "totp_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    #: Base32, 160 random bits.
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: None while enrolment waits for the first valid code.
    confirmed_at: Mapped[datetime | None]
    #: Time step of the last accepted code: a code is accepted only for a later step, so it cannot be replayed.
    last_counter: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """A one-time code for signing in without the authenticator app; only a salted SHA-256 hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``sha256$<salt hex>$<digest hex>`` of the normalized code.
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
