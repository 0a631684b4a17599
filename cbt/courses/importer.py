"""Importing a course package (folder or zip) into the database, and reading one back for export.

Import is idempotent: the same course id, version and content is a no-op; a new version number creates a
new immutable :class:`CourseVersion`; a known version number with different content is refused (a
published version never changes). Markdown is rendered and sanitized here, once.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cbt.audit.services import record
from cbt.content import schema
from cbt.content.archive import safe_extract_zip
from cbt.content.errors import N_, ContentError, has_errors
from cbt.content.loader import load_course
from cbt.content.render import render_inline, render_markdown
from cbt.courses.media_store import media_store
from cbt.courses.models import (
    Course,
    CourseVersion,
    Lesson,
    LessonText,
    MediaAsset,
    Module,
    QuestionVersion,
    Quiz,
)
from cbt.db import session, utcnow

#: Keys inside a question's spec whose values are localized texts to render.
TEXT_KEYS = frozenset({"text", "label", "left", "right", "feedback", "alt", "unit", "prompt"})


@dataclass(frozen=True)
class ImportOutcome:
    version: CourseVersion
    created: bool


def media_url(version_id: int, path: str) -> str:
    return f"/media/{version_id}/{quote(path)}"


def canonical_hash(course: schema.Course) -> str:
    """SHA-256 of the course's content, independent of file formatting (so an export re-imports as equal)."""
    return hashlib.sha256(json.dumps(_plain(course), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, schema.LocalizedText):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def import_path(path: Path, *, actor_id: int | None = None) -> ImportOutcome:
    """Import a course folder or ``.zip``; raises :class:`ContentError` listing every problem."""
    if path.is_file() and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="cbt-import-") as tmp:
            extracted = safe_extract_zip(path, Path(tmp) / "course")
            return import_folder(extracted.root, actor_id=actor_id, check_folder_name=extracted.named_folder)
    return import_folder(path, actor_id=actor_id)


def import_folder(folder: Path, *, actor_id: int | None = None, check_folder_name: bool = True) -> ImportOutcome:
    course, problems = load_course(folder, check_folder_name=check_folder_name)
    if course is None or has_errors(problems):
        raise ContentError([p for p in problems if p.is_error])
    return import_course(course, folder, actor_id=actor_id)


def import_course(course: schema.Course, folder: Path, *, actor_id: int | None = None) -> ImportOutcome:
    content_hash = canonical_hash(course)
    row = session.scalar(select(Course).where(Course.slug == course.id))
    if row is None:
        row = Course(slug=course.id, created_by_id=actor_id)
        session.add(row)
        session.flush()
    existing = session.scalar(
        select(CourseVersion).where(CourseVersion.course_id == row.id, CourseVersion.version == course.version)
    )
    if existing is not None:
        if existing.content_hash == content_hash:
            return ImportOutcome(existing, created=False)
        raise ContentError.single(
            N_(
                "version %(version)s of %(course)s is already imported with different content; raise the version number"
            ),
            "course.yaml",
            field="version",
            version=course.version,
            course=course.id,
        )
    version = CourseVersion(
        course_id=row.id,
        version=course.version,
        status="published",
        source_locale=course.source_locale,
        title=course.title.to_dict(),
        description=course.description.to_dict(),
        description_html={},
        audience=course.audience.to_dict() if course.audience else None,
        estimated_minutes=course.estimated_minutes,
        completion={
            "lessons": course.completion.lessons,
            "quizzes": course.completion.quizzes,
            "exam": course.completion.exam,
        },
        content_hash=content_hash,
        published_at=utcnow(),
        created_by_id=actor_id,
    )
    session.add(version)
    session.flush()

    store = media_store()
    known_media = set()
    for media in course.media:
        sha, size = store.put_file(folder / media.path)
        session.add(
            MediaAsset(
                course_version_id=version.id, path=media.path, sha256=sha, size=size, content_type=media.mime_type
            )
        )
        known_media.add(media.path)

    def resolve(path: str) -> str | None:
        return media_url(version.id, path) if path in known_media else None

    version.description_html = {loc: render_markdown(text, resolve) for loc, text in course.description.items()}
    for m_pos, module in enumerate(course.modules):
        module_row = Module(
            course_version_id=version.id,
            position=m_pos,
            slug=module.id,
            title=module.title.to_dict(),
            description=module.description.to_dict() if module.description else None,
        )
        session.add(module_row)
        session.flush()
        for l_pos, lesson in enumerate(module.lessons):
            lesson_row = Lesson(module_id=module_row.id, course_version_id=version.id, position=l_pos, slug=lesson.id)
            session.add(lesson_row)
            session.flush()
            for locale, text in lesson.texts.items():
                session.add(
                    LessonText(
                        lesson_id=lesson_row.id,
                        locale=locale,
                        title=text.title,
                        minutes=text.minutes,
                        markdown=text.markdown,
                        html=lesson_html(text.markdown, text.title, resolve, base=module.id),
                    )
                )
        for q_pos, question in enumerate(module.questions):
            session.add(
                QuestionVersion(
                    course_version_id=version.id,
                    module_id=module_row.id,
                    slug=question.id,
                    position=q_pos,
                    type=question.type,
                    points=question.points,
                    difficulty=question.difficulty,
                    tags=list(question.tags),
                    prompt=question.prompt.to_dict(),
                    feedback=question.feedback.to_dict() if question.feedback else None,
                    spec=_plain(question.spec),
                    rendered=render_question(question, resolve, base=module.id, folder=folder),
                )
            )
        if module.quiz is not None:
            session.add(_quiz_row(module.quiz, version.id, module_row.id))
    if course.exam is not None:
        session.add(_quiz_row(course.exam, version.id, None))
    session.flush()
    record("course.import", actor_id=actor_id, target=f"course:{course.id}@{course.version}")
    return ImportOutcome(version, created=True)


def lesson_html(markdown: str, title: str, resolve: Any, *, base: str) -> str:
    """A lesson body as the page shows it under its own ``<h1>`` (the title from the front matter).

    Authors often repeat the title as a leading ``# Title``; that line is dropped, and any other level-1
    heading becomes level 2, so a page has exactly one ``<h1>``.
    """
    lines = markdown.lstrip("\n").split("\n")
    if lines and re.fullmatch(r"#\s+(.*?)\s*#*\s*", lines[0]) and lines[0].lstrip("# ").strip(" #") == title.strip():
        lines = lines[1:]
    html = render_markdown("\n".join(lines), resolve, base=base)
    return re.sub(r"<(/?)h1\b", r"<\1h2", html)


def _quiz_row(quiz: schema.Quiz, version_id: int, module_id: int | None) -> Quiz:
    return Quiz(
        course_version_id=version_id,
        module_id=module_id,
        kind=quiz.kind,
        title=quiz.title.to_dict() if quiz.title else None,
        question_slugs=list(quiz.question_ids) if quiz.question_ids is not None else None,
        draw=[{"module": r.module, "tags": list(r.tags), "count": r.count} for r in quiz.draw],
        pass_mark=quiz.pass_mark,
        time_limit_minutes=quiz.time_limit_minutes,
        attempts=quiz.attempts,
        shuffle_questions=quiz.shuffle_questions,
        shuffle_options=quiz.shuffle_options,
        review=quiz.review,
    )


def render_question(
    question: schema.Question, resolve: Any, *, base: str, folder: Path | None = None
) -> dict[str, Any]:
    """Every localized text of a question as sanitized inline HTML, in the shape of the question.

    A hotspot also gets its image's URL and coordinate box, so the page can map a click to the image's units.
    """

    def render_texts(texts: dict[str, Any]) -> dict[str, str]:
        return {loc: render_inline(str(text), resolve, base=base) for loc, text in texts.items() if text is not None}

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            if key in TEXT_KEYS and value and all(isinstance(v, str) for v in value.values()):
                return render_texts(value)
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    spec_html = walk(_plain(question.spec))
    if question.type == "hotspot":
        from cbt.content.media import inspect_media

        image = question.spec["image"]
        spec_html["image_url"] = resolve(image)
        box = inspect_media(folder / image, image).box if folder is not None else None
        spec_html["box"] = list(box) if box else None
    return {
        "prompt": {loc: render_markdown(text, resolve, base=base) for loc, text in question.prompt.items()},
        "feedback": (
            {loc: render_markdown(text, resolve, base=base) for loc, text in question.feedback.items()}
            if question.feedback
            else None
        ),
        "spec": spec_html,
    }


def latest_version(slug: str) -> CourseVersion | None:
    return session.scalar(
        select(CourseVersion)
        .join(Course)
        .where(Course.slug == slug, CourseVersion.status == "published")
        .order_by(CourseVersion.version.desc())
        .limit(1)
    )


def to_schema(version: CourseVersion) -> schema.Course:
    """Rebuild the package form of a stored version, for export."""
    modules = session.scalars(
        select(Module)
        .where(Module.course_version_id == version.id)
        .order_by(Module.position)
        .options(selectinload(Module.lessons).selectinload(Lesson.texts))
    ).all()
    questions = session.scalars(
        select(QuestionVersion)
        .where(QuestionVersion.course_version_id == version.id)
        .order_by(QuestionVersion.module_id, QuestionVersion.position)
    ).all()
    quizzes = session.scalars(select(Quiz).where(Quiz.course_version_id == version.id)).all()
    media = session.scalars(
        select(MediaAsset).where(MediaAsset.course_version_id == version.id).order_by(MediaAsset.path)
    ).all()

    def lt(value: dict[str, Any] | None) -> schema.LocalizedText | None:
        return schema.LocalizedText(value) if value is not None else None

    def quiz_schema(row: Quiz) -> schema.Quiz:
        return schema.Quiz(
            kind=row.kind,
            title=lt(row.title),  # type: ignore[arg-type]
            question_ids=tuple(row.question_slugs) if row.question_slugs is not None else None,
            draw=tuple(schema.DrawRule(d.get("module"), tuple(d.get("tags") or ()), d["count"]) for d in row.draw),
            pass_mark=row.pass_mark,
            time_limit_minutes=row.time_limit_minutes,
            attempts=row.attempts,
            shuffle_questions=row.shuffle_questions,
            shuffle_options=row.shuffle_options,
            review=row.review,
        )

    by_module: dict[int, list[QuestionVersion]] = {}
    for q in questions:
        by_module.setdefault(q.module_id, []).append(q)
    quiz_by_module = {q.module_id: q for q in quizzes}
    module_schemas = []
    for module in modules:
        module_schemas.append(
            schema.Module(
                id=module.slug,
                title=schema.LocalizedText(module.title),
                description=lt(module.description),
                lessons=tuple(
                    schema.Lesson(
                        id=lesson.slug,
                        texts={
                            t.locale: schema.LessonText(title=t.title, minutes=t.minutes, markdown=t.markdown)
                            for t in sorted(
                                lesson.texts,
                                key=lambda t: schema.LOCALES.index(t.locale) if t.locale in schema.LOCALES else 99,
                            )
                        },
                    )
                    for lesson in module.lessons
                ),
                questions=tuple(
                    schema.Question(
                        id=q.slug,
                        type=q.type,
                        points=q.points,
                        difficulty=q.difficulty,
                        tags=tuple(q.tags),
                        prompt=schema.LocalizedText(q.prompt),
                        feedback=lt(q.feedback),
                        spec=q.spec,
                    )
                    for q in by_module.get(module.id, [])
                ),
                quiz=quiz_schema(quiz_by_module[module.id]) if module.id in quiz_by_module else None,
            )
        )
    from cbt.content.schema import CompletionRule

    return schema.Course(
        id=version.course.slug,
        version=version.version,
        source_locale=version.source_locale,
        title=schema.LocalizedText(version.title),
        description=schema.LocalizedText(version.description),
        audience=lt(version.audience),
        estimated_minutes=version.estimated_minutes,
        completion=CompletionRule(**version.completion),
        modules=tuple(module_schemas),
        exam=quiz_schema(quiz_by_module[None]) if None in quiz_by_module else None,
        media=tuple(
            schema.MediaFile(
                path=m.path,
                kind="video" if m.content_type.startswith("video/") else "image",
                size=m.size,
                sha256=m.sha256,
            )
            for m in media
        ),
    )


def media_source(version: CourseVersion) -> Any:
    store = media_store()
    assets = {
        m.path: m.sha256 for m in session.scalars(select(MediaAsset).where(MediaAsset.course_version_id == version.id))
    }
    return lambda path: store.read(assets[path])


def shipped_courses_dir() -> Path | None:
    """The sample courses: copied into the package by the build, or ``courses/`` of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "shipped_courses", package.parent / "courses"):
        if candidate.is_dir():
            return candidate
    return None


def import_shipped_courses(actor_id: int | None = None) -> list[ImportOutcome]:
    folder = shipped_courses_dir()
    if folder is None:
        return []
    return [
        import_folder(course_dir, actor_id=actor_id)
        for course_dir in sorted(p for p in folder.iterdir() if (p / "course.yaml").is_file())
    ]
