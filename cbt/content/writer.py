"""Write a :class:`~cbt.content.schema.Course` back to the package format.

Used to export a course (from the database, or after editing in the browser) so another country
can review it in git and import it again. The output is the README's format, and loading it
gives back an equal course: ``load(write(load(x))) == load(x)``, which the tests check on every
course in ``courses/``. Zips are deterministic (fixed timestamps, sorted entries), so exporting
the same course twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .schema import LOCALES, Course, Lesson, LocalizedText, Module, Question, Quiz
from .yamlio import dump_yaml

#: Returns the bytes of a media file given its course-relative path (``"media/x.svg"``).
MediaSource = Callable[[str], bytes]

#: Formats that are already compressed; deflating them again only costs time.
_STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".mp4", ".webm")


def _lt(text: LocalizedText | None) -> dict[str, str] | None:
    return text.to_dict() if text is not None else None


def _drop_none(value: Any) -> Any:
    """Leave out absent optional values, as an author would."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _question(question: Question, module_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {"id": question.id, "type": question.type}
    if question.difficulty != "medium":
        data["difficulty"] = question.difficulty
    if question.type != "scenario" and question.points != 1:
        data["points"] = question.points
    if question.tags:
        data["tags"] = list(question.tags)
    data["prompt"] = _lt(question.prompt)
    spec = dict(question.spec)
    if question.type == "hotspot":
        # The spec holds the course-relative path; the file holds it relative to itself.
        spec["image"] = posixpath.relpath(spec["image"], module_id)
        spec.pop("image_box", None)  # measured from the image at load time
    if question.type == "matching" and not spec.get("distractors"):
        spec.pop("distractors", None)
    data.update(_drop_none(spec))
    if question.feedback is not None:
        data["feedback"] = _lt(question.feedback)
    return data


def _quiz(quiz: Quiz) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": quiz.kind}
    if quiz.title is not None:
        data["title"] = _lt(quiz.title)
    if quiz.draw:
        rules = []
        for rule in quiz.draw:
            entry: dict[str, Any] = {}
            if rule.module is not None:
                entry["module"] = rule.module
            if rule.tags:
                entry["tags"] = list(rule.tags)
            entry["count"] = rule.count
            rules.append(entry)
        data["draw"] = rules
    else:
        data["questions"] = "all" if quiz.question_ids is None else list(quiz.question_ids)
    data["pass_mark"] = quiz.pass_mark
    if quiz.time_limit_minutes is not None:
        data["time_limit_minutes"] = quiz.time_limit_minutes
    data["attempts"] = quiz.attempts
    data["shuffle_questions"] = quiz.shuffle_questions
    data["shuffle_options"] = quiz.shuffle_options
    data["review"] = quiz.review
    return data


def _lesson_files(module: Module, lesson: Lesson) -> Iterator[tuple[str, bytes]]:
    for locale in LOCALES:
        text = lesson.texts.get(locale)
        if text is None:
            continue
        front = dump_yaml({"title": text.title, "minutes": text.minutes})
        content = f"---\n{front}---\n{text.markdown}"
        yield f"{module.id}/{lesson.id}.{locale}.md", content.encode("utf-8")


def course_files(course: Course, media_source: MediaSource) -> Iterator[tuple[str, bytes]]:
    """Every file of the package as ``(course-relative path, bytes)``.

    Media bytes are checked against the recorded SHA-256 so a stale media store cannot export
    a course whose pictures silently differ from what was imported.
    """
    data: dict[str, Any] = {
        "id": course.id,
        "version": course.version,
        "source_locale": course.source_locale,
        "title": _lt(course.title),
        "description": _lt(course.description),
    }
    if course.audience is not None:
        data["audience"] = _lt(course.audience)
    data["estimated_minutes"] = course.estimated_minutes
    data["completion"] = {
        "lessons": course.completion.lessons,
        "quizzes": course.completion.quizzes,
        "exam": course.completion.exam,
    }
    data["modules"] = [m.id for m in course.modules]
    if course.exam is not None:
        data["exam"] = "exam.yaml"
    yield "course.yaml", dump_yaml(data).encode("utf-8")
    if course.exam is not None:
        yield "exam.yaml", dump_yaml(_quiz(course.exam)).encode("utf-8")

    for module in course.modules:
        mdata: dict[str, Any] = {"title": _lt(module.title)}
        if module.description is not None:
            mdata["description"] = _lt(module.description)
        mdata["lessons"] = [lesson.id for lesson in module.lessons]
        if module.questions:
            mdata["questions"] = "questions.yaml"
        if module.quiz is not None:
            mdata["quiz"] = "quiz.yaml"
        yield f"{module.id}/module.yaml", dump_yaml(mdata).encode("utf-8")
        for lesson in module.lessons:
            yield from _lesson_files(module, lesson)
        if module.questions:
            questions = [_question(q, module.id) for q in module.questions]
            yield f"{module.id}/questions.yaml", dump_yaml(questions).encode("utf-8")
        if module.quiz is not None:
            yield f"{module.id}/quiz.yaml", dump_yaml(_quiz(module.quiz)).encode("utf-8")

    for media in course.media:
        content = media_source(media.path)
        if len(content) != media.size or hashlib.sha256(content).hexdigest() != media.sha256:
            raise ValueError(f"media file {media.path} does not match its recorded size and hash")
        yield media.path, content


def write_course(course: Course, dest_dir: str | os.PathLike[str], media_source: MediaSource) -> Path:
    """Write the package as ``dest_dir/<course.id>/`` and return that folder.

    The folder is named after the course because the loader requires the two to match. It must
    not exist yet, or be empty: exporting over an older copy would leave its stale files behind.
    """
    folder = Path(dest_dir) / course.id
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not empty")
    files = list(course_files(course, media_source))  # media errors before anything is written
    for rel, content in files:
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder


def write_zip(course: Course, target: str | os.PathLike[str] | IO[bytes], media_source: MediaSource) -> None:
    """Write the package as a zip whose single top-level folder is the course id."""
    files = sorted(course_files(course, media_source))
    with zipfile.ZipFile(target, "w") as archive:
        for rel, content in files:
            info = zipfile.ZipInfo(f"{course.id}/{rel}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            stored = rel.lower().endswith(_STORED_SUFFIXES)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, content)


def zip_bytes(course: Course, media_source: MediaSource) -> bytes:
    """:func:`write_zip` into memory, for a download response."""
    buffer = io.BytesIO()
    write_zip(course, buffer, media_source)
    return buffer.getvalue()
