"""A small, complete, valid course as a dict of files, for tests to break one rule at a time.

Tests take :func:`base_files`, change one file (usually a text replacement), write the folder
with :func:`write_files` and check the loader names the file, line and field of the problem.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

COURSE_ID = "test-course"
Files = dict[str, "str | bytes"]


def lt(text: str) -> str:
    """A localized text in YAML flow style, with all three locales."""
    return f"{{en: {text}, ru: {text} ru, kk: {text} kk}}"


def png(width: int, height: int) -> bytes:
    """A real (tiny, valid) PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int) -> bytes:
    """Enough of a JPEG for sniffing and size reading: SOI, an APP0, a SOF0, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp(width: int, height: int) -> bytes:
    """A VP8L (lossless) WebP header with the given size."""
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 8
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 800 400">
  <title>Truck</title>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#ccc"/></linearGradient></defs>
  <rect x="0" y="0" width="800" height="400" fill="url(#g)"/>
  <use xlink:href="#g"/>
</svg>
"""

COURSE_YAML = f"""\
id: {COURSE_ID}
version: 1
source_locale: en
title: {lt("Test course")}
description:
  en: A course used by the tests. See ![photo](media/photo.png).
  ru: Курс для тестов.
  kk: Тесттерге арналған курс.
audience: {lt("Testers")}
estimated_minutes: 30
completion:
  lessons: all
  quizzes: passed
  exam: passed
modules:
  - 01-basics
  - 02-more
exam: exam.yaml
"""

MODULE_1 = f"""\
title: {lt("Basics")}
description: {lt("The basics")}
lessons:
  - 01-intro
  - 02-video
questions: questions.yaml
quiz: quiz.yaml
"""

MODULE_2 = f"""\
title: {lt("More")}
lessons:
  - 01-more
questions: questions.yaml
"""


def lesson(title: str, body: str) -> str:
    return f"---\ntitle: {title}\nminutes: 5\n---\n{body}"


INTRO_EN = lesson(
    "Introduction",
    """\
# Introduction

Documents are the first **risk filter**.[^1]

![A photo](../media/photo.png)

| a | b |
|--:|:--|
| 1 | 2 |

[^1]: A footnote.
""",
)

QUESTIONS_1 = f"""\
- id: q-single
  type: single
  tags: [t1]
  prompt: {lt("Pick b")}
  options:
    - {{id: a, text: {lt("A")}}}
    - {{id: b, text: {lt("B")}, feedback: {lt("Correct")}}}
  answer: b
  feedback: {lt("Because")}

- id: q-multiple
  type: multiple
  difficulty: hard
  tags: [t1, t2]
  prompt: {lt("Pick a and c")}
  options:
    - {{id: a, text: {lt("A")}}}
    - {{id: b, text: {lt("B")}}}
    - {{id: c, text: {lt("C")}}}
  answer: [a, c]
  scoring: partial
  penalty: 0.5

- id: q-tf
  type: true_false
  difficulty: easy
  prompt: {lt("The sky is green")}
  answer: false

- id: q-short
  type: short_text
  prompt: {lt("Name the carnet")}
  answer:
    en: [TIR carnet, TIR]
    ru: [книжка МДП, МДП]
    kk: [ХЖТ кітапшасы, ХЖТ]

- id: q-numeric
  type: numeric
  points: 2
  prompt: {lt("How many litres")}
  answer: 40
  tolerance: 0.05
  tolerance_mode: relative
  unit: {lt("litres")}

- id: q-matching
  type: matching
  prompt: {lt("Match")}
  pairs:
    - {{id: p1, left: {lt("L1")}, right: {lt("R1")}}}
    - {{id: p2, left: {lt("L2")}, right: {lt("R2")}}}
  distractors:
    - {{id: d1, text: {lt("D1")}}}

- id: q-ordering
  type: ordering
  prompt: {lt("Order")}
  items:
    - {{id: s1, text: {lt("First")}}}
    - {{id: s2, text: {lt("Second")}}}
    - {{id: s3, text: {lt("Third")}}}

- id: q-hotspot
  type: hotspot
  prompt: {lt("Where is the tank")}
  image: ../media/truck.svg
  alt: {lt("Side view of a truck")}
  regions:
    - {{id: tank, label: {lt("Fuel tank")}, shape: rect, coords: [120, 200, 80, 40]}}
    - {{id: wheel, label: {lt("Spare wheel")}, shape: circle, coords: [400, 260, 30]}}
    - {{id: roof, label: {lt("Cab roof")}, shape: polygon, coords: [10, 10, 90, 10, 90, 50, 10, 50]}}
  answer: [tank, wheel]

- id: q-scenario
  type: scenario
  prompt: {lt("A lorry arrives")}
  start: st1
  steps:
    - id: st1
      text: {lt("It is 02:00")}
      choices:
        - {{id: c1, text: {lt("Check papers")}, next: st2, points: 2, feedback: {lt("Good")}}}
        - {{id: c2, text: {lt("Wave through")}, next: st3}}
    - id: st2
      text: {lt("Papers differ")}
      choices:
        - {{id: c3, text: {lt("Inspect")}, points: 2}}
    - id: st3
      text: {lt("Too late")}
      choices:
        - {{id: c4, text: {lt("Call it in")}, points: 1}}
"""

QUESTIONS_2 = f"""\
- id: q-extra
  type: true_false
  tags: [t3]
  prompt: {lt("Extra")}
  answer: true
"""

QUIZ_1 = f"""\
kind: practice
title: {lt("Practice")}
questions: all
pass_mark: 60
attempts: 0
review: immediately
"""

EXAM = f"""\
kind: exam
title: {lt("Final exam")}
draw:
  - {{module: 01-basics, count: 3}}
  - {{tags: [t3], count: 1}}
pass_mark: 70
time_limit_minutes: 30
attempts: 2
review: after_submit
"""


def base_files() -> Files:
    """Every file of the valid course, keyed by course-relative path."""
    files: Files = {
        "course.yaml": COURSE_YAML,
        "exam.yaml": EXAM,
        "media/truck.svg": SVG,
        "media/photo.png": png(40, 30),
        "media/clip.mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64,
        "01-basics/module.yaml": MODULE_1,
        "01-basics/questions.yaml": QUESTIONS_1,
        "01-basics/quiz.yaml": QUIZ_1,
        "02-more/module.yaml": MODULE_2,
        "02-more/questions.yaml": QUESTIONS_2,
    }
    files["01-basics/01-intro.en.md"] = INTRO_EN
    files["01-basics/01-intro.ru.md"] = lesson("Введение", "Документы.\n\n![Фото](../media/photo.png)\n")
    files["01-basics/01-intro.kk.md"] = lesson("Кіріспе", "Құжаттар.\n")
    for locale in ("en", "ru", "kk"):
        files[f"01-basics/02-video.{locale}.md"] = lesson(
            f"Video {locale}", "Watch this:\n\n![A clip](../media/clip.mp4)\n"
        )
        files[f"02-more/01-more.{locale}.md"] = lesson(f"More {locale}", "Nothing more.\n")
    return files


def write_files(root: Path, files: Files) -> Path:
    """Write ``files`` under ``root/COURSE_ID`` and return the course folder."""
    folder = root / COURSE_ID
    for rel, content in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found")
