"""Sign-in (password, then a code when two-step verification is on), sign-out and the account pages:
password, sessions, two-step verification.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from cbt.audit.services import record
from cbt.auth import mfa, services, throttle
from cbt.auth import sessions as user_sessions
from cbt.auth.forms import ActionForm, ChangePasswordForm, CodeForm, LoginForm
from cbt.auth.models import User, UserSession
from cbt.db import reading
from cbt.db import session as db_session
from cbt.security import public, roles_required, safe_next_url

bp = Blueprint("auth", __name__, template_folder="templates")

#: Who may turn on two-step verification: everyone who can change what others learn or see.
STAFF = ("trainer", "admin")
#: Key in the signed cookie session of a sign-in whose password was right and whose code is still due.
PENDING = "pending_sign_in"
#: How long the code may take after the password, in seconds.
PENDING_SECONDS = 300


def _fresh_cookie_session() -> None:
    """Nothing from before a sign-in step survives except the language just chosen (no session fixation)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _throttled(template: str, form: Any, refusal: throttle.SignInThrottled) -> Response:
    db_session.commit()  # keep the audit record
    flash(refusal.message(), "error")
    response = make_response(render_template(template, form=form), 429)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _complete_sign_in(user: User, next_url: str | None) -> Response:
    _fresh_cookie_session()
    user_sessions.start_session(user)
    db_session.commit()
    login_user(user)
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return redirect(safe_next_url(next_url))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))
    if request.method == "GET":
        session.pop(PENDING, None)  # opening the sign-in page abandons a half-done sign-in
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            outcome = services.authenticate(form.username.data or "", form.password.data or "", request.remote_addr)
        except throttle.SignInThrottled as refusal:
            return _throttled("auth/login.html", form, refusal)
        if outcome is None:
            db_session.commit()  # keep the failed-attempt audit record
            flash(_("The username or password is not correct, or the account is disabled."), "error")
            return render_template("auth/login.html", form=form), 200
        if outcome.needs_code:
            db_session.commit()  # an upgraded password hash; no session row: this is not a sign-in yet
            _fresh_cookie_session()
            session[PENDING] = {"user_id": outcome.user.id, "since": int(time.time()),
                                "next": safe_next_url(form.next.data)}
            return redirect(url_for("auth.login_code"))
        return _complete_sign_in(outcome.user, form.next.data)
    return render_template("auth/login.html", form=form)


def _pending_sign_in() -> dict[str, Any] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user_id"), int):
        return None
    if not 0 <= time.time() - float(pending.get("since", 0)) <= PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    return pending


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code() -> str | Response:
    """The second step: says nothing about the account, and is not a session until the code is accepted."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    pending = _pending_sign_in()
    if pending is None:
        flash(_("Sign in with your username and password first."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = services.verify_code(pending["user_id"], form.code.data or "", request.remote_addr)
        except throttle.SignInThrottled as refusal:
            return _throttled("auth/login_code.html", form, refusal)
        if user is None:
            db_session.commit()  # keep the failure: wrong codes are throttled like wrong passwords
            flash(_("The code is not correct or has already been used."), "error")
            return render_template("auth/login_code.html", form=form), 200
        return _complete_sign_in(user, pending.get("next"))
    return render_template("auth/login_code.html", form=form)


@bp.post("/logout")
@roles_required()
def logout() -> Response:
    user_sessions.end_session(current_user.session_token, "signed_out")
    db_session.commit()
    logout_user()
    _fresh_cookie_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


# --- account: password ----------------------------------------------------------------------------------

@bp.route("/account/password", methods=["GET", "POST"])
@roles_required()
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with reading():  # the two argon2 runs below then hold no transaction (no SQLite write lock)
            user = db_session.get(User, current_user.id)
        try:
            services.change_password(user, form.current_password.data or "", form.new_password.data or "")
        except services.AccountError as error:
            db_session.rollback()
            form.new_password.errors = [*form.new_password.errors, str(error)]
        else:
            user_sessions.end_all_sessions(user.id, "password_changed", keep_token=current_user.session_token)
            db_session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form)


# --- account: sessions ----------------------------------------------------------------------------------

@bp.get("/account/sessions")
@roles_required()
def sessions() -> str:
    """The user's own open sessions (ASVS 3.3.4): where and when, and a button to end each."""
    rows = user_sessions.active_sessions(current_user)
    token = current_user.session_token
    return render_template("auth/sessions.html", rows=rows, form=ActionForm(), short_agent=user_sessions.short_agent,
                           is_current=lambda row: user_sessions.is_current(row, token))


@bp.post("/account/sessions/<int:session_id>/end")
@roles_required()
def end_session(session_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    row = db_session.get(UserSession, session_id)
    own_current = row is not None and user_sessions.is_current(row, current_user.session_token)
    if not user_sessions.end_own_session(current_user.id, session_id):
        abort(404)  # not theirs, or already over: the same answer
    record("auth.session_end", actor_id=current_user.id, target=f"user:{current_user.id}", session=session_id)
    db_session.commit()
    if own_current:
        logout_user()
        _fresh_cookie_session()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("The session was ended: that device is signed out."), "success")
    return redirect(url_for("auth.sessions"))


@bp.post("/account/sessions/end-others")
@roles_required()
def end_other_sessions() -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    ended = user_sessions.end_all_sessions(current_user.id, "ended_by_user", keep_token=current_user.session_token)
    record("auth.sessions_end_others", actor_id=current_user.id, target=f"user:{current_user.id}", ended=ended)
    db_session.commit()
    flash(ngettext("%(num)d other session was ended.", "%(num)d other sessions were ended.", ended), "success")
    return redirect(url_for("auth.sessions"))


# --- account: two-step verification ---------------------------------------------------------------------

def _two_factor_page(form: CodeForm) -> str:
    user = current_user
    row = mfa.credential(user.id)
    context: dict[str, Any] = {"row": row, "form": form, "action_form": ActionForm(),
                               "required": current_app.config["ADMIN_MFA"] == "required" and user.role == "admin"}
    if row is not None and row.confirmed_at is None:
        # Enrolment in progress: the only time the secret is shown.
        context["qr"] = Markup(mfa.qr_svg(mfa.provisioning_uri(user, row.secret),  # noqa: S704 - made by segno
                                          _("QR code for your authenticator app")))
        context["secret_groups"] = [row.secret[i:i + 4] for i in range(0, len(row.secret), 4)]
    elif row is not None:
        context["codes_left"] = mfa.recovery_codes_left(user.id)
    return render_template("auth/two_factor.html", **context)


@bp.get("/account/two-factor")
@roles_required(*STAFF)
def two_factor() -> str:
    return _two_factor_page(CodeForm(formdata=None))


@bp.post("/account/two-factor/start")
@roles_required(*STAFF)
def two_factor_start() -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        mfa.start_enrolment(db_session.get(User, current_user.id))
    except ValueError:
        db_session.rollback()
        flash(_("Two-step verification is already on."), "info")
    else:
        db_session.commit()
    return redirect(url_for("auth.two_factor"))


@bp.post("/account/two-factor/confirm")
@roles_required(*STAFF)
def two_factor_confirm() -> str | Response:
    form = CodeForm()
    if not form.validate_on_submit():
        return _two_factor_page(form)
    codes = mfa.confirm_enrolment(db_session.get(User, current_user.id), form.code.data or "")
    if codes is None:
        db_session.rollback()
        if mfa.is_enabled(current_user.id):
            return redirect(url_for("auth.two_factor"))
        form.code.errors = [*form.code.errors, _("The code is not correct. Check that the time on your phone "
                                                 "is right and type the code shown now.")]
        return _two_factor_page(form)
    db_session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)
