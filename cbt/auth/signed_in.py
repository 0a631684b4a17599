"""The user a request is signed in as, without the ORM.

Every signed-in request checks its session and needs the user's id, role and language; few need more. Making
a mapped ``User`` of the row costs more than reading it (measured on the lesson page: a tenth of the request),
so the request carries the row's values and makes the mapped object only when a view asks for something else
(a relationship such as ``site``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cbt.auth.models import User

#: What the signed-in request carries: what pages and access checks read. Not the password hash nor the
#: timestamps, whose conversion is most of what reading them costs.
COLUMNS = ("id", "username", "full_name", "service_number", "role", "agency_id", "site_id", "locale",
           "is_active", "must_change_password")


class SignedInUser:
    """The signed-in user's :data:`COLUMNS` as attributes, plus the Flask-Login protocol.

    Read-only, so no change can be lost by not being flushed: a view that changes the user loads it in its
    transaction (``db.get(User, current_user.id)``). Anything else (relationships, the other columns) is
    looked up on the mapped ``User``, loaded in the request's session on first use.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, values: Mapping[str, Any], session_token: str) -> None:
        fields = {name: values[name] for name in COLUMNS}
        fields["session_token"] = session_token
        self.__dict__.update(fields)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"the signed-in user is read-only; load User {self.id} to change {name!r}")

    def __getattr__(self, name: str) -> Any:
        # Called only for what the instance does not hold.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.record(), name)

    def record(self) -> User:
        """The mapped ``User`` in the request's session (the one it already holds, if any)."""
        from cbt.db import session

        held = self.__dict__.get("_record")
        if held is None:
            held = session.get(User, self.id)
            if held is None:  # deleted since the session check: users are deactivated, not deleted
                raise LookupError(f"user {self.id} is gone")
            held.session_token = self.session_token
            self.__dict__["_record"] = held
        return held

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the session token (see ``User.get_id``)."""
        return self.session_token  # type: ignore[no-any-return]

    def has_role(self, *roles: str) -> bool:
        return self.role in roles  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<SignedInUser {self.id} {self.username!r}>"
