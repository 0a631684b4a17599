"""Translation status of a course: which localized fields exist in which locale, and where the gaps are.

A *localized field* is any ``{locale: text}`` mapping in the package (titles, prompts, option texts,
feedback, region labels, accepted short answers...) plus one field per lesson (its file in that locale).
The same walker counts a loaded :class:`~cbt.content.schema.Course`, the raw files of a draft that does
not load yet, and the JSON columns of a published version, so the percentages agree wherever they are
shown. Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cbt.content.errors import Problem
from cbt.content.schema import LOCALES, Course, LocalizedText

#: The loader's msgids for translation gaps (warnings), in :mod:`cbt.content.loader`.
GAP_FIELD = "translation missing for %(locales)s"
GAP_LESSON = "translation missing: no %(locale)s file for lesson %(lesson)s"


def is_localized(value: Any) -> bool:
    """True for ``{locale: text}`` (or ``{locale: [answers]}``) mappings and :class:`LocalizedText`."""
    if isinstance(value, LocalizedText):
        return True
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(key, str) and key in LOCALES for key in value)
        and all(isinstance(text, (str, list)) or text is None for text in value.values())
    )


def has_text(mapping: Any, locale: str) -> bool:
    """Whether a localized field has a non-empty text (or answer list) in ``locale``."""
    if isinstance(mapping, LocalizedText):
        return locale in mapping
    value = mapping.get(locale) if isinstance(mapping, Mapping) else None
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(isinstance(item, str) and item.strip() for item in value)
    return False


def localized_fields(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every localized field inside ``value`` with its dotted path (``options[0].text``), in file order."""
    if is_localized(value):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from localized_fields(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from localized_fields(item, f"{path}[{index}]")


@dataclass(frozen=True)
class Completeness:
    """How many of ``total`` localized fields each locale has."""

    total: int = 0
    present: Mapping[str, int] = field(default_factory=dict)

    def percent(self, locale: str) -> int:
        """Rounded down, so 100 % means really complete."""
        if self.total == 0:
            return 100
        return self.present.get(locale, 0) * 100 // self.total

    def percents(self) -> dict[str, int]:
        return {locale: self.percent(locale) for locale in LOCALES}

    def to_dict(self) -> dict[str, int]:
        return {"total": self.total, **{loc: self.present.get(loc, 0) for loc in LOCALES}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Completeness | None:
        if not data or "total" not in data:
            return None
        return cls(int(data["total"]), {loc: int(data.get(loc, 0)) for loc in LOCALES})


def count(values: Iterable[Any], lessons: Iterable[Iterable[str]]) -> Completeness:
    """Count the localized fields inside ``values``, plus one field per lesson (its locales given)."""
    total = 0
    present = dict.fromkeys(LOCALES, 0)
    for value in values:
        for _path, mapping in localized_fields(value):
            total += 1
            for locale in LOCALES:
                present[locale] += has_text(mapping, locale)
    for locales in lessons:
        total += 1
        for locale in set(locales) & set(LOCALES):
            present[locale] += 1
    return Completeness(total, present)


def course_completeness(course: Course) -> Completeness:
    """Translation completeness of a loaded course: every localized field and lesson file, per locale."""
    values: list[Any] = [course.title, course.description, course.audience]
    lessons: list[Iterable[str]] = []
    for module in course.modules:
        values += [module.title, module.description, module.quiz.title if module.quiz else None]
        for question in module.questions:
            values += [question.prompt, question.feedback, question.spec]
        lessons += [lesson.texts.keys() for lesson in module.lessons]
    values.append(course.exam.title if course.exam else None)
    return count(values, lessons)


@dataclass(frozen=True)
class Gap:
    """One missing translation, from the loader's warnings."""

    path: str
    field: str | None
    locales: tuple[str, ...]
    #: For a missing lesson file: the lesson id.
    lesson: str | None = None


def gaps(problems: Iterable[Problem], locale: str | None = None) -> list[Gap]:
    """The translation gaps among the loader's problems, for one locale or all."""
    found = []
    for problem in problems:
        if problem.is_error:
            continue
        if problem.message == GAP_FIELD:
            locales = tuple(s.strip() for s in str(problem.params.get("locales", "")).split(",") if s.strip())
            found.append(Gap(problem.path, problem.field, locales))
        elif problem.message == GAP_LESSON:
            found.append(Gap(problem.path, None, (str(problem.params.get("locale")),),
                             str(problem.params.get("lesson"))))  # fmt: skip
    if locale is not None:
        found = [gap for gap in found if locale in gap.locales]
    return found
