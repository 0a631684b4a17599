"""Every quiz of every shipped course can be taken from start to result through the pages.

The test knows nothing of the keys: it answers whatever each page offers (the first option, positions in
order, a number, a word) and walks every case study to its end.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.quiz.conftest import get_attempt, import_course, quizzes_of, responses_in
from tests.quiz.pages import is_scenario, page_count, scenario_ended, some_answer

COURSES = ["vehicle-inspection", "risk-profiling", "blo-cooperation", "drug-interdiction"]


def take_whole_quiz(trainee, quiz_id: int) -> tuple[int, str]:
    attempt_id = trainee.start_ok(quiz_id)
    total = page_count(trainee.page(attempt_id, 1))
    for number in range(1, total + 1):
        page = trainee.page(attempt_id, number)
        if is_scenario(page):
            for _step in range(50):
                if scenario_ended(page):
                    break
                response = trainee.save(attempt_id, number, some_answer(page), action="step", page=page)
                assert response.headers["Location"].endswith(f"/{number}")
                page = trainee.follow(response)
            assert scenario_ended(page), f"case study on page {number} never ends"
            response = trainee.save(attempt_id, number, {}, page=page)
        else:
            answer = some_answer(page)
            assert answer, f"page {number} offers nothing to answer"
            response = trainee.save(attempt_id, number, answer, page=page)
        expected = "/finish" if number == total else f"/{number + 1}"
        assert response.headers["Location"].endswith(expected), (number, trainee.follow(response)[:2000])
    finish = trainee.finish_page(attempt_id)
    assert "Not answered" not in finish and finish.count("Answer saved") == total
    result = trainee.follow(trainee.submit(attempt_id))
    return attempt_id, result


@pytest.mark.parametrize("slug", COURSES)
def test_every_quiz_of_a_shipped_course_can_be_taken(app, trainee, db, slug):
    version = import_course(app, ROOT / "courses" / slug)
    quizzes = quizzes_of(db, version.id)
    assert any(q.kind == "exam" for q in quizzes) and any(q.kind == "practice" for q in quizzes)
    for quiz in quizzes:
        attempt_id, result = take_whole_quiz(trainee, quiz.id)
        assert re.search(r'<p class="big">\d+%', result), result[:2000]
        attempt = get_attempt(db, attempt_id)
        assert attempt.status == "submitted" and attempt.percent is not None
        assert 0 <= attempt.percent <= 100 and attempt.max_score > 0
        responses = responses_in(db, attempt_id)
        assert set(responses) == set(attempt.question_ids)
        assert all(r.score is not None for r in responses.values())
        if quiz.review in ("immediately", "after_submit"):
            assert result.count('<section class="card review') == len(attempt.question_ids)
