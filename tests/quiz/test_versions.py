"""A response belongs to the question version it answered: a new course version never re-grades the past."""

from __future__ import annotations

from tests.quiz.conftest import (
    answer_all,
    answer_form,
    get_attempt,
    import_course,
    page_of,
    quizzes_of,
    responses_in,
)
from tests.quiz.course import COURSE_YAML, QUESTIONS_1, write_course


def version_two(tmp_path):
    """The kit with the true/false key flipped (false -> true) and the version raised."""
    questions = QUESTIONS_1.replace("  answer: false\n  feedback:", "  answer: true\n  feedback:")
    assert questions != QUESTIONS_1
    return write_course(
        tmp_path / "v2",
        {
            "course.yaml": COURSE_YAML.replace("version: 1", "version: 2"),
            "01-types/questions.yaml": questions,
        },
    )


def test_a_new_version_does_not_change_past_or_running_attempts(app, kit, trainee, db, tmp_path, create_user, browser):
    finished = trainee.start_ok(kit.practice_id)
    answer_all(trainee, db, finished)
    trainee.submit(finished)
    before = get_attempt(db, finished)
    assert before.percent == 100
    tf_v1 = next(r for r in responses_in(db, finished).values() if r.answer == {"value": False})

    running = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, running)
    number, question = page_of(db, attempt, "q-tf")
    trainee.save(running, number, answer_form(question, attempt.layout[str(question.id)]))  # "false", right in v1

    v2 = import_course(app, version_two(tmp_path))
    assert v2.version == 2 and v2.id != kit.version_id

    after = get_attempt(db, finished)
    assert (after.score, after.percent, after.passed) == (before.score, before.percent, before.passed)
    assert "100%" in trainee.result(finished)
    assert responses_in(db, finished)[tf_v1.question_version_id].fraction == 1.0

    trainee.submit(running)  # graded after the import, still against the version it was drawn from
    assert responses_in(db, running)[question.id].fraction == 1.0

    # The trainee stays on v1: v2's quiz is not theirs.
    practice_v2 = next(q for q in quizzes_of(db, v2.id) if q.kind == "practice")
    assert trainee.client.get(f"/quiz/{practice_v2.id}").status_code == 404
    # A newcomer gets v2, whose quiz grades the same answer by the new key.
    trainee = browser(create_user("trainee"))
    fresh = trainee.start_ok(practice_v2.id)
    attempt = get_attempt(db, fresh)
    number, question_v2 = page_of(db, attempt, "q-tf")
    assert question_v2.id != question.id and question_v2.spec["answer"] is True
    trainee.save(fresh, number, {"answer": ["false"]}, action="check")
    assert responses_in(db, fresh)[question_v2.id].fraction == 0.0
