"""Load a course folder into :mod:`cbt.content.schema` objects and validate all of it.

One pass reads every file and collects *all* problems instead of stopping at the first, so an
author fixes a course in one round rather than twenty. The rules are the README's "Checks"
section; each message is an English msgid (see :func:`cbt.content.errors.N_`).

The loader never trusts a path it was given in a file: ids and file names are checked against a
strict pattern before they touch the file system, every opened file is resolved and must stay
inside the course folder, and symlinks that lead outside are errors.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ERROR, N_, WARNING, Problem
from .media import Box, MediaInfo, inspect_media
from .render import find_references, resolve_relative
from .schema import (
    DIFFICULTIES,
    LOCALES,
    QUESTION_TYPES,
    REVIEW_MODES,
    CompletionRule,
    Course,
    DrawRule,
    Lesson,
    LessonText,
    LocalizedText,
    MediaFile,
    Module,
    Question,
    Quiz,
)
from .yamlio import YList, YMap, load_yaml, split_front_matter

#: Folder, file and id names (README, "Layout").
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: What the database stores of a lesson title (``lesson_texts.title``): longer ones are refused here, with the
#: file and line, rather than by PostgreSQL at import.
LESSON_TITLE_MAX = 300
#: Names of the YAML files module.yaml and course.yaml point at: plain names in the same folder.
YAML_FILE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*\.ya?ml$")
MEDIA_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9]+)+$")
LESSON_FILE_PATTERN = re.compile(r"^(?P<lesson>[^.]+)\.(?P<locale>[a-zA-Z_-]+)\.md$")
MEDIA_DIR = "media"
ALLOWED_SCHEMES = ("http", "https", "mailto")

_MISSING: Any = object()

COMMON_QUESTION_FIELDS = ("id", "type", "prompt", "points", "difficulty", "tags", "feedback")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


@dataclass
class _Report:
    """Where problems accumulate while a course is read."""

    problems: list[Problem] = field(default_factory=list)
    source_locale: str | None = None
    #: Markdown and image references still to be checked against the media folder.
    references: list[_MediaRef] = field(default_factory=list)

    def error(self, path: str, line: int | None, field_: str | None, message: str, /, **params: Any) -> None:
        self.problems.append(Problem(ERROR, path, line, field_, message, params))

    def warning(
        self, path: str, line: int | None, field_: str | None, message: str, /, **params: Any
    ) -> None:
        self.problems.append(Problem(WARNING, path, line, field_, message, params))


@dataclass
class _MediaRef:
    path: str
    line: int | None
    field: str | None
    target: str
    #: ``"image"`` when only an image will do (hotspot ``image``), else ``None``.
    need: str | None = None
    #: For hotspots: called with the image's box once media have been inspected.
    on_box: Callable[[Box | None], None] | None = None


class _Fields:
    """Reads one YAML mapping, naming its file, line and dotted field in every problem.

    Each accessor marks its key as known; :meth:`finish` then reports every other key as an
    unknown field, which catches typos such as ``answr:`` that would otherwise be ignored.
    """

    def __init__(self, report: _Report, path: str, data: YMap, prefix: str, base: str) -> None:
        self.report = report
        self.path = path
        self.data = data
        self.prefix = prefix
        #: Folder (relative to the course root) that Markdown references are relative to.
        self.base = base
        self.seen: set[str] = set()

    # -- locating ---------------------------------------------------------------------------

    def name(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.prefix}[{key}]"
        return f"{self.prefix}.{key}" if self.prefix else key

    def line(self, key: str | None = None) -> int:
        return self.data.line if key is None else self.data.line_of(key)

    def error(self, key: str | None, message: str, /, **params: Any) -> None:
        self.report.error(
            self.path, self.line(key), self.name(key) if key else self.prefix or None, message, **params
        )

    def has(self, key: str) -> bool:
        return key in self.data

    # -- typed accessors --------------------------------------------------------------------

    def raw(self, key: str, required: bool = False) -> Any:
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                self.report.error(
                    self.path, self.line(), self.name(key), N_("missing required field %(field)s"),
                    field=key,
                )  # fmt: skip
            return _MISSING
        return self.data[key]

    def text(self, key: str, required: bool = False, max_length: int | None = None) -> str | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.error(key, N_("must be text, not %(type)s"), type=_type_name(value))
            return None
        if not value.strip():
            self.error(key, N_("must not be empty"))
            return None
        if max_length is not None and len(value) > max_length:
            self.error(key, N_("is too long: %(length)d characters, at most %(limit)d"),
                       length=len(value), limit=max_length)
            return None
        return value

    def ident(self, key: str, required: bool = False) -> str | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return None
        return _check_id(self.report, self.path, self.line(key), self.name(key), value)

    def integer(
        self, key: str, default: int | None = None, required: bool = False, minimum: int = 1
    ) -> int | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return default
        if not _is_int(value):
            self.error(key, N_("must be a whole number, not %(type)s"), type=_type_name(value))
            return default
        if value < minimum:
            self.error(key, N_("must be at least %(minimum)s"), minimum=minimum)
            return default
        return int(value)

    def number(
        self,
        key: str,
        default: float | None = None,
        required: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return default
        if not _is_number(value):
            self.error(key, N_("must be a number, not %(type)s"), type=_type_name(value))
            return default
        if positive and value <= 0:
            self.error(key, N_("must be greater than 0"))
            return default
        if minimum is not None and value < minimum:
            self.error(key, N_("must be at least %(minimum)s"), minimum=minimum)
            return default
        if maximum is not None and value > maximum:
            self.error(key, N_("must be at most %(maximum)s"), maximum=maximum)
            return default
        return value

    def boolean(self, key: str, default: bool | None = None, required: bool = False) -> bool | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.error(key, N_("must be true or false, not %(type)s"), type=_type_name(value))
            return default
        return value

    def choice(self, key: str, choices: Iterable[str], default: str | None = None) -> str | None:
        value = self.raw(key)
        if value is _MISSING:
            return default
        options = list(choices)
        if not isinstance(value, str) or value not in options:
            self.error(
                key, N_("must be one of %(choices)s, not %(value)s"),
                choices=", ".join(options), value=str(value),
            )  # fmt: skip
            return default
        return value

    def localized(self, key: str, required: bool = False) -> LocalizedText | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return None
        return _localized(self, key, value)

    def id_list(self, key: str, required: bool = False, min_items: int = 0) -> list[str] | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.error(key, N_("must be a list, not %(type)s"), type=_type_name(value))
            return None
        return _id_items(self, key, value, min_items)

    def maps(self, key: str, required: bool = False, min_items: int = 0) -> list[_Fields]:
        """A list of mappings, each wrapped so its problems name ``key[i].field``."""
        value = self.raw(key, required)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.error(key, N_("must be a list, not %(type)s"), type=_type_name(value))
            return []
        if len(value) < min_items:
            self.error(key, N_("needs at least %(count)s items"), count=min_items)
        result = []
        for index, item in enumerate(value):
            name = f"{self.name(key)}[{index}]"
            line = value.line_of(index) if isinstance(value, YList) else self.line(key)
            if not isinstance(item, YMap):
                self.report.error(
                    self.path, line, name, N_("must be a mapping, not %(type)s"),
                    type=_type_name(item),
                )  # fmt: skip
                continue
            result.append(_Fields(self.report, self.path, item, name, self.base))
        return result

    def finish(self) -> None:
        """Report the keys nobody asked for."""
        for key in self.data:
            if key not in self.seen:
                self.report.error(
                    self.path, self.data.line_of(key), self.name(str(key)),
                    N_("unknown field %(field)s"), field=str(key),
                )  # fmt: skip


def _check_id(report: _Report, path: str, line: int | None, name: str, value: Any) -> str | None:
    """``value`` if it is a valid id, else ``None`` with the problem reported at ``name``."""
    if not isinstance(value, str):
        report.error(path, line, name, N_("must be an id (text), not %(type)s"), type=_type_name(value))
        return None
    if not ID_PATTERN.match(value):
        report.error(
            path, line, name, N_("invalid id %(id)s: use lowercase letters, digits and hyphens"), id=value
        )
        return None
    return value


def _id_items(fields: _Fields, key: str, value: list[Any], min_items: int) -> list[str]:
    """The valid, distinct ids of a list; bad and repeated items are reported by index."""
    name = fields.name(key)
    if len(value) < min_items:
        fields.error(key, N_("needs at least %(count)s items"), count=min_items)
    result: list[str] = []
    for index, item in enumerate(value):
        line = value.line_of(index) if isinstance(value, YList) else fields.line(key)
        ident = _check_id(fields.report, fields.path, line, f"{name}[{index}]", item)
        if ident is None:
            continue
        if ident in result:
            fields.report.error(fields.path, line, f"{name}[{index}]", N_("duplicate id %(id)s"), id=ident)
            continue
        result.append(ident)
    return result


def _localized(fields: _Fields, key: str, value: Any) -> LocalizedText | None:
    """Check a ``{locale: text}`` mapping; report gaps as warnings and scan it for media."""
    report = fields.report
    name = fields.name(key)
    line = fields.line(key)
    if isinstance(value, str):
        report.error(
            fields.path, line, name,
            N_("must be a mapping of locale to text (kk: ..., ru: ..., en: ...), not a plain string"),
        )  # fmt: skip
        return None
    if not isinstance(value, YMap):
        report.error(
            fields.path, line, name,
            N_("must be a mapping of locale to text, not %(type)s"), type=_type_name(value),
        )  # fmt: skip
        return None
    texts: dict[str, str] = {}
    ok = True
    for locale, text in value.items():
        where = value.line_of(locale)
        if locale not in LOCALES:
            report.error(
                fields.path, where, f"{name}.{locale}",
                N_("unknown locale %(locale)s (expected one of %(locales)s)"),
                locale=str(locale), locales=", ".join(LOCALES),
            )  # fmt: skip
            ok = False
            continue
        if not isinstance(text, str):
            report.error(
                fields.path, where, f"{name}.{locale}",
                N_("must be text, not %(type)s (put it in quotes)"), type=_type_name(text),
            )  # fmt: skip
            ok = False
            continue
        if not text.strip():
            report.error(fields.path, where, f"{name}.{locale}", N_("must not be empty"))
            ok = False
            continue
        texts[locale] = text
        _scan_markdown(report, fields.path, where, f"{name}.{locale}", fields.base, text, False)
    if not ok:
        return None
    source = report.source_locale
    if source in LOCALES and source not in texts:
        report.error(fields.path, line, name, N_("missing the source locale %(locale)s"), locale=source)
        return None
    if not texts:
        report.error(fields.path, line, name, N_("must have a text in at least one locale"))
        return None
    gaps = [loc for loc in LOCALES if loc not in texts]
    if gaps:
        report.warning(
            fields.path, line, name, N_("translation missing for %(locales)s"),
            locales=", ".join(gaps),
        )  # fmt: skip
    return LocalizedText({loc: texts[loc] for loc in LOCALES if loc in texts})


_DRIVE = re.compile(r"^[a-zA-Z]:[\\/]")


def _scan_markdown(
    report: _Report,
    path: str,
    line: int | None,
    field_: str | None,
    base: str,
    text: str,
    line_per_ref: bool,
) -> None:
    """Queue every media reference of a Markdown text; report unsafe or escaping ones now."""
    if "](" not in text and "<" not in text and "[" not in text:
        return
    for ref in find_references(text):
        where = (line + ref.line) if (line is not None and line_per_ref) else line
        _queue_reference(report, path, where, field_, base, ref.url)


def _queue_reference(
    report: _Report,
    path: str,
    line: int | None,
    field_: str | None,
    base: str,
    url: str,
    need: str | None = None,
    on_box: Callable[[Box | None], None] | None = None,
) -> None:
    url = url.strip()
    if not url or url.startswith("#"):
        return
    if url.startswith(("/", "\\")) or _DRIVE.match(url):
        report.error(path, line, field_, N_("absolute path %(path)s is not allowed"), path=url)
        return
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):", url)
    if scheme:
        if need or scheme.group(1).lower() not in ALLOWED_SCHEMES:
            report.error(
                path, line, field_,
                N_("link %(url)s is not allowed: use http, https or mailto, or a media file"),
                url=url[:200],
            )  # fmt: skip
        return
    if "\\" in url:
        report.error(path, line, field_, N_("use / in paths, not \\: %(path)s"), path=url)
        return
    target = resolve_relative(base, url)
    if target is None:
        report.error(path, line, field_, N_("path %(path)s leaves the course folder"), path=url)
        return
    report.references.append(_MediaRef(path, line, field_, target, need, on_box))


class _CourseLoader:
    """Reads one course folder; one instance per :func:`load_course` call."""

    def __init__(self, root: Path, check_folder_name: bool) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.check_folder_name = check_folder_name
        self.report = _Report()
        #: Course-relative paths of symlinks that lead outside; never read through them.
        self.bad_links: set[str] = set()
        #: Every regular file in the course, course-relative.
        self.files: set[str] = set()
        self.question_ids: dict[str, str] = {}
        #: file -> (file, line, field) that names it, so "does not exist" points at the name.
        self.named_in: dict[str, tuple[str, int, str]] = {}
        #: Modules listed in course.yaml, loaded or not.
        self.module_ids: list[str] = []
        #: Modules whose files had errors: draw counts over them would only add noise.
        self.broken_modules: set[str] = set()

    # -- files ------------------------------------------------------------------------------

    def scan_tree(self) -> None:
        """List every file and flag symlinks that lead outside the course folder."""
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            here = Path(dirpath)
            for name in sorted(dirnames + filenames):
                full = here / name
                rel = full.relative_to(self.root).as_posix()
                if full.is_symlink():
                    target = full.resolve()
                    if not target.is_relative_to(self.real_root):
                        self.bad_links.add(rel)
                        self.report.error(
                            rel, None, None,
                            N_("%(path)s is a symbolic link that leads outside the course folder"),
                            path=rel,
                        )  # fmt: skip
                        continue
                    if target.is_file():
                        self.files.add(rel)
                elif full.is_file():
                    self.files.add(rel)
            # Do not descend into symlinked folders: their targets are walked where they live.
            dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]

    def safe_path(self, rel: str) -> Path | None:
        """The real path of a course file, or ``None`` if it leaves the course folder."""
        parts = rel.split("/")
        for index in range(1, len(parts) + 1):
            if "/".join(parts[:index]) in self.bad_links:
                return None
        full = (self.root / rel).resolve()
        if not full.is_relative_to(self.real_root):
            return None
        return full

    def read_text(self, rel: str, line: int | None = None, origin: str | None = None,
                  field_: str | None = None) -> str | None:  # fmt: skip
        """Read a UTF-8 file; report it missing at ``origin`` (the file that names it)."""
        full = self.safe_path(rel)
        if full is None:
            return None  # already reported as a symlink leading outside
        if origin is None and rel in self.named_in:
            origin, line, field_ = self.named_in[rel]
        if not full.is_file():
            self.report.error(origin or rel, line, field_, N_("file %(path)s does not exist"), path=rel)
            return None
        try:
            return full.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            self.report.error(rel, None, None, N_("file is not UTF-8 text: %(error)s"), error=str(exc))
            return None

    def read_yaml(self, rel: str, line: int | None = None, origin: str | None = None,
                  field_: str | None = None) -> Any:  # fmt: skip
        text = self.read_text(rel, line, origin, field_)
        if text is None:
            return _MISSING
        loaded = load_yaml(text, rel)
        self.report.problems.extend(loaded.problems)
        if loaded.problems and loaded.data is None:
            return _MISSING
        return loaded.data

    def file_name(self, fields: _Fields, key: str, folder: str, default: str) -> str | None:
        """A YAML file named in ``key``, or ``default`` if it exists; course-relative path."""
        value = fields.raw(key)
        if value is _MISSING:
            rel = posixpath.join(folder, default) if folder else default
            return rel if rel in self.files else None
        if not isinstance(value, str):
            fields.error(key, N_("must be a file name, not %(type)s"), type=_type_name(value))
            return None
        if value.startswith(("/", "\\")) or _DRIVE.match(value):
            fields.error(key, N_("absolute path %(path)s is not allowed"), path=value)
            return None
        if ".." in value.split("/") or ".." in value.split("\\"):
            fields.error(key, N_("path %(path)s leaves the course folder"), path=value)
            return None
        if not YAML_FILE_PATTERN.match(value):
            fields.error(
                key, N_("must be the name of a .yaml file in the same folder, not %(path)s"),
                path=value,
            )  # fmt: skip
            return None
        rel = posixpath.join(folder, value) if folder else value
        self.named_in[rel] = (fields.path, fields.line(key), fields.name(key))
        return rel

    # -- course -----------------------------------------------------------------------------

    def load(self) -> Course | None:
        report = self.report
        self.scan_tree()
        data = self.read_yaml("course.yaml")
        if data is _MISSING:
            return None
        if not isinstance(data, YMap):
            report.error("course.yaml", 1, None, N_("must be a mapping of fields"))
            return None
        f = _Fields(report, "course.yaml", data, "", "")
        source_locale = f.choice("source_locale", LOCALES)
        if f.raw("source_locale", required=True) is not _MISSING and source_locale:
            report.source_locale = source_locale
        course_id = f.ident("id", required=True)
        if course_id and self.check_folder_name and course_id != self.root.resolve().name:
            f.error(
                "id", N_("id %(id)s does not match the folder name %(folder)s"),
                id=course_id, folder=self.root.resolve().name,
            )  # fmt: skip
        version = f.integer("version", required=True)
        title = f.localized("title", required=True)
        description = f.localized("description", required=True)
        audience = f.localized("audience")
        estimated = f.integer("estimated_minutes", required=True)
        completion = self.completion(f)
        module_ids = f.id_list("modules", required=True, min_items=1) or []
        self.module_ids = module_ids
        exam_file = self.file_name(f, "exam", "", "exam.yaml")
        f.finish()

        modules_data = []
        modules_value = data.get("modules")
        for index, module_id in enumerate(module_ids):
            line = modules_value.line_of(index) if isinstance(modules_value, YList) else f.line()
            errors_before = self.error_count()
            loaded = self.module(module_id, line, f"modules[{index}]")
            if loaded is not None:
                modules_data.append(loaded)
            if loaded is None or self.error_count() > errors_before:
                self.broken_modules.add(module_id)

        banks = {m["id"]: m["questions"] for m in modules_data}
        for module in modules_data:
            if module["quiz_file"]:
                module["quiz"] = self.quiz(module["quiz_file"], "practice", module["id"], banks)
        exam = self.quiz(exam_file, "exam", None, banks) if exam_file else None
        if completion is not None and completion.exam == "passed" and exam_file is None:
            report.error(
                "course.yaml", data.line_of("completion"), "completion.exam",
                N_("completion.exam is \"passed\" but the course has no exam.yaml "
                   "(add one, or set completion.exam to none)"),
            )  # fmt: skip

        media = self.media()
        if any(p.is_error for p in report.problems):
            return None
        assert course_id and version and title and description and estimated and completion
        assert source_locale
        return Course(
            id=course_id,
            version=version,
            source_locale=source_locale,
            title=title,
            description=description,
            audience=audience,
            estimated_minutes=estimated,
            completion=completion,
            modules=tuple(
                Module(
                    id=m["id"],
                    title=m["title"],
                    description=m["description"],
                    lessons=tuple(m["lessons"]),
                    questions=tuple(m["questions"]),
                    quiz=m.get("quiz"),
                )
                for m in modules_data
            ),
            exam=exam,
            media=tuple(media),
        )

    def error_count(self) -> int:
        return sum(1 for p in self.report.problems if p.is_error)

    def completion(self, f: _Fields) -> CompletionRule | None:
        value = f.raw("completion")
        if value is _MISSING:
            return CompletionRule()
        if not isinstance(value, YMap):
            f.error("completion", N_("must be a mapping, not %(type)s"), type=_type_name(value))
            return None
        c = _Fields(self.report, f.path, value, "completion", "")
        rule = CompletionRule(
            lessons=c.choice("lessons", ("all", "none"), "all"),  # type: ignore[arg-type]
            quizzes=c.choice("quizzes", ("passed", "attempted", "none"), "passed"),  # type: ignore[arg-type]
            exam=c.choice("exam", ("passed", "none"), "passed"),  # type: ignore[arg-type]
        )
        c.finish()
        return rule

    # -- modules and lessons ----------------------------------------------------------------

    def module(self, module_id: str, line: int, field_: str) -> dict[str, Any] | None:
        report = self.report
        folder = self.safe_path(module_id)
        if folder is None:
            return None
        if not folder.is_dir():
            report.error(
                "course.yaml", line, field_, N_("module folder %(name)s does not exist"),
                name=module_id,
            )  # fmt: skip
            return None
        rel = f"{module_id}/module.yaml"
        data = self.read_yaml(rel, line, "course.yaml", field_)
        if data is _MISSING:
            return None
        if not isinstance(data, YMap):
            report.error(rel, 1, None, N_("must be a mapping of fields"))
            return None
        f = _Fields(report, rel, data, "", module_id)
        title = f.localized("title", required=True)
        description = f.localized("description")
        lesson_ids = f.id_list("lessons", required=True) or []
        questions_file = self.file_name(f, "questions", module_id, "questions.yaml")
        quiz_file = self.file_name(f, "quiz", module_id, "quiz.yaml")
        f.finish()

        lessons_value = data.get("lessons")
        lessons = []
        for index, lesson_id in enumerate(lesson_ids):
            where = lessons_value.line_of(index) if isinstance(lessons_value, YList) else None
            lesson = self.lesson(module_id, lesson_id, where, f"lessons[{index}]")
            if lesson is not None:
                lessons.append(lesson)
        self.stray_lesson_files(module_id, set(lesson_ids))
        questions = self.questions(module_id, questions_file) if questions_file else []
        return {
            "id": module_id,
            "title": title,
            "description": description,
            "lessons": lessons,
            "questions": questions,
            "quiz_file": quiz_file,
            "quiz": None,
        }

    def stray_lesson_files(self, module_id: str, listed: set[str]) -> None:
        prefix = f"{module_id}/"
        for rel in sorted(self.files):
            if not rel.startswith(prefix) or "/" in rel[len(prefix) :]:
                continue
            match = LESSON_FILE_PATTERN.match(rel[len(prefix) :])
            if not match:
                continue
            if match["locale"] not in LOCALES:
                self.report.error(
                    rel, None, None,
                    N_("unknown locale %(locale)s in the file name (expected one of %(locales)s)"),
                    locale=match["locale"], locales=", ".join(LOCALES),
                )  # fmt: skip
            elif match["lesson"] not in listed:
                self.report.warning(
                    rel, None, None,
                    N_("lesson file is not listed in %(module)s/module.yaml"), module=module_id,
                )  # fmt: skip

    def lesson(self, module_id: str, lesson_id: str, line: int | None, field_: str) -> Lesson | None:
        report = self.report
        texts: dict[str, LessonText] = {}
        missing: list[str] = []
        for locale in LOCALES:
            rel = f"{module_id}/{lesson_id}.{locale}.md"
            if rel not in self.files and rel not in self.bad_links:
                missing.append(locale)
                continue
            text = self.read_text(rel)
            if text is None:
                continue
            parsed = self.lesson_text(rel, module_id, text)
            if parsed is not None:
                texts[locale] = parsed
        source = report.source_locale
        if source in missing:
            report.error(
                f"{module_id}/module.yaml", line, field_,
                N_("lesson %(lesson)s has no file in the source locale: %(file)s"),
                lesson=lesson_id, file=f"{lesson_id}.{source}.md",
            )  # fmt: skip
            return None
        if len(missing) == len(LOCALES):
            return None
        for locale in missing:
            report.warning(
                f"{module_id}/{lesson_id}.{locale}.md", None, None,
                N_("translation missing: no %(locale)s file for lesson %(lesson)s"),
                locale=locale, lesson=lesson_id,
            )  # fmt: skip
        if not texts:
            return None
        return Lesson(id=lesson_id, texts={loc: texts[loc] for loc in LOCALES if loc in texts})

    def lesson_text(self, rel: str, module_id: str, text: str) -> LessonText | None:
        report = self.report
        front = split_front_matter(text)
        if front is None:
            report.error(
                rel, 1, None,
                N_("missing front matter: start the file with --- , title and minutes, then ---"),
            )  # fmt: skip
            return None
        loaded = load_yaml(front.yaml_text, rel, line_offset=front.yaml_first_line - 1)
        report.problems.extend(loaded.problems)
        if loaded.data is None and loaded.problems:
            return None
        if not isinstance(loaded.data, YMap):
            report.error(rel, 1, None, N_("front matter must be a mapping of fields"))
            return None
        f = _Fields(report, rel, loaded.data, "", module_id)
        title = f.text("title", required=True, max_length=LESSON_TITLE_MAX)
        minutes = f.integer("minutes", required=True)
        f.finish()
        for ref in find_references(front.body):
            _queue_reference(report, rel, front.body_first_line + ref.line, None, module_id, ref.url)
        if title is None or minutes is None:
            return None
        return LessonText(title=title, minutes=minutes, markdown=front.body)

    # -- questions --------------------------------------------------------------------------

    def questions(self, module_id: str, rel: str) -> list[Question]:
        report = self.report
        data = self.read_yaml(rel)
        if data is _MISSING:
            return []
        if data is None:
            data = YList()
            data.line, data.item_lines = 1, []
        if not isinstance(data, YList):
            report.error(
                rel, getattr(data, "line", 1), None,
                N_("must be a list of questions, not %(type)s"), type=_type_name(data),
            )  # fmt: skip
            return []
        result = []
        for index, item in enumerate(data):
            name = f"questions[{index}]"
            if not isinstance(item, YMap):
                report.error(
                    rel, data.line_of(index), name, N_("must be a mapping, not %(type)s"),
                    type=_type_name(item),
                )  # fmt: skip
                continue
            question = self.question(_Fields(report, rel, item, name, module_id))
            if question is not None:
                result.append(question)
        return result

    def question(self, f: _Fields) -> Question | None:
        report = self.report
        qid = f.ident("id", required=True)
        if qid is not None:
            if qid in self.question_ids:
                f.error(
                    "id", N_("duplicate question id %(id)s (also in %(other)s)"),
                    id=qid, other=self.question_ids[qid],
                )  # fmt: skip
            else:
                self.question_ids[qid] = f.path
        qtype = f.raw("type", required=True)
        if qtype is not _MISSING and qtype not in QUESTION_TYPES:
            f.error(
                "type", N_("unknown question type %(type)s (expected one of %(types)s)"),
                type=str(qtype), types=", ".join(QUESTION_TYPES),
            )  # fmt: skip
        prompt = f.localized("prompt", required=True)
        difficulty = f.choice("difficulty", DIFFICULTIES, "medium")
        tags = f.id_list("tags") or []
        feedback = f.localized("feedback")
        if qtype == "scenario":
            if f.has("points"):
                f.seen.add("points")
                f.error(
                    "points",
                    N_("a scenario's points are the best total of a path; remove this field"),
                )
            points: float | None = None
        else:
            points = f.number("points", default=1, positive=True)
        if qtype not in QUESTION_TYPES:
            return None  # unknown type: its other fields cannot be judged
        before = len([p for p in report.problems if p.is_error])
        spec, computed = _SPEC_READERS[qtype](self, f)
        f.finish()
        if qtype == "scenario":
            points = computed
        if len([p for p in report.problems if p.is_error]) > before or spec is None:
            return None
        if qid is None or prompt is None or points is None or difficulty is None:
            return None
        return Question(
            id=qid,
            type=qtype,
            points=points,
            difficulty=difficulty,
            tags=tuple(tags),
            prompt=prompt,
            feedback=feedback,
            spec=spec,
        )

    # -- quizzes ----------------------------------------------------------------------------

    def quiz(
        self, rel: str, default_kind: str, module_id: str | None, banks: dict[str, list[Question]]
    ) -> Quiz | None:
        report = self.report
        data = self.read_yaml(rel)
        if data is _MISSING:
            return None
        if not isinstance(data, YMap):
            report.error(rel, getattr(data, "line", 1), None, N_("must be a mapping of fields"))
            return None
        base = module_id or ""
        f = _Fields(report, rel, data, "", base)
        kind = f.choice("kind", ("practice", "exam"), default_kind) or default_kind
        is_exam = kind == "exam"
        title = f.localized("title")
        all_questions = {q.id: q for bank in banks.values() for q in bank}
        known_ids = set(self.question_ids)

        question_ids: tuple[str, ...] | None = None
        value = f.raw("questions")
        if value is not _MISSING:
            if isinstance(value, str):
                if value != "all":
                    f.error("questions", N_('must be "all" or a list of question ids'))
            elif isinstance(value, list):
                ids = _id_items(f, "questions", value, 1)
                for index, qid in enumerate(value):
                    if isinstance(qid, str) and ID_PATTERN.match(qid) and qid not in known_ids:
                        report.error(
                            rel, value.line_of(index) if isinstance(value, YList) else f.line(),
                            f"questions[{index}]", N_("unknown question id %(id)s"), id=qid,
                        )  # fmt: skip
                question_ids = tuple(ids)
            else:
                f.error("questions", N_('must be "all" or a list of question ids'))

        draw: list[DrawRule] = []
        rules = f.maps("draw", min_items=1) if f.has("draw") else []
        if f.has("draw") and value is not _MISSING:
            f.error("draw", N_("use either questions or draw, not both"))
        selections: list[tuple[set[str], int]] = []
        for rule in rules:
            rule_module = rule.ident("module")
            rule_tags = rule.id_list("tags", min_items=1) or []
            count = rule.integer("count", required=True)
            rule.finish()
            if rule_module is not None and rule_module not in self.module_ids:
                rule.error(
                    "module", N_("unknown module %(module)s (not listed in course.yaml)"),
                    module=rule_module,
                )  # fmt: skip
                continue
            if count is None or rule_module in self.broken_modules:
                continue
            if rule_module is None and self.broken_modules:
                continue
            pool = banks[rule_module] if rule_module else list(all_questions.values())
            selection = {q.id for q in pool if not rule_tags or set(q.tags) & set(rule_tags)}
            if count > len(selection):
                rule.error(
                    "count", N_("asks for %(count)s questions but only %(available)s match"),
                    count=count, available=len(selection),
                )  # fmt: skip
            selections.append((selection, count))
            draw.append(DrawRule(module=rule_module, tags=tuple(rule_tags), count=count))
        if len(selections) > 1:
            wanted = sum(c for _s, c in selections)
            possible = _max_distinct_draw(selections)
            if possible < wanted and all(c <= len(s) for s, c in selections):
                f.error(
                    "draw",
                    N_("the draw rules ask for %(count)s questions in total, but only "
                       "%(available)s different questions can be drawn"),
                    count=wanted, available=possible,
                )  # fmt: skip

        if not rules and question_ids is None:
            pool_size = len(banks.get(module_id, [])) if module_id else len(all_questions)
            bank_broken = module_id in self.broken_modules if module_id else bool(self.broken_modules)
            if pool_size == 0 and not bank_broken:
                report.error(
                    rel, data.line, None,
                    N_("the quiz has no questions: the question bank is empty"),
                )  # fmt: skip

        pass_mark = f.number(
            "pass_mark", default=None if is_exam else 70, required=is_exam,
            positive=True, maximum=100,
        )  # fmt: skip
        time_limit = f.integer("time_limit_minutes", required=is_exam)
        attempts = f.integer("attempts", default=1 if is_exam else 0, minimum=0)
        shuffle_questions = f.boolean("shuffle_questions", True)
        shuffle_options = f.boolean("shuffle_options", True)
        review = f.choice("review", REVIEW_MODES, "after_submit" if is_exam else "immediately")
        f.finish()
        if pass_mark is None or attempts is None or review is None:
            return None
        return Quiz(
            kind=kind,  # type: ignore[arg-type]
            title=title,
            question_ids=None if draw else question_ids,
            draw=tuple(draw),
            pass_mark=pass_mark,
            time_limit_minutes=time_limit,
            attempts=attempts,
            shuffle_questions=bool(shuffle_questions),
            shuffle_options=bool(shuffle_options),
            review=review,
        )

    # -- media ------------------------------------------------------------------------------

    def media(self) -> list[MediaFile]:
        """Inspect ``media/``, then check every queued reference against it."""
        report = self.report
        infos: dict[str, MediaInfo] = {}
        prefix = MEDIA_DIR + "/"
        for rel in sorted(self.files):
            if not rel.startswith(prefix):
                continue
            parts = rel[len(prefix) :].split("/")
            if any(part.startswith(".") for part in parts):
                continue  # .gitkeep, .DS_Store: never published
            full = self.safe_path(rel)
            if full is None:
                continue
            if not all(ID_PATTERN.match(p) for p in parts[:-1]) or not MEDIA_NAME_PATTERN.match(parts[-1]):
                report.error(
                    rel, None, None,
                    N_("media file names use lowercase letters, digits and hyphens"),
                )  # fmt: skip
            info = inspect_media(full, rel)
            report.problems.extend(info.problems)
            infos[rel] = info

        used: set[str] = set()
        for ref in report.references:
            info = infos.get(ref.target)
            if info is None:
                if ref.target in self.files and not ref.target.startswith(prefix):
                    report.error(
                        ref.path, ref.line, ref.field,
                        N_("%(path)s is not a media file: media live in the media/ folder"),
                        path=ref.target,
                    )  # fmt: skip
                elif not _is_hidden(ref.target):
                    report.error(
                        ref.path, ref.line, ref.field,
                        N_("media file %(path)s does not exist"), path=ref.target,
                    )  # fmt: skip
                continue
            used.add(ref.target)
            if ref.need and info.kind and info.kind != ref.need:
                report.error(
                    ref.path, ref.line, ref.field, N_("%(path)s must be an image"),
                    path=ref.target,
                )  # fmt: skip
                continue
            if ref.on_box is not None and info.kind == "image" and not info.problems:
                ref.on_box(info.box)

        media = []
        for rel, info in infos.items():
            if rel not in used:
                report.warning(rel, None, None, N_("media file is not used anywhere"))
            if info.kind and not info.problems:
                media.append(MediaFile(rel, info.kind, info.size, info.sha256))  # type: ignore[arg-type]
        return media


def _is_hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def _max_distinct_draw(selections: list[tuple[set[str], int]]) -> int:
    """How many questions the rules can draw together with no question used twice.

    A bipartite b-matching (rule slots to questions) by augmenting paths; sizes are small.
    """
    slots = [index for index, (sel, count) in enumerate(selections) for _ in range(min(count, len(sel)))]
    owner: dict[str, int] = {}
    ordered = [sorted(sel) for sel, _count in selections]

    def augment(slot: int, visited: set[str]) -> bool:
        for qid in ordered[slots[slot]]:
            if qid in visited:
                continue
            visited.add(qid)
            if qid not in owner or augment(owner[qid], visited):
                owner[qid] = slot
                return True
        return False

    return sum(1 for slot in range(len(slots)) if augment(slot, set()))


# -- type-specific readers -------------------------------------------------------------------
# Each returns (spec, computed_points). ``spec`` is plain JSON: the database stores it as is and
# the writer turns it back into YAML, so LocalizedText becomes a dict and absent values None.


def _lt(value: LocalizedText | None) -> dict[str, str] | None:
    return value.to_dict() if value is not None else None


def _unique(fields: list[_Fields], ids: list[str | None], seen: set[str] | None = None) -> None:
    seen = set() if seen is None else seen
    for item, ident in zip(fields, ids, strict=True):
        if ident is None:
            continue
        if ident in seen:
            item.error("id", N_("duplicate id %(id)s"), id=ident)
        seen.add(ident)


def _options(loader: _CourseLoader, f: _Fields) -> tuple[list[dict[str, Any]], list[str]]:
    items = f.maps("options", required=True, min_items=2)
    options, ids = [], []
    for item in items:
        oid = item.ident("id", required=True)
        text = item.localized("text", required=True)
        feedback = item.localized("feedback")
        item.finish()
        ids.append(oid)
        options.append({"id": oid, "text": _lt(text), "feedback": _lt(feedback)})
    _unique(items, ids)
    return options, [i for i in ids if i is not None]


#: One msgid per kind of answer key, so translators never see an English word in a placeholder.
NOT_AN_OPTION = N_("answer %(answer)s is not one of the options (%(valid)s)")
NOT_A_REGION = N_("answer %(answer)s is not one of the regions (%(valid)s)")


def _answer_ids(f: _Fields, value: Any, valid: list[str], message: str) -> list[str]:
    answers = _id_items(f, "answer", value, 1)
    for index, answer in enumerate(answers):
        if answer not in valid:
            f.report.error(
                f.path, value.line_of(index) if isinstance(value, YList) else f.line("answer"),
                f.name("answer") + f"[{index}]", message, answer=answer, valid=", ".join(valid),
            )  # fmt: skip
    return answers


def _read_single(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    options, ids = _options(loader, f)
    answer = f.raw("answer", required=True)
    if answer is _MISSING:
        return None, None
    if not isinstance(answer, str):
        f.error("answer", N_("must be one option id, not %(type)s"), type=_type_name(answer))
        return None, None
    if answer not in ids:
        f.error(
            "answer", NOT_AN_OPTION, answer=answer, valid=", ".join(ids),
        )  # fmt: skip
    return {"options": options, "answer": answer}, None


def _read_multiple(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    options, ids = _options(loader, f)
    value = f.raw("answer", required=True)
    answers: list[str] = []
    if value is not _MISSING:
        if not isinstance(value, list):
            f.error("answer", N_("must be a list of option ids, not %(type)s"), type=_type_name(value))
        else:
            answers = _answer_ids(f, value, ids, NOT_AN_OPTION)
    scoring = f.choice("scoring", ("all_or_nothing", "partial"), "all_or_nothing")
    penalty = None
    if scoring == "partial":
        penalty = f.number("penalty", default=1, minimum=0, maximum=1)
    elif f.has("penalty"):
        f.seen.add("penalty")
        f.error("penalty", N_("penalty applies only to scoring: partial"))
    return {"options": options, "answer": answers, "scoring": scoring, "penalty": penalty}, None


def _read_true_false(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    value = f.raw("answer", required=True)
    if value is _MISSING:
        return None, None
    if not isinstance(value, bool):
        f.error("answer", N_("must be true or false, not %(type)s"), type=_type_name(value))
        return None, None
    return {"answer": value}, None


def _read_short_text(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    report = f.report
    value = f.raw("answer", required=True)
    if value is _MISSING:
        return None, None
    if not isinstance(value, YMap):
        f.error(
            "answer", N_("must be a mapping of locale to a list of accepted answers, not %(type)s"),
            type=_type_name(value),
        )  # fmt: skip
        return None, None
    answers: dict[str, list[str]] = {}
    name = f.name("answer")
    for locale, accepted in value.items():
        where = value.line_of(locale)
        if locale not in LOCALES:
            report.error(
                f.path, where, f"{name}.{locale}",
                N_("unknown locale %(locale)s (expected one of %(locales)s)"),
                locale=str(locale), locales=", ".join(LOCALES),
            )  # fmt: skip
            continue
        if (
            not isinstance(accepted, list)
            or not accepted
            or not all(isinstance(a, str) and a.strip() for a in accepted)
        ):
            report.error(
                f.path, where, f"{name}.{locale}",
                N_("must be a non-empty list of accepted answers (text)"),
            )  # fmt: skip
            continue
        answers[locale] = list(accepted)
    source = report.source_locale
    if source in LOCALES and source not in answers and source not in value:
        f.error("answer", N_("missing the source locale %(locale)s"), locale=source)
    gaps = [loc for loc in LOCALES if loc not in value]
    if gaps and answers:
        report.warning(
            f.path, f.line("answer"), name, N_("translation missing for %(locales)s"),
            locales=", ".join(gaps),
        )  # fmt: skip
    return {"answer": {loc: answers[loc] for loc in LOCALES if loc in answers}}, None


def _read_numeric(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    answer = f.number("answer", required=True)
    tolerance = f.number("tolerance", default=0, minimum=0)
    mode = f.choice("tolerance_mode", ("absolute", "relative"), "absolute")
    unit = f.localized("unit")
    if mode == "relative" and tolerance is not None:
        if tolerance >= 1:
            f.error(
                "tolerance",
                N_("a relative tolerance is a fraction below 1 (0.05 means 5 %%), not %(value)s"),
                value=tolerance,
            )
        elif answer == 0 and tolerance > 0:
            f.error(
                "tolerance_mode",
                N_("a relative tolerance around 0 accepts only 0; use tolerance_mode: absolute"),
            )
    if answer is None:
        return None, None
    return {"answer": answer, "tolerance": tolerance, "tolerance_mode": mode, "unit": _lt(unit)}, None


def _read_matching(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    pairs_f = f.maps("pairs", required=True, min_items=2)
    pairs, ids = [], []
    for item in pairs_f:
        pid = item.ident("id", required=True)
        left = item.localized("left", required=True)
        right = item.localized("right", required=True)
        item.finish()
        ids.append(pid)
        pairs.append({"id": pid, "left": _lt(left), "right": _lt(right)})
    distractors_f = f.maps("distractors")
    distractors, dids = [], []
    for item in distractors_f:
        did = item.ident("id", required=True)
        text = item.localized("text", required=True)
        item.finish()
        dids.append(did)
        distractors.append({"id": did, "text": _lt(text)})
    seen: set[str] = set()
    _unique(pairs_f, ids, seen)
    _unique(distractors_f, dids, seen)
    return {"pairs": pairs, "distractors": distractors}, None


def _read_ordering(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    items_f = f.maps("items", required=True, min_items=3)
    items, ids = [], []
    for item in items_f:
        iid = item.ident("id", required=True)
        text = item.localized("text", required=True)
        item.finish()
        ids.append(iid)
        items.append({"id": iid, "text": _lt(text)})
    _unique(items_f, ids)
    return {"items": items}, None


def _region_inside(shape: str, coords: list[float], box: Box) -> bool:
    min_x, min_y, width, height = box
    max_x, max_y = min_x + width, min_y + height
    if shape == "rect":
        x, y, w, h = coords
        points = [(x, y), (x + w, y + h)]
    elif shape == "circle":
        cx, cy, r = coords
        points = [(cx - r, cy - r), (cx + r, cy + r)]
    else:
        points = list(zip(coords[0::2], coords[1::2], strict=True))
    eps = 1e-9
    return all(min_x - eps <= px <= max_x + eps and min_y - eps <= py <= max_y + eps for px, py in points)


def _read_hotspot(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, None]:
    report = f.report
    image = f.text("image", required=True)
    alt = f.localized("alt", required=True)
    regions_f = f.maps("regions", required=True, min_items=1)
    regions, ids = [], []
    for item in regions_f:
        rid = item.ident("id", required=True)
        label = item.localized("label", required=True)
        shape = item.choice("shape", ("rect", "circle", "polygon"))
        if not item.has("shape"):
            item.raw("shape", required=True)
        coords_value = item.raw("coords", required=True)
        coords: list[float] | None = None
        if coords_value is not _MISSING:
            if not isinstance(coords_value, list) or not all(_is_number(c) for c in coords_value):
                item.error("coords", N_("must be a list of numbers"))
            elif shape is not None:
                coords = list(coords_value)
                problem = _coords_problem(shape, coords)
                if problem:
                    item.error("coords", problem)
                    coords = None
        item.finish()
        ids.append(rid)
        regions.append({"id": rid, "label": _lt(label), "shape": shape, "coords": coords, "_f": item})
    _unique(regions_f, ids)
    valid = [i for i in ids if i is not None]
    value = f.raw("answer", required=True)
    answers: list[str] = []
    if value is not _MISSING:
        if not isinstance(value, list):
            f.error("answer", N_("must be a list of region ids, not %(type)s"), type=_type_name(value))
        else:
            answers = _answer_ids(f, value, valid, NOT_A_REGION)
    if answers and valid and set(valid) <= set(answers):
        report.warning(
            f.path, f.line("answer"), f.name("answer"),
            N_("every region is a correct answer: add wrong regions, trainees without "
               "JavaScript choose among all of them"),
        )  # fmt: skip
    located = [(r.pop("_f"), r) for r in regions]
    spec: dict[str, Any] = {"image": None, "alt": _lt(alt), "regions": regions, "answer": answers}
    if image is not None:

        def check_box(box: Box | None) -> None:
            if box is None:
                report.error(
                    f.path, f.line("image"), f.name("image"),
                    N_("the size of %(path)s is unknown (an SVG needs a viewBox or width and "
                       "height), so regions cannot be checked"),
                    path=image,
                )  # fmt: skip
                return
            for item, region in located:
                if region["coords"] is not None and not _region_inside(
                    region["shape"], region["coords"], box
                ):
                    item.error(
                        "coords",
                        N_("region %(id)s lies outside the image (%(width)s x %(height)s)"),
                        id=region["id"], width=_fmt(box[2]), height=_fmt(box[3]),
                    )  # fmt: skip
            # The trainee's browser maps a click to these units; derived, so never written back.
            spec["image_box"] = list(box)

        before = len(report.references)
        _queue_reference(report, f.path, f.line("image"), f.name("image"), f.base, image, "image", check_box)
        if len(report.references) > before:
            spec["image"] = report.references[-1].target
    if spec["image"] is None:
        return None, None
    return spec, None


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _coords_problem(shape: str, coords: list[float]) -> str | None:
    if shape == "rect":
        if len(coords) != 4:
            return N_("a rect needs 4 numbers: x, y, width, height")
        if coords[2] <= 0 or coords[3] <= 0:
            return N_("a rect needs a positive width and height")
    elif shape == "circle":
        if len(coords) != 3:
            return N_("a circle needs 3 numbers: cx, cy, r")
        if coords[2] <= 0:
            return N_("a circle needs a positive radius")
    elif len(coords) < 6 or len(coords) % 2:
        return N_("a polygon needs at least 3 points: x1, y1, x2, y2, x3, y3, ...")
    return None


def _read_scenario(loader: _CourseLoader, f: _Fields) -> tuple[dict[str, Any] | None, float | None]:
    start = f.ident("start", required=True)
    steps_f = f.maps("steps", required=True, min_items=1)
    steps: list[dict[str, Any]] = []
    step_ids: list[str | None] = []
    choice_fields: list[_Fields] = []
    choice_ids: list[str | None] = []
    #: step id -> [(choice fields, next, points)]
    graph: dict[str, list[tuple[_Fields, str | None, float]]] = {}
    step_fields: dict[str, _Fields] = {}
    for item in steps_f:
        sid = item.ident("id", required=True)
        text = item.localized("text", required=True)
        choices_f = item.maps("choices", required=True)
        if item.has("choices") and isinstance(item.data.get("choices"), list) and not choices_f:
            item.error("choices", N_("a step needs at least one choice"))
        choices = []
        edges = []
        for choice in choices_f:
            cid = choice.ident("id", required=True)
            ctext = choice.localized("text", required=True)
            nxt = choice.ident("next")
            points = choice.number("points", default=0, minimum=0)
            cfeedback = choice.localized("feedback")
            choice.finish()
            choice_fields.append(choice)
            choice_ids.append(cid)
            choices.append(
                {"id": cid, "text": _lt(ctext), "next": nxt, "points": points,
                 "feedback": _lt(cfeedback)}
            )  # fmt: skip
            edges.append((choice, nxt, points or 0))
        item.finish()
        step_ids.append(sid)
        steps.append({"id": sid, "text": _lt(text), "choices": choices})
        if sid is not None and sid not in graph:
            graph[sid] = edges
            step_fields[sid] = item
    _unique(steps_f, step_ids)
    _unique(choice_fields, choice_ids)

    broken = False
    for _sid, edges in graph.items():
        for choice, nxt, _points in edges:
            if nxt is not None and nxt not in graph:
                choice.error("next", N_("unknown step %(id)s"), id=nxt)
                broken = True
    if start is None:
        return None, None
    if start not in graph:
        f.error("start", N_("unknown step %(id)s"), id=start)
        return None, None
    if broken:
        return None, None

    # Depth-first from start: finds loops (a back edge) and which steps are reachable.
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    best: dict[str, float] = {}
    has_loop = False

    def visit(sid: str) -> None:
        nonlocal has_loop
        state[sid] = 1
        for choice, nxt, _points in graph[sid]:
            if nxt is None:
                continue
            if state.get(nxt) == 1:
                has_loop = True
                choice.error(
                    "next", N_("step %(step)s leads back to %(next)s: the scenario can loop forever"),
                    step=sid, next=nxt,
                )  # fmt: skip
            elif nxt not in state:
                visit(nxt)
        state[sid] = 2
        if not has_loop:
            best[sid] = max((p + (best[n] if n is not None else 0) for _c, n, p in graph[sid]), default=0)

    visit(start)
    reachable = set(state)
    for sid, item in step_fields.items():
        if sid not in reachable:
            item.error("id", N_("step %(id)s cannot be reached from start %(start)s"), id=sid, start=start)
    for sid in step_fields:
        # Loops among unreachable steps are errors too; find them now rather than next round.
        if sid not in state:
            visit(sid)
    if has_loop or any(not edges for edges in graph.values()) or reachable != set(graph):
        return None, None
    total = best[start]
    if total <= 0:
        f.error("steps", N_("no path through the scenario earns any points"))
        return None, None
    return {"start": start, "steps": steps}, total


_SPEC_READERS: dict[str, Callable[[_CourseLoader, _Fields], tuple[dict[str, Any] | None, float | None]]] = {
    "single": _read_single,
    "multiple": _read_multiple,
    "true_false": _read_true_false,
    "short_text": _read_short_text,
    "numeric": _read_numeric,
    "matching": _read_matching,
    "ordering": _read_ordering,
    "hotspot": _read_hotspot,
    "scenario": _read_scenario,
}


def load_course(
    path: str | os.PathLike[str], *, check_folder_name: bool = True
) -> tuple[Course | None, list[Problem]]:
    """Read and validate the course folder at ``path``.

    Returns the course (``None`` if there is any error) and every problem found, warnings
    included, sorted by file and line. ``check_folder_name=False`` skips the "id equals the
    folder name" rule, for a course whose files were unpacked straight into a temporary folder.
    """
    root = Path(path)
    if not root.is_dir():
        return None, [Problem(ERROR, str(path), None, None, N_("course folder %(path)s does not exist"),
                              {"path": str(path)})]  # fmt: skip
    loader = _CourseLoader(root, check_folder_name)
    course = loader.load()
    problems = sorted(_dedupe(loader.report.problems), key=Problem.sort_key)
    if any(p.is_error for p in problems):
        course = None
    return course, problems


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    result = []
    for problem in problems:
        key = (problem.severity, problem.path, problem.line, problem.field, problem.message,
               tuple(sorted((k, str(v)) for k, v in problem.params.items())))  # fmt: skip
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


__all__ = ["ID_PATTERN", "load_course"]
