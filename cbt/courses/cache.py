"""In-process cache of published course structure.

A published course version never changes, so its outline (modules, lessons, quizzes, titles) and its
rendered lesson texts can be kept in memory once read: the lesson page then needs no query for content at
all. Entries are keyed by version or lesson id and bounded in number; a new version has new ids, so
nothing ever needs invalidating. Each application (and so each test) has its own cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select

from cbt.courses.models import Course, CourseVersion, Lesson, LessonText, Module, QuestionVersion, Quiz
from cbt.db import session

T = TypeVar("T")


@dataclass(frozen=True)
class ModuleOutline:
    id: int
    slug: str
    title: dict[str, str]
    lesson_ids: tuple[int, ...]
    quiz_id: int | None


@dataclass(frozen=True)
class VersionOutline:
    id: int
    course_id: int
    course_slug: str
    version: int
    title: dict[str, str]
    modules: tuple[ModuleOutline, ...]
    #: The course as trainees walk it: (kind, id, module id) for each lesson, then the module's quiz; the exam last.
    sequence: tuple[tuple[str, int, int], ...]
    #: lesson id -> {locale: title}
    lesson_titles: dict[int, dict[str, str]]
    lesson_module: dict[int, int]
    exam_id: int | None

    def module(self, module_id: int) -> ModuleOutline:
        return next(m for m in self.modules if m.id == module_id)


@dataclass(frozen=True)
class LessonContent:
    lesson_id: int
    version_id: int
    module_id: int
    #: locale -> (title, minutes, html)
    texts: dict[str, tuple[str, int, str]]

    @property
    def id(self) -> int:
        return self.lesson_id

    @property
    def course_version_id(self) -> int:
        return self.version_id


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], T]) -> T:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = load()
        with self.lock:
            self.items[key] = value
            if len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


@dataclass(frozen=True)
class QuestionSnapshot:
    """A question version's columns, read once: question versions never change after import."""

    id: int
    course_version_id: int
    module_id: int
    slug: str
    position: int
    type: str
    points: float
    difficulty: str
    tags: list[str]
    prompt: dict[str, Any]
    feedback: dict[str, Any] | None
    spec: dict[str, Any]
    rendered: dict[str, Any]


_QUESTION_COLUMNS = tuple(QuestionSnapshot.__dataclass_fields__)


def store(name: str, size: int) -> _Lru:
    """The application's bounded store called ``name`` (created on first use)."""
    caches = current_app.extensions.setdefault("cbt.content_cache", {})
    if name not in caches:
        caches[name] = _Lru(size)
    return caches[name]


def outline(version_id: int) -> VersionOutline | None:
    return store("outline", 64).get(version_id, lambda: _load_outline(version_id))


def lesson_content(lesson_id: int) -> LessonContent | None:
    return store("lesson", 1024).get(lesson_id, lambda: _load_lesson(lesson_id))


def questions(ids: list[int]) -> list[QuestionSnapshot]:
    """The questions with these ids, in this order (missing ids are left out); one query for those not cached."""
    known = store("question", 4096)
    found: dict[int, QuestionSnapshot] = {}
    with known.lock:
        for question_id in ids:
            if question_id in known.items:
                found[question_id] = known.items[question_id]
    missing = [i for i in ids if i not in found]
    if missing:
        columns = [getattr(QuestionVersion, name) for name in _QUESTION_COLUMNS]
        for row in session.execute(select(*columns).where(QuestionVersion.id.in_(missing))):
            snapshot = QuestionSnapshot(*row)
            found[snapshot.id] = known.get(snapshot.id, lambda snapshot=snapshot: snapshot)
    return [found[i] for i in ids if i in found]


def question(question_id: int) -> QuestionSnapshot | None:
    found = questions([question_id])
    return found[0] if found else None


def question_order(version_id: int) -> tuple[tuple[int, str], ...]:
    """A version's question ids with their module's slug, in course order (what a quiz draws from)."""
    return store("question_order", 64).get(version_id, lambda: tuple(
        (qid, slug) for qid, slug in session.execute(
            select(QuestionVersion.id, Module.slug).join(Module, Module.id == QuestionVersion.module_id)
            .where(QuestionVersion.course_version_id == version_id)
            .order_by(Module.position, QuestionVersion.position)
        )
    ))


def course_id(slug: str) -> int | None:
    """A course's id by slug (stable for the life of the course)."""
    return store("slug", 1024).get(slug, lambda: session.scalar(select(Course.id).where(Course.slug == slug)))


def _load_outline(version_id: int) -> VersionOutline | None:
    version = session.get(CourseVersion, version_id)
    if version is None:
        return None
    modules = session.scalars(
        select(Module).where(Module.course_version_id == version_id).order_by(Module.position)
    ).all()
    lessons = session.execute(
        select(Lesson.id, Lesson.module_id).where(Lesson.course_version_id == version_id).order_by(Lesson.position)
    ).all()
    quizzes = session.execute(select(Quiz.id, Quiz.module_id).where(Quiz.course_version_id == version_id)).all()
    titles: dict[int, dict[str, str]] = {}
    for lesson_id, locale, title in session.execute(
        select(LessonText.lesson_id, LessonText.locale, LessonText.title)
        .join(Lesson, Lesson.id == LessonText.lesson_id)
        .where(Lesson.course_version_id == version_id)
    ):
        titles.setdefault(lesson_id, {})[locale] = title
    module_quiz = {m: q for q, m in quizzes if m is not None}
    module_rows = []
    sequence: list[tuple[str, int, int]] = []
    for module in modules:
        lesson_ids = tuple(lid for lid, mid in lessons if mid == module.id)
        module_rows.append(ModuleOutline(module.id, module.slug, module.title, lesson_ids, module_quiz.get(module.id)))
        sequence += [("lesson", lid, module.id) for lid in lesson_ids]
        if module.id in module_quiz:
            sequence.append(("quiz", module_quiz[module.id], module.id))
    exam_id = next((q for q, m in quizzes if m is None), None)
    if exam_id is not None:
        sequence.append(("quiz", exam_id, 0))
    return VersionOutline(
        id=version.id,
        course_id=version.course_id,
        course_slug=version.course.slug,
        version=version.version,
        title=version.title,
        modules=tuple(module_rows),
        sequence=tuple(sequence),
        lesson_titles=titles,
        lesson_module={lid: mid for lid, mid in lessons},
        exam_id=exam_id,
    )


def _load_lesson(lesson_id: int) -> LessonContent | None:
    lesson = session.get(Lesson, lesson_id)
    if lesson is None:
        return None
    texts = {
        t.locale: (t.title, t.minutes, t.html)
        for t in session.scalars(select(LessonText).where(LessonText.lesson_id == lesson_id))
    }
    return LessonContent(lesson.id, lesson.course_version_id, lesson.module_id, texts)
