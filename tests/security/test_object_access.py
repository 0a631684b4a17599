"""Object-level access (ASVS 4.0 V4.2.1): changing an id in the URL never reaches another trainee's data.

Trainee A leaves a running and a finished attempt; trainee B, signed in on another terminal, replays every
attempt URL with A's ids and gets the same "not found" as for an id that does not exist, and A's attempt
is unchanged afterwards.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cbt.courses.models import Lesson, Quiz
from cbt.learn.models import LessonProgress
from cbt.quiz.models import Attempt, Response
from tests.conftest import Auth, csrf_token
from tests.pages import build_world, import_course, write_course


@pytest.fixture
def two_trainees(app, client, auth, create_user, tmp_path):
    world = build_world(app, client, auth, tmp_path)  # trainee A, signed in on ``client``
    other = app.test_client()
    Auth(other, create_user).login_as("trainee")
    return world, other


def _snapshot(db, attempt_id: int) -> tuple:
    db.rollback()
    attempt = db.get(Attempt, attempt_id, populate_existing=True)
    answers = sorted((r.question_version_id, repr(r.answer), r.score) for r in
                     db.scalars(select(Response).where(Response.attempt_id == attempt_id)))
    db.commit()
    return attempt.status, attempt.seq, attempt.percent, answers


def test_another_trainees_attempt_pages_are_not_found(two_trainees, db):
    world, other = two_trainees
    before = {a: _snapshot(db, a) for a in (world.attempt_id, world.finished_attempt_id)}
    token = csrf_token(other, "/learn/")
    for attempt_id in (world.attempt_id, world.finished_attempt_id):
        for url in (f"/quiz/attempts/{attempt_id}/1", f"/quiz/attempts/{attempt_id}/finish",
                    f"/quiz/attempts/{attempt_id}/result"):
            assert other.get(url).status_code == 404, url
        for url, data in (
            (f"/quiz/attempts/{attempt_id}/1", {"seq": "0", "answer": "1", "action": "next"}),
            (f"/quiz/attempts/{attempt_id}/autosave", {"seq": "0", "answer": "1", "question": "1"}),
            (f"/quiz/attempts/{attempt_id}/submit", {}),
        ):
            response = other.post(url, data={"csrf_token": token, **data})
            assert response.status_code == 404, url
    assert {a: _snapshot(db, a) for a in before} == before


def test_not_found_looks_the_same_for_someone_elses_and_a_missing_attempt(two_trainees):
    """The answer does not tell whether attempt N exists (no enumeration of other people's attempts)."""
    world, other = two_trainees
    theirs = other.get(f"/quiz/attempts/{world.finished_attempt_id}/result")
    missing = other.get("/quiz/attempts/999999/result")
    assert theirs.status_code == missing.status_code == 404
    # The pages differ only where they repeat the URL asked for (the language switcher's "next").
    assert theirs.get_data(as_text=True).replace(f"/{world.finished_attempt_id}/", "/N/") == \
        missing.get_data(as_text=True).replace("/999999/", "/N/")


def test_the_owner_still_opens_them(two_trainees, client):
    """The control: the same URLs work for their owner (so the 404s above are about ownership)."""
    world, _other = two_trainees
    assert client.get(f"/quiz/attempts/{world.attempt_id}/1").status_code == 200
    assert client.get(f"/quiz/attempts/{world.finished_attempt_id}/result").status_code == 200


def test_ids_that_do_not_exist_or_do_not_belong_together_are_not_found(two_trainees, app, db, tmp_path):
    world, other = two_trainees
    token = csrf_token(other, "/learn/")
    # A second course: its lesson must not be completable through the first course's URL.
    second = import_course(app, write_course(tmp_path / "second", course_id="second-course"))
    foreign_lesson = db.scalar(select(Lesson.id).where(Lesson.course_version_id == second))
    db.commit()
    cases = [
        ("get", "/quiz/999999"),
        ("post", "/quiz/999999/start"),
        ("get", "/quiz/attempts/999999/1"),
        ("get", f"/quiz/attempts/{world.attempt_id}/0"),
        ("get", "/learn/courses/no-such-course"),
        ("get", "/learn/courses/no-such-course/lessons/1"),
        ("get", f"/learn/courses/{world.slug}/lessons/999999"),
        ("get", f"/learn/courses/{world.slug}/lessons/{foreign_lesson}"),
        ("post", f"/learn/courses/{world.slug}/lessons/999999/complete"),
        ("post", f"/learn/courses/{world.slug}/lessons/{foreign_lesson}/complete"),
        ("post", f"/learn/courses/no-such-course/lessons/{world.lesson_id}/complete"),
    ]
    for method, url in cases:
        response = other.post(url, data={"csrf_token": token}) if method == "post" else other.get(url)
        assert response.status_code == 404, (method, url)
    assert db.scalar(select(func.count()).select_from(LessonProgress)
                     .where(LessonProgress.lesson_id == foreign_lesson)) == 0


def test_a_quiz_of_a_course_version_that_does_not_exist_is_not_found(two_trainees, db):
    """Quiz ids past the last imported version's quizzes: no page, no attempt started, no 500."""
    world, other = two_trainees
    db.rollback()
    quiz_ids = set(db.scalars(select(Quiz.id)))
    db.commit()
    missing = max(quiz_ids) + 1000
    assert other.get(f"/quiz/{missing}").status_code == 404
    assert other.post(f"/quiz/{missing}/start", data={"csrf_token": csrf_token(other, "/learn/")}).status_code == 404
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Attempt).where(Attempt.quiz_id == missing)) == 0
