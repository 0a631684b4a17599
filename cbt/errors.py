"""One place that renders translated error pages: no stack trace or SQL ever reaches a browser."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Access denied"), _l("Your role does not allow you to open this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used in that way.")),
    413: (_l("Too large"), _l("The file or form you sent is larger than this server accepts.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a few minutes and try again.")),
    500: (
        _l("Something went wrong"),
        _l("The server could not finish your request. Nothing you saved before was lost; try again."),
    ),
    503: (_l("Service unavailable"), _l("The server is busy or under maintenance. Try again shortly.")),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(_error: CSRFError) -> tuple[str, int]:
        from flask_babel import gettext as _

        return render_error(400, _("The form has expired or is not valid. Reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _unstorable(error: Exception) -> tuple[str, int]:
        """A value the database cannot hold (a 40-digit number, an over-long string on PostgreSQL): the
        request was bad, not the server; nothing half-done is kept."""
        log.warning("refused a value the database cannot store on %s %s: %s", request.method, request.path,
                    type(error).__name__)
        from cbt.db import get_session

        try:
            get_session().rollback()
        except Exception:  # noqa: BLE001 - the page must render even when the database is gone
            log.warning("rollback after error failed", exc_info=True)
        return render_error(400)

    @app.errorhandler(Exception)
    def _unhandled(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        from cbt.db import get_session

        try:
            get_session().rollback()
        except Exception:  # noqa: BLE001 - the page must render even when the database is gone
            log.warning("rollback after error failed", exc_info=True)
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return render_error(InternalServerError.code)
