"""Pages rendered once and kept with holes for what belongs to one request.

A lesson page is the same for every signed-in person of one role reading it in one language, but for a few
values: the CSRF token, the person's name, the day they finished the lesson (and so is a quiz's overview
before a trainee's first attempt). Rendering the layout and the page through Jinja costs more than everything
else such a request does, so the page is rendered once with a marker in each hole, kept in a bounded
per-application store, and every request fills in its own values.

Nothing personal can end up in a shared page: the shell is rendered with a stand-in user that answers only
what the layout shows to everyone of that role (signed in, role) and a marker for the name; a template that
reads anything else from it fails loudly instead of baking one person's data into everybody's page. Pages
with flashed messages or a query string are rendered the ordinary way. ``PAGE_SHELLS = False`` turns the
store off (the tests compare both ways byte for byte).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable

from flask import current_app, g, render_template, request
from flask import session as cookie_session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from cbt.courses.cache import store
from cbt.i18n import current_locale

#: Per process: no lesson text can contain a marker, by accident or by design.
_SALT = secrets.token_hex(8)
STORE_SIZE = 256
CSRF_STORE_SIZE = 4096


class ShellLeak(RuntimeError):
    """A template read something personal from the stand-in user of a shared page."""


def _marker(name: str) -> str:
    return f"cbt-hole-{_SALT}-{name}-"  # the closing dash: no marker is the start of another


class _StandInUser:
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, role: str) -> None:
        self.role = role
        self.full_name = _marker("name")

    def __getattr__(self, name: str) -> object:
        raise ShellLeak(f"a shared page read current_user.{name}; pass it as a hole instead")


def _csrf_token() -> str:
    """The session's CSRF token, signed once per process rather than once per page.

    Flask-WTF signs the session's random token anew for every page (the signature carries a timestamp); with
    no time limit set (``WTF_CSRF_TIME_LIMIT = None``) the timestamp is never checked, so one signature per
    session serves every page, as valid as a fresh one and as secret as the session's own token.
    """
    raw = cookie_session.get("csrf_token")
    if raw is None or current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()
    signed = store("csrf_signature", CSRF_STORE_SIZE).get(raw, generate_csrf)
    g.csrf_token = signed  # the same token for any form rendered later in this request
    return signed


def render(template: str, key: tuple[Hashable, ...], holes: dict[str, str],
           build: Callable[[], dict[str, object]] | None = None, **context: object) -> str:
    """``render_template(template, **context, **build(), **holes)``, from the store when it can be.

    ``key`` names everything in the context that can differ between two requests for the same path (the
    path, endpoint, language and role are added here); ``holes`` are the per-request texts, escaped when filled
    in exactly as Jinja would escape them. ``build``, when given, is called only when the page is rendered,
    so what only the page needs (its links, its texts) is not worked out for a page taken from the store.
    """
    user = current_user._get_current_object()  # type: ignore[attr-defined]

    def full_context() -> dict[str, object]:
        return {**context, **build()} if build is not None else context

    if (
        not current_app.config.get("PAGE_SHELLS", True)
        or request.query_string
        or cookie_session.get("_flashes")
        or not user.is_authenticated
    ):
        return render_template(template, **full_context(), **holes)
    full_key = (template, request.path, request.endpoint, current_locale(), user.role, *key)

    def shell() -> str:
        return render_template(
            template,
            current_user=_StandInUser(user.role),
            csrf_token=lambda: _marker("csrf"),
            **full_context(),
            **{name: _marker(name) for name in holes},
        )

    page = store("page_shell", STORE_SIZE).get(full_key, shell)
    for name, value in {"csrf": _csrf_token(), "name": user.full_name, **holes}.items():
        page = page.replace(_marker(name), str(escape(value)))
    return page
