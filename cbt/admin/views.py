"""Administration pages: users, organisation, bulk import, audit log. Thin: services do the work, the view
commits once. Every route is for administrators only.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, joinedload
from werkzeug.wrappers import Response

from cbt.admin import forms, importing, services
from cbt.audit.models import AuditEvent
from cbt.audit.services import record
from cbt.auth import mfa
from cbt.auth.models import User
from cbt.db import session, write_transaction
from cbt.i18n import LANGUAGE_NAMES, current_locale
from cbt.org.models import Agency, Country, Site
from cbt.security import roles_required
from cbt.web import add_nav

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PER_PAGE = 50
ADMIN = "admin"


@bp.record_once
def _register_nav(state: Any) -> None:
    app: Flask = state.app
    add_nav(app, "admin.users", _l("Users"), (ADMIN,))
    add_nav(app, "admin.organisation", _l("Organisation"), (ADMIN,))
    add_nav(app, "reports.dashboard", _l("Reports"), (ADMIN,))
    add_nav(app, "admin.audit", _l("Audit log"), (ADMIN,))


# --- choices --------------------------------------------------------------------------------------------

def _org_choices(blank: object) -> tuple[list[Any], list[Any], list[Any]]:
    locale = current_locale()
    agencies = [(None, blank), *((a.id, f"{a.name(locale)} ({a.code})")
                                 for a in session.scalars(select(Agency).order_by(Agency.code)))]
    sites = [(None, blank), *((s.id, f"{s.name(locale)} ({s.code})")
                              for s in session.scalars(select(Site).order_by(Site.code)))]
    countries = [(None, blank), *((c.id, f"{c.name(locale)} ({c.code})")
                                  for c in session.scalars(select(Country).order_by(Country.code)))]
    return forms.choices(agencies), forms.choices(sites), forms.choices(countries)


def _language_choices() -> list[Any]:
    from flask import current_app

    return forms.choices([("", _("Not chosen")),
                          *((code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LOCALES"])])


# --- users ----------------------------------------------------------------------------------------------

def _user_query(form: forms.UserFilterForm) -> Select[Any]:
    stmt = select(User)
    q = (form.q.data or "").strip()
    if q:
        # SQLite folds case for ASCII only: also try the lower-case and capitalised forms of Cyrillic input.
        patterns = {f"%{v}%" for v in (q, q.lower(), q.capitalize())}
        stmt = stmt.where(or_(*(col.ilike(p) for p in patterns
                                for col in (User.username, User.full_name, User.service_number))))
    if form.role.data:
        stmt = stmt.where(User.role == form.role.data)
    if form.site.data:
        stmt = stmt.where(User.site_id == form.site.data)
    if form.agency.data:
        stmt = stmt.where(User.agency_id == form.agency.data)
    if form.active.data in ("0", "1"):
        stmt = stmt.where(User.is_active.is_(form.active.data == "1"))
    return stmt


@bp.get("/users")
@roles_required(ADMIN)
def users() -> str:
    form = forms.UserFilterForm(formdata=request.args)
    agencies, sites, _countries = _org_choices(_l("All"))
    form.agency.choices, form.site.choices = agencies, sites
    stmt = _user_query(form)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = session.scalars(
        stmt.options(joinedload(User.site), joinedload(User.agency))
        .order_by(User.username).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).unique().all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/users.html", form=form, users=rows, total=total, page=page, pages=pages,
                           page_url=lambda n: url_for("admin.users") + "?" + urlencode({**args, "page": n}))


def _fill_user_form(form: forms.UserForm) -> None:
    agencies, sites, _countries = _org_choices(_l("None"))
    form.agency.choices, form.site.choices = agencies, sites
    form.locale.choices = _language_choices()


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_new() -> str | Response:
    form = forms.UserForm()
    _fill_user_form(form)
    if form.validate_on_submit():
        try:
            user, password = services.create_account(
                username=form.username.data or "", full_name=form.full_name.data or "",
                service_number=form.service_number.data, role=form.role.data or "trainee",
                agency_id=form.agency.data, site_id=form.site.data, locale=form.locale.data or None,
                actor_id=current_user.id,
            )
        except services.AccountError as error:
            session.rollback()
            form.username.errors = [*form.username.errors, str(error)]
        else:
            session.commit()
            return render_template("admin/password.html", user=user, password=password, created=True)
    return render_template("admin/user_form.html", form=form, user=None)


def _user_or_404(user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_edit(user_id: int) -> str | Response:
    user = _user_or_404(user_id)
    form = forms.UserForm(obj=user) if request.method == "GET" else forms.UserForm()
    _fill_user_form(form)
    if request.method == "GET":
        form.agency.data, form.site.data, form.locale.data = user.agency_id, user.site_id, user.locale or ""
    form.username.data = user.username  # usernames do not change: they are how officers sign in
    if form.validate_on_submit():
        try:
            changed = services.update_account(
                user, actor_id=current_user.id, full_name=(form.full_name.data or "").strip(),
                service_number=(form.service_number.data or "").strip() or None, role=form.role.data,
                agency_id=form.agency.data, site_id=form.site.data, locale=form.locale.data or None,
            )
        except services.AccountError as error:
            session.rollback()
            form.role.errors = [*form.role.errors, str(error)]
        else:
            session.commit()
            if changed:
                flash(_("The account of %(name)s was saved.", name=user.full_name), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user, action_form=forms.ConfirmImportForm(),
                           two_factor=mfa.credential(user.id))


@bp.post("/users/<int:user_id>/deactivate")
@roles_required(ADMIN)
def user_deactivate(user_id: int) -> Response:
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@roles_required(ADMIN)
def user_reactivate(user_id: int) -> Response:
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> Response:
    user = _user_or_404(user_id)
    if not forms.ConfirmImportForm().validate_on_submit():
        abort(400)
    try:
        services.set_active(user, active, actor_id=current_user.id)
    except services.AccountError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        if active:
            flash(_("%(name)s can sign in again.", name=user.full_name), "success")
        else:
            flash(_("%(name)s was deactivated and signed out everywhere.", name=user.full_name), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@roles_required(ADMIN)
def user_reset_password(user_id: int) -> str:
    user = _user_or_404(user_id)
    if not forms.ConfirmImportForm().validate_on_submit():
        abort(400)
    password = services.reset_password(user, actor_id=current_user.id)
    session.commit()
    return render_template("admin/password.html", user=user, password=password, created=False)


@bp.post("/users/<int:user_id>/two-factor/reset")
@roles_required(ADMIN)
def user_reset_two_factor(user_id: int) -> Response:
    """Turn off a user's two-step verification (a lost phone); they can set it up again after signing in."""
    user = _user_or_404(user_id)
    if not forms.ConfirmImportForm().validate_on_submit():
        abort(400)
    keep = current_user.session_token if user.id == current_user.id else None
    if services.reset_two_factor(user, actor_id=current_user.id, keep_token=keep):
        session.commit()
        flash(_("Two-step verification of %(name)s was turned off and they were signed out everywhere.",
                name=user.full_name), "success")
    else:
        session.rollback()
        flash(_("%(name)s does not use two-step verification.", name=user.full_name), "info")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- bulk import ----------------------------------------------------------------------------------------

def problem_message(problem: importing.Problem | dict[str, Any]) -> str:
    """A row or file problem in the reader's language."""
    if isinstance(problem, dict):
        problem = importing.Problem(problem["line"], problem["field"], problem["code"], problem.get("params", {}))
    p = dict(problem.params)
    messages = {
        "empty": lambda: _("The file is empty."),
        "unreadable": lambda: _("The file could not be read. Save it as CSV (UTF-8) or XLSX and try again."),
        "too_large": lambda: _("The workbook is too large when unpacked."),
        "file_too_large": lambda: _("The file is larger than %(megabytes)s MB.",
                                    megabytes=format_decimal(p["megabytes"])),
        "missing_columns": lambda: _("Required columns are missing: %(columns)s.", columns=p["columns"]),
        "duplicate_columns": lambda: _("These columns appear more than once: %(columns)s.", columns=p["columns"]),
        "unknown_columns": lambda: _("These columns are not used and were ignored: %(columns)s.",
                                     columns=p["columns"]),
        "no_rows": lambda: _("The file has a header but no rows."),
        "too_many_rows": lambda: ngettext("A file may have at most %(num)d row.",
                                          "A file may have at most %(num)d rows.", p["limit"]),
        "required": lambda: _("This value is required."),
        "spaces": lambda: _("A username cannot contain spaces."),
        "duplicate": lambda: _("The same username is already in row %(row)d of this file.", row=p["other"]),
        "too_long": lambda: ngettext("At most %(num)d character.", "At most %(num)d characters.", p["limit"]),
        "unknown_role": lambda: _("Unknown role %(value)s; use one of: %(choices)s.", value=p["value"],
                                  choices=p["choices"]),
        "unknown_agency": lambda: _("No agency has the code %(value)s.", value=p["value"]),
        "unknown_site": lambda: _("No site has the code %(value)s.", value=p["value"]),
        "unknown_locale": lambda: _("Unknown language %(value)s; use one of: %(choices)s.", value=p["value"],
                                    choices=p["choices"]),
    }
    return messages[problem.code]()


def column_labels() -> dict[str, str]:
    return {"username": _("Username"), "full_name": _("Full name"), "service_number": _("Service number"),
            "role": _("Role"), "agency": _("Agency"), "site": _("Site"), "locale": _("Language")}


@bp.route("/users/import", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_import() -> str | Response:
    form = forms.ImportForm()
    file_errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importing.MAX_FILE_BYTES + 1)
        try:
            batch = services.start_import(upload.filename or "", data, actor_id=current_user.id)
        except importing.FileProblem as problem:
            session.rollback()
            file_errors.append(problem_message(problem.problem))
        else:
            session.commit()
            return redirect(url_for("admin.user_import_preview", token=batch.token))
    return render_template("admin/import_upload.html", form=form, file_errors=file_errors,
                           columns=importing.COLUMNS, required=importing.REQUIRED_COLUMNS, labels=column_labels())


@bp.get("/users/import/template.csv")
@roles_required(ADMIN)
def user_import_template() -> Response:
    from cbt.reports.tabular import csv_chunks

    sample = [["a.nurlanovna", "Асель Нұрланқызы", "KZ-10452", "trainee", "kz-customs", "kordai", "kk"]]
    body = b"".join(csv_chunks(list(importing.COLUMNS), sample))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cbt-users-template.csv"'})


def _batch_or_404(token: str) -> Any:
    batch = services.pending_import(token, current_user.id)
    if batch is None:
        abort(404)
    return batch


@bp.get("/users/import/<token>")
@roles_required(ADMIN)
def user_import_preview(token: str) -> str:
    batch = _batch_or_404(token)
    if batch.status != "pending":
        return render_template("admin/import_done.html", batch=batch)
    checked = services.preview(batch)
    by_line: dict[int, list[importing.Problem]] = {}
    for problem in checked.problems:
        by_line.setdefault(problem.line, []).append(problem)
    return render_template(
        "admin/import_preview.html", batch=batch, preview=checked, by_line=by_line, labels=column_labels(),
        columns=[c for c in importing.COLUMNS if c in batch.columns], message=problem_message,
        notices=[problem_message(p) for p in batch.file_problems], form=forms.ConfirmImportForm(),
    )


@bp.post("/users/import/<token>")
@roles_required(ADMIN)
def user_import_confirm(token: str) -> str | Response:
    batch = _batch_or_404(token)
    form = forms.ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    if request.form.get("action") == "cancel":
        services.cancel_import(batch, actor_id=current_user.id)
        session.commit()
        flash(_("The import was cancelled; nothing was changed."), "info")
        return redirect(url_for("admin.user_import"))
    try:
        result = services.confirm_import(batch, valid_only=request.form.get("action") == "valid_only",
                                         actor_id=current_user.id)
    except services.ImportRefused:
        session.rollback()
        flash(_("Nothing was imported: correct the rows with errors, or import the valid rows only."), "error")
        return redirect(url_for("admin.user_import_preview", token=token))
    except services.AccountError as error:
        session.rollback()
        flash(_("Nothing was imported: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("admin.user_import_preview", token=token))
    session.commit()
    return render_template("admin/import_result.html", result=result, batch=batch, form=forms.ConfirmImportForm())


@bp.post("/users/import/passwords.csv")
@roles_required(ADMIN)
def user_import_passwords() -> Response:
    """Give back, as CSV, the initial passwords the result page shows (they are not kept on the server)."""
    from cbt.reports.tabular import csv_chunks

    if not forms.ConfirmImportForm().validate_on_submit():
        abort(400)
    usernames = request.form.getlist("username")
    names = request.form.getlist("full_name")
    passwords = request.form.getlist("password")
    if not (len(usernames) == len(names) == len(passwords)) or len(usernames) > importing.MAX_ROWS:
        abort(400)
    body = b"".join(csv_chunks([_("Username"), _("Full name"), _("Initial password")],
                               zip(usernames, names, passwords, strict=True)))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cbt-initial-passwords.csv"'})


# --- organisation ---------------------------------------------------------------------------------------

@bp.get("/organisation")
@roles_required(ADMIN)
def organisation() -> str:
    countries = session.scalars(select(Country).order_by(Country.code)).all()
    agencies = session.scalars(select(Agency).order_by(Agency.code)).all()
    neighbour = aliased(Country)
    sites = session.scalars(
        select(Site).outerjoin(neighbour, neighbour.id == Site.neighbour_country_id)
        .options(joinedload(Site.neighbour_country)).order_by(Site.code)
    ).all()
    return render_template("admin/organisation.html", countries=countries, agencies=agencies, sites=sites,
                           agency_kinds=forms.AGENCY_KIND_LABELS, site_kinds=forms.SITE_KIND_LABELS)


def _org_form(model: type[Any], form_class: type[Any], obj_id: int | None, template: str) -> str | Response:
    obj = session.get(model, obj_id) if obj_id is not None else model()
    if obj is None:
        abort(404)
    form = form_class(obj=obj) if request.method == "GET" and obj_id is not None else form_class()
    if hasattr(form, "country"):
        _a, _s, countries = _org_choices(_l("Choose..."))
        form.country.choices = countries
        if hasattr(form, "neighbour_country"):
            form.neighbour_country.choices = [*forms.choices([(None, _l("None"))]), *countries[1:]]
        if request.method == "GET" and obj_id is not None:
            form.country.data = obj.country_id
            if hasattr(form, "neighbour_country"):
                form.neighbour_country.data = obj.neighbour_country_id
    if request.method == "GET" and obj_id is not None:
        form.fill_names(obj.names)
    if form.validate_on_submit():
        code = form.code.data.strip()
        code = code.upper() if model is Country else code.lower()
        if services.code_taken(model, code, exclude_id=obj_id):
            form.code.errors = [*form.code.errors, _("The code %(code)s is already used.", code=code)]
        else:
            values: dict[str, Any] = {"code": code, "names": form.names()}
            if hasattr(form, "kind"):
                values["kind"] = form.kind.data
            if hasattr(form, "country"):
                values["country_id"] = form.country.data
            if hasattr(form, "neighbour_country"):
                values["neighbour_country_id"] = form.neighbour_country.data
            services.save_org(obj, values, actor_id=current_user.id)
            session.commit()
            flash(_("%(code)s was saved.", code=code), "success")
            return redirect(url_for("admin.organisation"))
    return render_template(template, form=form, obj=obj if obj_id is not None else None)


@bp.route("/countries/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def country_new() -> str | Response:
    return _org_form(Country, forms.CountryForm, None, "admin/country_form.html")


@bp.route("/countries/<int:country_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def country_edit(country_id: int) -> str | Response:
    return _org_form(Country, forms.CountryForm, country_id, "admin/country_form.html")


@bp.route("/agencies/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def agency_new() -> str | Response:
    return _org_form(Agency, forms.AgencyForm, None, "admin/agency_form.html")


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def agency_edit(agency_id: int) -> str | Response:
    return _org_form(Agency, forms.AgencyForm, agency_id, "admin/agency_form.html")


@bp.route("/sites/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def site_new() -> str | Response:
    return _org_form(Site, forms.SiteForm, None, "admin/site_form.html")


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def site_edit(site_id: int) -> str | Response:
    return _org_form(Site, forms.SiteForm, site_id, "admin/site_form.html")


# --- audit log ------------------------------------------------------------------------------------------

def _audit_query(form: forms.AuditFilterForm) -> Select[Any]:
    actor = aliased(User)
    stmt = select(AuditEvent, actor.username).outerjoin(actor, actor.id == AuditEvent.actor_id)
    if form.action.data:
        stmt = stmt.where(AuditEvent.action == form.action.data)
    name = (form.user.data or "").strip().lower()
    if name:
        stmt = stmt.where(actor.username == name)
    if form.date_from.data and not form.date_from.errors:
        d = form.date_from.data
        stmt = stmt.where(AuditEvent.created_at >= datetime(d.year, d.month, d.day, tzinfo=UTC))
    if form.date_to.data and not form.date_to.errors:
        d = form.date_to.data
        stmt = stmt.where(AuditEvent.created_at < datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1))
    return stmt


def _audit_form() -> forms.AuditFilterForm:
    form = forms.AuditFilterForm(formdata=request.args)
    actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    form.action.choices = forms.choices([("", _("All")), *((a, a) for a in actions)])
    form.validate()
    return form


@bp.get("/audit")
@roles_required(ADMIN)
def audit() -> str:
    form = _audit_form()
    stmt = _audit_query(form)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = session.execute(
        stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", form=form, rows=rows, total=total, page=page, pages=pages,
                           page_url=lambda n: url_for("admin.audit") + "?" + urlencode({**args, "page": n}),
                           query=urlencode(args), audit_details=audit_details)


def audit_details(details: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((details or {}).items()))


@bp.get("/audit.csv")
@roles_required(ADMIN)
def audit_export() -> Response:
    """The filtered audit log as CSV (streamed); the export is itself recorded."""
    from cbt.reports.tabular import csv_chunks

    form = _audit_form()
    with write_transaction():  # a GET that writes: the audit record, committed before streaming starts
        record("audit.export", actor_id=current_user.id, target="audit",
               filters={k: v for k, v in request.args.items() if v})
    stmt = _audit_query(form).order_by(AuditEvent.created_at, AuditEvent.id).execution_options(yield_per=1000)
    header = [_("Time (UTC)"), _("Action"), _("User"), _("Object"), _("Details"), _("Address")]

    def rows() -> Any:
        for event, username in session.execute(stmt):
            yield [event.created_at, event.action, username or "", event.target or "", audit_details(event.details),
                   event.client_address or ""]

    name = "cbt-audit.csv"
    response = Response(stream_with_context(csv_chunks(header, rows())), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return response
