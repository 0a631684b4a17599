"""The pure completion rules: every rule combination, the percentage, and a module's state."""

from __future__ import annotations

import itertools

import pytest

from cbt.learn import completion
from cbt.learn.completion import DONE, IN_PROGRESS, NOT_STARTED, Progress, QuizResult

NONE = QuizResult()
ATTEMPTED = QuizResult(attempted=True, passed=False, best_percent=40.0)
PASSED = QuizResult(attempted=True, passed=True, best_percent=90.0)


def progress(lessons: tuple[int, int] = (4, 4), quizzes: tuple[QuizResult, ...] = (PASSED, PASSED),
             exam: QuizResult | None = PASSED) -> Progress:
    total, done = lessons
    return Progress(total, done, dict(enumerate(quizzes, start=1)), exam)


LESSONS = {"all": [((4, 4), True), ((4, 3), False), ((4, 0), False), ((0, 0), True)],
           "none": [((4, 4), True), ((4, 0), True)]}
QUIZZES = {"passed": [((PASSED, PASSED), True), ((PASSED, ATTEMPTED), False), ((PASSED, NONE), False),
                      ((), True)],
           "attempted": [((ATTEMPTED, ATTEMPTED), True), ((PASSED, ATTEMPTED), True),
                         ((ATTEMPTED, NONE), False)],
           "none": [((NONE, NONE), True), ((ATTEMPTED, NONE), True)]}
EXAMS = {"passed": [(PASSED, True), (ATTEMPTED, False), (NONE, False), (None, False)],
         "none": [(NONE, True), (ATTEMPTED, True), (None, True)]}


def _cases():
    rules = itertools.product(LESSONS.items(), QUIZZES.items(), EXAMS.items())
    for (lr, lcases), (qr, qcases), (er, ecases) in rules:
        for (lessons, l_ok), (quizzes, q_ok), (exam, e_ok) in itertools.product(lcases, qcases, ecases):
            rule = {"lessons": lr, "quizzes": qr, "exam": er}
            yield pytest.param(rule, progress(lessons, quizzes, exam), l_ok and q_ok and e_ok,
                               id=f"{lr}-{qr}-{er}-{lessons}-{len(quizzes)}q-{exam and exam.passed}")


@pytest.mark.parametrize(("rule", "state", "expected"), list(_cases()))
def test_is_complete_for_every_rule_combination(rule, state, expected):
    assert completion.is_complete(rule, state) is expected
    # Complete and 100 % go together: a course is never shown at 100 % and not complete, or the reverse.
    assert (completion.percent_done(rule, state) == 100) is expected


def test_defaults_require_everything():
    """A course file without ``completion`` means lessons all, quizzes passed, exam passed."""
    assert completion.is_complete({}, progress())
    assert not completion.is_complete({}, progress(lessons=(4, 3)))
    assert not completion.is_complete({}, progress(quizzes=(PASSED, ATTEMPTED)))
    assert not completion.is_complete({}, progress(exam=ATTEMPTED))
    assert not completion.is_complete({}, progress(exam=None))


def test_a_rule_requiring_an_exam_the_course_lacks_is_never_met():
    assert not completion.is_complete({"lessons": "none", "quizzes": "none", "exam": "passed"},
                                      Progress(0, 0, {}, None))


@pytest.mark.parametrize(("rule", "state", "percent"), [
    # 4 lessons + 2 quizzes + exam = 7 items.
    ({}, progress((4, 0), (NONE, NONE), NONE), 0),
    ({}, progress((4, 2), (NONE, NONE), NONE), 28),  # 2/7, rounded down: never 100 % before the end
    ({}, progress((4, 4), (PASSED, NONE), NONE), 71),
    ({}, progress((4, 4), (PASSED, PASSED), ATTEMPTED), 85),
    ({}, progress(), 100),
    ({"lessons": "none", "quizzes": "none", "exam": "passed"}, progress((4, 0), (NONE, NONE), NONE), 0),
    ({"lessons": "all", "quizzes": "none", "exam": "none"}, progress((3, 1), (), None), 33),
    ({"lessons": "all", "quizzes": "attempted", "exam": "none"},
     progress((2, 2), (ATTEMPTED, NONE), None), 75),
    ({"lessons": "none", "quizzes": "none", "exam": "none"}, progress((4, 0), (NONE,), None), 100),
    # 99 of 100 items must not round up to 100 %.
    ({"lessons": "all", "quizzes": "none", "exam": "none"}, progress((200, 199), (), None), 99),
])
def test_percent_done(rule, state, percent):
    assert completion.percent_done(rule, state) == percent


@pytest.mark.parametrize(("total", "completed", "viewed", "quiz", "requirement", "state"), [
    (2, 0, 0, None, "passed", NOT_STARTED),
    (2, 0, 0, NONE, "passed", NOT_STARTED),
    (2, 0, 1, NONE, "passed", IN_PROGRESS),
    (2, 1, 1, NONE, "passed", IN_PROGRESS),
    (2, 0, 0, ATTEMPTED, "passed", IN_PROGRESS),  # took the quiz before reading: started
    (2, 2, 2, None, "passed", DONE),               # no quiz: lessons decide
    (2, 2, 2, NONE, "passed", IN_PROGRESS),
    (2, 2, 2, ATTEMPTED, "passed", IN_PROGRESS),
    (2, 2, 2, PASSED, "passed", DONE),
    (2, 2, 2, ATTEMPTED, "attempted", DONE),
    (2, 2, 2, NONE, "attempted", IN_PROGRESS),
    (2, 2, 2, NONE, "none", DONE),
    (2, 1, 2, PASSED, "passed", IN_PROGRESS),      # a passed quiz does not replace a lesson
])
def test_module_state(total, completed, viewed, quiz, requirement, state):
    assert completion.module_state(total, completed, viewed, quiz, requirement) == state


def test_requirements_lists_one_flag_per_item():
    flags = completion.requirements({}, progress((3, 1), (PASSED, ATTEMPTED), NONE))
    assert flags == [True, False, False, True, False, False]
