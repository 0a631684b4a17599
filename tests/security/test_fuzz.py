"""Hostile input to every form and JSON endpoint (Hypothesis): never a 500, never a half-stored record.

Values mix random unicode with the classics: NUL, 100 000-character strings, numbers as strings (huge,
negative, ``1e309``, ``NaN``, full-width and Arabic-Indic digits), markup, template syntax, path traversal,
bidi overrides, repeated and missing fields. What is asserted:

* the server answers 2xx, 3xx, 400, 404, 413 or 429 (a 500 fails the test with the example that caused it);
* invalid input stores nothing: account, password, language and answers are counted or compared before and
  after; at most one answer row ever exists per attempt and question;
* a redirect never leaves the site.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from cbt.auth.models import User
from cbt.quiz.models import Attempt, Response
from tests.conftest import ROOT, csrf_token

FIELD_DRILL = ROOT / "tests" / "fixtures" / "courses" / "field-drill"
OK = {200, 204, 302, 303, 307, 308, 400, 403, 404, 413, 429}

HOSTILE = [
    "\x00", "a\x00b", "' OR '1'='1' --", "\"; DROP TABLE users; --", "<script>window.__xss=1</script>",
    "{{7*7}}", "{% raw %}", "%s%s%n", "../../../../etc/passwd", "..\\..\\windows\\win.ini", "9" * 40,
    "-1", "-0", "0", "1e309", "NaN", "-inf", "0x1F", "1_000", "１２３", "٣", " 7 ", "", " ", "\u202etxt.exe",
    "\ufeff", "İıß", "🙂" * 500, "A" * 100_000, "\r\nSet-Cookie: x=1", "null", "[]", "{}", "true",
    "javascript:alert(1)", "//evil.example/", "https://evil.example/", "/\\evil.example",
]
text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=80),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    # Long strings built from a short random one: cheap to generate, expensive to store and render.
    st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=8), st.integers(100, 5_000)),
)
value = st.one_of(text, st.lists(text, min_size=0, max_size=3))
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


def form_of(known: list[str]) -> st.SearchStrategy[dict[str, object]]:
    """A form with some of the fields the endpoint knows (others missing) plus unexpected ones."""
    return st.dictionaries(st.one_of(st.sampled_from(known), text.filter(lambda s: len(s) < 200)), value,
                           max_size=min(len(known), 6) + 2)


def _check(response, where: str) -> None:
    assert response.status_code in OK, (where, response.status_code, response.get_data(as_text=True)[-500:])
    location = urlsplit(response.headers.get("Location", ""))
    assert location.netloc in ("", "localhost"), (where, location)  # never off the site


def _count(db, model, *where) -> int:
    db.rollback()
    n = db.scalar(select(func.count()).select_from(model).where(*where))
    db.commit()
    return n


@pytest.fixture
def drill(app) -> dict[str, int]:
    """The fixture course with one question of every type."""
    from cbt.courses.importer import import_folder
    from cbt.courses.models import Lesson, Quiz
    from cbt.db import session, writing

    with app.app_context(), writing():
        version = import_folder(Path(FIELD_DRILL)).version
        session.commit()
        ids = {
            "practice": session.scalar(select(Quiz.id).where(Quiz.course_version_id == version.id,
                                                             Quiz.module_id.is_not(None))),
            "exam": session.scalar(select(Quiz.id).where(Quiz.course_version_id == version.id,
                                                         Quiz.module_id.is_(None))),
            "lesson": session.scalar(select(Lesson.id).where(Lesson.course_version_id == version.id)),
        }
        session.rollback()
    return ids


@given(data=form_of(["username", "password", "next"]))
@FUZZ
def test_sign_in_form(client, create_user, db, data):
    token = csrf_token(client)
    users = _count(db, User)
    response = client.post("/login", data={"csrf_token": token, **data})
    _check(response, "/login")
    assert _count(db, User) == users
    if response.status_code == 302:  # only the real account with its real password gets in
        pytest.fail(f"signed in with {data!r}")


@given(data=form_of(["current_password", "new_password", "confirm_password"]))
@FUZZ
def test_change_password_form(client, auth, db, data):
    if not client.get_cookie("cbt_session") or client.get("/account/password").status_code != 200:
        auth.login_as("trainee")
    before = set(db.scalars(select(User.password_hash)))
    db.commit()
    response = client.post("/account/password", data={"csrf_token": csrf_token(client, "/account/password"),
                                                       **data})
    _check(response, "/account/password")
    if response.status_code != 302:
        assert set(db.scalars(select(User.password_hash))) == before
        db.commit()


@given(data=form_of(["locale", "next"]))
@FUZZ
def test_language_switcher(client, auth, db, data):
    if client.get("/").status_code != 200:
        auth.login_as("trainee", locale="en")
    response = client.post("/language", data={"csrf_token": csrf_token(client, "/"), **data})
    _check(response, "/language")
    locales = set(db.scalars(select(User.locale)))
    db.commit()
    assert locales <= {"kk", "ru", "en"}


@pytest.fixture
def running_attempt(app, client, auth, drill, db) -> dict[str, object]:
    auth.login_as("trainee")
    token = csrf_token(client, f"/quiz/{drill['practice']}")
    location = client.post(f"/quiz/{drill['practice']}/start", data={"csrf_token": token}).headers["Location"]
    attempt_id = int(location.split("/")[3])
    db.rollback()
    attempt = db.get(Attempt, attempt_id)
    info = {"id": attempt_id, "questions": list(attempt.question_ids), "drill": drill}
    db.commit()
    return info


ANSWER_FIELDS = ["answer", "seq", "action", "question", "x", "y", "step", "choice", "order", "match-0", "match-1",
                 "item", "access_code"]


def _answers_are_single(db, attempt_id: int) -> None:
    db.rollback()
    rows = db.execute(select(Response.question_version_id, func.count()).where(Response.attempt_id == attempt_id)
                      .group_by(Response.question_version_id)).all()
    db.commit()
    assert all(n == 1 for _q, n in rows), rows


@given(page=st.integers(min_value=-2, max_value=12), data=form_of(ANSWER_FIELDS))
@FUZZ
def test_question_page_form(client, running_attempt, db, page, data):
    attempt_id = running_attempt["id"]
    url = f"/quiz/attempts/{attempt_id}/{page}"
    token = csrf_token(client, "/learn/")
    response = client.post(url, data={"csrf_token": token, **data})
    _check(response, url)
    _answers_are_single(db, attempt_id)


@given(data=form_of(ANSWER_FIELDS), as_json=st.booleans(), question=st.one_of(st.none(), text, st.integers()))
@FUZZ
def test_autosave_endpoint(client, running_attempt, db, data, as_json, question):
    attempt_id = running_attempt["id"]
    token = csrf_token(client, "/learn/")
    before = _count(db, Response, Response.attempt_id == attempt_id)
    if question is None and running_attempt["questions"]:
        data["question"] = str(running_attempt["questions"][len(data) % len(running_attempt["questions"])])
    elif question is not None:
        data["question"] = str(question)
    url = f"/quiz/attempts/{attempt_id}/autosave"
    if as_json:
        response = client.post(url, json=data, headers={"X-CSRFToken": token})
    else:
        response = client.post(url, data={"csrf_token": token, **data})
    _check(response, url)
    after = _count(db, Response, Response.attempt_id == attempt_id)
    if response.status_code != 200 or response.get_json(silent=True, force=True).get("status") != "saved":
        assert after == before, (data, response.get_data(as_text=True)[:300])
    _answers_are_single(db, attempt_id)


@given(data=form_of(["access_code", "csrf_token"]), quiz=st.sampled_from(["practice", "exam", "missing"]))
@FUZZ
def test_quiz_start_and_submit(client, running_attempt, db, data, quiz):
    drill = running_attempt["drill"]
    quiz_id = drill.get(quiz, 999_999)
    token = csrf_token(client, "/learn/")
    response = client.post(f"/quiz/{quiz_id}/start", data={**data, "csrf_token": token})
    _check(response, "start")
    db.rollback()
    running = db.scalar(select(func.count()).select_from(Attempt).where(Attempt.status == "in_progress",
                                                                        Attempt.quiz_id == quiz_id))
    db.commit()
    assert running <= 1  # never two open attempts at one quiz
    response = client.post(f"/quiz/attempts/{running_attempt['id']}/submit", data={**data, "csrf_token": token})
    _check(response, "submit")


@given(slug=st.one_of(st.just("field-drill"), text.filter(lambda s: 0 < len(s) < 300)),
       lesson=st.one_of(st.integers(min_value=-5, max_value=2**70), st.just(None)), data=form_of(["next", "x"]))
@FUZZ
def test_lesson_complete_and_pages_with_hostile_ids(client, running_attempt, data, slug, lesson):
    from urllib.parse import quote

    lesson_id = running_attempt["drill"]["lesson"] if lesson is None else lesson
    base = f"/learn/courses/{quote(slug, safe='')}/lessons/{lesson_id}"
    token = csrf_token(client, "/learn/")
    _check(client.post(base + "/complete", data={"csrf_token": token, **data}), base)
    for url in (base, f"/learn/courses/{quote(slug, safe='')}", f"/quiz/{lesson_id}",
                f"/quiz/attempts/{lesson_id}/{lesson_id}", f"/quiz/attempts/{lesson_id}/result"):
        _check(client.get(url), url)


def test_numbers_too_large_for_an_id_are_not_found(client, running_attempt):
    """Regression: a 20-digit id used to reach the database and end in a 500 (SQLite and PostgreSQL)."""
    for url in ("/quiz/99999999999999999999", f"/quiz/{2**31}", "/quiz/attempts/99999999999999999999/1",
                "/learn/courses/field-drill/lessons/99999999999999999999"):
        assert client.get(url).status_code == 404, url


def test_a_sequence_number_too_large_for_the_database_is_a_bad_request(client, running_attempt, db):
    """Regression: ``seq`` of 40 digits used to end in a 500 (integer out of range)."""
    token = csrf_token(client, "/learn/")
    before = _count(db, Response)
    response = client.post(f"/quiz/attempts/{running_attempt['id']}/1",
                           data={"csrf_token": token, "seq": "9" * 40, "answer": "0"})
    assert response.status_code in (302, 400)
    assert _count(db, Response) == before


def test_nul_characters_are_refused_everywhere(client, running_attempt, db):
    """Regression: PostgreSQL cannot store NUL; it used to be a 500 (slug in the URL, any text field)."""
    token = csrf_token(client, "/learn/")
    assert client.get("/learn/courses/%00").status_code == 400
    assert client.get("/learn/?q=%00").status_code == 400
    before = _count(db, Response)
    response = client.post(f"/quiz/attempts/{running_attempt['id']}/4",
                           data={"csrf_token": token, "seq": "0", "answer": "TIR\x00"})
    assert response.status_code == 400
    assert _count(db, Response) == before
    assert client.post("/language", data={"csrf_token": token, "locale": "kk\x00"}).status_code == 400


SWEEP_FIELDS = ["name", "title", "username", "full_name", "service_number", "locale", "answer", "seq", "role",
                "password", "course", "code", "id", "user_id", "due_date", "next", "q"]


@pytest.mark.parametrize("role", ["trainee", "admin"])
@given(form=form_of(SWEEP_FIELDS))
@settings(FUZZ, max_examples=8)
def test_every_post_endpoint_survives_hostile_forms(app, client, auth, drill, role, form):
    """A sweep over the URL map, so endpoints added later are fuzzed too (with a valid token)."""
    from tests.test_access import _routes, _url

    if client.get("/").status_code != 200:
        auth.login_as(role)
    token = csrf_token(client, "/learn/")
    for rule, _view in _routes(app):
        if "POST" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        _check(client.post(_url(rule), data={**form, "csrf_token": token}), rule.rule)
