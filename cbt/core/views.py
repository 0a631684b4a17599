"""Home page per role, health check and the language switcher."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from cbt.db import get_session, write_transaction
from cbt.security import public, roles_required, safe_next_url

bp = Blueprint("core", __name__, template_folder="templates")


@bp.get("/")
@roles_required()
def home() -> str | Response:
    if current_user.role == "trainee":
        from cbt.learn.views import my_learning

        return my_learning()
    return render_template(f"core/home_{current_user.role}.html")


@bp.get("/healthz")
@public
def healthz() -> tuple[Response, int]:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        current_app.logger.warning("health check: database unreachable", exc_info=True)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/session/ping")
@roles_required()
def ping() -> tuple[str, int]:
    """Keep a signed-in session alive when the trainee answers the idle warning ("Stay signed in")."""
    return "", 204


@bp.post("/language")
@public
def set_language() -> Response:
    """Remember the chosen language (and save it to the profile when signed in), then go back."""
    locale = request.form.get("locale", "")
    target = safe_next_url(request.form.get("next"))
    if locale in current_app.config["LOCALES"]:
        session["locale"] = locale
        if current_user.is_authenticated and current_user.locale != locale:
            from cbt.auth.models import User

            with write_transaction() as db:
                db.get(User, current_user.id).locale = locale
    return redirect(target)
