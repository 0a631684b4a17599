"""The validator: one broken copy of the small course per rule, each naming file, line and field."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cbt.content import load_course
from cbt.content.errors import Problem

from .kit import (
    COURSE_ID,
    EXAM,
    QUESTIONS_1,
    Files,
    base_files,
    jpeg,
    line_of,
    lt,
    png,
    webp,
    write_files,
)

Q1 = "01-basics/questions.yaml"
Q2 = "02-more/questions.yaml"
INTRO = "01-basics/01-intro.en.md"
MiB = 1024 * 1024

#: ``line`` value meaning "some line, whichever the YAML parser reports".
ANY_LINE = -1

Mutation = Callable[[Files], None]


def sub(path: str, old: str, new: str) -> Mutation:
    def mutate(files: Files) -> None:
        text = files[path]
        assert isinstance(text, str) and old in text, f"{old!r} not in {path}"
        files[path] = text.replace(old, new, 1)

    return mutate


def put(path: str, content: str | bytes) -> Mutation:
    def mutate(files: Files) -> None:
        files[path] = content

    return mutate


def drop(path: str) -> Mutation:
    def mutate(files: Files) -> None:
        del files[path]

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(files: Files) -> None:
        for mutation in mutations:
            mutation(files)

    return mutate


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutation
    path: str
    field: str | None
    message: str
    #: Text on the expected line (first occurrence), an exact line number, ANY_LINE or None.
    line: str | int | None = None
    severity: str = "error"
    occurrence: int = 1


def _load(tmp_path: Path, mutate: Mutation | None = None) -> tuple[object, list[Problem], Files]:
    files = base_files()
    if mutate is not None:
        mutate(files)
    folder = write_files(tmp_path, files)
    course, problems = load_course(folder)
    return course, problems, files


def _find(problems: list[Problem], case: Case) -> Problem:
    for problem in problems:
        if (problem.message, problem.path, problem.field) == (case.message, case.path, case.field):
            return problem
    listing = "\n".join(f"  {p.severity} {p.path}:{p.line} [{p.field}] {p.message}" for p in problems)
    raise AssertionError(f"no {case.message!r} at {case.path} [{case.field}]; got:\n{listing}")


SCENARIO_C4 = f"{{id: c4, text: {lt('Call it in')}, points: 1}}"
SCENARIO_C3 = f"{{id: c3, text: {lt('Inspect')}, points: 2}}"
TITLE = f"title: {lt('Test course')}"

CASES = [
    # -- malformed files ---------------------------------------------------------------------
    Case(
        "malformed-yaml",
        sub("course.yaml", "estimated_minutes: 30", "estimated_minutes: [30"),
        "course.yaml",
        None,
        "malformed YAML: %(error)s",
        ANY_LINE,
    ),
    Case(
        "malformed-questions-yaml",
        sub(Q1, "  answer: b\n", "  answer: b\n   bad: [\n"),
        Q1,
        None,
        "malformed YAML: %(error)s",
        ANY_LINE,
    ),
    Case(
        "malformed-front-matter",
        sub(INTRO, "minutes: 5", "minutes: [5"),
        INTRO,
        None,
        "malformed YAML: %(error)s",
        ANY_LINE,
    ),
    Case(
        "missing-front-matter",
        put(INTRO, "# Just a body\n"),
        INTRO,
        None,
        "missing front matter: start the file with --- , title and minutes, then ---",
        1,
    ),
    Case(
        "front-matter-wrong-type",
        sub(INTRO, "minutes: 5", "minutes: five"),
        INTRO,
        "minutes",
        "must be a whole number, not %(type)s",
        "minutes:",
    ),
    Case(
        "front-matter-missing-title",
        sub(INTRO, "title: Introduction\n", ""),
        INTRO,
        "title",
        "missing required field %(field)s",
        2,
    ),
    Case(
        "front-matter-title-too-long",
        sub(INTRO, "title: Introduction\n", f"title: {'Introduction ' * 25}\n"),
        INTRO,
        "title",
        "is too long: %(length)d characters, at most %(limit)d",
        "title:",
    ),
    Case(
        "front-matter-unknown-field",
        sub(INTRO, "minutes: 5\n", "minutes: 5\nauthor: me\n"),
        INTRO,
        "author",
        "unknown field %(field)s",
        "author:",
    ),
    Case(
        "duplicate-yaml-key",
        sub("course.yaml", "version: 1\n", "version: 1\nversion: 2\n"),
        "course.yaml",
        "version",
        "duplicate key %(key)s",
        "version: 2",
    ),
    # -- required fields, types, unknown fields ---------------------------------------------
    Case(
        "missing-required",
        sub("course.yaml", "version: 1\n", ""),
        "course.yaml",
        "version",
        "missing required field %(field)s",
        1,
    ),
    Case(
        "wrong-type",
        sub("course.yaml", "version: 1", "version: one"),
        "course.yaml",
        "version",
        "must be a whole number, not %(type)s",
        "version:",
    ),
    Case(
        "not-positive",
        sub("course.yaml", "version: 1", "version: 0"),
        "course.yaml",
        "version",
        "must be at least %(minimum)s",
        "version:",
    ),
    Case(
        "plain-string-localized",
        sub("course.yaml", TITLE, "title: Test course"),
        "course.yaml",
        "title",
        "must be a mapping of locale to text (kk: ..., ru: ..., en: ...), not a plain string",
        "title:",
    ),
    Case(
        "unknown-locale",
        sub("course.yaml", TITLE, "title: {en: T, ru: T, kk: T, de: T}"),
        "course.yaml",
        "title.de",
        "unknown locale %(locale)s (expected one of %(locales)s)",
        "title:",
    ),
    Case(
        "missing-source-locale",
        sub("course.yaml", TITLE, "title: {ru: T, kk: T}"),
        "course.yaml",
        "title",
        "missing the source locale %(locale)s",
        "title:",
    ),
    Case(
        "localized-not-text",
        sub("course.yaml", TITLE, "title: {en: T, ru: T, kk: 42}"),
        "course.yaml",
        "title.kk",
        "must be text, not %(type)s (put it in quotes)",
        "title:",
    ),
    Case(
        "bad-enum",
        sub("course.yaml", "  lessons: all", "  lessons: most"),
        "course.yaml",
        "completion.lessons",
        "must be one of %(choices)s, not %(value)s",
        "  lessons: most",
    ),
    Case(
        "unknown-field",
        sub("course.yaml", "version: 1\n", "version: 1\ncolour: red\n"),
        "course.yaml",
        "colour",
        "unknown field %(field)s",
        "colour:",
    ),
    Case(
        "unknown-question-field",
        sub(Q1, "  answer: b\n", "  answr: b\n"),
        Q1,
        "questions[0].answr",
        "unknown field %(field)s",
        "answr:",
    ),
    Case(
        "missing-answer",
        sub(Q1, "  answer: b\n", ""),
        Q1,
        "questions[0].answer",
        "missing required field %(field)s",
        "- id: q-single",
    ),
    Case(
        "invalid-id",
        sub("course.yaml", "  - 02-more", "  - 02_More"),
        "course.yaml",
        "modules[1]",
        "invalid id %(id)s: use lowercase letters, digits and hyphens",
        "  - 02_More",
    ),
    Case(
        "module-folder-missing",
        sub("course.yaml", "  - 02-more\n", "  - 02-more\n  - 03-gone\n"),
        "course.yaml",
        "modules[2]",
        "module folder %(name)s does not exist",
        "  - 03-gone",
    ),
    Case(
        "lesson-missing-source-locale",
        drop(INTRO),
        "01-basics/module.yaml",
        "lessons[0]",
        "lesson %(lesson)s has no file in the source locale: %(file)s",
        "  - 01-intro",
    ),
    Case(
        "unknown-locale-file",
        put("01-basics/01-intro.de.md", "---\ntitle: x\nminutes: 1\n---\n"),
        "01-basics/01-intro.de.md",
        None,
        "unknown locale %(locale)s in the file name (expected one of %(locales)s)",
    ),
    # -- duplicate ids --------------------------------------------------------------------------
    Case(
        "duplicate-module",
        sub("course.yaml", "  - 02-more\n", "  - 02-more\n  - 01-basics\n"),
        "course.yaml",
        "modules[2]",
        "duplicate id %(id)s",
        "  - 01-basics",
        occurrence=2,
    ),
    Case(
        "duplicate-lesson",
        sub("01-basics/module.yaml", "  - 02-video\n", "  - 02-video\n  - 01-intro\n"),
        "01-basics/module.yaml",
        "lessons[2]",
        "duplicate id %(id)s",
        "  - 01-intro",
        occurrence=2,
    ),
    Case(
        "duplicate-question-id",
        sub(Q2, "id: q-extra", "id: q-single"),
        Q2,
        "questions[0].id",
        "duplicate question id %(id)s (also in %(other)s)",
        "id: q-single",
    ),
    Case(
        "duplicate-option-id",
        sub(Q1, "{id: b, text:", "{id: a, text:"),
        Q1,
        "questions[0].options[1].id",
        "duplicate id %(id)s",
        "{id: a, text:",
        occurrence=2,
    ),
    Case(
        "duplicate-region-id",
        sub(Q1, "{id: wheel,", "{id: tank,"),
        Q1,
        "questions[7].regions[1].id",
        "duplicate id %(id)s",
        "{id: tank,",
        occurrence=2,
    ),
    Case(
        "duplicate-step-id",
        sub(Q1, "    - id: st3", "    - id: st2"),
        Q1,
        "questions[8].steps[2].id",
        "duplicate id %(id)s",
        "    - id: st2",
        occurrence=2,
    ),
    Case(
        "duplicate-choice-id",
        sub(Q1, "{id: c4,", "{id: c1,"),
        Q1,
        "questions[8].steps[2].choices[0].id",
        "duplicate id %(id)s",
        "{id: c1,",
        occurrence=2,
    ),
    Case(
        "duplicate-pair-distractor-id",
        sub(Q1, "{id: d1,", "{id: p1,"),
        Q1,
        "questions[5].distractors[0].id",
        "duplicate id %(id)s",
        "{id: p1,",
        occurrence=2,
    ),
    Case(
        "duplicate-ordering-item",
        sub(Q1, "{id: s3,", "{id: s1,"),
        Q1,
        "questions[6].items[2].id",
        "duplicate id %(id)s",
        "{id: s1,",
        occurrence=2,
    ),
    # -- question types and answer keys ---------------------------------------------------------
    Case(
        "unknown-question-type",
        sub(Q1, "type: true_false\n  difficulty: easy", "type: essay\n  difficulty: easy"),
        Q1,
        "questions[2].type",
        "unknown question type %(type)s (expected one of %(types)s)",
        "type: essay",
    ),
    Case(
        "single-answer-not-option",
        sub(Q1, "  answer: b\n", "  answer: z\n"),
        Q1,
        "questions[0].answer",
        "answer %(answer)s is not one of the options (%(valid)s)",
        "answer: z",
    ),
    Case(
        "multiple-answer-not-option",
        sub(Q1, "answer: [a, c]", "answer: [a, z]"),
        Q1,
        "questions[1].answer[1]",
        "answer %(answer)s is not one of the options (%(valid)s)",
        "answer: [a, z]",
    ),
    Case(
        "multiple-answer-not-list",
        sub(Q1, "answer: [a, c]", "answer: a"),
        Q1,
        "questions[1].answer",
        "must be a list of option ids, not %(type)s",
        "  answer: a",
    ),
    Case(
        "multiple-penalty-range",
        sub(Q1, "penalty: 0.5", "penalty: 2"),
        Q1,
        "questions[1].penalty",
        "must be at most %(maximum)s",
        "penalty: 2",
    ),
    Case(
        "penalty-without-partial",
        sub(Q1, "scoring: partial", "scoring: all_or_nothing"),
        Q1,
        "questions[1].penalty",
        "penalty applies only to scoring: partial",
        "penalty:",
    ),
    Case(
        "true-false-not-bool",
        sub(Q1, "answer: false", "answer: maybe"),
        Q1,
        "questions[2].answer",
        "must be true or false, not %(type)s",
        "answer: maybe",
    ),
    Case(
        "hotspot-answer-not-region",
        sub(Q1, "answer: [tank, wheel]", "answer: [tank, nope]"),
        Q1,
        "questions[7].answer[1]",
        "answer %(answer)s is not one of the regions (%(valid)s)",
        "answer: [tank, nope]",
    ),
    Case(
        "short-text-not-list",
        sub(Q1, "en: [TIR carnet, TIR]", "en: TIR"),
        Q1,
        "questions[3].answer.en",
        "must be a non-empty list of accepted answers (text)",
        "en: TIR",
    ),
    Case(
        "numeric-negative-tolerance",
        sub(Q1, "tolerance: 0.05", "tolerance: -1"),
        Q1,
        "questions[4].tolerance",
        "must be at least %(minimum)s",
        "tolerance: -1",
    ),
    Case(
        "numeric-relative-tolerance",
        sub(Q1, "tolerance: 0.05", "tolerance: 5"),
        Q1,
        "questions[4].tolerance",
        "a relative tolerance is a fraction below 1 (0.05 means 5 %%), not %(value)s",
        "tolerance: 5",
    ),
    Case(
        "numeric-relative-around-zero",
        sub(Q1, "answer: 40", "answer: 0"),
        Q1,
        "questions[4].tolerance_mode",
        "a relative tolerance around 0 accepts only 0; use tolerance_mode: absolute",
        "tolerance_mode:",
    ),
    Case(
        "numeric-answer-not-number",
        sub(Q1, "answer: 40", "answer: forty"),
        Q1,
        "questions[4].answer",
        "must be a number, not %(type)s",
        "answer: forty",
    ),
    Case(
        "points-not-positive",
        sub(Q1, "points: 2\n", "points: -2\n"),
        Q1,
        "questions[4].points",
        "must be greater than 0",
        "points: -2",
    ),
    Case(
        "matching-too-few-pairs",
        sub(Q1, f"    - {{id: p2, left: {lt('L2')}, right: {lt('R2')}}}\n", ""),
        Q1,
        "questions[5].pairs",
        "needs at least %(count)s items",
        "  pairs:",
    ),
    Case(
        "ordering-too-few-items",
        sub(Q1, f"    - {{id: s3, text: {lt('Third')}}}\n", ""),
        Q1,
        "questions[6].items",
        "needs at least %(count)s items",
        "  items:",
    ),
    # -- scenario graphs ------------------------------------------------------------------------
    Case(
        "scenario-unknown-next",
        sub(Q1, "next: st3}", "next: st9}"),
        Q1,
        "questions[8].steps[0].choices[1].next",
        "unknown step %(id)s",
        "next: st9",
    ),
    Case(
        "scenario-unknown-start",
        sub(Q1, "start: st1", "start: st0"),
        Q1,
        "questions[8].start",
        "unknown step %(id)s",
        "start: st0",
    ),
    Case(
        "scenario-unreachable",
        sub(Q1, ", next: st3}", "}"),
        Q1,
        "questions[8].steps[2].id",
        "step %(id)s cannot be reached from start %(start)s",
        "    - id: st3",
    ),
    Case(
        "scenario-loop",
        sub(Q1, SCENARIO_C3, SCENARIO_C3[:-1] + ", next: st1}"),
        Q1,
        "questions[8].steps[1].choices[0].next",
        "step %(step)s leads back to %(next)s: the scenario can loop forever",
        "{id: c3,",
    ),
    Case(
        "scenario-step-without-choices",
        sub(Q1, f"      choices:\n        - {SCENARIO_C4}", "      choices: []"),
        Q1,
        "questions[8].steps[2].choices",
        "a step needs at least one choice",
        "choices: []",
    ),
    Case(
        "scenario-points-given",
        sub(Q1, "type: scenario\n", "type: scenario\n  points: 3\n"),
        Q1,
        "questions[8].points",
        "a scenario's points are the best total of a path; remove this field",
        "points: 3",
    ),
    Case(
        "scenario-no-points",
        both(
            sub(Q1, "next: st2, points: 2,", "next: st2, points: 0,"),
            sub(Q1, "points: 2}", "points: 0}"),
            sub(Q1, "points: 1}", "points: 0}"),
        ),
        Q1,
        "questions[8].steps",
        "no path through the scenario earns any points",
        "  steps:",
    ),
    # -- hotspots -------------------------------------------------------------------------------
    Case(
        "hotspot-outside-svg",
        sub(Q1, "coords: [120, 200, 80, 40]", "coords: [750, 200, 80, 40]"),
        Q1,
        "questions[7].regions[0].coords",
        "region %(id)s lies outside the image (%(width)s x %(height)s)",
        "coords: [750",
    ),
    Case(
        "hotspot-outside-png",
        sub(Q1, "image: ../media/truck.svg", "image: ../media/photo.png"),
        Q1,
        "questions[7].regions[0].coords",
        "region %(id)s lies outside the image (%(width)s x %(height)s)",
        "{id: tank,",
    ),
    Case(
        "hotspot-outside-jpeg",
        both(
            put("media/pic.jpg", jpeg(100, 100)),
            sub(Q1, "image: ../media/truck.svg", "image: ../media/pic.jpg"),
        ),
        Q1,
        "questions[7].regions[1].coords",
        "region %(id)s lies outside the image (%(width)s x %(height)s)",
        "{id: wheel,",
    ),
    Case(
        "hotspot-outside-webp",
        both(
            put("media/pic.webp", webp(300, 100)),
            sub(Q1, "image: ../media/truck.svg", "image: ../media/pic.webp"),
        ),
        Q1,
        "questions[7].regions[0].coords",
        "region %(id)s lies outside the image (%(width)s x %(height)s)",
        "{id: tank,",
    ),
    Case(
        "hotspot-bad-circle",
        sub(Q1, "coords: [400, 260, 30]", "coords: [400, 260]"),
        Q1,
        "questions[7].regions[1].coords",
        "a circle needs 3 numbers: cx, cy, r",
        "coords: [400, 260]",
    ),
    Case(
        "hotspot-bad-shape",
        sub(Q1, "shape: polygon", "shape: star"),
        Q1,
        "questions[7].regions[2].shape",
        "must be one of %(choices)s, not %(value)s",
        "shape: star",
    ),
    Case(
        "hotspot-image-missing",
        sub(Q1, "image: ../media/truck.svg", "image: ../media/nope.svg"),
        Q1,
        "questions[7].image",
        "media file %(path)s does not exist",
        "image:",
    ),
    Case(
        "hotspot-image-is-video",
        sub(Q1, "image: ../media/truck.svg", "image: ../media/clip.mp4"),
        Q1,
        "questions[7].image",
        "%(path)s must be an image",
        "image:",
    ),
    Case(
        "hotspot-svg-without-size",
        put("media/truck.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>'),
        Q1,
        "questions[7].image",
        "the size of %(path)s is unknown (an SVG needs a viewBox or width and height), so regions cannot be "
        "checked",
        "image:",
    ),
    # -- media references -----------------------------------------------------------------------
    Case(
        "dangling-lesson-media",
        sub(INTRO, "../media/photo.png", "../media/nope.png"),
        INTRO,
        None,
        "media file %(path)s does not exist",
        "![A photo]",
    ),
    Case(
        "dangling-html-media",
        sub(INTRO, "Documents are", '<img src="../media/gone.svg"> Documents are'),
        INTRO,
        None,
        "media file %(path)s does not exist",
        "<img",
    ),
    Case(
        "dangling-description-media",
        sub("course.yaml", "(media/photo.png)", "(media/none.png)"),
        "course.yaml",
        "description.en",
        "media file %(path)s does not exist",
        "  en: A course",
    ),
    Case(
        "dangling-prompt-media",
        sub(Q1, f"prompt: {lt('Order')}", "prompt: {en: '![x](../media/no.png)'}"),
        Q1,
        "questions[6].prompt.en",
        "media file %(path)s does not exist",
        "![x]",
    ),
    Case(
        "reference-not-media",
        sub(INTRO, "A footnote.", "A footnote, see [the Russian](01-intro.ru.md)."),
        INTRO,
        None,
        "%(path)s is not a media file: media live in the media/ folder",
        "[the Russian]",
    ),
    Case(
        "unsafe-link-scheme",
        sub(INTRO, "A footnote.", "[x](javascript:alert(1))"),
        INTRO,
        None,
        "link %(url)s is not allowed: use http, https or mailto, or a media file",
        "[x]",
    ),
    # -- media files ----------------------------------------------------------------------------
    Case(
        "media-disallowed-type",
        put("media/notes.txt", "hello"),
        "media/notes.txt",
        None,
        "media type %(suffix)s is not allowed (allowed: %(allowed)s)",
    ),
    Case(
        "media-content-mismatch",
        put("media/photo.png", b"<html><body>not a png</body></html>"),
        "media/photo.png",
        None,
        "content does not match the extension %(suffix)s (looks like %(actual)s)",
    ),
    Case(
        "media-jpeg-is-png",
        both(
            put("media/pic.jpg", png(4, 4)),
            sub(INTRO, "# Introduction", "# Introduction\n![p](../media/pic.jpg)"),
        ),
        "media/pic.jpg",
        None,
        "content does not match the extension %(suffix)s (looks like %(actual)s)",
    ),
    Case(
        "media-svg-not-svg",
        put("media/truck.svg", "<html><body/></html>"),
        "media/truck.svg",
        None,
        "content does not match the extension %(suffix)s (looks like %(actual)s)",
    ),
    Case(
        "media-svg-malformed",
        put("media/truck.svg", "<svg>\n<g>\n</svg>"),
        "media/truck.svg",
        None,
        "not well-formed SVG: %(error)s",
        3,
    ),
    Case(
        "media-too-large",
        put("media/photo.png", png(1, 1) + b"\x00" * (5 * MiB)),
        "media/photo.png",
        None,
        "image is %(size)s bytes, over the limit of %(limit)s bytes",
    ),
    Case(
        "media-bad-name",
        both(
            put("media/Photo_Big.png", png(1, 1)),
            sub(INTRO, "# Introduction", "# Introduction\n![p](../media/Photo_Big.png)"),
        ),
        "media/Photo_Big.png",
        None,
        "media file names use lowercase letters, digits and hyphens",
    ),
    # -- paths that leave the course folder -----------------------------------------------------
    Case(
        "traversal-markdown",
        sub(INTRO, "../media/photo.png", "../../../etc/passwd"),
        INTRO,
        None,
        "path %(path)s leaves the course folder",
        "![A photo]",
    ),
    Case(
        "absolute-markdown",
        sub(INTRO, "../media/photo.png", "/etc/passwd"),
        INTRO,
        None,
        "absolute path %(path)s is not allowed",
        "![A photo]",
    ),
    Case(
        "traversal-hotspot-image",
        sub(Q1, "image: ../media/truck.svg", "image: ../../outside.svg"),
        Q1,
        "questions[7].image",
        "path %(path)s leaves the course folder",
        "image:",
    ),
    Case(
        "traversal-questions-file",
        sub("01-basics/module.yaml", "questions: questions.yaml", "questions: ../../questions.yaml"),
        "01-basics/module.yaml",
        "questions",
        "path %(path)s leaves the course folder",
        "questions:",
    ),
    Case(
        "absolute-questions-file",
        sub("01-basics/module.yaml", "questions: questions.yaml", "questions: /etc/questions.yaml"),
        "01-basics/module.yaml",
        "questions",
        "absolute path %(path)s is not allowed",
        "questions:",
    ),
    Case(
        "drive-letter-exam-file",
        sub("course.yaml", "exam: exam.yaml", "exam: C:\\exam.yaml"),
        "course.yaml",
        "exam",
        "absolute path %(path)s is not allowed",
        "exam: C:",
    ),
    Case(
        "questions-file-missing",
        sub("01-basics/module.yaml", "questions: questions.yaml", "questions: bank.yaml"),
        "01-basics/module.yaml",
        "questions",
        "file %(path)s does not exist",
        "questions:",
    ),
    # -- course identity, quizzes and draws -----------------------------------------------------
    Case(
        "id-mismatch",
        sub("course.yaml", f"id: {COURSE_ID}", "id: other-course"),
        "course.yaml",
        "id",
        "id %(id)s does not match the folder name %(folder)s",
        "id:",
    ),
    Case(
        "draw-rule-too-many",
        sub("exam.yaml", "{module: 01-basics, count: 3}", "{module: 01-basics, count: 30}"),
        "exam.yaml",
        "draw[0].count",
        "asks for %(count)s questions but only %(available)s match",
        "count: 30",
    ),
    Case(
        "draw-tag-rule-too-many",
        sub("exam.yaml", "{tags: [t3], count: 1}", "{tags: [t3], count: 2}"),
        "exam.yaml",
        "draw[1].count",
        "asks for %(count)s questions but only %(available)s match",
        "count: 2",
    ),
    Case(
        "draw-total-too-many",
        sub("exam.yaml", "{module: 01-basics, count: 3}", "{module: 02-more, count: 1}"),
        "exam.yaml",
        "draw",
        "the draw rules ask for %(count)s questions in total, but only %(available)s different questions "
        "can be drawn",
        "draw:",
    ),
    Case(
        "draw-unknown-module",
        sub("exam.yaml", "{module: 01-basics, count: 3}", "{module: 09-nope, count: 3}"),
        "exam.yaml",
        "draw[0].module",
        "unknown module %(module)s (not listed in course.yaml)",
        "09-nope",
    ),
    Case(
        "quiz-unknown-question",
        sub("01-basics/quiz.yaml", "questions: all", "questions: [q-single, q-nope]"),
        "01-basics/quiz.yaml",
        "questions[1]",
        "unknown question id %(id)s",
        "questions:",
    ),
    Case(
        "quiz-questions-and-draw",
        sub("01-basics/quiz.yaml", "questions: all", "questions: all\ndraw:\n  - {count: 1}"),
        "01-basics/quiz.yaml",
        "draw",
        "use either questions or draw, not both",
        "draw:",
    ),
    Case(
        "quiz-questions-bad",
        sub("01-basics/quiz.yaml", "questions: all", "questions: some"),
        "01-basics/quiz.yaml",
        "questions",
        'must be "all" or a list of question ids',
        "questions:",
    ),
    Case(
        "quiz-empty-bank",
        both(
            put(Q2, "[]\n"),
            sub("exam.yaml", "  - {tags: [t3], count: 1}\n", ""),
            put("02-more/quiz.yaml", "questions: all\n"),
        ),
        "02-more/quiz.yaml",
        None,
        "the quiz has no questions: the question bank is empty",
        1,
    ),
    Case(
        "exam-required",
        both(drop("exam.yaml"), sub("course.yaml", "exam: exam.yaml\n", "")),
        "course.yaml",
        "completion.exam",
        'completion.exam is "passed" but the course has no exam.yaml '
        "(add one, or set completion.exam to none)",
        "completion:",
    ),
    Case(
        "exam-needs-time-limit",
        sub("exam.yaml", "time_limit_minutes: 30\n", ""),
        "exam.yaml",
        "time_limit_minutes",
        "missing required field %(field)s",
        1,
    ),
    Case(
        "exam-pass-mark-range",
        sub("exam.yaml", "pass_mark: 70", "pass_mark: 170"),
        "exam.yaml",
        "pass_mark",
        "must be at most %(maximum)s",
        "pass_mark:",
    ),
    # -- warnings -------------------------------------------------------------------------------
    Case(
        "translation-gap",
        sub("course.yaml", f"audience: {lt('Testers')}", "audience: {en: Testers, ru: Т}"),
        "course.yaml",
        "audience",
        "translation missing for %(locales)s",
        "audience:",
        severity="warning",
    ),
    Case(
        "translation-gap-short-text",
        sub(Q1, "    kk: [ХЖТ кітапшасы, ХЖТ]\n", ""),
        Q1,
        "questions[3].answer",
        "translation missing for %(locales)s",
        "  answer:",
        severity="warning",
        occurrence=4,
    ),
    Case(
        "lesson-file-gap",
        drop("02-more/01-more.kk.md"),
        "02-more/01-more.kk.md",
        None,
        "translation missing: no %(locale)s file for lesson %(lesson)s",
        severity="warning",
    ),
    Case(
        "unused-media",
        put("media/unused.svg", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'),
        "media/unused.svg",
        None,
        "media file is not used anywhere",
        severity="warning",
    ),
    Case(
        "stray-lesson-file",
        put("01-basics/03-draft.en.md", "---\ntitle: x\nminutes: 1\n---\n"),
        "01-basics/03-draft.en.md",
        None,
        "lesson file is not listed in %(module)s/module.yaml",
        severity="warning",
    ),
    Case(
        "hotspot-all-regions-correct",
        sub(Q1, "answer: [tank, wheel]", "answer: [tank, wheel, roof]"),
        Q1,
        "questions[7].answer",
        "every region is a correct answer: add wrong regions, trainees without JavaScript choose among all "
        "of them",
        "answer: [tank, wheel, roof]",
        severity="warning",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(tmp_path: Path, case: Case) -> None:
    """Each rule names the file, the field and (where YAML gives one) the line."""
    course, problems, files = _load(tmp_path, case.mutate)
    problem = _find(problems, case)
    assert problem.severity == case.severity
    if case.severity == "error":
        assert course is None
    else:
        assert course is not None, [p.format() for p in problems if p.is_error]
        assert not [p for p in problems if p.is_error]
    if case.line == ANY_LINE:
        assert problem.line is not None and problem.line >= 1
    elif isinstance(case.line, int):
        assert problem.line == case.line
    elif isinstance(case.line, str):
        text = files[case.path]
        assert isinstance(text, str)
        assert problem.line == line_of(text, case.line, case.occurrence), problem.format()
    # Every message is a msgid whose placeholders the params fill.
    assert problem.text()
    assert problem.format().startswith(case.path)


def test_valid_course_has_no_problems(tmp_path: Path) -> None:
    course, problems, _files = _load(tmp_path)
    assert problems == []
    assert course is not None
    types = {q.type for _m, q in course.questions()}
    assert types == {
        "single", "multiple", "true_false", "short_text", "numeric",
        "matching", "ordering", "hotspot", "scenario",
    }  # fmt: skip
    scenario = course.question("q-scenario")
    assert scenario is not None and scenario.points == 4  # best path: c1 (2) + c3 (2)
    hotspot = course.question("q-hotspot")
    assert hotspot is not None and hotspot.spec["image"] == "media/truck.svg"
    assert hotspot.spec["image_box"] == [0, 0, 800, 400]
    assert [m.path for m in course.media] == ["media/clip.mp4", "media/photo.png", "media/truck.svg"]
    assert course.modules[0].quiz is not None and course.modules[0].quiz.question_ids is None
    assert course.exam is not None and course.exam.kind == "exam"


def test_defaults_are_filled_in(tmp_path: Path) -> None:
    """Optional fields get the README's defaults, so consumers never guess."""
    quiz = "questions: all\n"
    course, problems, _files = _load(
        tmp_path,
        both(
            put("01-basics/quiz.yaml", quiz),
            sub("course.yaml", "completion:\n  lessons: all\n  quizzes: passed\n  exam: passed\n", ""),
        ),
    )
    assert not [p for p in problems if p.is_error], problems
    assert course is not None
    assert course.completion.exam == "passed"
    practice = course.modules[0].quiz
    assert practice is not None
    assert (practice.kind, practice.pass_mark, practice.attempts, practice.review) == (
        "practice", 70, 0, "immediately",
    )  # fmt: skip
    assert practice.shuffle_questions and practice.shuffle_options and practice.title is None
    single = course.question("q-single")
    assert single is not None and single.points == 1 and single.difficulty == "medium"


UNSAFE_SVGS = [
    (
        "script",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n<script>alert(1)</script></svg>',
        "SVG contains a <%(element)s> element",
        2,
    ),
    (
        "onload",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"\n onload="alert(1)"/>',
        "SVG has an event-handler attribute %(attr)s",
        1,
    ),
    (
        "onclick-nested",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n<g>\n<rect OnClick="x()"/></g></svg>',
        "SVG has an event-handler attribute %(attr)s",
        3,
    ),
    (
        "javascript-href",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n<a href=" java\tscript:x()">'
        "<rect/></a></svg>",
        "SVG has a javascript: link in %(attr)s",
        2,
    ),
    (
        "javascript-xlink",
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'viewBox="0 0 9 9">\n<a xlink:href="JavaScript:x()"><rect/></a></svg>',
        "SVG has a javascript: link in %(attr)s",
        2,
    ),
    (
        "external-href",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n'
        '<image href="https://evil.example/x.png"/></svg>',
        "SVG refers to an external resource: %(url)s",
        2,
    ),
    (
        "external-xlink-use",
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'viewBox="0 0 9 9">\n<use xlink:href="other.svg#a"/></svg>',
        "SVG refers to an external resource: %(url)s",
        2,
    ),
    (
        "external-css-url",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n'
        '<rect style="fill: url(http://evil.example/p)"/></svg>',
        "SVG refers to an external resource: %(url)s",
        2,
    ),
    (
        "style-import",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n<style>@import "x.css";</style></svg>',
        "SVG refers to an external resource: %(url)s",
        2,
    ),
    (
        "stylesheet-pi",
        '<?xml-stylesheet href="http://evil.example/a.css"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"/>',
        "SVG refers to an external resource: %(url)s",
        1,
    ),
    (
        "foreign-object",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n'
        '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>',
        "SVG contains a <%(element)s> element",
        2,
    ),
    (
        "doctype",
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        "SVG has a DOCTYPE or ENTITY declaration: remove it, SVG does not need one",
        2,
    ),
    (
        "billion-laughs",
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        '<svg xmlns="http://www.w3.org/2000/svg">&lol2;</svg>',
        "SVG has a DOCTYPE or ENTITY declaration: remove it, SVG does not need one",
        2,
    ),
    (
        "external-entity",
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        "SVG has a DOCTYPE or ENTITY declaration: remove it, SVG does not need one",
        1,
    ),
    (
        "animate-href",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">\n<a><set attributeName="href" '
        'to="javascript:alert(1)"/></a></svg>',
        "SVG animates the attribute %(attr)s",
        2,
    ),
]


@pytest.mark.parametrize(
    ("svg", "message", "line"), [c[1:] for c in UNSAFE_SVGS], ids=[c[0] for c in UNSAFE_SVGS]
)
def test_unsafe_svg(tmp_path: Path, svg: str, message: str, line: int) -> None:
    course, problems, _files = _load(tmp_path, put("media/truck.svg", svg))
    case = Case("svg", put("", ""), "media/truck.svg", None, message, line)
    problem = _find(problems, case)
    assert problem.line == line
    assert course is None


def test_safe_svg_features_pass(tmp_path: Path) -> None:
    """Internal references, gradients and embedded raster data are fine."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="800" height="400">'
        '<style>.a { fill: url(#g); }</style><defs><linearGradient id="g"/></defs>'
        '<use href="#g"/><image xlink:href="data:image/png;base64,iVBORw0KGgo="/>'
        '<a href="#top"><text>Onboarding</text></a></svg>'
    )
    course, problems, _files = _load(tmp_path, put("media/truck.svg", svg))
    assert problems == []
    assert course is not None


def test_video_over_limit(tmp_path: Path) -> None:
    """A 200 MB+ video is rejected by its size, without being read (the file is sparse)."""
    files = base_files()
    folder = write_files(tmp_path, files)
    with open(folder / "media/clip.mp4", "r+b") as handle:
        handle.truncate(200 * MiB + 1)
    course, problems = load_course(folder)
    case = Case("video", put("", ""), "media/clip.mp4", None,
                "video is %(size)s bytes, over the limit of %(limit)s bytes")  # fmt: skip
    assert _find(problems, case).params["size"] == 200 * MiB + 1
    assert course is None


# -- symlinks ---------------------------------------------------------------------------------


def _symlink_case(tmp_path: Path, link: str, target: Path, is_dir: bool = False) -> list[Problem]:
    folder = write_files(tmp_path / "c", base_files())
    (folder / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, folder / link, target_is_directory=is_dir)
    _course, problems = load_course(folder)
    return problems


def test_symlinked_media_outside(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(1, 1))
    problems = _symlink_case(tmp_path, "media/leak.png", secret)
    case = Case("", put("", ""), "media/leak.png", None,
                "%(path)s is a symbolic link that leads outside the course folder")  # fmt: skip
    _find(problems, case)


def test_symlinked_lesson_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: x\nminutes: 1\n---\nsecret\n")
    folder = write_files(tmp_path / "c", base_files())
    (folder / "02-more/01-more.en.md").unlink()
    os.symlink(outside, folder / "02-more/01-more.en.md")
    course, problems = load_course(folder)
    case = Case("", put("", ""), "02-more/01-more.en.md", None,
                "%(path)s is a symbolic link that leads outside the course folder")  # fmt: skip
    _find(problems, case)
    assert course is None


def test_symlinked_folder_outside(tmp_path: Path) -> None:
    """A module folder that is a symlink to elsewhere is refused, and nothing is read through it."""
    elsewhere = write_files(tmp_path / "other", base_files()) / "02-more"
    folder = write_files(
        tmp_path / "c", {k: v for k, v in base_files().items() if not k.startswith("02-more")}
    )
    os.symlink(elsewhere, folder / "02-more", target_is_directory=True)
    course, problems = load_course(folder)
    case = Case("", put("", ""), "02-more", None,
                "%(path)s is a symbolic link that leads outside the course folder")  # fmt: skip
    _find(problems, case)
    assert course is None
    assert not [p for p in problems if p.path.startswith("02-more/")]


def test_symlink_inside_course_is_allowed(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "c", base_files())
    (folder / "media/photo.png").rename(folder / "media/real-photo.png")
    os.symlink("real-photo.png", folder / "media/photo.png")
    course, problems = load_course(folder)
    assert [p for p in problems if p.is_error] == []
    # The real file is then unused by name: a warning, not an error.
    assert [p.path for p in problems] == ["media/real-photo.png"]
    assert course is not None


def test_missing_course_folder(tmp_path: Path) -> None:
    course, problems = load_course(tmp_path / "nope")
    assert course is None and problems[0].message == "course folder %(path)s does not exist"


def test_missing_course_yaml(tmp_path: Path) -> None:
    (tmp_path / COURSE_ID).mkdir()
    course, problems = load_course(tmp_path / COURSE_ID)
    assert course is None
    assert problems[0].path == "course.yaml" and problems[0].message == "file %(path)s does not exist"


def test_check_folder_name_off(tmp_path: Path) -> None:
    files = base_files()
    folder = write_files(tmp_path, files)
    renamed = folder.rename(tmp_path / "tmp-extract-123")
    assert load_course(renamed)[0] is None
    course, problems = load_course(renamed, check_folder_name=False)
    assert course is not None and problems == []


def test_questions_yaml_default_file_is_used(tmp_path: Path) -> None:
    """A module without a ``questions:`` key still loads questions.yaml next to it."""
    course, problems, _files = _load(tmp_path, sub("02-more/module.yaml", "questions: questions.yaml\n", ""))
    assert problems == []
    assert course is not None and [q.id for q in course.modules[1].questions] == ["q-extra"]


def test_all_errors_reported_in_one_pass(tmp_path: Path) -> None:
    """Authors fix a course in one round: unrelated problems in several files all show up."""
    mutate = both(
        sub("course.yaml", "version: 1", "version: one"),
        sub(Q1, "  answer: b\n", "  answer: z\n"),
        sub(INTRO, "minutes: 5", "minutes: five"),
        sub("exam.yaml", "pass_mark: 70", "pass_mark: high"),
    )
    _course, problems, _files = _load(tmp_path, mutate)
    assert {p.path for p in problems if p.is_error} == {"course.yaml", Q1, INTRO, "exam.yaml"}


def test_problem_format() -> None:
    problem = Problem("error", "01-a/questions.yaml", 12, "questions[3].answer",
                      "answer %(answer)s is not one of the options (%(valid)s)",
                      {"answer": "z", "valid": "a, b"})  # fmt: skip
    assert (
        problem.format()
        == "01-a/questions.yaml:12: questions[3].answer: answer z is not one of the options (a, b)"
    )
    translated = problem.format(lambda s: "ответ %(answer)s неверен" if s.startswith("answer") else s)
    assert translated.endswith(": ответ z неверен")
    assert Problem("warning", "media/x.svg", None, None, "media file is not used anywhere").format() == (
        "media/x.svg: media file is not used anywhere"
    )
    # A translation with a broken placeholder falls back to the msgid instead of crashing.
    assert "answer z" in problem.format(lambda s: "%(oops)s")


def test_questions_yaml_is_untouched_by_quiz_references() -> None:
    """Sanity check on the fixture itself: the bank lists the nine types in a known order."""
    order = [line.split(": ")[1] for line in QUESTIONS_1.splitlines() if line.startswith("  type: ")]
    assert order == [
        "single", "multiple", "true_false", "short_text", "numeric",
        "matching", "ordering", "hotspot", "scenario",
    ]  # fmt: skip
    assert "draw:" in EXAM


def test_the_lesson_title_limit_is_what_the_database_stores() -> None:
    from cbt.content.loader import LESSON_TITLE_MAX
    from cbt.courses.models import LessonText

    assert LessonText.__table__.c.title.type.length == LESSON_TITLE_MAX
