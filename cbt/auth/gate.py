"""What a signed-in user must do before anything else: replace a password an administrator chose, and (for
administrators, when ``CBT_ADMIN_MFA=required``) turn on two-step verification.

One ``before_request`` hook, so no view can forget it: every page redirects to the page that resolves the
condition, a script's JSON request gets a 403 with a JSON body instead (a redirect to an HTML page would
only confuse it), and only signing out, the language switcher, the idle ping, the health check, static files
and the pages that resolve the condition stay open.
"""

from __future__ import annotations

from flask import Flask, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from cbt.auth import mfa

#: Open whatever the user still has to do.
ALWAYS_OPEN = frozenset({"static", "auth.logout", "core.set_language", "core.ping", "core.healthz"})
#: The pages where a forced password change is done.
PASSWORD_PAGES = frozenset({"auth.change_password"})
#: The pages an administrator needs to turn on two-step verification (and to look after their account).
MFA_PAGES = frozenset({"auth.change_password", "auth.sessions", "auth.end_session", "auth.end_other_sessions",
                       "auth.two_factor", "auth.two_factor_start", "auth.two_factor_confirm"})
#: Endpoints that answer a script with JSON.
JSON_ENDPOINTS = frozenset({"quiz.autosave"})


def init_app(app: Flask) -> None:
    app.before_request(check_pending_duties)


def check_pending_duties() -> Response | tuple[Response, int] | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint in ALWAYS_OPEN or not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        if endpoint in PASSWORD_PAGES:
            return None
        return _send_to("auth.change_password", "password_change_required",
                        _("Choose a new password of your own before you continue."))
    if (current_app.config["ADMIN_MFA"] == "required" and current_user.role == "admin"
            and endpoint not in MFA_PAGES and not mfa.is_enabled(current_user.id)):
        return _send_to("auth.two_factor", "two_factor_required",
                        _("Administrators must turn on two-step verification before they continue."))
    return None


def _wants_json() -> bool:
    return (request.endpoint in JSON_ENDPOINTS or request.is_json or bool(request.headers.get("X-Requested-With"))
            or request.accept_mimetypes.best == "application/json")


def _send_to(endpoint: str, status: str, message: str) -> Response | tuple[Response, int]:
    if _wants_json():
        return jsonify(status=status, location=url_for(endpoint)), 403
    flash(message, "warning")
    return redirect(url_for(endpoint))
