"""The server-side clock of a timed attempt; time is moved by editing the attempt's row, never by sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cbt.db import utcnow
from tests.quiz.conftest import (
    answer_form,
    flashes,
    get_attempt,
    page_of,
    questions_in,
    responses_in,
    set_attempt,
    set_quiz,
    token_of,
)


def answer_two(trainee, db, attempt_id):
    """Answer the single and the true/false question right; return their ids."""
    attempt = get_attempt(db, attempt_id)
    saved = []
    for kind in ("single", "true_false"):
        number, question = page_of(db, attempt, kind)
        response = trainee.save(attempt_id, number, answer_form(question, attempt.layout[str(question.id)]))
        assert response.status_code == 302
        saved.append(question)
    return saved


def move_clock(db, attempt_id, minutes_ago_started, deadline_in_seconds):
    """As if the attempt started ``minutes_ago_started`` ago, its deadline ``deadline_in_seconds`` away."""
    now = utcnow()
    set_attempt(
        db,
        attempt_id,
        started_at=now - timedelta(minutes=minutes_ago_started),
        deadline_at=now + timedelta(seconds=deadline_in_seconds),
    )


def test_deadline_is_set_from_the_time_limit(kit, trainee, db):
    before = utcnow()
    attempt = get_attempt(db, trainee.start_ok(kit.exam_id))
    assert timedelta(minutes=30) <= attempt.deadline_at - before <= timedelta(minutes=30, seconds=5)
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=30)
    assert "Time left: 29 min" in trainee.page(attempt.id, 1)


def test_saves_before_the_deadline_count_a_save_after_it_is_late_submit_in_grace_is_accepted(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    single, true_false = answer_two(trainee, db, attempt_id)
    attempt = get_attempt(db, attempt_id)
    number, numeric = page_of(db, attempt, "numeric")
    page = trainee.page(attempt_id, number)  # opened in time...

    move_clock(db, attempt_id, minutes_ago_started=30, deadline_in_seconds=-10)  # ...sent 10 s too late
    late = trainee.save(attempt_id, number, answer_form(numeric, attempt.layout[str(numeric.id)]), page=page)
    assert late.headers["Location"].endswith(f"/quiz/attempts/{attempt_id}/finish")
    assert any("The time for this attempt is over" in f for f in flashes(trainee.follow(late)))
    autosave = trainee.autosave(attempt_id, numeric.id, {"answer": ["4713"]}, seq=99, token=token_of(page))
    assert autosave["status"] == "late"
    assert numeric.id not in responses_in(db, attempt_id)

    result = trainee.follow(trainee.submit(attempt_id))  # 10 s after the deadline, within the 30 s grace
    graded = get_attempt(db, attempt_id)
    assert graded.status == "submitted"
    assert graded.score == single.points + true_false.points
    assert graded.submitted_at > graded.deadline_at
    assert "Finished automatically" not in result


def test_submit_after_the_grace_is_recorded_as_expired_with_the_saved_answers(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    single, true_false = answer_two(trainee, db, attempt_id)
    token = token_of(trainee.finish_page(attempt_id))
    move_clock(db, attempt_id, minutes_ago_started=35, deadline_in_seconds=-300)
    result = trainee.follow(trainee.submit(attempt_id, token=token))
    graded = get_attempt(db, attempt_id)
    assert graded.status == "expired"
    assert graded.score == single.points + true_false.points
    assert graded.submitted_at == graded.deadline_at + timedelta(seconds=30)  # capped at deadline + grace
    assert "Finished automatically when the time ran out." in result


@pytest.mark.parametrize("opened", ["overview", "question", "result"])
def test_an_abandoned_attempt_is_finished_when_the_trainee_comes_back(kit, trainee, db, opened):
    attempt_id = trainee.start_ok(kit.exam_id)
    single, true_false = answer_two(trainee, db, attempt_id)
    move_clock(db, attempt_id, minutes_ago_started=90, deadline_in_seconds=-3600)
    assert get_attempt(db, attempt_id).status == "in_progress"  # nothing runs in the background

    if opened == "overview":
        page = trainee.overview(kit.exam_id)
        assert "Continue your attempt" not in page and "Start a new attempt" in page
    elif opened == "question":
        page = trainee.follow(trainee.client.get(f"/quiz/attempts/{attempt_id}/1"))
    else:
        page = trainee.result(attempt_id)
    graded = get_attempt(db, attempt_id)
    assert graded.status == "expired"
    assert graded.score == single.points + true_false.points
    assert graded.max_score == sum(q.points for q in questions_in(db, graded))
    assert f"{round(graded.percent)}%" in (page if opened != "overview" else trainee.result(attempt_id))


def test_an_open_attempt_within_its_time_is_resumed_not_expired(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    move_clock(db, attempt_id, minutes_ago_started=29, deadline_in_seconds=60)
    assert "Continue your attempt" in trainee.overview(kit.exam_id)
    assert trainee.start_ok(kit.exam_id) == attempt_id
    assert get_attempt(db, attempt_id).status == "in_progress"


def test_the_close_of_the_quiz_caps_the_deadline(kit, trainee, db):
    closes = utcnow() + timedelta(minutes=10)
    set_quiz(db, kit.exam_id, closes_at=closes)
    attempt = get_attempt(db, trainee.start_ok(kit.exam_id))
    assert abs((attempt.deadline_at - closes).total_seconds()) < 1
