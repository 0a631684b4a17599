"""Helpers for the learning tests: a tiny course written to disk, importing it, and a trainee who answers.

The course is deliberately small (2 modules x 2 lessons, a practice quiz per module, a final exam) so a
whole course can be walked over HTTP in a fraction of a second. Answers are built from the attempt's
stored layout (the positions the page shows), which is exactly what a trainee who knows the material
would click; they are then posted through the quiz pages' own forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token

LOCALES = ("en", "ru", "kk")


def lt(text: str, locales: Iterable[str] = LOCALES) -> str:
    """A localized YAML flow mapping: ``{en: text, ru: text (ru), kk: text (kk)}``."""
    parts = [f"{loc}: {text}" if loc == "en" else f"{loc}: {text} {loc}" for loc in locales]
    return "{" + ", ".join(parts) + "}"


def write_course(
    root: Path,
    course_id: str = "mini-course",
    *,
    version: int = 1,
    modules: int = 2,
    lessons: int = 2,
    quizzes: bool = True,
    exam: bool = True,
    missing: Mapping[str, Iterable[str]] | None = None,
    completion: Mapping[str, str] | None = None,
    marker: str = "",
    media: bool = False,
) -> Path:
    """Write a valid course package under ``root/course_id`` and return its folder.

    Lessons are named ``NN-lesson-M`` in module ``NN-module``; ``missing`` maps a locale to the lesson
    names (``"01-module/02-lesson-2"``) that have no file in that locale. ``marker`` changes the content
    (for a new version with the same structure).
    """
    folder = root / course_id
    missing = {loc: set(names) for loc, names in (missing or {}).items()}
    rule = dict(completion or {"lessons": "all", "quizzes": "passed" if quizzes else "none",
                               "exam": "passed" if exam else "none"})
    module_ids = [f"{m:02d}-module" for m in range(1, modules + 1)]
    files: dict[str, str] = {
        "course.yaml": "\n".join([
            f"id: {course_id}",
            f"version: {version}",
            "source_locale: en",
            f"title: {lt('Mini course ' + course_id + marker)}",
            f"description: {lt('A small course for tests' + marker)}",
            "estimated_minutes: 20",
            "completion:",
            *[f"  {key}: {value}" for key, value in rule.items()],
            "modules:",
            *[f"  - {m}" for m in module_ids],
            *(["exam: exam.yaml"] if exam else []),
            "",
        ]),
    }
    for m_index, module_id in enumerate(module_ids, start=1):
        lesson_ids = [f"{n:02d}-lesson-{n}" for n in range(1, lessons + 1)]
        files[f"{module_id}/module.yaml"] = "\n".join([
            f"title: {lt(f'Module {m_index}')}",
            "lessons:",
            *[f"  - {lesson}" for lesson in lesson_ids],
            *(["questions: questions.yaml"] if quizzes or exam else []),
            *(["quiz: quiz.yaml"] if quizzes else []),
            "",
        ])
        for n, lesson in enumerate(lesson_ids, start=1):
            for loc in LOCALES:
                if f"{module_id}/{lesson}" in missing.get(loc, set()):
                    continue
                title = f"Lesson {m_index}.{n} {loc}"
                body = f"Body of lesson {m_index}.{n} in {loc}{marker}.\n"
                if media and (m_index, n) == (1, 1):
                    body += "\n![A noisy picture](../media/noise.png)\n"
                files[f"{module_id}/{lesson}.{loc}.md"] = f"---\ntitle: {title}\nminutes: 5\n---\n{body}"
        if quizzes or exam:
            files[f"{module_id}/questions.yaml"] = "\n".join([
                f"- id: m{m_index}-single",
                "  type: single",
                f"  prompt: {lt('Pick the right one')}",
                "  options:",
                f"    - {{id: a, text: {lt('Wrong answer')}}}",
                f"    - {{id: b, text: {lt('Right answer')}}}",
                "  answer: b",
                f"- id: m{m_index}-tf",
                "  type: true_false",
                f"  prompt: {lt('Say true')}",
                "  answer: true",
                "",
            ])
        if quizzes:
            files[f"{module_id}/quiz.yaml"] = "kind: practice\nquestions: all\npass_mark: 70\n"
    if exam:
        files["exam.yaml"] = "\n".join([
            "kind: exam",
            "draw:",
            *[f"  - {{module: {m}, count: 1}}" for m in module_ids],
            "pass_mark: 50",
            "time_limit_minutes: 30",
            "attempts: 3",
            "",
        ])
    if media:
        (folder / "media").mkdir(parents=True, exist_ok=True)
        (folder / "media" / "noise.png").write_bytes(noise_png())
    for rel, content in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return folder


def noise_png(size: int = 96) -> bytes:
    """A real PNG of incompressible noise (about 10 KB), so byte ranges inside it mean something."""
    import io
    import random

    from PIL import Image

    rng = random.Random(42)
    image = Image.frombytes("L", (size, size), bytes(rng.randrange(256) for _ in range(size * size)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def import_course(app: Flask, folder: Path) -> tuple[int, bool]:
    """Import a course folder as a CLI command would; returns ``(course version id, created)``."""
    from cbt.courses.importer import import_folder
    from cbt.db import session, writing

    with app.app_context(), writing():
        outcome = import_folder(folder)
        session.commit()
        return outcome.version.id, outcome.created


def ids_of(db: Any, version_id: int) -> dict[str, Any]:
    """Lesson ids in walking order, module quiz ids and the exam id of a course version."""
    from sqlalchemy import select

    from cbt.courses.models import Lesson, Module, Quiz

    db.rollback()
    lessons = db.execute(
        select(Lesson.id).join(Module, Module.id == Lesson.module_id)
        .where(Lesson.course_version_id == version_id).order_by(Module.position, Lesson.position)
    ).scalars().all()
    quizzes = db.execute(
        select(Quiz.id, Quiz.module_id, Module.position).outerjoin(Module, Module.id == Quiz.module_id)
        .where(Quiz.course_version_id == version_id)
    ).all()
    module_quizzes = [q for q, m, _p in sorted((r for r in quizzes if r[1] is not None), key=lambda r: r[2])]
    exam = next((q for q, m, _p in quizzes if m is None), None)
    db.rollback()
    return {"lessons": list(lessons), "quizzes": module_quizzes, "exam": exam}


# --- answering ------------------------------------------------------------------------------------

def _best_choice(spec: Mapping[str, Any], step_id: str) -> tuple[str, float]:
    steps = {s["id"]: s for s in spec["steps"]}

    def best(step: str) -> float:
        return max(float(c.get("points") or 0) + (best(c["next"]) if c.get("next") else 0.0)
                   for c in steps[step]["choices"])

    scored = [(c["id"], float(c.get("points") or 0) + (best(c["next"]) if c.get("next") else 0.0))
              for c in steps[step_id]["choices"]]
    return max(scored, key=lambda pair: pair[1])


def answer_form(qtype: str, spec: Mapping[str, Any], layout: Mapping[str, Any], *, correct: bool = True,
                path: list[str] | None = None) -> dict[str, Any]:
    """Form fields answering a question on its page (right, or deliberately wrong where possible).

    For a scenario this is the next step only (``path`` is the path already walked).
    """
    if qtype in ("single", "multiple"):
        options = list(layout["options"])
        key = spec["answer"] if qtype == "multiple" else [spec["answer"]]
        chosen = [i for i, o in enumerate(options) if (o in key) == correct]
        if qtype == "single":
            return {"answer": str(chosen[0])}
        return {"answer": [str(i) for i in chosen] or ["0"]}
    if qtype == "true_false":
        return {"answer": "true" if bool(spec["answer"]) == correct else "false"}
    if qtype == "short_text":
        first = next(iter(a for answers in spec["answer"].values() for a in answers))
        return {"answer": first if correct else "zzz-not-an-answer"}
    if qtype == "numeric":
        value = float(spec["answer"])
        return {"answer": f"{value:g}" if correct else f"{value * 10 + 1000:g}"}
    if qtype == "matching":
        rights = list(layout["rights"])
        form = {}
        for i, left in enumerate(layout["lefts"]):
            target = left if correct else next(r for r in rights if r != left)
            form[f"match-{i}"] = str(rights.index(target))
        return form
    if qtype == "ordering":
        right_order = [item["id"] for item in spec["items"]]
        order = right_order if correct else list(reversed(right_order))
        return {f"position-{i}": str(order.index(item) + 1) for i, item in enumerate(layout["items"])}
    if qtype == "hotspot":
        regions = list(layout["regions"])
        chosen = [i for i, r in enumerate(regions) if (r in spec["answer"]) == correct]
        return {"region": str(chosen[0])}
    if qtype == "scenario":
        from cbt.quiz.grading import scenario_position

        current = scenario_position(spec, path or [])
        assert current is not None, "scenario already finished"
        choice = _best_choice(spec, current)[0]
        return {"answer": str(layout["choices"][current].index(choice))}
    raise AssertionError(f"unknown question type {qtype}")


class Trainee:
    """A signed-in trainee working through pages with the test client, like a browser without JavaScript."""

    def __init__(self, client: FlaskClient, db: Any) -> None:
        self.client = client
        self.db = db

    def token(self, path: str = "/learn/") -> str:
        return csrf_token(self.client, path)

    def complete_lesson(self, slug: str, lesson_id: int) -> Any:
        """Open the lesson and press "I have finished this lesson" (the form on the page)."""
        page = self.client.get(f"/learn/courses/{slug}/lessons/{lesson_id}")
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        action = f"/learn/courses/{slug}/lessons/{lesson_id}/complete"
        assert f'action="{action}"' in html, "the lesson page has no completion form"
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        return self.client.post(action, data={"csrf_token": token})

    def start_quiz(self, quiz_id: int) -> int:
        """Open the quiz overview, press Start (or Continue) and return the attempt id."""
        page = self.client.get(f"/quiz/{quiz_id}")
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        running = re.search(r'href="/quiz/attempts/(\d+)/1"', html)
        if running:
            return int(running.group(1))
        assert f'action="/quiz/{quiz_id}/start"' in html, "no start form on the quiz overview"
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        response = self.client.post(f"/quiz/{quiz_id}/start", data={"csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        match = re.search(r"/quiz/attempts/(\d+)/1$", response.headers["Location"])
        assert match, response.headers["Location"]
        return int(match.group(1))

    def attempt_questions(self, attempt_id: int) -> list[tuple[Any, dict[str, Any]]]:
        """The attempt's questions in page order with their layouts (what the pages show)."""
        from cbt.courses.models import QuestionVersion
        from cbt.quiz.models import Attempt

        self.db.rollback()
        attempt = self.db.get(Attempt, attempt_id)
        rows = self.db.query(QuestionVersion).filter(QuestionVersion.id.in_(attempt.question_ids))
        by_id = {q.id: q for q in rows}
        result = [(by_id[qid], attempt.layout[str(qid)]) for qid in attempt.question_ids]
        self.db.rollback()
        return result

    def answer_page(self, attempt_id: int, page: int, fields: Mapping[str, Any], action: str = "next") -> Any:
        """Post the question page's form the way its buttons do (with the seq the page carries)."""
        html = self.client.get(f"/quiz/attempts/{attempt_id}/{page}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        seq = re.search(r'name="seq" value="(-?\d+)"', html).group(1)
        data = {"csrf_token": token, "seq": seq, "action": action, **fields}
        return self.client.post(f"/quiz/attempts/{attempt_id}/{page}", data=data)

    def answer_all(self, attempt_id: int, *, correct: bool = True) -> None:
        for page, (question, layout) in enumerate(self.attempt_questions(attempt_id), start=1):
            if question.type == "scenario":
                path: list[str] = []
                from cbt.quiz.grading import scenario_position

                while scenario_position(question.spec, path) is not None:
                    fields = answer_form("scenario", question.spec, layout, path=path)
                    response = self.answer_page(attempt_id, page, fields, action="step")
                    assert response.status_code == 302
                    current = scenario_position(question.spec, path)
                    path.append(layout["choices"][current][int(fields["answer"])])
                continue
            fields = answer_form(question.type, question.spec, layout, correct=correct)
            response = self.answer_page(attempt_id, page, fields)
            assert response.status_code == 302, response.get_data(as_text=True)
            assert "/quiz/attempts/" in response.headers["Location"]

    def submit(self, attempt_id: int) -> Any:
        html = self.client.get(f"/quiz/attempts/{attempt_id}/finish").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        return self.client.post(f"/quiz/attempts/{attempt_id}/submit", data={"csrf_token": token})

    def pass_quiz(self, quiz_id: int, *, correct: bool = True) -> int:
        attempt_id = self.start_quiz(quiz_id)
        self.answer_all(attempt_id, correct=correct)
        response = self.submit(attempt_id)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/quiz/attempts/{attempt_id}/result")
        return attempt_id
