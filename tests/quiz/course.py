"""A small course with one question of every type, written as files the way an author would write them.

Ids, feedback and accepted answers are distinctive strings (``FBMARK-...``, ``okilo``, ``4713``), so a test
can search a page for them: none of them may reach the browser before an exam is submitted.
"""

from __future__ import annotations

from pathlib import Path

COURSE_ID = "quiz-kit"


def lt(text: str) -> str:
    """A localized text with all three locales, in YAML flow style."""
    return f'{{en: "{text}", ru: "{text} (ru)", kk: "{text} (kk)"}}'


SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 400" width="400" height="200">
  <title>Truck</title>
  <rect x="0" y="0" width="800" height="400" fill="#ffffff"/>
  <rect x="120" y="200" width="80" height="40" fill="#cccccc"/>
  <circle cx="400" cy="260" r="30" fill="#333333"/>
</svg>
"""

COURSE_YAML = f"""\
id: {COURSE_ID}
version: 1
source_locale: en
title: {lt("Quiz kit")}
description: {lt("A course for the quiz tests")}
estimated_minutes: 30
modules:
  - 01-types
  - 02-extra
exam: exam.yaml
"""

MODULE_1 = f"""\
title: {lt("Every type")}
lessons:
  - 01-intro
questions: questions.yaml
quiz: quiz.yaml
"""

MODULE_2 = f"""\
title: {lt("Extra")}
lessons:
  - 01-extra
questions: questions.yaml
"""

#: Feedback markers: none may appear on an exam page before submission.
FEEDBACK_MARKERS = (
    "FBMARK-single",
    "FBMARK-opt-right",
    "FBMARK-opt-wrong",
    "FBMARK-multiple",
    "FBMARK-tf",
    "FBMARK-short",
    "FBMARK-numeric",
    "FBMARK-matching",
    "FBMARK-ordering",
    "FBMARK-hotspot",
    "FBMARK-scenario",
    "FBMARK-scn-good",
    "FBMARK-scn-bad",
    "FBMARK-scn-end",
)
#: Accepted short_text answers (the key).
ACCEPTED = ("TIR carnet", "книжка МДП", "жёлтый ящик", "ҚҰЖАТ ІЗДЕУ", "ХЖТ кітапшасы")
#: Every id from the bank that the browser must never see (it sees positions only).
KEY_IDS = (
    "okilo",
    "olima",
    "omike",
    "oalpha",
    "obravo",
    "ocharlie",
    "odelta",
    "pone",
    "ptwo",
    "pthree",
    "dzulu",
    "sfirst",
    "ssecond",
    "sthird",
    "sfourth",
    "rtank",
    "rwheel",
    "rroof",
    "rdoor",
    "stalpha",
    "stbravo",
    "stcharlie",
    "cgood",
    "cbad",
    "cfinish",
    "ccareless",
    "crecover",
)
NUMERIC_ANSWER = 4713
#: Scenario choice points (unusual numbers, so they can be searched for).
SCENARIO_POINTS = (37, 53)

QUESTIONS_1 = f"""\
- id: q-single
  type: single
  prompt: {lt("Which document is the contract of carriage by road?")}
  options:
    - {{id: okilo, text: {lt("Packing list")}}}
    - {{id: olima, text: {lt("Consignment note")}, feedback: {lt("FBMARK-opt-right")}}}
    - {{id: omike, text: {lt("Invoice")}, feedback: {lt("FBMARK-opt-wrong")}}}
  answer: olima
  feedback: {lt("FBMARK-single")}

- id: q-multiple
  type: multiple
  points: 2
  prompt: {lt("Which items do you compare with the note?")}
  options:
    - {{id: oalpha, text: {lt("Wagon number")}}}
    - {{id: obravo, text: {lt("Weather")}}}
    - {{id: ocharlie, text: {lt("Seal numbers")}}}
    - {{id: odelta, text: {lt("Driver shoe size")}}}
  answer: [oalpha, ocharlie]
  scoring: partial
  penalty: 0.5
  feedback: {lt("FBMARK-multiple")}

- id: q-tf
  type: true_false
  prompt: {lt("A seal may be removed by the driver.")}
  answer: false
  feedback: {lt("FBMARK-tf")}

- id: q-short
  type: short_text
  prompt: {lt("Name the transit document.")}
  answer:
    en: [TIR carnet]
    ru: [книжка МДП, жёлтый ящик]
    kk: [ҚҰЖАТ ІЗДЕУ, ХЖТ кітапшасы]
  feedback: {lt("FBMARK-short")}

- id: q-numeric
  type: numeric
  prompt: {lt("How many kilograms does the note declare?")}
  answer: {NUMERIC_ANSWER}
  tolerance: 5
  unit: {lt("kg")}
  feedback: {lt("FBMARK-numeric")}

- id: q-matching
  type: matching
  prompt: {lt("Match the document with its transport.")}
  pairs:
    - {{id: pone, left: {lt("CMR")}, right: {lt("Road")}}}
    - {{id: ptwo, left: {lt("SMGS")}, right: {lt("Rail")}}}
    - {{id: pthree, left: {lt("AWB")}, right: {lt("Air")}}}
  distractors:
    - {{id: dzulu, text: {lt("Sea")}}}
  feedback: {lt("FBMARK-matching")}

- id: q-ordering
  type: ordering
  prompt: {lt("Put the steps in order.")}
  items:
    - {{id: sfirst, text: {lt("Documents")}}}
    - {{id: ssecond, text: {lt("Seals")}}}
    - {{id: sthird, text: {lt("Load")}}}
    - {{id: sfourth, text: {lt("Report")}}}
  feedback: {lt("FBMARK-ordering")}

- id: q-hotspot
  type: hotspot
  prompt: {lt("Mark a place where goods can be hidden.")}
  image: ../media/truck.svg
  alt: {lt("Side view of a truck")}
  regions:
    - {{id: rtank, label: {lt("Fuel tank")}, shape: rect, coords: [120, 200, 80, 40]}}
    - {{id: rwheel, label: {lt("Spare wheel")}, shape: circle, coords: [400, 260, 30]}}
    - {{id: rroof, label: {lt("Cab roof")}, shape: polygon, coords: [10, 10, 90, 10, 90, 50, 10, 50]}}
    - {{id: rdoor, label: {lt("Rear door")}, shape: rect, coords: [600, 100, 100, 150]}}
  answer: [rtank, rwheel]
  feedback: {lt("FBMARK-hotspot")}

- id: q-scenario
  type: scenario
  prompt: {lt("A lorry arrives at night.")}
  start: stalpha
  steps:
    - id: stalpha
      text: {lt("The seal looks new.")}
      choices:
        - {{id: cgood, text: {lt("Check the seal record")}, next: stbravo, points: {SCENARIO_POINTS[0]},
            feedback: {lt("FBMARK-scn-good")}}}
        - {{id: cbad, text: {lt("Wave it through")}, next: stcharlie, feedback: {lt("FBMARK-scn-bad")}}}
    - id: stbravo
      text: {lt("The record differs.")}
      choices:
        - {{id: cfinish, text: {lt("Open and inspect")}, points: {SCENARIO_POINTS[1]},
            feedback: {lt("FBMARK-scn-end")}}}
        - {{id: ccareless, text: {lt("Ignore it")}}}
    - id: stcharlie
      text: {lt("A colleague calls you back.")}
      choices:
        - {{id: crecover, text: {lt("Return and inspect")}, points: {SCENARIO_POINTS[1]}}}
  feedback: {lt("FBMARK-scenario")}
"""

QUESTIONS_2 = f"""\
- id: q-extra-tf
  type: true_false
  tags: [extra]
  prompt: {lt("Rail wagons carry numbers.")}
  answer: true

- id: q-extra-single
  type: single
  tags: [extra]
  prompt: {lt("Pick the rail document.")}
  options:
    - {{id: xa, text: {lt("SMGS note")}}}
    - {{id: xb, text: {lt("Boarding pass")}}}
  answer: xa
"""

QUIZ_1 = f"""\
kind: practice
title: {lt("Practice")}
questions: all
pass_mark: 60
review: immediately
"""

EXAM = f"""\
kind: exam
title: {lt("Final exam")}
draw:
  - {{module: 01-types, count: 9}}
  - {{tags: [extra], count: 1}}
pass_mark: 70
time_limit_minutes: 30
attempts: 2
review: after_submit
"""


def lesson(title: str) -> str:
    return f"---\ntitle: {title}\nminutes: 5\n---\nSome text about {title}.\n"


def files() -> dict[str, str]:
    result = {
        "course.yaml": COURSE_YAML,
        "exam.yaml": EXAM,
        "media/truck.svg": SVG,
        "01-types/module.yaml": MODULE_1,
        "01-types/questions.yaml": QUESTIONS_1,
        "01-types/quiz.yaml": QUIZ_1,
        "02-extra/module.yaml": MODULE_2,
        "02-extra/questions.yaml": QUESTIONS_2,
    }
    for locale in ("en", "ru", "kk"):
        result[f"01-types/01-intro.{locale}.md"] = lesson(f"Intro {locale}")
        result[f"02-extra/01-extra.{locale}.md"] = lesson(f"Extra {locale}")
    return result


def write_course(root: Path, changes: dict[str, str] | None = None) -> Path:
    """Write the course under ``root/quiz-kit`` (with ``changes`` replacing whole files) and return it."""
    folder = root / COURSE_ID
    for rel, content in {**files(), **(changes or {})}.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return folder
