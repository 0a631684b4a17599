"""Certificate download (the trainee, or an administrator), public verification, revocation (administrators)."""

from __future__ import annotations

import math
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from cbt.auth.models import User
from cbt.certificates import pdf, services
from cbt.certificates.models import Certificate
from cbt.courses.models import Course, CourseVersion
from cbt.db import session, write_transaction
from cbt.i18n import current_locale, localized
from cbt.learn.models import CourseCompletion
from cbt.security import public, roles_required

bp = Blueprint("certificates", __name__, template_folder="templates")

PER_PAGE = 50


def _course_title(course_id: int, version_id: int | None, locale: str) -> str:
    """The title of the version completed (else the newest), in ``locale`` with the content fallback."""
    stmt = select(CourseVersion.title).where(CourseVersion.course_id == course_id)
    stmt = stmt.where(CourseVersion.id == version_id) if version_id else stmt.order_by(CourseVersion.version.desc())
    title = session.scalar(stmt.limit(1))
    return localized(title or {}, locale)


@bp.get("/certificates/<int:user_id>/<slug>.pdf")
@roles_required()
def download(user_id: int, slug: str) -> Response:
    """The certificate PDF of ``user_id`` for course ``slug``: one's own, or anyone's for an administrator."""
    if user_id != current_user.id and current_user.role != "admin":
        abort(404)  # not 403: do not confirm that another officer completed the course
    course = session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    certificate = session.scalar(
        select(Certificate).where(Certificate.user_id == user_id, Certificate.course_id == course.id))
    if certificate is None:
        # Completions stored before certificates existed, or by tools: issue on first request.
        with write_transaction():
            certificate = services.ensure_certificate(user_id, course.id)
    if certificate is None:
        abort(404)
    person = session.get(User, user_id)
    locales = current_app.config["LOCALES"]
    wanted = request.args.get("lang")
    locale = wanted if wanted in locales else (
        current_locale() if user_id == current_user.id else (person.locale or current_locale()))
    body = _render(certificate, person, locale)
    name = f"certificate-{slug}-{services.format_code(certificate.code)}.pdf"
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
    })


def _render(certificate: Certificate, person: User, locale: str) -> bytes:
    completion = certificate.completion
    verify_url = url_for("certificates.verify", code=services.format_code(certificate.code), _external=True)
    with force_locale(locale):
        course_title = _course_title(certificate.course_id, completion.course_version_id, locale)
        site = person.site.name(locale) if person.site and completion.site_id == person.site_id else None
        if completion.site_id and site is None:
            from cbt.org.models import Site

            site_row = session.get(Site, completion.site_id)
            site = site_row.name(locale) if site_row else None
        facts = [(_("Date"), format_date(completion.completed_at, "long"))]
        if completion.score is not None:
            facts.append((_("Score"), f"{round(completion.score):d} %"))
        if site:
            facts.append((_("Site"), site))
        if person.service_number:
            facts.append((_("Service number"), person.service_number))
        text = pdf.CertificateText(
            heading=_("Certificate of completion"),
            intro=_("This certifies that"),
            name=person.full_name,
            completed=_("has completed the course"),
            course=course_title,
            facts=facts,
            code_label=_("Verification code"),
            code=services.format_code(certificate.code),
            verify_hint=_("Check this certificate at"),
            verify_url=verify_url,
            revoked_note=_("Revoked on %(date)s", date=format_date(certificate.revoked_at, "long"))
            if certificate.revoked_at else None,
            title=_("Certificate of completion: %(course)s", course=course_title),
            lang=locale,
        )
    return pdf.render(text)


@bp.get("/verify")
@public
def verify_form() -> str | Response:
    typed = request.args.get("code", "")
    if typed:
        code = services.normalize_code(typed)
        return redirect(url_for("certificates.verify", code=services.format_code(code) if code else typed[:40]))
    return render_template("certificates/verify_form.html")


@bp.get("/verify/<code>")
@public
def verify(code: str) -> str:
    """Valid, revoked (with the date) or unknown; only the name, course and date are shown."""
    certificate = services.find_by_code(code)
    details = None
    if certificate is not None:
        completion = certificate.completion
        details = {
            "name": session.scalar(select(User.full_name).where(User.id == certificate.user_id)),
            "course": _course_title(certificate.course_id, completion.course_version_id, current_locale()),
            "date": completion.completed_at,
            "revoked_at": certificate.revoked_at,
        }
    status = "unknown" if certificate is None else ("revoked" if certificate.revoked_at else "valid")
    return render_template("certificates/verify.html", status=status, details=details, code=code[:40])


@bp.get("/certificates/")
@roles_required("admin")
def index() -> str:
    q = request.args.get("q", "").strip()
    stmt = (select(Certificate, User.full_name, User.username, Course.slug, CourseVersion.title)
            .join(User, User.id == Certificate.user_id)
            .join(CourseCompletion, CourseCompletion.id == Certificate.completion_id)
            .join(CourseVersion, CourseVersion.id == CourseCompletion.course_version_id)
            .join(Course, Course.id == Certificate.course_id))
    if q:
        code = services.normalize_code(q)
        patterns = {f"%{v}%" for v in (q, q.lower(), q.capitalize())}
        conditions = [col.ilike(p) for p in patterns for col in (User.full_name, User.username, Course.slug)]
        if code:
            conditions.append(Certificate.code == code)
        stmt = stmt.where(or_(*conditions))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = session.execute(stmt.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
                           .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("certificates/index.html", rows=rows, q=q, total=total, page=page, pages=pages,
                           format_code=services.format_code,
                           page_url=lambda n: url_for("certificates.index", q=q or None, page=n))


@bp.route("/certificates/<int:certificate_id>", methods=["GET", "POST"])
@roles_required("admin")
def detail(certificate_id: int) -> str | Response:
    from cbt.admin.forms import RevokeForm

    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        if services.revoke(certificate, actor_id=current_user.id, reason=(form.reason.data or "").strip()):
            session.commit()
            flash(_("The certificate was revoked."), "success")
        else:
            flash(_("This certificate was already revoked."), "info")
        return redirect(url_for("certificates.detail", certificate_id=certificate.id))
    person = session.get(User, certificate.user_id)
    revoker = session.get(User, certificate.revoked_by_id) if certificate.revoked_by_id else None
    course = session.get(Course, certificate.course_id)
    return render_template(
        "certificates/detail.html", certificate=certificate, person=person, revoker=revoker, course=course,
        course_title=_course_title(certificate.course_id, certificate.completion.course_version_id, current_locale()),
        code=services.format_code(certificate.code), form=form,
    )
