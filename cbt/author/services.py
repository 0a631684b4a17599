"""Authoring services: drafts on disk, who may author what, importing, publishing.

A draft is a course package folder at ``<drafts>/<draft uuid>/<course id>/``; the drafts root is
``CBT_DRAFTS_PATH`` or ``<instance>/drafts``. A central server with several hosts must put it (like
``CBT_MEDIA_PATH``) on storage every host shares, or a trainer's next request may land on a host that has
never seen the draft.

Services add and flush and record audit events; the view commits once. File changes happen before the
commit, through :func:`cbt.author.package.change_package`, while the draft's row is locked (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's immediate write transaction serializes writers anyway), so two requests
never change one draft's files at the same time.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cbt.audit.services import record
from cbt.author.models import CourseGrant, Draft
from cbt.author.package import (
    ChangeResult,
    Package,
    as_map,
    change_package,
    is_id,
    recover,
    write_yaml,
)
from cbt.author.translation import Completeness, count, course_completeness
from cbt.content.archive import safe_extract_zip
from cbt.content.errors import ERROR, N_, ContentError, Problem
from cbt.content.loader import load_course
from cbt.content.schema import Course as CourseSchema
from cbt.content.writer import write_course, write_zip
from cbt.courses import importer
from cbt.courses.models import Course, CourseVersion, Lesson, LessonText, Module, QuestionVersion, Quiz
from cbt.db import session, utcnow

#: A new course may be saved before it has a module; this error then waits for the first one.
WAITING_FOR_MODULES = ("course.yaml", "modules", "needs at least %(count)s items")


# -- where drafts live -----------------------------------------------------------------------------------


def drafts_root() -> Path:
    configured = current_app.config.get("DRAFTS_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / "drafts"


def draft_dir(draft: Draft) -> Path:
    return drafts_root() / str(draft.uuid)


def draft_folder(draft: Draft) -> Path:
    return draft_dir(draft) / draft.course_slug


def package(draft: Draft) -> Package:
    return Package(draft_folder(draft))


def ready_folder(draft: Draft, *, locked: bool) -> Path | None:
    """The draft's folder, once it is in place; ``None`` if its files are gone.

    With the draft's lock held, an interrupted change is repaired first. Without it, a change may be
    swapping the folder at this very moment: wait a little for it instead of reporting it missing.
    """
    folder = draft_folder(draft)
    if locked:
        recover(folder)
    else:
        for _ in range(20):
            if folder.is_dir():
                break
            time.sleep(0.05)
    return folder if folder.is_dir() else None


# -- permissions -----------------------------------------------------------------------------------------


def may_author(user: Any, slug: str) -> bool:
    """Administrators author every course; trainers the courses they created or were granted."""
    if user.role == "admin":
        return True
    if user.role != "trainer":
        return False
    return session.scalar(
        select(CourseGrant.id).where(CourseGrant.course_slug == slug, CourseGrant.user_id == user.id)
    ) is not None


def add_grant(slug: str, user_id: int, granted_by_id: int | None) -> CourseGrant | None:
    """Let ``user_id`` author ``slug``; ``None`` if they already may."""
    exists = session.scalar(
        select(CourseGrant).where(CourseGrant.course_slug == slug, CourseGrant.user_id == user_id)
    )
    if exists is not None:
        return None
    grant = CourseGrant(course_slug=slug, user_id=user_id, granted_by_id=granted_by_id)
    session.add(grant)
    session.flush()
    record("course.grant", actor_id=granted_by_id, target=f"course:{slug}", user_id=user_id)
    return grant


def revoke_grant(grant: CourseGrant, actor_id: int) -> None:
    record("course.revoke", actor_id=actor_id, target=f"course:{grant.course_slug}", user_id=grant.user_id)
    session.delete(grant)
    session.flush()


# -- courses and versions --------------------------------------------------------------------------------


def course_row(slug: str) -> Course | None:
    return session.scalar(select(Course).where(Course.slug == slug))


def draft_of(slug: str) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.course_slug == slug))


def latest_number(slug: str) -> int:
    """The highest version number of a course (0 when none): a new version must be above it."""
    return session.scalar(
        select(func.max(CourseVersion.version)).join(Course).where(Course.slug == slug)
    ) or 0


def slug_taken(slug: str) -> bool:
    return course_row(slug) is not None or draft_of(slug) is not None


def versions_of(slug: str) -> list[CourseVersion]:
    return list(session.scalars(
        select(CourseVersion).join(Course).where(Course.slug == slug).order_by(CourseVersion.version.desc())
    ))


# -- state of a draft after a change ---------------------------------------------------------------------


def package_completeness(pkg: Package) -> Completeness:
    """Completeness from the raw files, for a draft that does not load yet."""
    values: list[Any] = [pkg.course(), pkg.exam()]
    lessons: list[Iterable[str]] = []
    for module_id in pkg.module_ids():
        values += [pkg.module(module_id), pkg.questions(module_id), pkg.quiz(module_id)]
        lessons += [pkg.lesson_locales(module_id, lesson_id) for lesson_id in pkg.lesson_ids(module_id)]
    return count(values, lessons)


def problem_dicts(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    def plain(value: Any) -> Any:
        return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)

    return [{"severity": p.severity, "path": p.path, "line": p.line, "field": p.field, "message": p.message,
             "params": {k: plain(v) for k, v in p.params.items()}} for p in problems]  # fmt: skip


def problems_of(draft: Draft) -> list[Problem]:
    """The draft's problems as of its last change (validated then), without reading the course again."""
    if draft.problems is None:
        _course, found = load_course(draft_folder(draft))
        return found
    return [Problem(**item) for item in draft.problems]


def sync_problems(draft: Draft, problems: list[Problem]) -> bool:
    """Store freshly found problems if they differ (the folder was changed outside the forms); True if so."""
    found = problem_dicts(problems)
    if draft.problems == found:
        return False
    draft.problems = found
    draft.error_count = sum(1 for p in problems if p.is_error)
    return True


def refresh(draft: Draft, user_id: int | None, course: CourseSchema | None, problems: list[Problem]) -> None:
    """Record a saved change on the draft's row: a new revision, its problems and translation status."""
    draft.revision += 1
    draft.updated_at = utcnow()
    draft.updated_by_id = user_id
    draft.error_count = sum(1 for p in problems if p.is_error)
    draft.problems = problem_dicts(problems)
    completeness = course_completeness(course) if course is not None else package_completeness(package(draft))
    draft.translation = completeness.to_dict()


def change(
    draft: Draft,
    user_id: int,
    apply: Callable[[Path], None],
    *,
    what: str,
    allowed: Callable[[Problem], bool] | None = None,
    **details: Any,
) -> ChangeResult:
    """Apply a change to the draft's files (all or nothing) and, when saved, record it."""
    before = problems_of(draft) if draft.problems is not None else None
    result = change_package(draft_folder(draft), apply, before=before, allowed=allowed)
    if result.saved:
        refresh(draft, user_id, result.course, result.problems)
        record("draft.change", actor_id=user_id, target=f"course:{draft.course_slug}", change=what,
               draft=str(draft.uuid), **details)  # fmt: skip
        session.flush()
    return result


# -- creating drafts -------------------------------------------------------------------------------------


def _problem(message: str, path: str = "course.yaml", field: str | None = None, **params: Any) -> Problem:
    return Problem(ERROR, path, None, field, message, params)


def _new_draft(slug: str, user_id: int, based_on_id: int | None = None) -> Draft | None:
    draft = Draft(uuid=uuid.uuid4(), course_slug=slug, based_on_id=based_on_id, created_by_id=user_id,
                  updated_by_id=user_id, changelog="", revision=0, translation={}, media_labels={})  # fmt: skip
    try:
        with session.begin_nested():
            session.add(draft)
            session.flush()
    except IntegrityError:
        return None
    return draft


def create_course(user: Any, data: dict[str, Any]) -> tuple[Draft | None, list[Problem]]:
    """Start a new course from the "new course" form's course.yaml; the creator may author it."""
    slug = data.get("id")
    if not is_id(slug):
        return None, [_problem(N_("invalid id %(id)s: use lowercase letters, digits and hyphens"),
                               field="id", id=str(slug or ""))]  # fmt: skip
    if slug_taken(slug):
        return None, [_problem(N_("a course with the id %(id)s already exists"), field="id", id=slug)]
    root = drafts_root()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".new-", dir=root) as tmp:
        stage = Path(tmp) / slug
        write_yaml(stage, "course.yaml", data)
        course, problems = load_course(stage)
        errors = [p for p in problems if p.is_error and not _waiting(p)]
        if errors:
            return None, errors
        _forget_grants(slug)
        draft = _new_draft(slug, user.id)
        if draft is None:
            return None, [_problem(N_("a course with the id %(id)s already exists"), field="id", id=slug)]
        draft_dir(draft).mkdir(parents=True)
        os.rename(stage, draft_folder(draft))
    add_grant(slug, user.id, user.id)
    refresh(draft, user.id, course, problems)
    record("course.create", actor_id=user.id, target=f"course:{slug}", draft=str(draft.uuid))
    return draft, []


def _waiting(problem: Problem) -> bool:
    return (problem.path, problem.field, problem.message) == WAITING_FOR_MODULES


def allow_no_modules(problem: Problem) -> bool:
    """For changes to a course that has no module yet."""
    return _waiting(problem)


def draft_from_version(user: Any, version: CourseVersion) -> Draft | None:
    """Write a published version out as a new draft, numbered above every existing version."""
    slug = version.course.slug
    number = latest_number(slug) + 1
    course = dataclasses.replace(importer.to_schema(version), version=number)
    draft = _new_draft(slug, user.id, version.id)
    if draft is None:
        return None
    write_course(course, draft_dir(draft), importer.media_source(version))
    _course, problems = load_course(draft_folder(draft))
    refresh(draft, user.id, _course, problems)
    record("draft.create", actor_id=user.id, target=f"course:{slug}", draft=str(draft.uuid),
           based_on=version.version, version=number)  # fmt: skip
    return draft


@dataclass
class ImportResult:
    problems: list[Problem]
    draft: Draft | None = None
    version: CourseVersion | None = None
    created: bool = False


def import_zip(user: Any, zip_path: Path, *, as_draft: bool) -> ImportResult:
    """Import an uploaded course zip as a new draft, or straight into a published version (as the CLI does)."""
    root = drafts_root()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=root) as tmp:
        try:
            extracted = safe_extract_zip(zip_path, Path(tmp) / "unpacked")
        except ContentError as error:
            return ImportResult(error.problems)
        folder = extracted.root
        slug = as_map(Package(folder).read_yaml("course.yaml")).get("id")
        if not is_id(slug):
            _course, problems = load_course(folder, check_folder_name=extracted.named_folder)
            return ImportResult([p for p in problems if p.is_error] or [
                _problem(N_("invalid id %(id)s: use lowercase letters, digits and hyphens"), field="id",
                         id=str(slug or ""))])  # fmt: skip
        existing = slug_taken(slug)
        if existing and not may_author(user, slug):
            return ImportResult([_problem(N_("a course with the id %(id)s already exists"), field="id", id=slug)])
        if not as_draft:
            try:
                outcome = importer.import_folder(folder, actor_id=user.id, check_folder_name=extracted.named_folder)
            except ContentError as error:
                return ImportResult(error.problems)
            if not existing:
                add_grant(slug, user.id, user.id)
            return ImportResult([], version=outcome.version, created=outcome.created)
        if draft_of(slug) is not None:
            return ImportResult([_problem(N_("a draft of %(id)s is already open: publish or discard it first"),
                                          field="id", id=slug)])  # fmt: skip
        if extracted.named_folder and folder.name != slug:
            _course, problems = load_course(folder)
            return ImportResult([p for p in problems if p.is_error])
        data = as_map(Package(folder).read_yaml("course.yaml"))
        if data:
            data["version"] = latest_number(slug) + 1
            write_yaml(folder, "course.yaml", data)
        if not existing:
            _forget_grants(slug)
        draft = _new_draft(slug, user.id)
        if draft is None:
            return ImportResult([_problem(N_("a draft of %(id)s is already open: publish or discard it first"),
                                          field="id", id=slug)])  # fmt: skip
        draft_dir(draft).mkdir(parents=True)
        shutil.move(str(folder), str(draft_folder(draft)))
    if not existing:
        add_grant(slug, user.id, user.id)
    course, problems = load_course(draft_folder(draft))
    refresh(draft, user.id, course, problems)
    record("draft.import", actor_id=user.id, target=f"course:{slug}", draft=str(draft.uuid))
    return ImportResult(problems, draft=draft)


# -- publishing ------------------------------------------------------------------------------------------


def publish(draft: Draft, user: Any) -> tuple[CourseVersion | None, list[Problem]]:
    """Validate the draft and import it as a new immutable version; the draft row goes (files: see view).

    The version number is set here, above every existing version, so trainers never manage numbers.
    Any error blocks publishing, and so does a draft identical to the latest version.
    """
    folder = draft_folder(draft)
    slug = draft.course_slug
    latest = latest_number(slug)
    data = as_map(Package(folder).read_yaml("course.yaml"))
    if data and data.get("version") != latest + 1:
        data["version"] = latest + 1
        write_yaml(folder, "course.yaml", data)
    course, problems = load_course(folder)
    errors = [p for p in problems if p.is_error]
    if course is None or errors:
        return None, errors
    if latest:
        previous = session.scalar(
            select(CourseVersion).join(Course).where(Course.slug == slug, CourseVersion.version == latest)
        )
        if previous is not None and importer.canonical_hash(
            dataclasses.replace(course, version=latest)
        ) == previous.content_hash:
            return None, [_problem(N_("nothing has changed since version %(version)s"), field="version",
                                   version=latest)]  # fmt: skip
    try:
        outcome = importer.import_course(course, folder, actor_id=user.id)
    except ContentError as error:
        return None, error.problems
    version = outcome.version
    version.changelog = draft.changelog.strip() or None
    record("course.publish", actor_id=user.id, target=f"course:{slug}@{version.version}",
           draft=str(draft.uuid), based_on=draft.based_on_id)  # fmt: skip
    if latest == 0:
        add_grant(slug, user.id, user.id)
    session.delete(draft)
    session.flush()
    return version, []


def discard(draft: Draft, user_id: int) -> None:
    """Delete a draft (its files go after the commit); a course never published is forgotten entirely."""
    record("draft.discard", actor_id=user_id, target=f"course:{draft.course_slug}", draft=str(draft.uuid))
    slug = draft.course_slug
    session.delete(draft)
    session.flush()
    if course_row(slug) is None:
        _forget_grants(slug)


def _forget_grants(slug: str) -> None:
    """Grants of a course id nobody uses: left behind, they would open the next course given that id."""
    for grant in session.scalars(select(CourseGrant).where(CourseGrant.course_slug == slug)):
        session.delete(grant)
    session.flush()


def remove_files(draft_uuid: str) -> None:
    """Delete a draft's folder once the database no longer knows it (after the commit)."""
    shutil.rmtree(drafts_root() / draft_uuid, ignore_errors=True)


# -- export ----------------------------------------------------------------------------------------------


def draft_zip(draft: Draft) -> bytes:
    """The draft as a course zip: through the writer when it is valid, else its files as they are."""
    folder = draft_folder(draft)
    course, _problems = load_course(folder)
    buffer = io.BytesIO()
    if course is not None:
        write_zip(course, buffer, lambda rel: (folder / rel).read_bytes())
        return buffer.getvalue()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = path.relative_to(folder).as_posix()
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            info = zipfile.ZipInfo(f"{draft.course_slug}/{rel}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def version_zip(version: CourseVersion) -> bytes:
    buffer = io.BytesIO()
    write_zip(importer.to_schema(version), buffer, importer.media_source(version))
    return buffer.getvalue()


# -- the course list -------------------------------------------------------------------------------------


@dataclass
class CourseEntry:
    slug: str
    title: Any
    latest: CourseVersion | None
    draft: Draft | None
    completeness: Completeness | None
    changed_at: datetime | None


def visible_slugs(user: Any) -> set[str]:
    if user.role == "admin":
        return set(session.scalars(select(Course.slug))) | set(session.scalars(select(Draft.course_slug)))
    return set(session.scalars(select(CourseGrant.course_slug).where(CourseGrant.user_id == user.id)))


def course_entries(user: Any) -> list[CourseEntry]:
    """The courses ``user`` may author, with state, latest version, translation status and last change.

    A constant number of queries, however many courses: drafts' titles come from their files.
    """
    slugs = visible_slugs(user)
    if not slugs:
        return []
    latest_numbers = (
        select(CourseVersion.course_id, func.max(CourseVersion.version).label("number"))
        .group_by(CourseVersion.course_id).subquery()
    )
    latest = {
        version.course.slug: version
        for version in session.scalars(
            select(CourseVersion).join(Course)
            .join(latest_numbers, (latest_numbers.c.course_id == CourseVersion.course_id)
                  & (latest_numbers.c.number == CourseVersion.version))
            .where(Course.slug.in_(slugs))
        )
    }  # fmt: skip
    drafts = {d.course_slug: d for d in session.scalars(select(Draft).where(Draft.course_slug.in_(slugs)))}
    published = published_completeness([v.id for slug, v in latest.items() if slug not in drafts])
    entries = []
    for slug in sorted(slugs):
        version, draft = latest.get(slug), drafts.get(slug)
        if version is None and draft is None:
            continue
        title: Any = version.title if version else None
        if draft is not None:
            completeness = Completeness.from_dict(draft.translation)
            folder = draft_folder(draft)
            draft_title = as_map(Package(folder).read_yaml("course.yaml")).get("title") if folder.is_dir() else None
            title = draft_title if isinstance(draft_title, dict) else title
            changed = draft.updated_at
        else:
            completeness = published.get(version.id) if version else None
            changed = version.published_at or version.created_at if version else None
        entries.append(CourseEntry(slug, title, version, draft, completeness, changed))
    return entries


def published_completeness(version_ids: list[int]) -> dict[int, Completeness]:
    """Translation completeness of stored versions, from their JSON columns, in five queries."""
    if not version_ids:
        return {}
    values: dict[int, list[Any]] = {vid: [] for vid in version_ids}
    lessons: dict[int, dict[int, set[str]]] = {vid: {} for vid in version_ids}
    for vid, title, description, audience in session.execute(
        select(CourseVersion.id, CourseVersion.title, CourseVersion.description, CourseVersion.audience)
        .where(CourseVersion.id.in_(version_ids))
    ):
        values[vid] += [title, description, audience]
    for vid, title, description in session.execute(
        select(Module.course_version_id, Module.title, Module.description)
        .where(Module.course_version_id.in_(version_ids))
    ):
        values[vid] += [title, description]
    for vid, prompt, feedback, spec in session.execute(
        select(QuestionVersion.course_version_id, QuestionVersion.prompt, QuestionVersion.feedback,
               QuestionVersion.spec)
        .where(QuestionVersion.course_version_id.in_(version_ids))
    ):
        values[vid] += [prompt, feedback, spec]
    for vid, title in session.execute(
        select(Quiz.course_version_id, Quiz.title).where(Quiz.course_version_id.in_(version_ids))
    ):
        values[vid].append(title)
    for vid, lesson_id, locale in session.execute(
        select(Lesson.course_version_id, LessonText.lesson_id, LessonText.locale)
        .join(Lesson, Lesson.id == LessonText.lesson_id).where(Lesson.course_version_id.in_(version_ids))
    ):
        lessons[vid].setdefault(lesson_id, set()).add(locale)
    return {vid: count(values[vid], lessons[vid].values()) for vid in version_ids}
