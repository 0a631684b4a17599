"""A trainee's way through a course over HTTP: completion, resume, language fallback, time spent, races."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from cbt.db import utcnow
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from tests.conftest import ROOT, csrf_token
from tests.learn.kit import Trainee, ids_of, import_course, write_course

SLUG = "mini-course"
SHIPPED = sorted(p.name for p in (ROOT / "courses").iterdir() if (p / "course.yaml").is_file())


def lesson_url(lesson_id: int, slug: str = SLUG) -> str:
    return f"/learn/courses/{slug}/lessons/{lesson_id}"


def completions(db, user_id: int) -> list[CourseCompletion]:
    db.rollback()
    rows = db.scalars(select(CourseCompletion).where(CourseCompletion.user_id == user_id)).all()
    db.rollback()
    return list(rows)


@pytest.fixture
def course(app, db, tmp_path) -> dict:
    version_id, created = import_course(app, write_course(tmp_path / "src"))
    assert created
    return {"version_id": version_id, **ids_of(db, version_id)}


# --- completing a course ----------------------------------------------------------------------------

def test_trainee_completes_a_course_from_sign_in_to_transcript(client, auth, db, course):
    user = auth.login_as("trainee")
    trainee = Trainee(client, db)
    lessons = course["lessons"]

    # The course page before starting: nothing done, a Start button.
    page = client.get(f"/learn/courses/{SLUG}").get_data(as_text=True)
    assert 'value="0"' in page and re.search(r'/continue">\s*Start</a>', page)

    # "I have finished this lesson" goes on to the next item: the next lesson, then the module's quiz.
    response = trainee.complete_lesson(SLUG, lessons[0])
    assert response.headers["Location"] == lesson_url(lessons[1])
    response = trainee.complete_lesson(SLUG, lessons[1])
    assert response.headers["Location"] == f"/quiz/{course['quizzes'][0]}"
    page = client.get(lesson_url(lessons[0])).get_data(as_text=True)
    assert "You completed this lesson on" in page and "I have finished this lesson" not in page

    for lesson_id in lessons[2:]:
        assert trainee.complete_lesson(SLUG, lesson_id).status_code == 302
    for quiz_id in course["quizzes"]:
        trainee.pass_quiz(quiz_id)
    assert completions(db, user.id) == [], "completed before the exam was passed"
    page = client.get(f"/learn/courses/{SLUG}").get_data(as_text=True)
    assert "Progress: 85%" in page  # 4 lessons + 2 quizzes of 7 items

    trainee.pass_quiz(course["exam"])
    [record] = completions(db, user.id)
    assert record.course_version_id == course["version_id"]
    assert record.score == 100.0
    assert record.locale == user.locale

    my_learning = client.get("/learn/").get_data(as_text=True)
    completed_section = my_learning.split("Completed courses", 1)
    assert len(completed_section) == 2, "no Completed courses section on My learning"
    assert "Mini course mini-course" in completed_section[1]
    assert "Completed on" in completed_section[1] and "Exam score: 100%" in completed_section[1]
    assert "Mini course mini-course" not in completed_section[0].split("<h1>", 1)[1]

    course_page = client.get(f"/learn/courses/{SLUG}").get_data(as_text=True)
    assert "You completed this course on" in course_page and "Progress: 100%" in course_page

    transcript = client.get("/learn/transcript").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\">Mini course mini-course.*?</tr>", transcript, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells[0] == "Completed"
    assert cells[2] != "–"  # completion date
    assert cells[3:6] == ["4 / 4", "2 / 2", "100%"]


def test_failing_the_exam_does_not_complete_the_course(client, auth, db, course):
    user = auth.login_as("trainee")
    trainee = Trainee(client, db)
    for lesson_id in course["lessons"]:
        trainee.complete_lesson(SLUG, lesson_id)
    for quiz_id in course["quizzes"]:
        trainee.pass_quiz(quiz_id)
    trainee.pass_quiz(course["exam"], correct=False)
    assert completions(db, user.id) == []
    assert "Completed courses" not in client.get("/learn/").get_data(as_text=True)
    trainee.pass_quiz(course["exam"])  # second attempt
    assert len(completions(db, user.id)) == 1


def _transcript_cells(client) -> list[str]:
    transcript = client.get("/learn/transcript").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\">Mini course mini-course.*?</tr>", transcript, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]


def test_transcript_shows_a_course_in_progress(client, auth, db, course):
    """Lessons done of lessons in the course (not the reverse), quizzes passed, best exam, bounded time."""
    user = auth.login_as("trainee")
    trainee = Trainee(client, db)
    trainee.complete_lesson(SLUG, course["lessons"][0])
    _age_activity(db, user.id, timedelta(minutes=5))
    client.get(lesson_url(course["lessons"][1]))
    trainee.pass_quiz(course["quizzes"][0])
    trainee.pass_quiz(course["quizzes"][1], correct=False)
    trainee.pass_quiz(course["exam"], correct=False)
    state, _started, completed, lessons, quizzes, exam, spent = _transcript_cells(client)
    assert (state, completed) == ("In progress", "–")
    assert lessons == "1 / 4"
    assert quizzes == "1 / 2"
    assert exam == "0%"
    assert spent == "5 min"


def _duration(app, minutes: int, locale: str = "en") -> str:
    from flask_babel import force_locale

    from cbt.i18n import format_minutes

    with app.test_request_context(), force_locale(locale):
        return format_minutes(minutes)


def test_durations_on_learning_pages_read_as_minutes_and_hours(app, client, auth, db, tmp_path):
    """Babel's default threshold once made a 5-minute lesson "300 sec" and a 270-minute course "240 min 30 min"."""
    version_id, _ = import_course(app, write_course(tmp_path / "src"))
    lesson = ids_of(db, version_id)["lessons"][0]
    auth.login_as("trainee")
    assert "· 5 min</p>" in client.get(lesson_url(lesson)).get_data(as_text=True)  # minutes: 5
    assert [_duration(app, m) for m in (5, 45, 60, 270)] == ["5 min", "45 min", "1 hr", "4 hr 30 min"]
    assert _duration(app, 270, "kk") == "4 сағ 30 мин"


def test_no_time_spent_reads_as_zero_minutes(app):
    assert _duration(app, 0) == "0 min"


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_shipped_course_can_be_completed_over_http(app, client, auth, db, slug):
    """Every question of every shipped quiz answered right through its page grades 100 %, and completes."""
    from cbt.quiz.models import Attempt

    version_id, _ = import_course(app, ROOT / "courses" / slug)
    ids = ids_of(db, version_id)
    user = auth.login_as("trainee")
    trainee = Trainee(client, db)
    for lesson_id in ids["lessons"]:
        assert trainee.complete_lesson(slug, lesson_id).status_code == 302
    for quiz_id in [*ids["quizzes"], ids["exam"]]:
        attempt_id = trainee.pass_quiz(quiz_id)
        db.rollback()
        attempt = db.get(Attempt, attempt_id)
        assert (attempt.percent, attempt.passed) == (100.0, True), (quiz_id, attempt.percent)
        db.rollback()
    assert len(completions(db, user.id)) == 1
    assert "Completed on" in client.get("/learn/").get_data(as_text=True)


# --- resume -------------------------------------------------------------------------------------------

def test_continue_goes_to_the_first_lesson_before_anything_was_opened(client, auth, course):
    auth.login_as("trainee")
    response = client.get(f"/learn/courses/{SLUG}/continue")
    assert response.headers["Location"] == lesson_url(course["lessons"][0])


def test_continue_resumes_the_last_lesson_after_signing_in_again_elsewhere(
        app, client, auth, create_user, course):
    from tests.conftest import Auth

    user = create_user("trainee")
    auth.login(user.username)
    for lesson_id in course["lessons"][:3]:
        assert client.get(lesson_url(lesson_id)).status_code == 200
    auth.logout()

    other_terminal = app.test_client()
    assert Auth(other_terminal, create_user).login(user.username).status_code == 302
    my_learning = other_terminal.get("/learn/").get_data(as_text=True)
    assert re.search(rf'href="/learn/courses/{SLUG}/continue">\s*Continue</a>', my_learning)
    response = other_terminal.get(f"/learn/courses/{SLUG}/continue")
    assert response.status_code == 302
    assert response.headers["Location"] == lesson_url(course["lessons"][2])


def test_continue_goes_to_the_quiz_last_opened(client, auth, course):
    auth.login_as("trainee")
    client.get(lesson_url(course["lessons"][1]))
    quiz_id = course["quizzes"][0]
    assert client.get(f"/quiz/{quiz_id}").status_code == 200
    assert client.get(f"/learn/courses/{SLUG}/continue").headers["Location"] == f"/quiz/{quiz_id}"
    client.get(lesson_url(course["lessons"][2]))
    resumed = client.get(f"/learn/courses/{SLUG}/continue").headers["Location"]
    assert resumed == lesson_url(course["lessons"][2])


# --- language fallback ----------------------------------------------------------------------------

@pytest.mark.parametrize(("fallback", "shown", "shown_name"), [
    (("kk", "ru", "en"), "ru", "Русский"),
    (("kk", "en", "ru"), "en", "English"),
])
def test_a_lesson_missing_in_kazakh_is_shown_in_the_next_fallback_language(
        app, client, auth, db, tmp_path, fallback, shown, shown_name):
    from flask_babel import force_locale
    from flask_babel import gettext as _

    app.config["CONTENT_FALLBACK"] = fallback
    version_id, _created = import_course(
        app, write_course(tmp_path / "src",
                          missing={"kk": ["01-module/02-lesson-2"], "ru": ["02-module/01-lesson-1"]}))
    lessons = ids_of(db, version_id)["lessons"]
    auth.login_as("trainee", locale="kk")

    page = client.get(lesson_url(lessons[1])).get_data(as_text=True)
    assert '<html lang="kk">' in page
    assert f'<article class="lesson card" lang="{shown}">' in page
    assert f"Body of lesson 1.2 in {shown}." in page
    with app.test_request_context(), force_locale("kk"):
        notice = _("This lesson is not yet available in %(wanted)s; it is shown in %(shown)s.",
                   wanted="Қазақша", shown=shown_name)
    assert html.escape(notice, quote=False) in page

    # A lesson that exists in Kazakh shows no notice.
    page = client.get(lesson_url(lessons[0])).get_data(as_text=True)
    assert 'lang="kk">' in page and "Body of lesson 1.1 in kk." in page
    assert 'class="notice"' not in page


def test_switching_language_on_a_lesson_keeps_the_place(app, client, auth, db, tmp_path):
    folder = write_course(tmp_path / "src", missing={"kk": ["01-module/02-lesson-2"]})
    version_id, _ = import_course(app, folder)
    lessons = ids_of(db, version_id)["lessons"]
    auth.login_as("trainee", locale="kk")
    page = client.get(lesson_url(lessons[1])).get_data(as_text=True)
    assert 'class="notice"' in page
    form = re.search(r'<form method="post" action="/language">(.*?)</form>', page, re.S).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    next_url = re.search(r'name="next" value="([^"]+)"', form).group(1)
    response = client.post("/language", data={"csrf_token": token, "next": next_url, "locale": "en"})
    assert response.headers["Location"] == lesson_url(lessons[1])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="en">' in page and "Body of lesson 1.2 in en." in page
    assert 'class="notice"' not in page
    # The place is kept for Continue too.
    assert client.get(f"/learn/courses/{SLUG}/continue").headers["Location"] == lesson_url(lessons[1])


# --- time spent ------------------------------------------------------------------------------------

def _seconds(db, user_id: int, lesson_id: int) -> int:
    db.rollback()
    value = db.scalar(select(LessonProgress.seconds_spent).where(
        LessonProgress.user_id == user_id, LessonProgress.lesson_id == lesson_id))
    db.rollback()
    return value


def _age_activity(db, user_id: int, delta: timedelta) -> None:
    db.execute(update(Enrollment).where(Enrollment.user_id == user_id)
               .values(last_activity_at=utcnow() - delta))
    db.commit()


@pytest.mark.parametrize(("gap_minutes", "away", "credited"), [
    (None, timedelta(hours=10), 600),          # default cap: ACTIVITY_GAP_MINUTES = 10
    (3, timedelta(hours=10), 180),
    (None, timedelta(minutes=2), 120),         # a real pause under the cap counts in full
    (None, -timedelta(minutes=5), 0),          # a clock that went backwards credits nothing
])
def test_time_spent_on_a_lesson_is_bounded(app, client, auth, db, course, gap_minutes, away, credited):
    if gap_minutes is not None:
        app.config["ACTIVITY_GAP_MINUTES"] = gap_minutes
    user = auth.login_as("trainee")
    first, second = course["lessons"][:2]
    client.get(lesson_url(first))
    before = _seconds(db, user.id, first)
    _age_activity(db, user.id, away)
    client.get(lesson_url(second))
    grown = _seconds(db, user.id, first) - before
    assert credited <= grown <= credited + 2, grown
    assert _seconds(db, user.id, second) == 0


def test_time_on_a_quiz_is_not_credited_to_the_lesson_before_it(client, auth, db, course):
    user = auth.login_as("trainee")
    client.get(lesson_url(course["lessons"][1]))
    client.get(f"/quiz/{course['quizzes'][0]}")
    _age_activity(db, user.id, timedelta(minutes=5))
    client.get(lesson_url(course["lessons"][2]))
    assert _seconds(db, user.id, course["lessons"][1]) <= 2


# --- racing completions -------------------------------------------------------------------------------

def _race(app, create_user, course: dict, lesson_ids: tuple[int, int]) -> tuple[int, list[int]]:
    """Two terminals of one trainee post "finished" for ``lesson_ids`` at the same moment."""
    from tests.conftest import Auth

    user = create_user("trainee")
    clients = [app.test_client(), app.test_client()]
    for terminal in clients:
        assert Auth(terminal, create_user).login(user.username).status_code == 302
    for lesson_id in course["lessons"]:
        if lesson_id not in lesson_ids:
            assert Trainee(clients[0], None).complete_lesson(SLUG, lesson_id).status_code == 302
    tokens = [csrf_token(terminal, lesson_url(lesson_id)) for terminal, lesson_id in zip(clients, lesson_ids,
                                                                                         strict=True)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def finish(terminal, lesson_id: int, token: str) -> None:
        try:
            barrier.wait(timeout=10)
            response = terminal.post(f"{lesson_url(lesson_id)}/complete", data={"csrf_token": token})
            statuses.append(response.status_code)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=finish, args=args)
               for args in zip(clients, lesson_ids, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return user.id, statuses


@pytest.mark.parametrize("same_lesson", [True, False], ids=["same-last-lesson", "two-last-lessons"])
def test_completion_is_stored_exactly_once_when_two_terminals_race(
        app, db, tmp_path, create_user, same_lesson):
    version_id, _ = import_course(app, write_course(tmp_path / "src", quizzes=False, exam=False))
    course = ids_of(db, version_id)
    last = course["lessons"][-1]
    pair = (last, last) if same_lesson else (course["lessons"][-2], last)
    for _round in range(4):
        user_id, statuses = _race(app, create_user, course, pair)
        assert statuses == [302, 302]
        assert len(completions(db, user_id)) == 1
    db.rollback()
    assert db.scalar(select(func.count(CourseCompletion.id))) == 4
    db.rollback()


def test_shipped_course_folder_exists():
    """The shipped-course tests above are parametrized over this list; an empty list would test nothing."""
    assert len(SHIPPED) >= 3
    assert all((ROOT / "courses" / slug / "exam.yaml").is_file() for slug in SHIPPED)



def test_completion_is_not_lost_when_the_exam_and_the_last_lesson_finish_together(
        app, db, tmp_path, create_user, monkeypatch):
    """Each request sees only its own uncommitted step; neither may conclude "not yet" for both.

    A pause after the progress count widens the window in which two transactions (exam submit and last
    lesson) have each written their step, counted, and not committed; on PostgreSQL (read committed) both
    would miss the other's step unless completion checks for one trainee and course are serialized.
    """
    import time

    from cbt.learn import services
    from tests.conftest import Auth

    version_id, _ = import_course(app, write_course(tmp_path / "src"))
    course = ids_of(db, version_id)
    user = create_user("trainee")
    exam_terminal, lesson_terminal = app.test_client(), app.test_client()
    for terminal in (exam_terminal, lesson_terminal):
        assert Auth(terminal, create_user).login(user.username).status_code == 302
    exam_trainee = Trainee(exam_terminal, db)
    for lesson_id in course["lessons"][:-1]:
        exam_trainee.complete_lesson(SLUG, lesson_id)
    for quiz_id in course["quizzes"]:
        exam_trainee.pass_quiz(quiz_id)
    attempt_id = exam_trainee.start_quiz(course["exam"])
    exam_trainee.answer_all(attempt_id)
    exam_token = csrf_token(exam_terminal, f"/quiz/attempts/{attempt_id}/finish")
    lesson_token = csrf_token(lesson_terminal, lesson_url(course["lessons"][-1]))

    counted = services.progress_for

    def slow_progress_for(*args, **kwargs):
        result = counted(*args, **kwargs)
        time.sleep(0.4)  # counted, not yet committed: the other request runs its count now
        return result

    monkeypatch.setattr(services, "progress_for", slow_progress_for)
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def run(name: str, terminal, url: str, token: str) -> None:
        barrier.wait(timeout=10)
        statuses[name] = terminal.post(url, data={"csrf_token": token}).status_code

    threads = [
        threading.Thread(target=run, args=(
            "exam", exam_terminal, f"/quiz/attempts/{attempt_id}/submit", exam_token)),
        threading.Thread(target=run, args=(
            "lesson", lesson_terminal, f"{lesson_url(course['lessons'][-1])}/complete", lesson_token)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == {"exam": 302, "lesson": 302}
    assert len(completions(db, user.id)) == 1
