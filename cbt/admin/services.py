"""Administration operations: accounts, organisation, bulk import. They flush and audit; the view commits.

Accounts are never deleted (their attempts, completions and certificates are history); they are
deactivated, which also ends every open session at once. An administrator cannot deactivate themselves
or change their own role, so a site cannot lose its last administrator by a slip of the mouse.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from cbt.admin import importing
from cbt.admin.models import UserImport
from cbt.audit.services import record
from cbt.auth import mfa
from cbt.auth import services as accounts
from cbt.auth.models import ROLES, User
from cbt.auth.sessions import end_all_sessions
from cbt.db import session, utcnow
from cbt.org.models import Agency, Country, Site

#: Letters and digits that cannot be mistaken for one another when read from a screen or paper.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet, not a password
#: A pending import older than this can no longer be confirmed.
IMPORT_LIFETIME = timedelta(hours=24)

AccountError = accounts.AccountError


def generate_password(username: str) -> str:
    """A random initial password, ``xxxx-xxxx-xxxx-xxxx`` (about 78 bits), that the policy accepts."""
    for _attempt in range(100):
        password = "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
        if not accounts.password_errors(password, username):
            return password
    raise RuntimeError("could not generate an acceptable password")  # pragma: no cover - policy misconfigured


# --- accounts -------------------------------------------------------------------------------------------

def create_account(*, username: str, full_name: str, service_number: str | None, role: str,
                   agency_id: int | None, site_id: int | None, locale: str | None, actor_id: int) -> tuple[User, str]:
    """Create an account with a random initial password; return both (the password is shown once).

    The user must replace that password at the first sign-in: the administrator (and whoever saw the screen
    or the printout) knows it.
    """
    password = generate_password(accounts.normalize_username(username))
    user = accounts.create_user(
        username, password, role=role, full_name=full_name, service_number=service_number or None,
        agency_id=agency_id, site_id=site_id, locale=locale or None, actor_id=actor_id, must_change_password=True,
    )
    return user, password


def update_account(user: User, *, actor_id: int, **fields: Any) -> list[str]:
    """Change the given fields; audit what changed (a role change as its own event). Returns changed names."""
    role = fields.get("role", user.role)
    if role not in ROLES:
        raise AccountError(_("Unknown role %(role)s; use one of: %(roles)s.", role=role, roles=", ".join(ROLES)))
    if user.id == actor_id and role != user.role:
        raise AccountError(_("You cannot change your own role."))
    locale = fields.get("locale")
    if locale and locale not in current_app.config["LOCALES"]:
        raise AccountError(_("Unknown language %(locale)s.", locale=locale))
    changed = []
    old_role = user.role
    for name, value in fields.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    if not changed:
        return changed
    session.flush()
    if "role" in changed:
        record("user.role_change", actor_id=actor_id, target=f"user:{user.id}", old=old_role, new=user.role)
    others = [c for c in changed if c != "role"]
    if others:
        record("user.update", actor_id=actor_id, target=f"user:{user.id}", fields=sorted(others))
    return changed


def set_active(user: User, active: bool, *, actor_id: int) -> bool:
    """Deactivate (ending every session of the user at once) or reactivate; False if nothing changed."""
    if user.id == actor_id and not active:
        raise AccountError(_("You cannot deactivate your own account."))
    if user.is_active == active:
        return False
    user.is_active = active
    if not active:
        end_all_sessions(user.id, "deactivated")
    session.flush()
    record("user.reactivate" if active else "user.deactivate", actor_id=actor_id, target=f"user:{user.id}")
    return True


def reset_password(user: User, *, actor_id: int) -> str:
    """Give the user a new random password (shown once to the administrator) and end their sessions.

    The user must replace it at the next sign-in.
    """
    password = generate_password(user.username)
    user.password_hash = accounts.hash_policy().hash(password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    end_all_sessions(user.id, "password_reset")
    session.flush()
    record("user.password_reset", actor_id=actor_id, target=f"user:{user.id}")
    return password


def reset_two_factor(user: User, *, actor_id: int | None, keep_token: str | None = None) -> bool:
    """Turn the user's two-step verification off (a lost phone) and end their sessions; audited.

    False when the user had none. ``keep_token`` spares the acting administrator's own session; ``actor_id``
    is None when the server's operator does it from the command line (the only way back for a sole administrator).
    """
    if not mfa.reset(user, actor_id=actor_id):
        return False
    end_all_sessions(user.id, "mfa_reset", keep_token=keep_token)
    session.flush()
    return True


# --- organisation ---------------------------------------------------------------------------------------

def code_taken(model: type[Country] | type[Agency] | type[Site], code: str, exclude_id: int | None = None) -> bool:
    stmt = select(func.count()).select_from(model).where(func.lower(model.code) == code.lower())
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return bool(session.scalar(stmt))


def save_org(obj: Country | Agency | Site, values: dict[str, Any], *, actor_id: int) -> None:
    """Create (``obj.id`` None) or update an organisation record; audited as ``org.<kind>_create|update``."""
    creating = obj.id is None
    changed = sorted(k for k, v in values.items() if getattr(obj, k, None) != v)
    for key, value in values.items():
        setattr(obj, key, value)
    if creating:
        session.add(obj)
    session.flush()
    if creating or changed:
        kind = type(obj).__name__.lower()
        record(f"org.{kind}_{'create' if creating else 'update'}", actor_id=actor_id, target=f"{kind}:{obj.id}",
               code=obj.code, fields=changed)


# --- bulk import ----------------------------------------------------------------------------------------

def known() -> importing.Known:
    return importing.Known(
        agencies=list(session.scalars(select(Agency.code))),
        sites=list(session.scalars(select(Site.code))),
        locales=tuple(current_app.config["LOCALES"]),
    )


def start_import(filename: str, data: bytes, *, actor_id: int) -> UserImport:
    """Parse the upload and keep its rows server-side under a random token (file problems raise)."""
    parsed = importing.parse(data)
    # Abandoned uploads do not keep personal data: stale pending batches are emptied here.
    session.execute(
        update(UserImport).where(UserImport.status == "pending", UserImport.created_at < utcnow() - IMPORT_LIFETIME)
        .values(status="cancelled", rows=[], finished_at=utcnow())
    )
    batch = UserImport(
        token=secrets.token_urlsafe(24), created_by_id=actor_id, filename=(filename or "")[:255],
        columns=parsed.columns, rows=parsed.rows, file_problems=[p.as_dict() for p in parsed.problems],
    )
    session.add(batch)
    session.flush()
    return batch


def pending_import(token: str, actor_id: int) -> UserImport | None:
    """The actor's own batch, if it exists and is not stale."""
    batch = session.scalar(select(UserImport).where(UserImport.token == token, UserImport.created_by_id == actor_id))
    if batch is None or (batch.status == "pending" and utcnow() - batch.created_at > IMPORT_LIFETIME):
        return None
    return batch


@dataclass
class Preview:
    rows: list[dict[str, Any]]
    problems: list[importing.Problem]
    #: Lines of rows that would update an existing account.
    updates: set[int]

    @property
    def bad_lines(self) -> set[int]:
        return {p.line for p in self.problems if p.line}

    @property
    def valid_rows(self) -> list[dict[str, Any]]:
        bad = self.bad_lines
        return [r for r in self.rows if r["line"] not in bad]


def preview(batch: UserImport) -> Preview:
    problems = importing.check(batch.rows, known())
    usernames = [importing.normalize_username(r["values"].get("username", "")) for r in batch.rows]
    existing = set(session.scalars(select(User.username).where(User.username.in_([u for u in usernames if u]))))
    updates = {r["line"] for r, u in zip(batch.rows, usernames, strict=True) if u in existing}
    return Preview(batch.rows, problems, updates)


@dataclass
class ImportResult:
    created: list[tuple[str, str, str]]
    updated: int
    unchanged: int
    skipped: int


class ImportRefused(ValueError):
    """The batch cannot be imported as asked (invalid rows without "valid rows only", or already done)."""


def confirm_import(batch: UserImport, *, valid_only: bool, actor_id: int) -> ImportResult:
    """Create or update the accounts of the batch, all in the caller's transaction.

    Idempotent by username: a row for an existing account updates it (empty cells leave a value as it
    is); a new username gets an account with a random password, returned once. Refused when any row is
    invalid, unless ``valid_only``. The batch is claimed by a conditional update, so a double submit
    imports once.
    """
    checked = preview(batch)
    if checked.problems and not valid_only:
        raise ImportRefused("invalid rows")
    claimed = session.execute(
        update(UserImport).where(UserImport.id == batch.id, UserImport.status == "pending")
        .values(status="done", finished_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise ImportRefused("already finished")
    rows = checked.valid_rows
    agencies = {a.code.lower(): a.id for a in session.scalars(select(Agency))}
    sites = {s.code.lower(): s.id for s in session.scalars(select(Site))}
    usernames = [importing.normalize_username(r["values"]["username"]) for r in rows]
    existing = {u.username: u for u in session.scalars(select(User).where(User.username.in_(usernames)))}
    result = ImportResult([], 0, 0, len(checked.rows) - len(rows))
    for row, username in zip(rows, usernames, strict=True):
        values = row["values"]
        fields: dict[str, Any] = {"full_name": values["full_name"], "role": values["role"].lower()}
        if values.get("service_number"):
            fields["service_number"] = values["service_number"]
        if values.get("agency"):
            fields["agency_id"] = agencies[values["agency"].lower()]
        if values.get("site"):
            fields["site_id"] = sites[values["site"].lower()]
        if values.get("locale"):
            fields["locale"] = values["locale"].lower()
        user = existing.get(username)
        if user is None:
            user, password = create_account(
                username=username, full_name=fields["full_name"], service_number=fields.get("service_number"),
                role=fields["role"], agency_id=fields.get("agency_id"), site_id=fields.get("site_id"),
                locale=fields.get("locale"), actor_id=actor_id,
            )
            result.created.append((user.username, user.full_name, password))
        else:
            if user.id == actor_id:
                fields.pop("role")  # never one's own role, even by import
            if update_account(user, actor_id=actor_id, **fields):
                result.updated += 1
            else:
                result.unchanged += 1
    batch.status = "done"
    batch.rows = []
    batch.summary = {"created": len(result.created), "updated": result.updated, "unchanged": result.unchanged,
                     "skipped": result.skipped}
    record("users.import", actor_id=actor_id, target=f"import:{batch.id}", filename=batch.filename,
           **batch.summary)
    session.flush()
    return result


def cancel_import(batch: UserImport, *, actor_id: int) -> None:
    if batch.status != "pending":
        return
    batch.status = "cancelled"
    batch.finished_at = utcnow()
    batch.rows = []
    session.flush()
    record("users.import_cancel", actor_id=actor_id, target=f"import:{batch.id}", filename=batch.filename)
