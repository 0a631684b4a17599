"""Every question type answered through the pages, in practice mode and in exam mode.

Practice: "Check answer" grades one question and shows its feedback at once; the answer is then locked.
Exam: nothing of the key or the feedback before submission; after it, the review the quiz's policy allows.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cbt.db import utcnow
from tests.quiz.conftest import (
    Trainee,
    answer_all,
    answer_form,
    flashes,
    get_attempt,
    page_of,
    questions_in,
    responses_in,
    review_heading,
    scenario_forms,
    set_quiz,
)
from tests.quiz.course import ACCEPTED, FEEDBACK_MARKERS
from tests.quiz.pages import as_sent

MARKER = {
    "single": "FBMARK-single",
    "multiple": "FBMARK-multiple",
    "true_false": "FBMARK-tf",
    "short_text": "FBMARK-short",
    "numeric": "FBMARK-numeric",
    "matching": "FBMARK-matching",
    "ordering": "FBMARK-ordering",
    "hotspot": "FBMARK-hotspot",
    "scenario": "FBMARK-scenario",
}
SIMPLE_TYPES = [
    "single",
    "multiple",
    "true_false",
    "short_text",
    "numeric",
    "matching",
    "ordering",
    "hotspot",
]


# --- practice ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SIMPLE_TYPES)
def test_practice_check_shows_feedback_then_locks_the_answer(kit, trainee, db, kind):
    attempt_id = trainee.start_ok(kit.practice_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, kind)
    layout = attempt.layout[str(question.id)]
    page = trainee.page(attempt_id, number)
    assert "Check answer" in page and MARKER[kind] not in page

    response = trainee.save(attempt_id, number, answer_form(question, layout), action="check", page=page)
    assert response.headers["Location"].endswith(f"/quiz/attempts/{attempt_id}/{number}")
    checked = trainee.follow(response)
    assert MARKER[kind] in checked
    assert review_heading(checked).startswith("Correct")
    assert "Check answer" not in checked
    assert re.search(r"<(input|select)[^>]*\sdisabled", checked), "the checked answer is shown read-only"
    stored = responses_in(db, attempt_id)[question.id]
    assert stored.score == question.points and stored.fraction == 1.0
    kept = stored.answer

    # The browser sends what the checked page holds (nothing from disabled inputs): moving on is not an
    # attempt to change the answer.
    moved = trainee.save(
        attempt_id, number, as_sent(checked), action="previous" if number > 1 else "next", page=checked
    )
    assert not any("already checked" in f for f in flashes(trainee.follow(moved)))
    # A second tab (or a hand-made request) trying to change it is refused and told why.
    changed = trainee.save(attempt_id, number, answer_form(question, layout, right=False), action="check")
    assert any("already checked" in f for f in flashes(trainee.follow(changed)))
    stored = responses_in(db, attempt_id)[question.id]
    assert stored.answer == kept and stored.score == question.points


@pytest.mark.parametrize("kind", SIMPLE_TYPES)
def test_practice_check_of_a_wrong_answer_says_so_and_shows_the_key(kit, trainee, db, kind):
    attempt_id = trainee.start_ok(kit.practice_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, kind)
    response = trainee.save(
        attempt_id,
        number,
        answer_form(question, attempt.layout[str(question.id)], right=False),
        action="check",
    )
    checked = trainee.follow(response)
    assert review_heading(checked).startswith(("Incorrect", "Partly correct"))
    assert "Correct answer:" in checked and MARKER[kind] in checked
    assert responses_in(db, attempt_id)[question.id].fraction < 1


def test_practice_single_shows_the_feedback_of_the_chosen_option(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.practice_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "single")
    layout = attempt.layout[str(question.id)]
    checked = trainee.follow(
        trainee.save(attempt_id, number, {"answer": [str(layout["options"].index("omike"))]}, action="check")
    )
    assert "FBMARK-opt-wrong" in checked and "FBMARK-opt-right" not in checked


def test_practice_scenario_is_walked_then_checked(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.practice_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "scenario")
    layout = attempt.layout[str(question.id)]
    first, second = scenario_forms(question, layout, ["cgood", "ccareless"])

    page = trainee.follow(trainee.save(attempt_id, number, first, action="step"))
    assert "Confirm decision" in page and "Check answer" not in page  # no checking half-way
    assert "The record differs." in page and "FBMARK-scn-good" not in page
    assert responses_in(db, attempt_id)[question.id].score is None

    page = trainee.follow(trainee.save(attempt_id, number, second, action="step", page=page))
    assert "You have reached the end of this case study." in page and "Check answer" in page
    checked = trainee.follow(trainee.save(attempt_id, number, {}, action="check", page=page))
    assert review_heading(checked).startswith("Partly correct")
    assert "FBMARK-scn-good" in checked and MARKER["scenario"] in checked
    stored = responses_in(db, attempt_id)[question.id]
    assert stored.answer == {"path": ["cgood", "ccareless"]}
    assert stored.fraction == pytest.approx(37 / 90)


def test_practice_result_shows_every_question_reviewed(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.practice_id)
    answer_all(trainee, db, attempt_id)
    result = trainee.follow(trainee.submit(attempt_id))
    assert "100%" in result and "Passed" in result
    assert all(MARKER[kind] in result for kind in MARKER)


# --- exam ----------------------------------------------------------------------------------------------


def test_exam_every_type_right_no_feedback_before_submit_full_review_after(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, attempt_id)
    questions = questions_in(db, attempt)
    assert {q.type for q in questions} >= set(MARKER)  # the draw took one of every type

    answer_all(trainee, db, attempt_id)
    for number in range(1, len(questions) + 1):
        page = trainee.page(attempt_id, number)
        assert "Check answer" not in page and "Correct answer" not in page
        assert not any(marker in page for marker in FEEDBACK_MARKERS)
    finish = trainee.finish_page(attempt_id)
    assert finish.count("Answer saved") == len(questions) and "Not answered" not in finish
    assert not any(r.score is not None for r in responses_in(db, attempt_id).values())  # nothing graded early

    result = trainee.follow(trainee.submit(attempt_id))
    assert "100%" in result and "Passed" in result and "Review" in result
    assert all(MARKER[kind] in result for kind in MARKER)
    assert len(re.findall(r'<section class="card review right">', result)) == len(questions)
    graded = get_attempt(db, attempt_id)
    assert graded.status == "submitted" and graded.percent == 100 and graded.passed


def test_exam_every_type_wrong_review_shows_the_key(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    answer_all(trainee, db, attempt_id, right=False)
    result = trainee.follow(trainee.submit(attempt_id))
    assert "Not passed" in result
    assert "TIR carnet" in result  # the accepted answer, shown once the exam is over
    assert "4,713" in result or "4713" in result
    graded = get_attempt(db, attempt_id)
    assert graded.percent < 70 and not graded.passed
    for response in responses_in(db, attempt_id).values():
        assert response.fraction is not None and response.fraction < 1


def test_exam_check_action_grades_nothing_before_submit(kit, trainee, db):
    """A hand-made "check" on an exam page must not grade or reveal anything."""
    attempt_id = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "single")
    page = trainee.follow(
        trainee.save(attempt_id, number, answer_form(question, attempt.layout[str(question.id)]), action="check")
    )
    assert not any(marker in page for marker in FEEDBACK_MARKERS) and "Correct" not in page
    assert responses_in(db, attempt_id)[question.id].score is None


def test_exam_review_never_shows_nothing_but_the_score(kit, trainee, db):
    set_quiz(db, kit.exam_id, review="never")
    attempt_id = trainee.start_ok(kit.exam_id)
    answer_all(trainee, db, attempt_id, right=False)
    result = trainee.follow(trainee.submit(attempt_id))
    assert "The answers of this quiz are not shown" in result
    assert re.search(r"\d+%", result)
    assert "Correct answer" not in result and "Your answer" not in result and "Review" not in result
    assert not any(marker in result for marker in FEEDBACK_MARKERS)
    assert not any(accepted in result for accepted in ACCEPTED)


def test_exam_review_after_close_waits_for_the_close(kit, trainee, db):
    set_quiz(db, kit.exam_id, review="after_close", closes_at=utcnow() + timedelta(hours=2))
    attempt_id = trainee.start_ok(kit.exam_id)
    answer_all(trainee, db, attempt_id)
    result = trainee.follow(trainee.submit(attempt_id))
    assert "100%" in result and not any(marker in result for marker in FEEDBACK_MARKERS)
    set_quiz(db, kit.exam_id, closes_at=utcnow() - timedelta(minutes=1))
    assert all(MARKER[kind] in trainee.result(attempt_id) for kind in MARKER)


def test_short_text_and_numeric_variants_through_the_page(kit, trainee, db):
    """Kazakh capitals with untidy spacing, a decomposed ё, and a decimal comma are all graded right."""
    attempt_id = trainee.start_ok(kit.practice_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "short_text")
    trainee.save(attempt_id, number, {"answer": ["  құжат   іздеу "]}, action="check")
    assert responses_in(db, attempt_id)[question.id].fraction == 1.0

    number, question = page_of(db, attempt, "numeric")
    trainee.save(attempt_id, number, {"answer": ["4 717,5"]}, action="check")
    assert responses_in(db, attempt_id)[question.id].fraction == 1.0

    second = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, second)
    number, question = page_of(db, attempt, "short_text")
    trainee.save(second, number, {"answer": ["ЖЁЛТЫЙ ЯЩИК".lower().replace("ё", "е\u0308")]})
    trainee.submit(second)
    assert responses_in(db, second)[question.id].fraction == 1.0


def test_an_invalid_value_is_refused_with_a_message_and_not_stored(kit, trainee, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "numeric")
    response = trainee.save(attempt_id, number, {"answer": ["twelve"]})
    assert response.headers["Location"].endswith(f"/{number}")
    assert any("Enter a number" in f for f in flashes(trainee.follow(response)))
    assert question.id not in responses_in(db, attempt_id)


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        ("en", "TIR carnet", "ХЖТ кітапшасы"),
        ("ru", "книжка МДП, жёлтый ящик", "TIR carnet"),
        ("kk", "ҚҰЖАТ ІЗДЕУ, ХЖТ кітапшасы", "книжка МДП"),
    ],
)
def test_review_shows_the_accepted_answers_in_the_readers_language(kit, auth, client, db, locale, shown, hidden):
    trainee = Trainee(client, auth.login_as("trainee", locale=locale))
    attempt_id = trainee.start_ok(kit.practice_id)
    attempt = get_attempt(db, attempt_id)
    number, _question = page_of(db, attempt, "short_text")
    checked = trainee.follow(trainee.save(attempt_id, number, {"answer": ["no idea"]}, action="check"))
    assert shown in checked and hidden not in checked
