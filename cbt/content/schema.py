"""The in-memory form of a course package: plain, immutable dataclasses.

The loader builds these from files, the writer turns them back into files, and the importer copies
them into the database. They hold data only; nothing here knows about Flask, SQL or the file system.
Sequences are tuples so a loaded course cannot be changed by accident while it is being imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: Every locale the platform speaks, in the default fallback order.
LOCALES: tuple[str, ...] = ("kk", "ru", "en")

#: Question types, in the order the README documents them.
QUESTION_TYPES: tuple[str, ...] = (
    "single",
    "multiple",
    "true_false",
    "short_text",
    "numeric",
    "matching",
    "ordering",
    "hotspot",
    "scenario",
)

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
REVIEW_MODES: tuple[str, ...] = ("immediately", "after_submit", "after_close", "never")

#: Media kinds by file extension; the loader also checks the content matches.
MEDIA_TYPES: dict[str, tuple[str, str]] = {
    ".svg": ("image", "image/svg+xml"),
    ".png": ("image", "image/png"),
    ".jpg": ("image", "image/jpeg"),
    ".jpeg": ("image", "image/jpeg"),
    ".webp": ("image", "image/webp"),
    ".mp4": ("video", "video/mp4"),
    ".webm": ("video", "video/webm"),
}


class LocalizedText:
    """A text in several locales: a read-only mapping ``locale -> text``.

    It is deliberately *not* a :class:`collections.abc.Mapping` subclass: its :meth:`get`
    answers "what should this reader see, and in which language", which is a different question
    from ``Mapping.get``. ``dict(text)``, ``text["en"]``, ``in`` and iteration work as usual.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, str] = dict(values)

    def get(self, locale: str, fallback_order: Iterable[str] = LOCALES) -> tuple[str, str]:
        """Return ``(text, locale_used)`` for a reader who wants ``locale``.

        The wanted locale wins; then the first present locale of ``fallback_order``; then any
        locale at all (sorted, so the answer is stable). The caller compares ``locale_used`` with
        the wanted locale to tell the reader the text is a fallback. Raises :class:`KeyError`
        only when the text is empty, which a validated course never contains.
        """
        if locale in self._values:
            return self._values[locale], locale
        for candidate in fallback_order:
            if candidate in self._values:
                return self._values[candidate], candidate
        for candidate in sorted(self._values):
            return self._values[candidate], candidate
        raise KeyError(locale)

    def missing(self, locales: Iterable[str] = LOCALES) -> list[str]:
        """The locales of ``locales`` that have no text (a translation gap)."""
        return [loc for loc in locales if loc not in self._values]

    def to_dict(self) -> dict[str, str]:
        """Plain ``{locale: text}`` in :data:`LOCALES` order, for JSON and YAML."""
        ordered = {loc: self._values[loc] for loc in LOCALES if loc in self._values}
        ordered.update({k: v for k, v in self._values.items() if k not in ordered})
        return ordered

    def __getitem__(self, locale: str) -> str:
        return self._values[locale]

    def __contains__(self, locale: object) -> bool:
        return locale in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> Iterable[str]:
        return self._values.keys()

    def values(self) -> Iterable[str]:
        return self._values.values()

    def items(self) -> Iterable[tuple[str, str]]:
        return self._values.items()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LocalizedText):
            return self._values == other._values
        if isinstance(other, Mapping):
            return self._values == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._values.items()))

    def __repr__(self) -> str:
        return f"LocalizedText({self._values!r})"


@dataclass(frozen=True)
class CompletionRule:
    """What a trainee must do to complete the course (README, ``completion``)."""

    lessons: Literal["all", "none"] = "all"
    quizzes: Literal["passed", "attempted", "none"] = "passed"
    exam: Literal["passed", "none"] = "passed"


@dataclass(frozen=True)
class MediaFile:
    """One file under ``media/``, already checked for type, size and safety."""

    #: Relative to the course folder, POSIX separators: ``"media/truck.svg"``.
    path: str
    #: ``"image"`` or ``"video"``.
    kind: Literal["image", "video"]
    size: int
    #: Hex digest of the content; lets the importer store each file once.
    sha256: str

    @property
    def mime_type(self) -> str:
        suffix = self.path[self.path.rfind(".") :].lower()
        return MEDIA_TYPES[suffix][1]


@dataclass(frozen=True)
class LessonText:
    """One language version of a lesson: its front matter and Markdown body."""

    title: str
    minutes: int
    #: The body exactly as written; media paths are relative to the module folder.
    markdown: str


@dataclass(frozen=True)
class Lesson:
    id: str
    #: ``locale -> LessonText``; the source locale is always present.
    texts: Mapping[str, LessonText]

    def text(self, locale: str, fallback_order: Iterable[str] = LOCALES) -> tuple[LessonText, str]:
        """Like :meth:`LocalizedText.get`: the best version for ``locale`` and its locale."""
        if locale in self.texts:
            return self.texts[locale], locale
        for candidate in [*fallback_order, *sorted(self.texts)]:
            if candidate in self.texts:
                return self.texts[candidate], candidate
        raise KeyError(locale)


@dataclass(frozen=True)
class Question:
    """A question of a module's bank.

    The fields every type shares are attributes; the type-specific ones (options, answer key,
    regions, steps...) live in ``spec`` as plain JSON data, because that is how the database stores
    them and how the grading registry reads them. Localized texts inside ``spec`` are plain
    ``{locale: text}`` dicts; absent optional values are ``None`` so every type has one shape.

    Paths in ``spec`` are course-relative (hotspot ``image``: ``"media/truck.svg"``). A hotspot
    also gets ``image_box`` = ``[min_x, min_y, width, height]``, the coordinate system of its
    regions (SVG viewBox or pixel size), measured from the image by the loader.
    """

    id: str
    type: str
    #: For ``scenario``: the best total a path can reach, computed by the loader.
    points: float
    difficulty: str
    tags: tuple[str, ...]
    prompt: LocalizedText
    feedback: LocalizedText | None
    spec: Mapping[str, Any]


@dataclass(frozen=True)
class DrawRule:
    """Draw ``count`` random questions per attempt from a module's bank and/or by tags."""

    module: str | None
    tags: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class Quiz:
    """A module's practice quiz or the course's final exam."""

    kind: Literal["practice", "exam"]
    title: LocalizedText | None
    #: Fixed question list; ``None`` means "all" (the module's bank, or for the exam every bank).
    #: Ignored when ``draw`` is not empty.
    question_ids: tuple[str, ...] | None
    draw: tuple[DrawRule, ...]
    #: Percent needed to pass.
    pass_mark: float
    time_limit_minutes: int | None
    #: 0 means unlimited.
    attempts: int
    shuffle_questions: bool
    shuffle_options: bool
    review: str


@dataclass(frozen=True)
class Module:
    #: The module's folder name.
    id: str
    title: LocalizedText
    description: LocalizedText | None
    lessons: tuple[Lesson, ...]
    questions: tuple[Question, ...]
    quiz: Quiz | None


@dataclass(frozen=True)
class Course:
    id: str
    version: int
    source_locale: str
    title: LocalizedText
    description: LocalizedText
    audience: LocalizedText | None
    estimated_minutes: int
    completion: CompletionRule
    modules: tuple[Module, ...]
    exam: Quiz | None
    media: tuple[MediaFile, ...] = field(default=())

    def questions(self) -> Iterator[tuple[Module, Question]]:
        """Every question of every bank, with the module it belongs to."""
        for module in self.modules:
            for question in module.questions:
                yield module, question

    def question(self, question_id: str) -> Question | None:
        for _module, question in self.questions():
            if question.id == question_id:
                return question
        return None

    def module(self, module_id: str) -> Module | None:
        for module in self.modules:
            if module.id == module_id:
                return module
        return None
