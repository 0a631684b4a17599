"""An interrupted exam continues on any terminal after signing in again, with every answer in place."""

from __future__ import annotations

import pytest

from tests.quiz.conftest import answer_form, get_attempt, questions_in, responses_in, scenario_forms
from tests.quiz.pages import as_sent


def test_resume_after_a_new_sign_in_with_answers_prefilled(kit, trainee, browser, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, attempt_id)
    questions = questions_in(db, attempt)
    for number, question in enumerate(questions, start=1):
        layout = attempt.layout[str(question.id)]
        if question.type == "scenario":
            for form in scenario_forms(question, layout, ["cgood", "cfinish"]):
                trainee.save(attempt_id, number, form, action="step")
        elif question.type == "numeric":
            trainee.save(attempt_id, number, {"answer": ["12345,67"]})  # more digits than "%g" keeps
        elif question.type == "hotspot":
            trainee.save(attempt_id, number, {"x": ["160.25"], "y": ["220"]})
        else:
            trainee.save(attempt_id, number, answer_form(question, layout, right=number % 2 == 0))
    before = {qid: r.answer for qid, r in responses_in(db, attempt_id).items()}
    assert len(before) == len(questions)
    trainee.sign_out()
    assert trainee.client.get(f"/quiz/attempts/{attempt_id}/1").status_code == 302  # the old tab is signed out

    other = browser(trainee.user)  # another terminal
    assert "Continue your attempt" in other.overview(kit.exam_id)
    assert other.start_ok(kit.exam_id) == attempt_id
    for number, question in enumerate(questions, start=1):
        page = other.page(attempt_id, number)
        sent = as_sent(page)
        if question.type == "numeric":
            assert 'value="12345.67"' in page
        if question.type == "scenario":
            assert "You have reached the end of this case study." in page
        else:
            assert sent, f"page {number} ({question.type}) is not pre-filled"
        # "Save and next" without touching anything keeps every answer exactly as it was.
        response = other.save(attempt_id, number, sent, page=page)
        assert response.status_code == 302
        assert "/finish" in response.headers["Location"] or response.headers["Location"].endswith(f"/{number + 1}")
    after = {qid: r.answer for qid, r in responses_in(db, attempt_id).items()}
    assert after == before
    assert after[next(q.id for q in questions if q.type == "numeric")] == {"value": 12345.67}

    other.submit(attempt_id)
    assert get_attempt(db, attempt_id).status == "submitted"


@pytest.mark.parametrize("typed", ["1000000", "0,000015", "-2,5", "4713", "99999999,99"])
def test_numbers_come_back_as_typed(kit, trainee, db, typed):
    attempt_id = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, attempt_id)
    number = next(n for n, q in enumerate(questions_in(db, attempt), start=1) if q.type == "numeric")
    trainee.save(attempt_id, number, {"answer": [typed]})
    page = trainee.page(attempt_id, number)
    assert f'value="{typed.replace(",", ".")}"' in page
