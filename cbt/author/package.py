"""A course package being authored: tolerant reading of its files, and validated, all-or-nothing changes.

The browser's forms read and write the package files themselves (YAML and Markdown, as documented in
``courses/README.md``), so a draft is always something ``cbt courses validate`` can judge and a trainer can
download, review in git or send to another country. There is one validator: the loader.

A change is made on a copy of the folder (media hard-linked, so a 200 MB video costs nothing), the copy is
validated, and only a change that adds no error replaces the folder; a refused change leaves the draft on
disk exactly as it was. Errors that were already there (an unfinished course with no module yet, a zip
imported with mistakes) do not block unrelated changes, or nothing could ever be fixed one step at a time.

Reading is tolerant for the same reason: broken files read as empty values instead of raising, and the
loader's problems tell the trainer what is wrong. Pure: no Flask, no database.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbt.content.errors import Problem
from cbt.content.loader import ID_PATTERN, YAML_FILE_PATTERN, load_course
from cbt.content.schema import LOCALES, MEDIA_TYPES, Course
from cbt.content.yamlio import dump_yaml, load_yaml, split_front_matter

MEDIA_DIR = "media"

#: Segments of a dotted field path: ``options[0].text.en`` -> ``options``, ``0``, ``text``, ``en``.
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d{1,4})\]")


# -- paths ---------------------------------------------------------------------------------------------


def parse_path(path: str) -> list[str | int] | None:
    """Split a dotted field path into keys and list indexes; ``None`` if it is not one."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        if path[position] == "." and segments:
            position += 1
        match = _SEGMENT.match(path, position)
        if match is None:
            return None
        segments.append(int(match.group(2)) if match.group(2) is not None else match.group(1))
        position = match.end()
    return segments or None


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` inside nested dicts and lists, or ``None``."""
    for segment in parse_path(path) or []:
        if isinstance(segment, int):
            data = data[segment] if isinstance(data, list) and 0 <= segment < len(data) else None
        else:
            data = data.get(segment) if isinstance(data, dict) else None
        if data is None:
            return None
    return data


# -- reading -------------------------------------------------------------------------------------------


def is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.match(value))


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def id_list(value: Any) -> list[str]:
    """The valid ids of a list, first occurrence only (the loader reports the rest)."""
    seen: list[str] = []
    for item in as_list(value):
        if is_id(item) and item not in seen:
            seen.append(item)
    return seen


@dataclass(frozen=True)
class LessonFile:
    """One language version of a lesson as it is on disk (values as written, possibly invalid)."""

    locale: str
    title: Any
    minutes: Any
    body: str


@dataclass(frozen=True)
class MediaEntry:
    #: File name inside ``media/`` (``truck.svg``).
    name: str
    size: int
    #: ``"image"``, ``"video"`` or ``None`` for a type the format does not allow.
    kind: str | None

    @property
    def path(self) -> str:
        return f"{MEDIA_DIR}/{self.name}"


class Package:
    """Read access to the files of one course folder (the folder is named after the course id).

    Each YAML file is parsed once per instance (parsing dominates the cost of a page), so an instance is
    meant to live for one request or one change. Values it returns are shared: a caller that changes one
    writes it back with :func:`write_yaml` and does not read it again from the same instance.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._parsed: dict[str, Any] = {}

    @property
    def course_id(self) -> str:
        return self.root.name

    def read_yaml(self, rel: str) -> Any:
        """The parsed YAML file, or ``None`` when it is missing or malformed (the loader says why)."""
        if rel not in self._parsed:
            self._parsed[rel] = self._parse(rel)
        return self._parsed[rel]

    def _parse(self, rel: str) -> Any:
        path = self.root / rel
        if not path.is_file() or path.is_symlink():
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return load_yaml(text, rel).data

    def exists(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    # -- course and modules -------------------------------------------------------------------------

    def course(self) -> dict[str, Any]:
        return as_map(self.read_yaml("course.yaml"))

    def source_locale(self) -> str:
        value = self.course().get("source_locale")
        return value if value in LOCALES else LOCALES[-1]

    def module_ids(self) -> list[str]:
        return id_list(self.course().get("modules"))

    def module(self, module_id: str) -> dict[str, Any]:
        return as_map(self.read_yaml(f"{_checked(module_id)}/module.yaml"))

    def lesson_ids(self, module_id: str) -> list[str]:
        return id_list(self.module(module_id).get("lessons"))

    def _named(self, data: dict[str, Any], key: str, folder: str, default: str) -> str:
        value = data.get(key)
        name = value if isinstance(value, str) and YAML_FILE_PATTERN.match(value) else default
        return f"{folder}/{name}" if folder else name

    def questions_file(self, module_id: str) -> str:
        return self._named(self.module(module_id), "questions", _checked(module_id), "questions.yaml")

    def quiz_file(self, module_id: str) -> str:
        return self._named(self.module(module_id), "quiz", _checked(module_id), "quiz.yaml")

    def exam_file(self) -> str:
        return self._named(self.course(), "exam", "", "exam.yaml")

    def questions(self, module_id: str) -> list[Any]:
        """The bank as a list; items may be anything a file holds (indexes match the loader's)."""
        return as_list(self.read_yaml(self.questions_file(module_id)))

    def question_index(self, module_id: str, question_id: str) -> int | None:
        for index, item in enumerate(self.questions(module_id)):
            if isinstance(item, dict) and item.get("id") == question_id:
                return index
        return None

    def quiz(self, module_id: str) -> dict[str, Any] | None:
        rel = self.quiz_file(module_id)
        return as_map(self.read_yaml(rel)) if self.exists(rel) else None

    def exam(self) -> dict[str, Any] | None:
        rel = self.exam_file()
        return as_map(self.read_yaml(rel)) if self.exists(rel) else None

    def all_question_ids(self) -> list[tuple[str, str]]:
        """``(module id, question id)`` for every question of every bank, in course order."""
        found = []
        for module_id in self.module_ids():
            for item in self.questions(module_id):
                if isinstance(item, dict) and is_id(item.get("id")):
                    found.append((module_id, item["id"]))
        return found

    # -- lessons ------------------------------------------------------------------------------------

    def lesson_rel(self, module_id: str, lesson_id: str, locale: str) -> str:
        if locale not in LOCALES:
            raise ValueError(locale)
        return f"{_checked(module_id)}/{_checked(lesson_id)}.{locale}.md"

    def lesson(self, module_id: str, lesson_id: str, locale: str) -> LessonFile | None:
        path = self.root / self.lesson_rel(module_id, lesson_id, locale)
        if not path.is_file():
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return LessonFile(locale, None, None, "")
        front = split_front_matter(text)
        if front is None:
            return LessonFile(locale, None, None, text)
        meta = as_map(load_yaml(front.yaml_text, path.name).data)
        return LessonFile(locale, meta.get("title"), meta.get("minutes"), front.body)

    def lesson_locales(self, module_id: str, lesson_id: str) -> list[str]:
        return [loc for loc in LOCALES if self.exists(self.lesson_rel(module_id, lesson_id, loc))]

    # -- media --------------------------------------------------------------------------------------

    def media(self) -> list[MediaEntry]:
        folder = self.root / MEDIA_DIR
        if not folder.is_dir():
            return []
        entries = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or not path.is_file() or path.is_symlink():
                continue
            kind = MEDIA_TYPES.get(path.suffix.lower(), (None, ""))[0]
            entries.append(MediaEntry(path.name, path.stat().st_size, kind))
        return entries


def _checked(name: str) -> str:
    """``name`` if it is a safe id (a folder or file name); anything else never reaches the file system."""
    if not is_id(name):
        raise ValueError(f"not an id: {name!r}")
    return name


# -- writing (only ever on a staged copy) ----------------------------------------------------------------


def write_bytes(path: Path, content: bytes) -> None:
    """Write a file by replacing it: a hard-linked original (media of the live folder) is never touched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def write_yaml(root: Path, rel: str, data: Any) -> None:
    write_bytes(root / rel, dump_yaml(data).encode("utf-8"))


def clean_text(text: str) -> str:
    """Browser text areas send CRLF; package files use LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def write_lesson(root: Path, rel: str, title: Any, minutes: Any, body: str) -> None:
    """A lesson file: front matter with the values given (blank ones left out for the loader to name), body."""
    meta = {key: value for key, value in (("title", title), ("minutes", minutes)) if value not in (None, "")}
    body = clean_text(body)
    if body and not body.endswith("\n"):
        body += "\n"
    front = dump_yaml(meta) if meta else ""
    write_bytes(root / rel, f"---\n{front}---\n{body}".encode())


def remove(root: Path, rel: str) -> None:
    path = root / rel
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


# -- validated changes -----------------------------------------------------------------------------------


def _problem_key(problem: Problem) -> tuple[Any, ...]:
    """What makes two errors "the same" across a change: lines and list positions move, meaning does not."""
    return (problem.path, problem.message, tuple(sorted((k, str(v)) for k, v in problem.params.items())))


def added_errors(before: Iterable[Problem], after: Iterable[Problem]) -> list[Problem]:
    """The errors of ``after`` that ``before`` did not have (counted, so a second copy of an error is new)."""
    budget = Counter(_problem_key(p) for p in before if p.is_error)
    added = []
    for problem in after:
        if not problem.is_error:
            continue
        key = _problem_key(problem)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            added.append(problem)
    return added


@dataclass
class ChangeResult:
    """What became of a change."""

    saved: bool
    #: The errors the change would have added; empty when it was saved.
    added: list[Problem] = field(default_factory=list)
    #: Every problem of the package as it now stands on disk.
    problems: list[Problem] = field(default_factory=list)
    #: The loaded course after the change, when the package has no error at all.
    course: Course | None = None


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link a file into the staged copy (cheap even for a large video), or copy it.

    Safe because nothing writes into an existing file: :func:`write_bytes` replaces the directory entry,
    so the live folder's file (the other link) keeps its content.
    """
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def recover(root: Path) -> None:
    """Finish or undo a replacement interrupted by a crash, and sweep stale staging folders.

    Call only while holding the draft's lock: another request's change may otherwise be in flight.
    """
    parent = root.parent
    if not parent.is_dir():
        return
    if not root.exists():
        olds = sorted(parent.glob(".old-*"), key=lambda p: p.stat().st_mtime)
        if olds:
            os.rename(olds[-1], root)
    for stale in [*parent.glob(".stage-*"), *parent.glob(".old-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def change_package(
    root: Path,
    change: Callable[[Path], None],
    *,
    before: list[Problem] | None = None,
    allowed: Callable[[Problem], bool] | None = None,
) -> ChangeResult:
    """Apply ``change`` to a copy of the package and keep it only if it adds no error.

    ``change`` receives the copy's folder and writes files there. ``before`` is the package's current
    problem list, if the caller already has it. ``allowed`` may accept some new errors (a course created
    without modules yet). The folder is replaced by renaming, so readers see either the old or the new
    package, never half of one; callers serialize changes to one draft (the draft's database row lock).
    """
    if before is None:
        _course, before = load_course(root)
    stage_parent = root.parent / f".stage-{secrets.token_hex(6)}"
    stage = stage_parent / root.name
    try:
        shutil.copytree(root, stage, symlinks=True, copy_function=_link_or_copy)
        change(stage)
        course, after = load_course(stage)
        added = [p for p in added_errors(before, after) if not (allowed and allowed(p))]
        if added:
            return ChangeResult(False, added, before)
        _replace(root, stage)
        return ChangeResult(True, [], after, course)
    finally:
        shutil.rmtree(stage_parent, ignore_errors=True)


def _replace(root: Path, stage: Path) -> None:
    old = root.parent / f".old-{secrets.token_hex(6)}"
    os.rename(root, old)
    try:
        os.rename(stage, root)
    except BaseException:
        os.rename(old, root)
        raise
    shutil.rmtree(old, ignore_errors=True)


def copy_package(source: Path, target: Path) -> None:
    """Copy a whole package folder (``target`` must not exist)."""
    shutil.copytree(source, target, symlinks=True)


# -- names ----------------------------------------------------------------------------------------------

#: Russian and Kazakh letters in Latin, so "Грузовик.png" becomes "gruzovik.png" rather than "file.png".
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "ә": "a", "ғ": "g", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i",
}  # fmt: skip


def slugify(text: str, *, fallback: str = "item", limit: int = 60) -> str:
    """A lowercase id (``^[a-z0-9][a-z0-9-]*$``) from any text; ``fallback`` when nothing is left."""
    text = "".join(_TRANSLIT.get(char, char) for char in text.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].strip("-")
    return slug if slug and ID_PATTERN.match(slug) else fallback


def unique_name(base: str, taken: Iterable[str], suffix: str = "") -> str:
    """``base + suffix``, or ``base-2 + suffix``, ``base-3 + suffix``... whichever is free."""
    used = set(taken)
    candidate = f"{base}{suffix}"
    number = 2
    while candidate in used:
        candidate = f"{base}-{number}{suffix}"
        number += 1
    return candidate


def next_ids(prefix: str, taken: Iterable[str]) -> Iterator[str]:
    """``prefix1``, ``prefix2``... skipping ids already used."""
    used = set(taken)
    number = 1
    while True:
        candidate = f"{prefix}{number}"
        if candidate not in used:
            used.add(candidate)
            yield candidate
        number += 1


def option_ids(taken: Iterable[str]) -> Iterator[str]:
    """``a``, ``b``... ``z``, then ``o27``...: the ids authors give options by hand."""
    used = set(taken)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if letter not in used:
            used.add(letter)
            yield letter
    yield from next_ids("o", used)


def media_name(original: str, taken: Iterable[str]) -> str | None:
    """A safe, lowercase, unused file name for an upload, keeping its extension; ``None`` if not allowed."""
    stem, dot, suffix = original.replace("\\", "/").rsplit("/", 1)[-1].rpartition(".")
    suffix = suffix.lower()
    if not dot or f".{suffix}" not in MEDIA_TYPES:
        return None
    if suffix == "jpeg":
        suffix = "jpg"
    kind = MEDIA_TYPES[f".{suffix}"][0]
    return unique_name(slugify(stem, fallback=kind), taken, f".{suffix}")


def lesson_snippet(label: str, name: str) -> str:
    """The Markdown a lesson (in a module folder) uses to show a media file."""
    clean = re.sub(r"[\[\]\n\r]+", " ", label).strip() or name
    return f"![{clean}](../{MEDIA_DIR}/{name})"
