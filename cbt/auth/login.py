"""Flask-Login wiring: token-based user loading and the "please sign in" redirect."""

from __future__ import annotations

import math

from flask import Flask, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from cbt.auth import gate
from cbt.auth.sessions import load_user_from_token
from cbt.extensions import login_manager
from cbt.security import current_path


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    # Strong protection hashes the client address; every terminal of a classroom NAT looks the same and
    # a roaming laptop would be signed out. Revocable server-side sessions do the real work instead.
    login_manager.session_protection = None
    # With protection off, Flask-Login still hashes the client's address and browser on every request (and
    # keeps the hash in the cookie) only to ignore it.
    login_manager._session_identifier_generator = _no_identifier
    login_manager.user_loader(load_user_from_token)
    login_manager.unauthorized_handler(_unauthorized)
    gate.init_app(app)


def _no_identifier() -> None:
    return None


def _unauthorized() -> Response:
    reason = g.get("session_end_reason")
    if reason == "idle":
        from flask import current_app

        minutes = max(1, math.ceil(float(current_app.config["SESSION_IDLE_MINUTES"])))
        flash(
            ngettext(
                "You were signed out after %(num)d minute without activity.",
                "You were signed out after %(num)d minutes without activity.",
                minutes,
            ),
            "warning",
        )
    elif reason == "expired":
        flash(_("Your session has ended. Please sign in again."), "warning")
    else:
        flash(_("Please sign in to open this page."), "info")
    if request.method == "GET":
        return redirect(url_for("auth.login", next=current_path()))
    return redirect(url_for("auth.login"))
