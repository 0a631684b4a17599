"""Sign-in, sign-out and changing one's own password."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from cbt.auth import services, throttle
from cbt.auth.forms import ChangePasswordForm, LoginForm
from cbt.auth.models import User
from cbt.auth.sessions import end_all_sessions, end_session, start_session
from cbt.db import session as db_session
from cbt.security import public, roles_required, safe_next_url

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data or "", form.password.data or "", request.remote_addr)
        except throttle.SignInThrottled as refusal:
            db_session.commit()  # keep the audit record
            flash(refusal.message(), "error")
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        if user is None:
            db_session.commit()  # keep the failed-attempt audit record
            flash(_("The username or password is not correct, or the account is disabled."), "error")
            return render_template("auth/login.html", form=form), 200
        locale = session.get("locale")
        # A fresh session at sign-in: nothing from before survives except the language just chosen.
        session.clear()
        if locale:
            session["locale"] = locale
        start_session(user)
        db_session.commit()
        login_user(user)
        return redirect(safe_next_url(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@roles_required()
def logout() -> Response:
    end_session(current_user.session_token, "signed_out")
    db_session.commit()
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required()
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = db_session.get(User, current_user.id)
        try:
            services.change_password(user, form.current_password.data or "", form.new_password.data or "")
        except services.AccountError as error:
            db_session.rollback()
            form.new_password.errors = [*form.new_password.errors, str(error)]
        else:
            end_all_sessions(user.id, "password_changed", keep_token=current_user.session_token)
            db_session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form)
