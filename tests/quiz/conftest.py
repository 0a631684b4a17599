"""Quiz fixtures: the every-type course imported, a trainee driving attempts through real HTTP, DB helpers.

Pages are read the way a browser reads them: the CSRF token and the ``seq`` come from the form on the page.
Forms that answer a question correctly (or wrongly) are built from the question's key and the attempt's
layout, i.e. as a trainee who knows the answer would click.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cbt.courses.models import QuestionVersion, Quiz
from cbt.quiz.models import Attempt, Response
from tests.conftest import TEST_PASSWORD, Auth, csrf_token
from tests.quiz.course import write_course

SEQ_RE = re.compile(r'name="seq" value="(-?\d+)"')
Form = dict[str, list[str]]


@dataclass
class Kit:
    folder: Path
    version_id: int
    practice_id: int
    exam_id: int


def import_course(app: Flask, folder: Path) -> Any:
    """Import a course folder the way ``cbt courses import`` does; returns the course version."""
    from cbt.courses.importer import import_folder
    from cbt.db import get_session, writing

    with app.app_context(), writing():
        outcome = import_folder(folder)
        get_session().commit()
        return outcome.version


def quizzes_of(db: Session, version_id: int) -> list[Quiz]:
    db.rollback()
    rows = list(db.scalars(select(Quiz).where(Quiz.course_version_id == version_id).order_by(Quiz.id)))
    db.commit()
    return rows


@pytest.fixture
def kit(app: Flask, db: Session, tmp_path: Path) -> Kit:
    folder = write_course(tmp_path / "src")
    version = import_course(app, folder)
    quizzes = quizzes_of(db, version.id)
    practice = next(q for q in quizzes if q.kind == "practice")
    exam = next(q for q in quizzes if q.kind == "exam")
    return Kit(folder, version.id, practice.id, exam.id)


# --- database helpers (the ``db`` session is outside the app: commit after reading, see tests/conftest) ---


def get_attempt(db: Session, attempt_id: int) -> Attempt:
    db.rollback()  # a fresh snapshot: SQLite keeps reading a transaction's first one
    row = db.get(Attempt, attempt_id, populate_existing=True)
    assert row is not None
    db.commit()
    return row


def attempts_for(db: Session, quiz_id: int) -> list[Attempt]:
    db.rollback()
    rows = list(
        db.scalars(
            select(Attempt)
            .where(Attempt.quiz_id == quiz_id)
            .order_by(Attempt.id)
            .execution_options(populate_existing=True)
        )
    )
    db.commit()
    return rows


def questions_in(db: Session, attempt: Attempt) -> list[QuestionVersion]:
    """The attempt's questions in page order (page n shows element n - 1)."""
    db.rollback()
    by_id = {q.id: q for q in db.scalars(select(QuestionVersion).where(QuestionVersion.id.in_(attempt.question_ids)))}
    db.commit()
    return [by_id[i] for i in attempt.question_ids]


def responses_in(db: Session, attempt_id: int) -> dict[int, Response]:
    db.rollback()
    rows = {
        r.question_version_id: r
        for r in db.scalars(
            select(Response).where(Response.attempt_id == attempt_id).execution_options(populate_existing=True)
        )
    }
    db.commit()
    return rows


def set_attempt(db: Session, attempt_id: int, **values: Any) -> None:
    db.rollback()
    db.execute(update(Attempt).where(Attempt.id == attempt_id).values(**values))
    db.commit()


def set_quiz(db: Session, quiz_id: int, **values: Any) -> None:
    db.rollback()
    db.execute(update(Quiz).where(Quiz.id == quiz_id).values(**values))
    db.commit()


def page_of(db: Session, attempt: Attempt, wanted: str) -> tuple[int, QuestionVersion]:
    """(page number, question) of the question with slug ``wanted``, or the first of type ``wanted``."""
    questions = list(enumerate(questions_in(db, attempt), start=1))
    for number, question in questions:
        if question.slug == wanted:
            return number, question
    for number, question in questions:
        if question.type == wanted:
            return number, question
    raise AssertionError(f"no {wanted} question in attempt {attempt.id}")


# --- answers built from the key ---------------------------------------------------------------------


def answer_form(question: QuestionVersion, layout: dict[str, Any], right: bool = True) -> Form:
    """Form values a trainee would send for a right (or a wrong) answer, in this attempt's positions.

    Scenarios take one form per step: see :func:`scenario_forms`.
    """
    spec, kind = question.spec, question.type
    if kind == "single":
        wrong = next(o for o in layout["options"] if o != spec["answer"])
        return {"answer": [str(layout["options"].index(spec["answer"] if right else wrong))]}
    if kind == "multiple":
        chosen = [o for o in layout["options"] if (o in spec["answer"]) == right]
        return {"answer": [str(layout["options"].index(o)) for o in chosen]}
    if kind == "true_false":
        value = bool(spec["answer"]) == right
        return {"answer": ["true" if value else "false"]}
    if kind == "short_text":
        first = next(iter(spec["answer"].values()))[0]
        return {"answer": [first if right else "certainly not this"]}
    if kind == "numeric":
        return {"answer": [str(spec["answer"]) if right else "12,5"]}
    if kind == "matching":
        form: Form = {}
        for index, left in enumerate(layout["lefts"]):
            target = left if right else next(r for r in layout["rights"] if r != left)
            form[f"match-{index}"] = [str(layout["rights"].index(target))]
        return form
    if kind == "ordering":
        order = [i["id"] for i in spec["items"]]
        if not right:
            order = order[1:] + order[:1]  # every item one place off
        return {f"position-{index}": [str(order.index(item) + 1)] for index, item in enumerate(layout["items"])}
    if kind == "hotspot":
        if right:
            region = next(r for r in spec["regions"] if r["id"] in spec["answer"])
            x, y = region_centre(region)
            return {"x": [str(x)], "y": [str(y)]}
        wrong = next(r["id"] for r in spec["regions"] if r["id"] not in spec["answer"])
        return {"region": [str(layout["regions"].index(wrong))]}
    raise AssertionError(f"no single form for {kind}")


def region_centre(region: dict[str, Any]) -> tuple[float, float]:
    coords = region["coords"]
    if region["shape"] == "rect":
        return coords[0] + coords[2] / 2, coords[1] + coords[3] / 2
    if region["shape"] == "circle":
        return coords[0], coords[1]
    xs, ys = coords[0::2], coords[1::2]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def best_path(spec: dict[str, Any]) -> list[str]:
    """The choice ids of a path reaching the best total."""
    from cbt.quiz import grading

    steps = grading.scenario_steps(spec)
    best = grading.best_scenario_points(spec)

    def walk(step_id: str, so_far: float, path: list[str]) -> list[str] | None:
        for choice in steps[step_id]["choices"]:
            total = so_far + float(choice.get("points") or 0)
            if choice.get("next"):
                found = walk(choice["next"], total, [*path, choice["id"]])
                if found:
                    return found
            elif abs(total - best) < 1e-9:
                return [*path, choice["id"]]
        return None

    path = walk(spec["start"], 0.0, [])
    assert path
    return path


def scenario_forms(question: QuestionVersion, layout: dict[str, Any], path: list[str]) -> list[Form]:
    """One form per step for the choices in ``path`` (ids), in this attempt's positions."""
    from cbt.quiz import grading

    steps = grading.scenario_steps(question.spec)
    forms, current = [], question.spec["start"]
    for choice_id in path:
        forms.append({"answer": [str(layout["choices"][current].index(choice_id))]})
        current = next(c for c in steps[current]["choices"] if c["id"] == choice_id).get("next")
    return forms


# --- the trainee's browser -----------------------------------------------------------------------------


class Trainee:
    """One signed-in browser: every POST carries the CSRF token (and seq) read from the page it comes from."""

    def __init__(self, client: FlaskClient, user: Any) -> None:
        self.client = client
        self.user = user

    def html(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code, response.headers.get("Location"))
        return response.get_data(as_text=True)

    def follow(self, response: Any) -> str:
        """The page a redirect leads to (the browser follows it)."""
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return self.html(response.headers["Location"])

    def overview(self, quiz_id: int) -> str:
        return self.html(f"/quiz/{quiz_id}")

    def start(self, quiz_id: int, access_code: str | None = None) -> Any:
        token = csrf_token(self.client, f"/quiz/{quiz_id}")
        data = {"csrf_token": token}
        if access_code is not None:
            data["access_code"] = access_code
        return self.client.post(f"/quiz/{quiz_id}/start", data=data)

    def start_ok(self, quiz_id: int, access_code: str | None = None) -> int:
        response = self.start(quiz_id, access_code)
        location = response.headers.get("Location", "")
        match = re.search(r"/quiz/attempts/(\d+)/1$", location)
        assert response.status_code == 302 and match, (response.status_code, location)
        return int(match.group(1))

    def page(self, attempt_id: int, number: int) -> str:
        return self.html(f"/quiz/attempts/{attempt_id}/{number}")

    def save(self, attempt_id: int, number: int, form: Form, action: str = "next", page: str | None = None) -> Any:
        """Post the question form; ``page`` is the HTML it was filled on (loaded now when not given)."""
        page = page if page is not None else self.page(attempt_id, number)
        data: dict[str, Any] = {"csrf_token": token_of(page), "seq": seq_of(page), "action": action, **form}
        return self.client.post(f"/quiz/attempts/{attempt_id}/{number}", data=data)

    def autosave(self, attempt_id: int, question_id: int, form: Form, seq: int, token: str) -> dict[str, Any]:
        data: dict[str, Any] = {"csrf_token": token, "seq": str(seq), "question": str(question_id), **form}
        response = self.client.post(f"/quiz/attempts/{attempt_id}/autosave", data=data)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def finish_page(self, attempt_id: int) -> str:
        return self.html(f"/quiz/attempts/{attempt_id}/finish")

    def submit(self, attempt_id: int, token: str | None = None) -> Any:
        token = token or csrf_token(self.client, f"/quiz/attempts/{attempt_id}/finish")
        return self.client.post(f"/quiz/attempts/{attempt_id}/submit", data={"csrf_token": token})

    def result(self, attempt_id: int) -> str:
        return self.html(f"/quiz/attempts/{attempt_id}/result")

    def sign_out(self) -> None:
        response = self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/")})
        assert response.status_code == 302


def review_heading(page: str) -> str:
    """The verdict of a review card ("Correct", "Partly correct", "Incorrect")."""
    match = re.search(r'<section class="card review[^"]*">\s*<h3>(.*?)<span', page, re.S)
    assert match, "no review on the page"
    return " ".join(match.group(1).split())


def answer_all(trainee: Trainee, db: Session, attempt_id: int, right: bool = True) -> None:
    """Answer every question of the attempt through its page (scenarios walked step by step)."""
    attempt = get_attempt(db, attempt_id)
    for number, question in enumerate(questions_in(db, attempt), start=1):
        layout = attempt.layout[str(question.id)]
        if question.type == "scenario":
            path = best_path(question.spec) if right else ["cbad", "crecover"]
            for form in scenario_forms(question, layout, path):
                response = trainee.save(attempt_id, number, form, action="step")
                assert response.headers["Location"].endswith(f"/{number}")
        else:
            response = trainee.save(attempt_id, number, answer_form(question, layout, right))
            assert response.status_code == 302


def token_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def seq_of(page: str) -> str:
    match = SEQ_RE.search(page)
    assert match, "no seq on the page"
    return match.group(1)


def flashes(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", m) for m in re.findall(r'<p class="flash flash-\w+">(.*?)</p>', page, re.S)]


@pytest.fixture
def trainee(client: FlaskClient, auth: Auth) -> Trainee:
    user = auth.login_as("trainee")
    return Trainee(client, user)


@pytest.fixture
def browser(app: Flask) -> Callable[[Any], Trainee]:
    """Factory: another browser (a new test client) signed in as ``user``."""

    def factory(user: Any) -> Trainee:
        client = app.test_client()
        response = client.post(
            "/login",
            data={
                "username": user.username,
                "password": TEST_PASSWORD,
                "csrf_token": csrf_token(client),
                "next": "",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return Trainee(client, user)

    return factory
