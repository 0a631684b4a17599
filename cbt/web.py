"""What every page shares: security headers, no caching of personal pages, layout context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, abort, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from cbt import __version__

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

ROLE_LABELS = {"trainee": _l("Trainee"), "trainer": _l("Trainer"), "admin": _l("Administrator")}


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object
    roles: tuple[str, ...]


#: The main menu, in order; features add their entries with :func:`add_nav`.
NAV_KEY = "cbt.nav"


def add_nav(app: Flask, endpoint: str, label: object, roles: tuple[str, ...]) -> None:
    app.extensions.setdefault(NAV_KEY, []).append(NavEntry(endpoint, label, roles))


def main_nav() -> list[dict[str, object]]:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    if not user.is_authenticated:
        return []
    items = []
    path = request.path
    for entry in current_app.extensions.get(NAV_KEY, []):
        if user.role in entry.roles:
            url = url_for(entry.endpoint)
            current = path == url or (url != "/" and path.startswith(url))
            items.append({"url": url, "label": entry.label, "current": current})
    return items


#: Ids are 32-bit integer columns on PostgreSQL; a larger number in a URL names nothing.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` limited to what an id column holds, so ``/quiz/99999999999999999999`` is a 404.

    Without the bound the number reaches the database, which refuses it (SQLite: Python int too large;
    PostgreSQL: integer out of range) and the request ends in a 500.
    """

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:  # noqa: A002 - werkzeug's argument names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def refuse_nul_characters() -> None:
    """No text a person types contains NUL; PostgreSQL cannot store it and would fail with a 500.

    A GET or HEAD request's body is never read, so only its path and query are looked at (parsing a form
    that is not there costs every page view).
    """
    reads_body = request.method not in ("GET", "HEAD")
    if "\x00" in request.path or any(
        _contains_nul(key) or _contains_nul(values)
        for source in ((request.args, request.form) if reads_body else (request.args,))
        for key, values in source.lists()
    ):
        abort(400)
    if reads_body and request.is_json and _contains_nul(request.get_json(silent=True)):
        abort(400)


def warm_templates(app: Flask) -> int:
    """Compile every template before the first request (production servers only; returns how many).

    Jinja compiles a template on first use: 50-100 ms each on a classroom server. After a restart the first
    class to take an exam would otherwise queue behind compiling the quiz pages; here it costs a second or two
    at start-up and some megabytes that a working day spends anyway.
    """
    names = app.jinja_env.list_templates(filter_func=lambda name: name.endswith(".html"))
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)


def init_app(app: Flask) -> None:
    from cbt.cookie_session import RememberingCookieSessions

    app.session_interface = RememberingCookieSessions()
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul_characters)
    proxies = int(app.config["PROXY_COUNT"])
    if proxies > 0:
        # Only behind proxies the operator named: otherwise any client could forge its address.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    add_nav(app, "core.home", _l("Home"), ("trainer", "admin"))
    add_nav(app, "learn.my_learning", _l("My learning"), ("trainee", "trainer", "admin"))
    add_nav(app, "learn.transcript", _l("Transcript"), ("trainee", "trainer", "admin"))

    defaults = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY")]
    if app.config["SECURE_COOKIES"]:
        defaults.append(("Strict-Transport-Security", "max-age=31536000"))

    @app.after_request
    def _harden(response: Response) -> Response:
        headers = response.headers
        # One pass over the response's headers rather than a search per header: this runs for every request.
        present = {name.lower() for name, _value in headers.items()}
        headers.extend([(name, value) for name, value in defaults if name.lower() not in present])
        # A shared terminal's back button must not show the previous officer's pages.
        if "cache-control" not in present and not request.path.startswith("/static/") and (
            current_user.is_authenticated or response.mimetype == "text/html"
        ):
            headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def _layout_context() -> dict[str, object]:
        return {
            # The user itself rather than Flask-Login's proxy: a page reads it dozens of times.
            "current_user": current_user._get_current_object(),  # type: ignore[attr-defined]
            "idle_seconds": int(float(current_app.config["SESSION_IDLE_MINUTES"]) * 60),
            "role_label": lambda role: ROLE_LABELS.get(role, role),
            "main_nav": main_nav,
            "cbt_version": __version__,
        }
