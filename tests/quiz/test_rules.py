"""Who may start an attempt, and when: attempt limit, delay between attempts, access code, open/close window.

Refusals are checked on the server (a POST to start), not only by the overview hiding its button.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cbt.db import utcnow
from tests.quiz.conftest import attempts_for, flashes, set_attempt, set_quiz, token_of


def take(trainee, quiz_id, **start):
    attempt_id = trainee.start_ok(quiz_id, **start)
    assert trainee.submit(attempt_id).status_code == 302
    return attempt_id


def refused(trainee, quiz_id, **start):
    """Start (with a token from an earlier page, as a hand-made request would) and return the flash shown."""
    response = trainee.start(quiz_id, **start)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/quiz/{quiz_id}")
    return " ".join(flashes(trainee.follow(response)))


def test_the_third_attempt_of_two_is_refused_with_a_clear_message(kit, trainee, db):
    take(trainee, kit.exam_id)
    assert "Start a new attempt" in trainee.overview(kit.exam_id)
    take(trainee, kit.exam_id)
    overview = trainee.overview(kit.exam_id)
    assert "You have used all 2 attempts." in overview and "Start a new attempt" not in overview
    assert "You have used all 2 attempts." in refused(trainee, kit.exam_id)
    assert len(attempts_for(db, kit.exam_id)) == 2


def test_unlimited_practice_attempts(kit, trainee, db):
    for _ in range(3):
        take(trainee, kit.practice_id)
    assert [a.number for a in attempts_for(db, kit.practice_id)] == [1, 2, 3]


def test_attempt_delay(kit, trainee, db):
    set_quiz(db, kit.exam_id, attempt_delay_minutes=60)
    first = take(trainee, kit.exam_id)
    assert "You can start the next attempt at" in refused(trainee, kit.exam_id)
    set_attempt(db, first, submitted_at=utcnow() - timedelta(minutes=61))
    second = trainee.start_ok(kit.exam_id)
    assert second != first


@pytest.mark.parametrize("wrong", ["", "k7-alph", "K7-ALPHA2", "k7-alpha"])
def test_access_code(kit, trainee, db, wrong):
    set_quiz(db, kit.exam_id, access_code="K7-ALPHA")
    assert 'name="access_code"' in trainee.overview(kit.exam_id)
    assert "The access code is not correct" in refused(trainee, kit.exam_id, access_code=wrong)
    assert attempts_for(db, kit.exam_id) == []
    attempt_id = trainee.start_ok(kit.exam_id, access_code="  K7-ALPHA ")
    # The running attempt is resumed without asking again.
    assert trainee.start_ok(kit.exam_id) == attempt_id


def test_access_code_is_needed_even_without_the_field(kit, trainee, db):
    set_quiz(db, kit.exam_id, access_code="K7-ALPHA")
    assert "The access code is not correct" in refused(trainee, kit.exam_id)


def test_not_open_yet(kit, trainee, db):
    set_quiz(db, kit.exam_id, opens_at=utcnow() + timedelta(days=1))
    assert "This quiz opens on" in trainee.overview(kit.exam_id)
    assert "This quiz opens on" in refused(trainee, kit.exam_id)
    set_quiz(db, kit.exam_id, opens_at=utcnow() - timedelta(minutes=1))
    trainee.start_ok(kit.exam_id)


def test_closed(kit, trainee, db):
    set_quiz(db, kit.exam_id, closes_at=utcnow() - timedelta(minutes=1))
    assert "This quiz closed on" in trainee.overview(kit.exam_id)
    assert "This quiz closed on" in refused(trainee, kit.exam_id)
    assert attempts_for(db, kit.exam_id) == []


def test_someone_elses_attempt_is_not_found(kit, trainee, browser, create_user, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    other = browser(create_user("trainee"))
    for path in (
        f"/quiz/attempts/{attempt_id}/1",
        f"/quiz/attempts/{attempt_id}/finish",
        f"/quiz/attempts/{attempt_id}/result",
    ):
        assert other.client.get(path).status_code == 404
    token = token_of(other.html(f"/quiz/{kit.exam_id}"))
    assert other.client.post(f"/quiz/attempts/{attempt_id}/submit", data={"csrf_token": token}).status_code == 404
    assert attempts_for(db, kit.exam_id)[0].status == "in_progress"
