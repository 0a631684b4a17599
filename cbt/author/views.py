"""Trainer workspace: author, translate, preview, import, export and publish courses in the browser.

Every page works without JavaScript. Forms write the draft's package files through
:func:`cbt.author.services.change`, which validates the result with the loader before keeping it; a change
that would add an error saves nothing and the form comes back with the loader's messages next to the
fields they name. ``static/js/author.js`` only adds drawing hotspot rectangles on the image.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from cbt.author import forms, services
from cbt.author.models import CourseGrant, Draft
from cbt.author.package import (
    MEDIA_DIR,
    Package,
    as_list,
    as_map,
    get_path,
    id_list,
    is_id,
    lesson_snippet,
    media_name,
    next_ids,
    parse_path,
    remove,
    slugify,
    unique_name,
    write_lesson,
    write_yaml,
)
from cbt.author.translation import Completeness, gaps, localized_fields
from cbt.content.errors import Problem
from cbt.content.loader import MEDIA_NAME_PATTERN, load_course
from cbt.content.media import SIZE_LIMITS, inspect_media
from cbt.content.schema import LOCALES, MEDIA_TYPES, QUESTION_TYPES
from cbt.courses import importer
from cbt.courses.models import CourseVersion
from cbt.db import session, write_transaction
from cbt.i18n import current_locale
from cbt.security import roles_required

bp = Blueprint("author", __name__, url_prefix="/author", template_folder="templates")

AUTHORS = ("trainer", "admin")

TYPE_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "true_false": _l("True or false"),
    "short_text": _l("Short text answer"),
    "numeric": _l("Numeric answer"),
    "matching": _l("Matching"),
    "ordering": _l("Ordering"),
    "hotspot": _l("Hotspot on an image"),
    "scenario": _l("Branching scenario"),
}
#: Names of the localized fields, for the translation pages (the YAML path is shown beside them).
FIELD_LABELS = {
    "title": _l("Title"),
    "description": _l("Description"),
    "audience": _l("Who the course is for"),
    "prompt": _l("Question text"),
    "feedback": _l("Feedback"),
    "text": _l("Text"),
    "left": _l("Left"),
    "right": _l("Right (its match)"),
    "label": _l("Label"),
    "alt": _l("Description of the image"),
    "unit": _l("Unit shown beside the answer"),
    "answer": _l("Accepted answers"),
}


def _row_label(name: str, number: int) -> str:
    labels = {
        "questions": _("Question %(n)d", n=number),
        "options": _("Option %(n)d", n=number),
        "pairs": _("Pair %(n)d", n=number),
        "distractors": _("Distractor %(n)d", n=number),
        "items": _("Item %(n)d", n=number),
        "regions": _("Region %(n)d", n=number),
        "steps": _("Step %(n)d", n=number),
        "choices": _("Choice %(n)d", n=number),
    }
    return labels.get(name, f"{name} {number}")


def field_label(path: str | None) -> str:
    """``pairs[0].left`` -> "Pair 1 · Left", in the reader's language."""
    segments = parse_path(path or "") or []
    words: list[str] = []
    index = 0
    while index < len(segments):
        segment = segments[index]
        following = segments[index + 1] if index + 1 < len(segments) else None
        if isinstance(segment, str) and isinstance(following, int):
            words.append(_row_label(segment, following + 1))
            index += 2
            continue
        if isinstance(segment, str):
            words.append(str(FIELD_LABELS.get(segment, segment)))
        index += 1
    return " · ".join(words)


#: Empty rows a new question's form starts with.
NEW_BLANKS = {"options": 4, "pairs": 3, "distractors": 1, "items": 4, "regions": 3, "steps": 2}
MiB = 1024 * 1024


@bp.record_once
def _setup(state: Any) -> None:
    from cbt.web import add_nav

    app = state.app
    add_nav(app, "author.course_list", _l("Courses"), AUTHORS)
    # Uploads may be larger than the app-wide request limit (a 200 MB video); this must run before the
    # CSRF check reads the form, so it goes first in the app's list.
    app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


def _upload_limit() -> None:
    if request.method == "POST" and request.endpoint in ("author.media", "author.import_zip"):
        config = current_app.config
        if request.endpoint == "author.media":
            limit = max(_media_limit("image"), _media_limit("video")) + MiB
        else:
            limit = int(config.get("AUTHOR_ZIP_MAX_BYTES") or 512 * MiB)
        request.max_content_length = limit


def _media_limit(kind: str) -> int:
    """The configured upload limit, never above the format's (README, "Media")."""
    configured = current_app.config.get(f"MEDIA_{kind.upper()}_MAX_BYTES")
    return min(int(configured), SIZE_LIMITS[kind]) if configured else SIZE_LIMITS[kind]


@bp.context_processor
def _context() -> dict[str, Any]:
    return {
        "problem_text": lambda p: p.text(_),
        "locales": LOCALES,
        "type_labels": TYPE_LABELS,
        "question_types": QUESTION_TYPES,
        "draft_title": lambda draft: services.package(draft).course().get("title"),
        "file_size": _size,
        "field_label": field_label,
    }


# -- loading and access ------------------------------------------------------------------------------------


def _draft(draft_uuid: str, *, lock: bool | None = None) -> Draft:
    """The draft, if the signed-in user may author its course (else 404: other people's work is not listed).

    POST requests lock the draft's row for the rest of the request, so changes to one draft never overlap.
    """
    lock = request.method == "POST" if lock is None else lock
    try:
        value = uuid.UUID(draft_uuid)
    except ValueError:
        abort(404)
    stmt = select(Draft).where(Draft.uuid == value)
    if lock:
        stmt = stmt.with_for_update()
    draft = session.scalar(stmt)
    if draft is None or not services.may_author(current_user, draft.course_slug):
        abort(404)
    if services.ready_folder(draft, locked=lock) is None:
        abort(404)
    return draft


def _module(pkg: Package, module_id: str) -> str:
    if module_id not in pkg.module_ids():
        abort(404)
    return module_id


def _lesson(pkg: Package, module_id: str, lesson_id: str) -> str:
    if lesson_id not in pkg.lesson_ids(_module(pkg, module_id)):
        abort(404)
    return lesson_id


def _locale(locale: str) -> str:
    if locale not in LOCALES:
        abort(404)
    return locale


def _stale(draft: Draft) -> bool:
    return request.form.get("revision", "") != str(draft.revision)


STALE = _l("This draft was changed in another window or by another trainer after you opened this page, so "
           "nothing was saved. Your version is shown below: save again to replace the other change, or "
           "reload the page to see it.")  # fmt: skip


@dataclass
class FormErrors:
    """The loader's errors sorted for one form."""

    #: By field inside the edited part (``options[1].text.ru``), translated.
    fields: dict[str, list[str]] = field(default_factory=dict)
    #: About the edited part as a whole (a lesson body's line, a question's missing options).
    entity: list[str] = field(default_factory=list)
    #: Anywhere else (another file the change broke), with file, line and field.
    others: list[str] = field(default_factory=list)

    @property
    def general(self) -> list[str]:
        return self.entity + self.others


def field_errors(problems: list[Problem], path: str, prefix: str = "") -> FormErrors:
    """Sort errors for a form on file ``path`` whose fields live under ``prefix``.

    The loader names ``questions[4].options[1].text.ru``; the question form's input is ``options[1].text.ru``.
    """
    result = FormErrors()
    entity = prefix.rstrip(".")
    for problem in problems:
        if not problem.is_error:
            continue
        name = problem.field or ""
        located = (_("line %(line)d: %(message)s", line=problem.line, message=problem.text(_))
                   if problem.line else problem.text(_))  # fmt: skip
        if problem.path == path and name and name != entity and (not prefix or name.startswith(prefix)):
            result.fields.setdefault(name[len(prefix):], []).append(problem.text(_))
        elif problem.path == path and name == entity:
            result.entity.append(located)
        else:
            result.others.append(problem.format(_))
    return result


def _flash_problems(problems: list[Problem], lead: str) -> None:
    flash(lead, "error")
    for problem in problems[:12]:
        flash(problem.format(_), "error")


def _saved() -> None:
    flash(_("Saved."), "success")


# -- the course list, new courses, imports ---------------------------------------------------------------


@bp.get("/")
@roles_required(*AUTHORS)
def course_list() -> str:
    return render_template("author/course_list.html", entries=services.course_entries(current_user))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_course() -> str | Response:
    data: dict[str, Any] = {"source_locale": current_locale(), "estimated_minutes": 60}
    errors = FormErrors()
    if request.method == "POST":
        data = forms.new_course(request.form)
        draft, problems = services.create_course(current_user, data)
        if draft is not None:
            session.commit()
            flash(_("The course was created. Add its first module."), "success")
            return redirect(url_for("author.draft", draft_uuid=draft.uuid))
        session.rollback()
        errors = field_errors(problems, "course.yaml")
    return render_template("author/new_course.html", data=data, errors=errors.fields, general=errors.general)


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def import_zip() -> str | Response:
    problems: list[Problem] = []
    if request.method == "POST":
        upload = request.files.get("archive")
        as_draft = request.form.get("mode", "draft") != "publish"
        if upload is None or not upload.filename:
            flash(_("Choose a course zip file to import."), "error")
        else:
            root = services.drafts_root()
            root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=root, prefix=".upload-", suffix=".zip") as tmp:
                upload.save(tmp)
                tmp.flush()
                result = services.import_zip(current_user, Path(tmp.name), as_draft=as_draft)
            if result.draft is not None:
                session.commit()
                if result.draft.error_count:
                    flash(_("The course was imported as a draft. It has errors to fix before it can be "
                            "published; they are listed below."), "warning")  # fmt: skip
                else:
                    flash(_("The course was imported as a draft."), "success")
                return redirect(url_for("author.draft", draft_uuid=result.draft.uuid))
            if result.version is not None:
                session.commit()
                if result.created:
                    flash(_("Imported %(course)s version %(version)d.", course=result.version.course.slug,
                            version=result.version.version), "success")  # fmt: skip
                else:
                    flash(_("%(course)s version %(version)d is already imported; nothing changed.",
                            course=result.version.course.slug, version=result.version.version), "info")  # fmt: skip
                return redirect(url_for("author.course", slug=result.version.course.slug))
            session.rollback()
            problems = result.problems
    return render_template("author/import.html", problems=problems)


# -- a course: versions, drafts, access --------------------------------------------------------------------


def _course_slug(slug: str) -> str:
    if not is_id(slug) or not services.slug_taken(slug) or not services.may_author(current_user, slug):
        abort(404)
    return slug


@bp.get("/courses/<slug>")
@roles_required(*AUTHORS)
def course(slug: str) -> str | Response:
    _course_slug(slug)
    versions = services.versions_of(slug)
    draft = services.draft_of(slug)
    if not versions and draft is not None:
        return redirect(url_for("author.draft", draft_uuid=draft.uuid))
    grants = _grants(slug) if current_user.role == "admin" else []
    return render_template("author/course.html", slug=slug, versions=versions, draft=draft, grants=grants)


def _grants(slug: str) -> list[tuple[CourseGrant, Any]]:
    from cbt.auth.models import User

    return list(session.execute(
        select(CourseGrant, User).join(User, User.id == CourseGrant.user_id)
        .where(CourseGrant.course_slug == slug).order_by(User.full_name)
    ).tuples())


@bp.post("/courses/<slug>/draft")
@roles_required(*AUTHORS)
def start_draft(slug: str) -> Response:
    """Editing a published course: write version N out as a new draft (the next version number)."""
    _course_slug(slug)
    existing = services.draft_of(slug)
    if existing is not None:
        flash(_("A draft of this course is already open; continue it, or publish or discard it first."), "info")
        return redirect(url_for("author.draft", draft_uuid=existing.uuid))
    number = request.form.get("version", type=int)
    version = next((v for v in services.versions_of(slug) if v.version == number), None)
    if version is None:
        abort(404)
    draft = services.draft_from_version(current_user, version)
    if draft is None:
        session.rollback()
        flash(_("A draft of this course is already open; continue it, or publish or discard it first."), "info")
        return redirect(url_for("author.course", slug=slug))
    session.commit()
    flash(_("A new draft was started from version %(version)d. Trainees keep seeing the published version "
            "until you publish this one.", version=version.version), "success")  # fmt: skip
    return redirect(url_for("author.draft", draft_uuid=draft.uuid))


@bp.get("/courses/<slug>/versions/<int:number>/export")
@roles_required(*AUTHORS)
def export_version(slug: str, number: int) -> Response:
    _course_slug(slug)
    version = next((v for v in services.versions_of(slug) if v.version == number), None)
    if version is None:
        abort(404)
    content = services.version_zip(version)
    with write_transaction():
        from cbt.audit.services import record

        record("course.export", actor_id=current_user.id, target=f"course:{slug}@{number}")
    return _zip_response(content, f"{slug}-v{number}.zip")


def _zip_response(content: bytes, name: str) -> Response:
    import io

    return send_file(io.BytesIO(content), mimetype="application/zip", as_attachment=True, download_name=name)


@bp.route("/courses/<slug>/access", methods=["GET", "POST"])
@roles_required("admin")
def access(slug: str) -> str | Response:
    """Administrators grant and revoke trainers' right to author a course."""
    from cbt.auth.models import User

    _course_slug(slug)
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            grant = session.get(CourseGrant, request.form.get("grant", type=int) or 0)
            if grant is None or grant.course_slug != slug:
                abort(404)
            services.revoke_grant(grant, current_user.id)
            session.commit()
            flash(_("Access removed."), "success")
        else:
            user = session.get(User, request.form.get("user", type=int) or 0)
            if user is None or user.role not in AUTHORS or not user.is_active:
                flash(_("Choose a trainer."), "error")
            elif services.add_grant(slug, user.id, current_user.id) is None:
                flash(_("%(name)s may already author this course.", name=user.full_name), "info")
            else:
                session.commit()
                flash(_("%(name)s may now author this course.", name=user.full_name), "success")
        return redirect(url_for("author.access", slug=slug))
    granted = {grant.user_id for grant, _user in _grants(slug)}
    candidates = [u for u in session.scalars(
        select(User).where(User.role == "trainer", User.is_active.is_(True)).order_by(User.full_name)
    ) if u.id not in granted]  # fmt: skip
    return render_template("author/access.html", slug=slug, grants=_grants(slug), candidates=candidates)


# -- a draft: overview, settings, publishing ---------------------------------------------------------------


def _module_outline(pkg: Package, module_id: str) -> dict[str, Any]:
    """One module as its files stand (valid or not): title, lessons with their languages, questions, quiz."""
    module = pkg.module(module_id)
    source = pkg.source_locale()
    lessons = []
    for lesson_id in pkg.lesson_ids(module_id):
        text = pkg.lesson(module_id, lesson_id, source)
        lessons.append({"id": lesson_id, "title": text.title if text else None,
                        "locales": pkg.lesson_locales(module_id, lesson_id)})  # fmt: skip
    return {"id": module_id, "title": as_map(module.get("title")), "lessons": lessons,
            "questions": [q for q in pkg.questions(module_id) if isinstance(q, dict)],
            "quiz": pkg.quiz(module_id)}  # fmt: skip


def _outline(pkg: Package, course: Any) -> list[dict[str, Any]]:
    """Every module; from the loaded course when it has no error, so its files are not parsed twice."""
    if course is None:
        return [_module_outline(pkg, module_id) for module_id in pkg.module_ids()]
    source = course.source_locale
    return [{
        "id": module.id, "title": module.title.to_dict(), "quiz": module.quiz,
        "lessons": [{"id": lesson.id, "title": lesson.texts[source].title, "locales": list(lesson.texts)}
                    for lesson in module.lessons],
        "questions": [{"id": q.id, "type": q.type, "prompt": q.prompt.to_dict()} for q in module.questions],
    } for module in course.modules]  # fmt: skip


@bp.get("/drafts/<draft_uuid>")
@roles_required(*AUTHORS)
def draft(draft_uuid: str) -> str:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    # The overview always validates afresh: it is where a trainer checks the whole course.
    course, problems = load_course(pkg.root)
    if draft.problems != services.problem_dicts(problems):
        with write_transaction():
            services.sync_problems(draft, problems)
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    return render_template(
        "author/draft.html", draft=draft, pkg=pkg, course=pkg.course(), modules=_outline(pkg, course),
        errors=errors, warnings=warnings, completeness=Completeness.from_dict(draft.translation),
        source=pkg.source_locale(),
        based_on=session.get(CourseVersion, draft.based_on_id) if draft.based_on_id else None,
        latest=services.latest_number(draft.course_slug), exam=pkg.exam(),
    )


@bp.route("/drafts/<draft_uuid>/settings", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def settings(draft_uuid: str) -> str | Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    data = pkg.course()
    problems: list[Problem] = []
    general: list[str] = []
    if request.method == "POST":
        data = forms.course_settings(request.form, pkg.course())
        if _stale(draft):
            general.append(str(STALE))
        else:
            result = services.change(draft, current_user.id, lambda stage: write_yaml(stage, "course.yaml", data),
                                     what="settings", allowed=services.allow_no_modules)  # fmt: skip
            if result.saved:
                session.commit()
                _saved()
                return redirect(url_for("author.draft", draft_uuid=draft.uuid))
            session.rollback()
            problems = result.added
    else:
        problems = services.problems_of(draft)
    errors = field_errors(problems, "course.yaml")
    return render_template("author/settings.html", draft=draft, data=data, errors=errors.fields,
                           general=general + (errors.general if request.method == "POST" else []),
                           source=pkg.source_locale())  # fmt: skip


@bp.post("/drafts/<draft_uuid>/publish")
@roles_required(*AUTHORS)
def publish(draft_uuid: str) -> str | Response:
    draft = _draft(draft_uuid)
    draft.changelog = forms.text(request.form.get("changelog", ""), multiline=True) or ""
    if request.form.get("action") == "save":
        session.commit()
        flash(_("The change log was saved."), "success")
        return redirect(url_for("author.draft", draft_uuid=draft.uuid))
    draft_key = str(draft.uuid)
    version, problems = services.publish(draft, current_user)
    if version is None:
        session.commit()  # keeps the change log typed with the refused publish
        _flash_problems(problems, _("The course was not published. Fix these problems first:"))
        return redirect(url_for("author.draft", draft_uuid=draft_key))
    slug = version.course.slug
    number = version.version
    session.commit()
    services.remove_files(draft_key)
    flash(_("Version %(version)d of the course is published. Trainees who already started keep their version.",
            version=number), "success")  # fmt: skip
    return redirect(url_for("author.course", slug=slug))


@bp.post("/drafts/<draft_uuid>/discard")
@roles_required(*AUTHORS)
def discard(draft_uuid: str) -> Response:
    draft = _draft(draft_uuid)
    if not request.form.get("confirm"):
        flash(_("Tick the box to confirm that the draft and all its changes should be deleted."), "error")
        return redirect(url_for("author.draft", draft_uuid=draft.uuid))
    slug, key = draft.course_slug, str(draft.uuid)
    services.discard(draft, current_user.id)
    session.commit()
    services.remove_files(key)
    flash(_("The draft was deleted."), "success")
    if services.course_row(slug) is not None:
        return redirect(url_for("author.course", slug=slug))
    return redirect(url_for("author.course_list"))


@bp.get("/drafts/<draft_uuid>/export")
@roles_required(*AUTHORS)
def export_draft(draft_uuid: str) -> Response:
    draft = _draft(draft_uuid)
    content = services.draft_zip(draft)
    with write_transaction():
        from cbt.audit.services import record

        record("draft.export", actor_id=current_user.id, target=f"course:{draft.course_slug}", draft=draft_uuid)
    return _zip_response(content, f"{draft.course_slug}-draft.zip")


# -- modules ---------------------------------------------------------------------------------------------


@bp.post("/drafts/<draft_uuid>/modules")
@roles_required(*AUTHORS)
def add_module(draft_uuid: str) -> Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    source = pkg.source_locale()
    title = forms.text(request.form.get(f"title.{source}"))
    existing = pkg.module_ids()
    wanted = forms.text(request.form.get("id"))
    base = f"{len(existing) + 1:02d}-{slugify(title or '', fallback='module', limit=40)}"
    module_id = wanted or unique_name(base, [p.name for p in pkg.root.iterdir()])
    if not is_id(module_id) or module_id in existing or (pkg.root / module_id).exists() or module_id == MEDIA_DIR:
        flash(_("Choose another id for the module: lowercase letters, digits and hyphens, not used yet."), "error")
        return redirect(url_for("author.draft", draft_uuid=draft.uuid))

    def apply(stage: Path) -> None:
        data = Package(stage).course()
        data["modules"] = [*as_list(data.get("modules")), module_id]
        write_yaml(stage, "course.yaml", data)
        module: dict[str, Any] = {"lessons": []}
        if title:
            module = {"title": {source: title}, "lessons": []}
        write_yaml(stage, f"{module_id}/module.yaml", module)

    result = services.change(draft, current_user.id, apply, what="module.add", module=module_id)
    if not result.saved:
        session.rollback()
        _flash_problems(result.added, _("The module was not added:"))
        return redirect(url_for("author.draft", draft_uuid=draft.uuid))
    session.commit()
    flash(_("The module was added."), "success")
    return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id))


def _move(items: list[Any], item: Any, direction: str) -> list[Any]:
    items = list(items)
    index = items.index(item)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    return items


@bp.post("/drafts/<draft_uuid>/modules/<module_id>/move")
@roles_required(*AUTHORS)
def move_module(draft_uuid: str, module_id: str) -> Response:
    draft = _draft(draft_uuid)
    _module(services.package(draft), module_id)
    direction = request.form.get("direction", "down")

    def apply(stage: Path) -> None:
        data = Package(stage).course()
        data["modules"] = _move(as_list(data.get("modules")), module_id, direction)
        write_yaml(stage, "course.yaml", data)

    _finish(draft, services.change(draft, current_user.id, apply, what="module.move", module=module_id),
            _("The module was not moved:"))  # fmt: skip
    return redirect(url_for("author.draft", draft_uuid=draft.uuid) + f"#module-{module_id}")


def _finish(draft: Draft, result: Any, refused: str, done: str | None = None) -> bool:
    if result.saved:
        session.commit()
        if done:
            flash(done, "success")
        return True
    session.rollback()
    _flash_problems(result.added, refused)
    return False


@bp.post("/drafts/<draft_uuid>/modules/<module_id>/remove")
@roles_required(*AUTHORS)
def remove_module(draft_uuid: str, module_id: str) -> Response:
    draft = _draft(draft_uuid)
    _module(services.package(draft), module_id)
    if not request.form.get("confirm"):
        flash(_("Tick the box to confirm that the module, its lessons and its questions should be removed."), "error")
        return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id))

    def apply(stage: Path) -> None:
        data = Package(stage).course()
        data["modules"] = [m for m in as_list(data.get("modules")) if m != module_id]
        write_yaml(stage, "course.yaml", data)
        remove(stage, module_id)

    result = services.change(draft, current_user.id, apply, what="module.remove", module=module_id,
                             allowed=services.allow_no_modules)  # fmt: skip
    if _finish(draft, result, _("The module was not removed:"), _("The module was removed.")):
        return redirect(url_for("author.draft", draft_uuid=draft.uuid))
    return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id))


@bp.route("/drafts/<draft_uuid>/modules/<module_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def module(draft_uuid: str, module_id: str) -> str | Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _module(pkg, module_id)
    rel = f"{module_id}/module.yaml"
    data = pkg.module(module_id)
    problems: list[Problem] = []
    general: list[str] = []
    if request.method == "POST":
        data = forms.module_settings(request.form, pkg.module(module_id))
        if _stale(draft):
            general.append(str(STALE))
        else:
            result = services.change(draft, current_user.id, lambda stage: write_yaml(stage, rel, data),
                                     what="module.edit", module=module_id)  # fmt: skip
            if result.saved:
                session.commit()
                _saved()
                return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id))
            session.rollback()
            problems = result.added
    else:
        problems = services.problems_of(draft)
    errors = field_errors(problems, rel)
    outline = _module_outline(pkg, module_id)
    return render_template("author/module.html", draft=draft, module_id=module_id, data=data, errors=errors.fields,
                           general=general + (errors.general if request.method == "POST" else []), outline=outline,
                           source=pkg.source_locale(), quiz=pkg.quiz(module_id))  # fmt: skip


# -- lessons ---------------------------------------------------------------------------------------------


@bp.post("/drafts/<draft_uuid>/modules/<module_id>/lessons")
@roles_required(*AUTHORS)
def add_lesson(draft_uuid: str, module_id: str) -> Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _module(pkg, module_id)
    source = pkg.source_locale()
    title = forms.text(request.form.get("title"))
    minutes = forms.number(request.form.get("minutes"))
    existing = pkg.lesson_ids(module_id)
    wanted = forms.text(request.form.get("id"))
    taken = {p.name.split(".", 1)[0] for p in (pkg.root / module_id).iterdir()}
    base = f"{len(existing) + 1:02d}-{slugify(title or '', fallback='lesson', limit=40)}"
    lesson_id = wanted or unique_name(base, taken)
    back = url_for("author.module", draft_uuid=draft.uuid, module_id=module_id)
    if not is_id(lesson_id) or lesson_id in existing or lesson_id in taken:
        flash(_("Choose another id for the lesson: lowercase letters, digits and hyphens, not used yet."), "error")
        return redirect(back)

    def apply(stage: Path) -> None:
        staged = Package(stage)
        data = staged.module(module_id)
        data["lessons"] = [*as_list(data.get("lessons")), lesson_id]
        write_yaml(stage, f"{module_id}/module.yaml", forms._ordered(data, forms.MODULE_KEYS))
        write_lesson(stage, staged.lesson_rel(module_id, lesson_id, source), title, minutes, "")

    result = services.change(draft, current_user.id, apply, what="lesson.add", module=module_id, lesson=lesson_id)
    if not _finish(draft, result, _("The lesson was not added:"), _("The lesson was added. Write its text.")):
        return redirect(back)
    return redirect(url_for("author.lesson", draft_uuid=draft.uuid, module_id=module_id, lesson_id=lesson_id,
                            locale=source))  # fmt: skip


@bp.post("/drafts/<draft_uuid>/modules/<module_id>/lessons/<lesson_id>/move")
@roles_required(*AUTHORS)
def move_lesson(draft_uuid: str, module_id: str, lesson_id: str) -> Response:
    draft = _draft(draft_uuid)
    _lesson(services.package(draft), module_id, lesson_id)
    direction = request.form.get("direction", "down")

    def apply(stage: Path) -> None:
        data = Package(stage).module(module_id)
        data["lessons"] = _move(as_list(data.get("lessons")), lesson_id, direction)
        write_yaml(stage, f"{module_id}/module.yaml", data)

    _finish(draft, services.change(draft, current_user.id, apply, what="lesson.move", module=module_id,
                                   lesson=lesson_id), _("The lesson was not moved:"))  # fmt: skip
    return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id) + "#lessons")


@bp.post("/drafts/<draft_uuid>/modules/<module_id>/lessons/<lesson_id>/remove")
@roles_required(*AUTHORS)
def remove_lesson(draft_uuid: str, module_id: str, lesson_id: str) -> Response:
    draft = _draft(draft_uuid)
    _lesson(services.package(draft), module_id, lesson_id)
    if not request.form.get("confirm"):
        flash(_("Tick “confirm” beside the button to remove the lesson in every language."), "error")
        return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id) + "#lessons")

    def apply(stage: Path) -> None:
        staged = Package(stage)
        data = staged.module(module_id)
        data["lessons"] = [item for item in as_list(data.get("lessons")) if item != lesson_id]
        write_yaml(stage, f"{module_id}/module.yaml", data)
        for locale in LOCALES:
            remove(stage, staged.lesson_rel(module_id, lesson_id, locale))

    result = services.change(draft, current_user.id, apply, what="lesson.remove", module=module_id, lesson=lesson_id)
    _finish(draft, result, _("The lesson was not removed:"), _("The lesson was removed."))
    return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id) + "#lessons")


def _resolver(draft: Draft, pkg: Package) -> Callable[[str], str | None]:
    names = {entry.name for entry in pkg.media()}

    def resolve(path: str) -> str | None:
        folder, _sep, name = path.partition("/")
        if folder == MEDIA_DIR and name in names:
            return url_for("author.media_file", draft_uuid=draft.uuid, name=name)
        return None

    return resolve


@bp.route("/drafts/<draft_uuid>/modules/<module_id>/lessons/<lesson_id>/<locale>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def lesson(draft_uuid: str, module_id: str, lesson_id: str, locale: str) -> str | Response:
    """Edit one language version of a lesson; in another locale than the source, the source is beside it."""
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _lesson(pkg, module_id, lesson_id)
    _locale(locale)
    source = pkg.source_locale()
    rel = pkg.lesson_rel(module_id, lesson_id, locale)
    current = pkg.lesson(module_id, lesson_id, locale)
    original = pkg.lesson(module_id, lesson_id, source) if locale != source else None
    values: dict[str, Any] = {"title": current.title if current else None, "body": current.body if current else "",
                              "minutes": current.minutes if current else (original.minutes if original else None)}
    problems: list[Problem] = []
    general: list[str] = []
    preview = None
    here = url_for("author.lesson", draft_uuid=draft.uuid, module_id=module_id, lesson_id=lesson_id, locale=locale)
    if request.method == "POST":
        action = request.form.get("action", "save")
        values = forms.lesson_fields(request.form)
        if action == "preview":
            preview = importer.lesson_html(values["body"], values["title"] or "", _resolver(draft, pkg), base=module_id)
        elif action == "remove" and locale != source:
            result = services.change(draft, current_user.id, lambda stage: remove(stage, rel),
                                     what="lesson.untranslate", module=module_id, lesson=lesson_id, locale=locale)
            if _finish(draft, result, _("The translation was not removed:"), _("The translation was removed.")):
                return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id))
            return redirect(here)
        elif _stale(draft):
            general.append(str(STALE))
        else:
            result = services.change(
                draft, current_user.id,
                lambda stage: write_lesson(stage, rel, values["title"], values["minutes"], values["body"]),
                what="lesson.edit", module=module_id, lesson=lesson_id, locale=locale,
            )  # fmt: skip
            if result.saved:
                session.commit()
                _saved()
                return redirect(here)
            session.rollback()
            problems = result.added
    elif current is not None:
        problems = services.problems_of(draft)
    errors = field_errors(problems, rel)
    general += errors.others if request.method == "POST" else []
    return render_template(
        "author/lesson.html", draft=draft, module_id=module_id, lesson_id=lesson_id, locale=locale,
        source=source, values=values, original=original, errors=errors.fields, body_errors=errors.entity,
        general=general, preview=preview, exists=current is not None,
        module_title=as_map(pkg.module(module_id).get("title")), media=_media_entries(draft, pkg),
    )


# -- questions -------------------------------------------------------------------------------------------


def _blanks(qtype: str, is_new: bool) -> dict[str, int]:
    """How many empty rows each list of the form shows (more on request, without saving)."""
    blanks = dict(NEW_BLANKS) if is_new else dict.fromkeys(NEW_BLANKS, 1)
    for key in request.form:
        if key.startswith("_blanks."):
            value = request.form.get(key, type=int)
            if value is not None and 0 <= value <= 20:
                blanks[key[len("_blanks."):]] = value
    action = request.form.get("action", "")
    if action.startswith("add:"):
        name = action[4:]
        blanks[name] = min(blanks.get(name, 1) + 1, 20)
    return blanks


@bp.route("/drafts/<draft_uuid>/modules/<module_id>/questions/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_question(draft_uuid: str, module_id: str) -> str | Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _module(pkg, module_id)
    qtype = request.args.get("type", "")
    if qtype not in QUESTION_TYPES:
        abort(404)
    taken = {qid for _m, qid in pkg.all_question_ids()}
    suggested = unique_name(f"{slugify(module_id, limit=30)}-q{len(pkg.questions(module_id)) + 1}", taken)
    return _question_form(draft, pkg, module_id, qtype, {"id": suggested, "type": qtype}, None)


@bp.route("/drafts/<draft_uuid>/modules/<module_id>/questions/<question_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def question(draft_uuid: str, module_id: str, question_id: str) -> str | Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _module(pkg, module_id)
    index = pkg.question_index(module_id, question_id)
    if index is None:
        abort(404)
    current = pkg.questions(module_id)[index]
    qtype = current.get("type")
    if qtype not in QUESTION_TYPES:
        flash(_("This question has an unknown type; fix it in the file, or remove the question."), "error")
        return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id))
    return _question_form(draft, pkg, module_id, qtype, current, index)


def _question_form(draft: Draft, pkg: Package, module_id: str, qtype: str, data: dict[str, Any],
                   index: int | None) -> str | Response:  # fmt: skip
    rel = pkg.questions_file(module_id)
    is_new = index is None
    position = len(pkg.questions(module_id)) if is_new else index
    prefix = f"questions[{position}]."
    problems: list[Problem] = []
    general: list[str] = []
    blanks = _blanks(qtype, is_new)
    if request.method == "POST":
        action = request.form.get("action", "save")
        suggested = data.get("id")
        data = forms.question(request.form, qtype, None if is_new else suggested)
        if not data.get("id"):
            data = {"id": suggested, **{k: v for k, v in data.items() if k != "id"}}
        if action.startswith("add:"):
            pass  # more empty rows, nothing saved
        elif _stale(draft):
            general.append(str(STALE))
        else:
            question_id = data.get("id")

            def apply(stage: Path) -> None:
                staged = Package(stage)
                items = staged.questions(module_id)
                if is_new:
                    items.append(data)
                else:
                    items[position] = data
                write_yaml(stage, rel, items)
                module = staged.module(module_id)
                if "questions" not in module:
                    module["questions"] = rel.rsplit("/", 1)[1]
                    write_yaml(stage, f"{module_id}/module.yaml", forms._ordered(module, forms.MODULE_KEYS))

            result = services.change(draft, current_user.id, apply, what="question.add" if is_new else "question.edit",
                                     module=module_id, question=str(question_id))  # fmt: skip
            if result.saved:
                session.commit()
                _saved()
                return redirect(url_for("author.question", draft_uuid=draft.uuid, module_id=module_id,
                                        question_id=question_id))  # fmt: skip
            session.rollback()
            problems = result.added
    elif not is_new:
        problems = services.problems_of(draft)
    errors = field_errors(problems, rel, prefix)
    general += errors.general if request.method == "POST" else errors.entity
    images = [entry for entry in pkg.media() if entry.kind == "image"]
    step_ids = [str(s["id"]) for s in as_list(data.get("steps")) if isinstance(s, dict) and s.get("id")]
    blank_steps = blanks.get("steps", 1)
    suggestions = next_ids("s", step_ids)
    return render_template(
        "author/question.html", draft=draft, module_id=module_id, qtype=qtype, q=data, is_new=is_new,
        errors=errors.fields, general=general, blanks=blanks, source=pkg.source_locale(), images=images,
        hotspot=_hotspot_preview(draft, pkg, module_id, data) if qtype == "hotspot" else None,
        step_ids=step_ids, step_suggestions=[next(suggestions) for _i in range(blank_steps)],
        answer_errors=[m for key, found in errors.fields.items() if key == "answer" or key.startswith("answer[")
                       for m in found],
    )


def _hotspot_preview(draft: Draft, pkg: Package, module_id: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The chosen image, its coordinate box and the regions drawn on it, for the editor (no JS needed)."""
    image = data.get("image")
    if not isinstance(image, str):
        return None
    folder, _sep, name = image.removeprefix("../").partition("/")
    if folder != MEDIA_DIR or not MEDIA_NAME_PATTERN.match(name) or not (pkg.root / MEDIA_DIR / name).is_file():
        return None
    box = inspect_media(pkg.root / MEDIA_DIR / name, f"{MEDIA_DIR}/{name}").box
    shapes = []
    for region in as_list(data.get("regions")):
        coords = region.get("coords") if isinstance(region, dict) else None
        if isinstance(coords, list) and all(isinstance(c, (int, float)) for c in coords):
            shapes.append({"shape": region.get("shape"), "coords": coords, "id": region.get("id"),
                           "correct": region.get("id") in as_list(data.get("answer"))})  # fmt: skip
    return {"url": url_for("author.media_file", draft_uuid=draft.uuid, name=name), "box": box, "shapes": shapes}


@bp.post("/drafts/<draft_uuid>/modules/<module_id>/questions/<question_id>/move")
@roles_required(*AUTHORS)
def move_question(draft_uuid: str, module_id: str, question_id: str) -> Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _module(pkg, module_id)
    if pkg.question_index(module_id, question_id) is None:
        abort(404)
    rel = pkg.questions_file(module_id)
    direction = request.form.get("direction", "down")

    def apply(stage: Path) -> None:
        items = Package(stage).questions(module_id)
        index = next(i for i, q in enumerate(items) if isinstance(q, dict) and q.get("id") == question_id)
        target = index - 1 if direction == "up" else index + 1
        if 0 <= target < len(items):
            items[index], items[target] = items[target], items[index]
        write_yaml(stage, rel, items)

    _finish(draft, services.change(draft, current_user.id, apply, what="question.move", module=module_id,
                                   question=question_id), _("The question was not moved:"))  # fmt: skip
    return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id) + "#questions")


@bp.post("/drafts/<draft_uuid>/modules/<module_id>/questions/<question_id>/remove")
@roles_required(*AUTHORS)
def remove_question(draft_uuid: str, module_id: str, question_id: str) -> Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _module(pkg, module_id)
    if pkg.question_index(module_id, question_id) is None:
        abort(404)
    if not request.form.get("confirm"):
        flash(_("Tick “confirm” beside the button to remove the question."), "error")
        return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id) + "#questions")
    rel = pkg.questions_file(module_id)

    def apply(stage: Path) -> None:
        staged = Package(stage)
        items = [q for q in staged.questions(module_id) if not (isinstance(q, dict) and q.get("id") == question_id)]
        if items:
            write_yaml(stage, rel, items)
            return
        remove(stage, rel)
        module = staged.module(module_id)
        module.pop("questions", None)
        write_yaml(stage, f"{module_id}/module.yaml", module)

    _finish(draft, services.change(draft, current_user.id, apply, what="question.remove", module=module_id,
                                   question=question_id), _("The question was not removed:"),
            _("The question was removed."))  # fmt: skip
    return redirect(url_for("author.module", draft_uuid=draft.uuid, module_id=module_id) + "#questions")


# -- quizzes and the exam ----------------------------------------------------------------------------------


@bp.route("/drafts/<draft_uuid>/modules/<module_id>/quiz", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def quiz(draft_uuid: str, module_id: str) -> str | Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _module(pkg, module_id)
    return _quiz_form(draft, pkg, module_id)


@bp.route("/drafts/<draft_uuid>/exam", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def exam(draft_uuid: str) -> str | Response:
    draft = _draft(draft_uuid)
    return _quiz_form(draft, services.package(draft), None)


def _quiz_form(draft: Draft, pkg: Package, module_id: str | None) -> str | Response:
    is_exam = module_id is None
    rel = pkg.exam_file() if is_exam else pkg.quiz_file(module_id)
    owner_rel = "course.yaml" if is_exam else f"{module_id}/module.yaml"
    key = "exam" if is_exam else "quiz"
    current = pkg.exam() if is_exam else pkg.quiz(module_id)
    data: dict[str, Any] = current if current is not None else {
        "kind": "exam" if is_exam else "practice", "questions": "all", "shuffle_questions": True,
        "shuffle_options": True,
    }
    here = url_for("author.exam", draft_uuid=draft.uuid) if is_exam else url_for(
        "author.quiz", draft_uuid=draft.uuid, module_id=module_id)
    problems: list[Problem] = []
    general: list[str] = []
    if request.method == "POST":
        action = request.form.get("action", "save")
        if action == "remove":
            def drop(stage: Path) -> None:
                remove(stage, rel)
                owner = as_map(Package(stage).read_yaml(owner_rel))
                owner.pop(key, None)
                write_yaml(stage, owner_rel, owner)

            result = services.change(draft, current_user.id, drop, what=f"{key}.remove", module=module_id)
            if _finish(draft, result, _("The quiz was not removed:"), _("The quiz was removed.")):
                return redirect(url_for("author.draft", draft_uuid=draft.uuid) if is_exam else url_for(
                    "author.module", draft_uuid=draft.uuid, module_id=module_id))
            return redirect(here)
        data = forms.quiz(request.form, "exam" if is_exam else "practice")
        blanks = (request.form.get("_blanks.draw", type=int) or 1) + (1 if action == "add:draw" else 0)
        blanks = min(max(blanks, 1), 20)
        if action.startswith("add:"):
            return _render_quiz(draft, pkg, module_id, data, {}, general, blanks, current is not None)
        if _stale(draft):
            general.append(str(STALE))
        else:
            def apply(stage: Path) -> None:
                write_yaml(stage, rel, forms._ordered(data, forms.QUIZ_KEYS))
                owner = as_map(Package(stage).read_yaml(owner_rel))
                if key not in owner:
                    owner[key] = rel.rsplit("/", 1)[-1]
                    write_yaml(stage, owner_rel, forms._ordered(
                        owner, forms.COURSE_KEYS if is_exam else forms.MODULE_KEYS))

            result = services.change(draft, current_user.id, apply, what=f"{key}.edit", module=module_id)
            if result.saved:
                session.commit()
                _saved()
                return redirect(here)
            session.rollback()
            problems = result.added
    elif current is not None:
        problems = services.problems_of(draft)
    errors = field_errors(problems, rel)
    general += errors.general if request.method == "POST" else errors.entity
    return _render_quiz(draft, pkg, module_id, data, errors.fields, general, 1, current is not None)


def _render_quiz(draft: Draft, pkg: Package, module_id: str | None, data: dict[str, Any],
                 errors: dict[str, list[str]], general: list[str], blanks: int, exists: bool) -> str:  # fmt: skip
    modules = [module_id] if module_id else pkg.module_ids()
    questions = []
    for mid in modules:
        for item in pkg.questions(mid):
            if isinstance(item, dict) and is_id(item.get("id")):
                questions.append({"module": mid, "id": item["id"], "prompt": as_map(item.get("prompt")),
                                  "tags": id_list(item.get("tags"))})  # fmt: skip
    picked = as_list(data.get("questions"))
    return render_template(
        "author/quiz.html", draft=draft, module_id=module_id, data=data, errors=errors, general=general,
        mode=forms.quiz_mode(data), questions=questions, picked=picked, modules=pkg.module_ids(),
        rules=[r for r in as_list(data.get("draw")) if isinstance(r, dict)], blanks=blanks, exists=exists,
        source=pkg.source_locale(), module_title=as_map(pkg.module(module_id).get("title")) if module_id else None,
        tags=sorted({t for q in questions for t in q["tags"]}),
    )


# -- translation -------------------------------------------------------------------------------------------


def _part(pkg: Package, part: str, module_id: str | None, question_id: str | None) -> tuple[str, str, Any]:
    """``(file, field prefix, data)`` of the part of the package a translation page works on."""
    if part == "course":
        return "course.yaml", "", pkg.course()
    if part == "exam":
        data = pkg.exam()
        if data is None:
            abort(404)
        return pkg.exam_file(), "", data
    _module(pkg, module_id or "")
    assert module_id is not None
    if part == "module":
        return f"{module_id}/module.yaml", "", pkg.module(module_id)
    if part == "quiz":
        data = pkg.quiz(module_id)
        if data is None:
            abort(404)
        return pkg.quiz_file(module_id), "", data
    index = pkg.question_index(module_id, question_id or "")
    if index is None:
        abort(404)
    return pkg.questions_file(module_id), f"questions[{index}].", pkg.questions(module_id)[index]


_T = "/drafts/<draft_uuid>/translate/<locale>"


@bp.route(f"{_T}/course", methods=["GET", "POST"], defaults={"part": "course"})
@bp.route(f"{_T}/exam", methods=["GET", "POST"], defaults={"part": "exam"})
@bp.route(f"{_T}/modules/<module_id>", methods=["GET", "POST"], defaults={"part": "module"})
@bp.route(f"{_T}/modules/<module_id>/quiz", methods=["GET", "POST"], defaults={"part": "quiz"})
@bp.route(f"{_T}/modules/<module_id>/questions/<question_id>", methods=["GET", "POST"],
          defaults={"part": "question"})
@roles_required(*AUTHORS)
def translate(draft_uuid: str, locale: str, part: str, module_id: str | None = None,
              question_id: str | None = None) -> str | Response:  # fmt: skip
    """Side by side: every text of the source locale beside the target locale's field, gaps highlighted."""
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _locale(locale)
    source = pkg.source_locale()
    rel, prefix, data = _part(pkg, part, module_id, question_id)
    fields = list(localized_fields(data))
    paths = [path for path, _mapping in fields]
    typed: dict[str, Any] = {}
    problems: list[Problem] = []
    general: list[str] = []
    if request.method == "POST":
        typed = forms.translated(request.form, locale, paths)
        if _stale(draft):
            general.append(str(STALE))
        else:
            def apply(stage: Path) -> None:
                _rel, _prefix, staged = _part(Package(stage), part, module_id, question_id)
                for path, value in typed.items():
                    mapping = get_path(staged, path)
                    if not isinstance(mapping, dict):
                        continue
                    if value:
                        mapping[locale] = value
                    else:
                        mapping.pop(locale, None)
                    ordered = {loc: mapping[loc] for loc in LOCALES if loc in mapping}
                    ordered.update({k: v for k, v in mapping.items() if k not in ordered})
                    mapping.clear()
                    mapping.update(ordered)
                if prefix:
                    items = Package(stage).questions(module_id or "")
                    items[int(prefix[len("questions["):-2])] = staged
                    write_yaml(stage, rel, items)
                else:
                    write_yaml(stage, rel, staged)

            result = services.change(draft, current_user.id, apply, what="translate", part=part, locale=locale,
                                     module=module_id, question=question_id, allowed=services.allow_no_modules)
            if result.saved:
                session.commit()
                _saved()
                return redirect(request.path)
            session.rollback()
            problems = result.added
    else:
        problems = services.problems_of(draft)
    found = field_errors(problems, rel, prefix)
    errors = found.fields
    if request.method == "POST":
        general += found.general
    rows = []
    for path, mapping in fields:
        target = typed[path] if path in typed else (mapping.get(locale) if isinstance(mapping, dict) else None)
        source_text = mapping.get(source) if isinstance(mapping, dict) else None
        is_lines = any(isinstance(v, list) for v in mapping.values())
        rows.append({
            "path": path, "source": source_text, "target": target, "lines": is_lines,
            "multiline": is_lines or any(isinstance(v, str) and ("\n" in v or len(v) > 90) for v in mapping.values())
            or path.rsplit(".", 1)[-1] in ("description", "prompt", "feedback"),
            "missing": not target, "errors": errors.get(path, []) + errors.get(f"{path}.{locale}", []),
        })  # fmt: skip
    return render_template("author/translate.html", draft=draft, locale=locale, source=source, part=part,
                           module_id=module_id, question_id=question_id, rows=rows, general=general, rel=rel)


@bp.get("/drafts/<draft_uuid>/gaps/<locale>")
@roles_required(*AUTHORS)
def translation_gaps(draft_uuid: str, locale: str) -> str:
    """Every text still missing in ``locale``, each with a link to where it is translated."""
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _locale(locale)
    problems = services.problems_of(draft)
    items = []
    for gap in gaps(problems, locale):
        items.append({"gap": gap, "url": _gap_url(draft, pkg, gap.path, gap.field, gap.lesson, locale)})
    completeness = Completeness.from_dict(draft.translation)
    return render_template("author/gaps.html", draft=draft, locale=locale, items=items, source=pkg.source_locale(),
                           completeness=completeness)  # fmt: skip


def _gap_url(draft: Draft, pkg: Package, path: str, field_path: str | None, lesson_id: str | None,
             locale: str) -> str | None:  # fmt: skip
    args: dict[str, Any] = {"draft_uuid": draft.uuid, "locale": locale}
    if path == "course.yaml":
        return url_for("author.translate", part="course", **args)
    if path == pkg.exam_file():
        return url_for("author.translate", part="exam", **args)
    module_id, _sep, name = path.partition("/")
    if module_id not in pkg.module_ids():
        return None
    if lesson_id is not None:
        return url_for("author.lesson", module_id=module_id, lesson_id=lesson_id, **args)
    if name == "module.yaml":
        return url_for("author.translate", part="module", module_id=module_id, **args)
    if path == pkg.quiz_file(module_id):
        return url_for("author.translate", part="quiz", module_id=module_id, **args)
    if path == pkg.questions_file(module_id) and field_path:
        match = re.match(r"^questions\[(\d+)\]", field_path)
        items = pkg.questions(module_id)
        if match and int(match.group(1)) < len(items) and isinstance(items[int(match.group(1))], dict):
            question_id = items[int(match.group(1))].get("id")
            if is_id(question_id):
                return url_for("author.translate", part="question", module_id=module_id, question_id=question_id,
                               **args)  # fmt: skip
    return None


# -- media -----------------------------------------------------------------------------------------------


def _media_entries(draft: Draft, pkg: Package) -> list[dict[str, Any]]:
    labels = draft.media_labels or {}
    return [{"entry": entry, "label": labels.get(entry.name) or entry.name.rsplit(".", 1)[0],
             "snippet": lesson_snippet(labels.get(entry.name) or entry.name.rsplit(".", 1)[0], entry.name),
             "url": url_for("author.media_file", draft_uuid=draft.uuid, name=entry.name)}
            for entry in pkg.media()]  # fmt: skip


@bp.route("/drafts/<draft_uuid>/media", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def media(draft_uuid: str) -> str | Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    upload_errors: list[str] = []
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            upload_errors.append(_("Choose a file to upload."))
        else:
            upload_errors = _upload(draft, pkg, upload)
            if not upload_errors:
                return redirect(url_for("author.media", draft_uuid=draft.uuid))
    problems = services.problems_of(draft)
    unused = {p.path for p in problems if not p.is_error and p.message == "media file is not used anywhere"}
    errors_by_file: dict[str, list[str]] = {}
    for problem in problems:
        if problem.is_error and problem.path.startswith(f"{MEDIA_DIR}/"):
            errors_by_file.setdefault(problem.path, []).append(problem.text(_))
    return render_template(
        "author/media.html", draft=draft, items=_media_entries(draft, pkg), unused=unused,
        upload_errors=upload_errors, file_errors=errors_by_file,
        limits={"image": _size(_media_limit("image")), "video": _size(_media_limit("video"))},
        allowed=", ".join(sorted({s.lstrip(".").upper() for s in MEDIA_TYPES} - {"JPEG"})),
    )


def _upload(draft: Draft, pkg: Package, upload: Any) -> list[str]:
    """Check an uploaded file by its content and add it to the draft's media; the problems, if refused."""
    original = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = media_name(original, [entry.name for entry in pkg.media()])
    if name is None:
        return [_("Files of this type cannot be used. Allowed: SVG, PNG, JPEG, WebP images and MP4, WebM videos.")]
    kind = MEDIA_TYPES["." + name.rsplit(".", 1)[1]][0]
    limit = _media_limit(kind)
    root = services.drafts_root()
    with tempfile.TemporaryDirectory(prefix=".media-", dir=root) as tmp:
        path = Path(tmp) / name
        size = 0
        with path.open("wb") as out:
            while chunk := upload.stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    if kind == "image":
                        return [_("The image is larger than the limit of %(limit)s.", limit=_size(limit))]
                    return [_("The video is larger than the limit of %(limit)s.", limit=_size(limit))]
                out.write(chunk)
        if size == 0:
            return [_("The file is empty.")]
        info = inspect_media(path, f"{MEDIA_DIR}/{name}")
        if info.problems:
            return [_("The file was not accepted: %(reason)s", reason=p.text(_)) for p in info.problems]
        if kind == "image":
            box = info.box
            if box is None and not name.endswith(".svg"):
                return [_("The size of the image cannot be read; the file may be damaged.")]
            side = int(current_app.config.get("AUTHOR_IMAGE_MAX_SIDE") or 10000)
            if box is not None and (box[2] > side or box[3] > side):
                return [_("The image is %(width)d × %(height)d pixels; at most %(side)d pixels on each side are "
                          "allowed.", width=int(box[2]), height=int(box[3]), side=side)]  # fmt: skip
            if box is None:
                flash(_("This SVG has no viewBox or size, so it cannot be used for a hotspot question."), "warning")
        result = services.change(draft, current_user.id, lambda stage: _copy_into(path, stage / MEDIA_DIR / name),
                                 what="media.upload", file=name)  # fmt: skip
    if not result.saved:
        session.rollback()
        return [p.format(_) for p in result.added]
    label = original.rsplit(".", 1)[0].strip()[:120]
    draft.media_labels = {**(draft.media_labels or {}), name: label}
    session.commit()
    flash(_("%(name)s was uploaded. Use the snippet beside it to show it in a lesson.", name=name), "success")
    return []


def _copy_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _size(number: int) -> str:
    from flask_babel import format_decimal

    if number >= MiB:
        return _("%(size)s MB", size=format_decimal(round(number / MiB, 1)))
    return _("%(size)s KB", size=format_decimal(max(1, round(number / 1024))))


@bp.post("/drafts/<draft_uuid>/media/<name>/remove")
@roles_required(*AUTHORS)
def remove_media(draft_uuid: str, name: str) -> Response:
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    if name not in {entry.name for entry in pkg.media()}:
        abort(404)
    result = services.change(draft, current_user.id, lambda stage: remove(stage, f"{MEDIA_DIR}/{name}"),
                             what="media.remove", file=name)  # fmt: skip
    if result.saved:
        labels = dict(draft.media_labels or {})
        labels.pop(name, None)
        draft.media_labels = labels
    _finish(draft, result, _("The file is still used, so it was not deleted:"), _("The file was deleted."))
    return redirect(url_for("author.media", draft_uuid=draft.uuid))


@bp.get("/drafts/<draft_uuid>/media/<name>")
@roles_required(*AUTHORS)
def media_file(draft_uuid: str, name: str) -> Response:
    draft = _draft(draft_uuid)
    if not MEDIA_NAME_PATTERN.match(name):
        abort(404)
    path = services.draft_folder(draft) / MEDIA_DIR / name
    suffix = "." + name.rsplit(".", 1)[-1]
    if suffix not in MEDIA_TYPES or not path.is_file() or path.is_symlink():
        abort(404)
    response = send_file(path, mimetype=MEDIA_TYPES[suffix][1], conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    # A draft's file has not been published yet, but the same rule holds: an SVG opened alone runs nothing.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
    return response


# -- previews ----------------------------------------------------------------------------------------------


@bp.get("/drafts/<draft_uuid>/preview/<module_id>/<lesson_id>")
@roles_required(*AUTHORS)
def preview_lesson(draft_uuid: str, module_id: str, lesson_id: str) -> str:
    """A lesson as a trainee will see it; nothing is recorded."""
    draft = _draft(draft_uuid)
    pkg = services.package(draft)
    _lesson(pkg, module_id, lesson_id)
    wanted = request.args.get("locale") or current_locale()
    if wanted not in LOCALES:
        abort(404)
    available = pkg.lesson_locales(module_id, lesson_id)
    order = [wanted, *current_app.config["CONTENT_FALLBACK"], *LOCALES]
    shown = next((loc for loc in order if loc in available), None)
    if shown is None:
        abort(404)
    text = pkg.lesson(module_id, lesson_id, shown)
    assert text is not None
    title = text.title if isinstance(text.title, str) else lesson_id
    html = importer.lesson_html(text.body, title, _resolver(draft, pkg), base=module_id)
    lessons = pkg.lesson_ids(module_id)
    return render_template(
        "author/preview_lesson.html", draft=draft, module_id=module_id, lesson_id=lesson_id,
        course_title=as_map(pkg.course().get("title")), module_title=as_map(pkg.module(module_id).get("title")),
        title=title, minutes=text.minutes if isinstance(text.minutes, int) else None, html=html, shown=shown,
        wanted=wanted, fallback_locale=shown if shown != wanted else None,
        position=(lessons.index(lesson_id) + 1, len(lessons)),
    )


def _single_question(pkg: Package, module_id: str, item: dict[str, Any], tmp: Path) -> tuple[Any, list[Problem], Path]:
    """Load one question on its own: a one-module package around it, so a draft's other errors do not matter."""
    source = pkg.source_locale()
    root = tmp / pkg.course_id
    write_yaml(root, "course.yaml", {
        "id": pkg.course_id, "version": 1, "source_locale": source, "title": {source: pkg.course_id},
        "description": {source: pkg.course_id}, "estimated_minutes": 1,
        "completion": {"lessons": "none", "quizzes": "none", "exam": "none"}, "modules": [module_id],
    })  # fmt: skip
    write_yaml(root, f"{module_id}/module.yaml", {"title": {source: module_id}, "lessons": [],
                                                   "questions": "questions.yaml"})  # fmt: skip
    write_yaml(root, f"{module_id}/questions.yaml", [item])
    if (pkg.root / MEDIA_DIR).is_dir():
        shutil.copytree(pkg.root / MEDIA_DIR, root / MEDIA_DIR)
    course, problems = load_course(root)
    question = course.modules[0].questions[0] if course is not None else None
    return question, [p for p in problems if p.is_error], root


@bp.route("/drafts/<draft_uuid>/preview/<module_id>/questions/<question_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def preview_question(draft_uuid: str, module_id: str, question_id: str) -> str:
    """A question as a trainee will see it, answerable and graded on the page; no attempt is recorded."""
    from cbt.quiz import grading, review

    draft = _draft(draft_uuid, lock=False)
    pkg = services.package(draft)
    _module(pkg, module_id)
    index = pkg.question_index(module_id, question_id)
    if index is None:
        abort(404)
    item = pkg.questions(module_id)[index]
    with tempfile.TemporaryDirectory(prefix=".preview-", dir=services.drafts_root()) as tmp:
        loaded, problems, root = _single_question(pkg, module_id, item, Path(tmp))
        if loaded is None:
            return render_template("author/preview_question.html", draft=draft, module_id=module_id,
                                   question_id=question_id, problems=problems, question=None)  # fmt: skip
        rendered = importer.render_question(loaded, _resolver(draft, pkg), base=module_id, folder=root)
    qtype = grading.TYPES[loaded.type]
    spec = json.loads(json.dumps(loaded.spec))
    seed = request.form.get("seed", type=int) if request.method == "POST" else None
    seed = seed if seed is not None else random.randrange(1 << 30)
    layout = qtype.layout(spec, random.Random(seed), True)
    path = [p for p in request.form.get("path", "").split(",") if p] if request.method == "POST" else []
    answer = None
    outcome = None
    message = None
    shown = SimpleNamespace(type=loaded.type, spec=spec, rendered=rendered, points=loaded.points)
    if request.method == "POST":
        try:
            answer = qtype.parse(spec, layout, request.form.to_dict(flat=False), {"path": path} if path else None)
        except grading.AnswerError as error:
            message = _(error.message, **error.params)
        if loaded.type == "scenario":
            path = list((answer or {}).get("path") or path)
            finished = grading.scenario_position(spec, path) is None
        else:
            finished = True
        if finished and answer is not None and message is None:
            outcome = review.question_review(shown, SimpleNamespace(answer=answer, score=None, fraction=None),
                                             layout)  # type: ignore[arg-type]
    if loaded.type == "scenario":
        view = grading.scenario_view(spec, rendered["spec"], layout, path)
    else:
        view = qtype.trainee_view(spec, rendered["spec"], layout)
    filled = review.filled(shown, layout, answer) if answer else {}  # type: ignore[arg-type]
    return render_template(
        "author/preview_question.html", draft=draft, module_id=module_id, question_id=question_id, problems=[],
        question=shown, view=view, filled=filled, seed=seed, path=",".join(path), outcome=outcome, message=message,
    )
