"""The cohort progress grid, a member's attempts and an attempt's answers."""

from __future__ import annotations

from datetime import timedelta

from tests.cohorts.conftest import import_mini
from tests.cohorts.kit import (
    TODAY,
    add_attempt,
    cell,
    cell_classes,
    complete_course,
    complete_lessons,
    enroll,
    make_cohort,
    questions_by_slug,
)
from tests.learn.kit import Trainee
from tests.learn.test_pages import IGNORED


def test_grid_states_scores_and_overdue(app, client, auth, db, tmp_path, create_user):
    first = import_mini(app, db, tmp_path / "src", "first-course")
    second = import_mini(app, db, tmp_path / "src", "second-course")
    questions = questions_by_slug(db, first.version_id)
    q1, q2 = questions["m1-single"], questions["m2-single"]
    done, working, idle = (create_user("trainee", full_name=name) for name in ("Done Dana", "Working Wes", "Idle Ian"))
    # Done: completed the first course; two exam attempts, the best counts.
    enroll(db, done.id, first.version_id, first.course_id)
    complete_course(db, done.id, first.version_id, first.course_id, score=85)
    for number, percent in ((1, 60.0), (2, 85.0)):
        add_attempt(db, user_id=done.id, quiz_id=first.exam, version_id=first.version_id, percent=percent,
                    number=number, answers={q1: ({"choice": "b"}, 1.0), q2: ({"choice": "a"}, 0.0)})
    # Working: one lesson of four, an exam at 40 %, a practice quiz at 100 % (not an exam), an exam running.
    enroll(db, working.id, first.version_id, first.course_id)
    complete_lessons(db, working.id, first.version_id, first.lessons[:1])
    add_attempt(db, user_id=working.id, quiz_id=first.exam, version_id=first.version_id, percent=40.0,
                answers={q1: ({"choice": "a"}, 0.0)})
    add_attempt(db, user_id=working.id, quiz_id=first.quizzes[0], version_id=first.version_id, percent=100.0,
                answers={q1: ({"choice": "b"}, 1.0)})
    add_attempt(db, user_id=working.id, quiz_id=first.exam, version_id=first.version_id, percent=0.0,
                number=2, status="in_progress", answers={q1: ({"choice": "b"}, 1.0)})
    trainer = auth.login_as("trainer")
    yesterday = TODAY - timedelta(days=1)
    cohort_id = make_cohort(db, trainer.id, members=[done.id, working.id, idle.id],
                            courses=[(first.course_id, yesterday), (second.course_id, None)])
    page = client.get(f"/cohorts/{cohort_id}/progress").get_data(as_text=True)

    assert cell(page, done.id, first.course_id).startswith("Completed")
    assert "Best exam: 85%" in cell(page, done.id, first.course_id)
    assert "overdue" not in cell_classes(page, done.id, first.course_id)
    assert cell(page, working.id, first.course_id) == "In progress 1 of 4 lessons Best exam: 40% Overdue"
    assert {"state-in_progress", "overdue"} <= cell_classes(page, working.id, first.course_id)
    assert cell(page, idle.id, first.course_id) == "Not started Overdue"
    for member in (done, working, idle):  # no due date: never overdue
        assert cell(page, member.id, second.course_id) == "Not started"
    summary = page.split("<tfoot>", 1)[1]
    assert "1 of 3 completed" in summary and "2 overdue" in summary and "0 of 3 completed" in summary
    # Rows are the members by name; columns the courses by due date (undated last).
    assert page.index("Done Dana") < page.index("Idle Ian") < page.index("Working Wes")
    assert page.index("Mini course first-course") < page.index("Mini course second-course")


def test_grid_query_count_is_the_same_for_1_and_20_trainees(app, client, auth, db, tmp_path, create_user,
                                                            count_queries):
    first = import_mini(app, db, tmp_path / "src", "first-course")
    second = import_mini(app, db, tmp_path / "src", "second-course")
    q1 = questions_by_slug(db, first.version_id)["m1-single"]
    trainer = auth.login_as("trainer")

    def busy_trainee(n: int) -> int:
        user = create_user("trainee", full_name=f"Trainee {n:02d}")
        for course in (first, second):
            enroll(db, user.id, course.version_id, course.course_id)
            complete_lessons(db, user.id, course.version_id, course.lessons[: 1 + n % 3])
        add_attempt(db, user_id=user.id, quiz_id=first.exam, version_id=first.version_id, percent=float(n),
                    answers={q1: ({"choice": "b"}, 1.0)})
        if n % 2:
            complete_course(db, user.id, first.version_id, first.course_id, score=float(n))
        return user.id

    def statements(cohort_id: int) -> int:
        url = f"/cohorts/{cohort_id}/progress"
        client.get(url)
        count_queries().clear()
        response = client.get(url)
        assert response.status_code == 200
        return len([s for s in count_queries() if not IGNORED.match(s)])

    courses = [(first.course_id, TODAY), (second.course_id, None)]
    small = make_cohort(db, trainer.id, members=[busy_trainee(1)], courses=courses)
    large = make_cohort(db, trainer.id, name="Large", members=[busy_trainee(n) for n in range(2, 22)], courses=courses)
    assert statements(small) == statements(large)
    assert statements(large) <= 16


def test_a_members_attempts_and_an_attempts_answers(app, client, auth, db, create_user, course):
    """The trainee takes the exam through the real pages; the trainer reads every answer afterwards."""
    from tests.conftest import Auth

    trainee_client = app.test_client()
    trainee = create_user("trainee", full_name="Exam Taker")
    Auth(trainee_client, create_user).login(trainee.username)
    attempt_id = Trainee(trainee_client, db).pass_quiz(course.exam, correct=False)
    running = Trainee(trainee_client, db).start_quiz(course.quizzes[0])
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id, members=[trainee.id], courses=[(course.course_id, None)])

    listing = client.get(f"/cohorts/{cohort_id}/members/{trainee.id}").get_data(as_text=True)
    assert "Attempts of Exam Taker" in listing
    assert f"/cohorts/{cohort_id}/attempts/{attempt_id}" in listing and "Final exam" in listing
    assert "0% · Not passed" in listing
    assert "In progress" in listing and f"/cohorts/{cohort_id}/attempts/{running}" in listing

    review = client.get(f"/cohorts/{cohort_id}/attempts/{attempt_id}").get_data(as_text=True)
    assert "Attempt 1 by Exam Taker" in review
    assert review.count('class="card review wrong"') == 2  # the exam draws one question per module
    assert "Trainee's answer:" in review and "Your answer:" not in review
    assert "Correct answer:" in review

    in_progress = client.get(f"/cohorts/{cohort_id}/attempts/{running}").get_data(as_text=True)
    assert "still in progress" in in_progress and "Trainee's answer:" not in in_progress
