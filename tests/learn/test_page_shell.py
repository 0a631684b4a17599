"""Pages from the page-shell store are the pages Jinja renders, and they are nobody else's.

``cbt.page_shell`` renders a lesson once per (path, language, role, done), and a quiz's overview before a
trainee's first attempt once per (path, language, role), and fills in the name, the CSRF token and the day
the lesson was finished per request. These tests compare both pages byte for byte with the ordinary
render, check that two trainees never see each other's name or token, and that a template reading anything
personal from a shared page fails instead of leaking it.
"""

from __future__ import annotations

import re

import pytest
from jinja2 import ChoiceLoader, DictLoader

from cbt import page_shell
from tests.conftest import Auth, csrf_token
from tests.learn.kit import Trainee, ids_of, import_course, write_course

TOKEN = re.compile(r'(name="csrf_token" value=")[^"]+(")')


def _lesson_urls(app, db, tmp_path) -> tuple[str, list[str]]:
    version, _ = import_course(app, write_course(tmp_path / "src", "shell-course"))
    ids = ids_of(db, version)
    return "shell-course", [f"/learn/courses/shell-course/lessons/{lid}" for lid in ids["lessons"]]


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _without_tokens(page: str) -> str:
    return TOKEN.sub(r"\1TOKEN\2", page)


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_stored_page_equals_the_rendered_page(app, client, auth, db, tmp_path, locale):
    slug, urls = _lesson_urls(app, db, tmp_path)
    auth.login_as("trainee", full_name="Aigerim <Nurlanqyzy> & Co", locale=locale)
    trainee = Trainee(client, db)
    trainee.complete_lesson(slug, int(urls[0].rsplit("/", 1)[1]))
    for url in urls[:2]:  # one lesson done (with its date), one not
        _page(client, url)  # the first visit records it; the comparison is about the steady page
        app.config["PAGE_SHELLS"] = False
        rendered = _page(client, url)
        app.config["PAGE_SHELLS"] = True
        stored = _page(client, url)
        again = _page(client, url)  # now certainly from the store
        assert _without_tokens(stored) == _without_tokens(rendered)
        assert _without_tokens(again) == _without_tokens(rendered)
        assert "Aigerim &lt;Nurlanqyzy&gt; &amp; Co" in again
    assert "cbt-hole-" not in again


def test_two_trainees_get_their_own_name_and_a_working_token(app, client, auth, db, tmp_path, create_user):
    slug, urls = _lesson_urls(app, db, tmp_path)
    auth.login_as("trainee", full_name="First Trainee")
    first = _page(client, urls[0])
    first = _page(client, urls[0])
    other = app.test_client()
    Auth(other, create_user).login(create_user("trainee", full_name="Second Trainee").username)
    second = _page(other, urls[0])
    second = _page(other, urls[0])
    assert "Second Trainee" in second and "First Trainee" not in second
    assert "First Trainee" in first and "Second Trainee" not in first
    first_token = TOKEN.search(first).group(0)
    second_token = TOKEN.search(second).group(0)
    assert first_token != second_token
    # The token filled into the stored page is the trainee's own: the form on it works.
    token = re.search(r'name="csrf_token" value="([^"]+)"', second.split('class="lesson-end')[1]).group(1)
    done = other.post(f"{urls[0]}/complete", data={"csrf_token": token})
    assert done.status_code == 302
    # The flash after that is shown (pages with a message are rendered, not taken from the store) ...
    after = _page(other, done.headers["Location"])
    assert 'class="flash flash-success"' in after
    # ... and the lesson now shows Second's completion day, while First still sees the button.
    assert 'class="badge badge-done"' in _page(other, urls[0])
    assert 'class="badge badge-done"' not in _page(client, urls[0])


def test_a_session_token_is_signed_once_and_keeps_working(app, client, auth, db, tmp_path):
    """Flask-WTF's signature carries a timestamp: a token signed anew per page would differ a second later.
    With no time limit it is signed once per session; with one, every page is signed afresh."""
    import time

    _slug, urls = _lesson_urls(app, db, tmp_path)
    auth.login_as("trainee")
    _page(client, urls[0])
    first = TOKEN.search(_page(client, urls[0])).group(0)
    time.sleep(1.1)
    again = _page(client, urls[0])
    assert TOKEN.search(again).group(0) == first
    token = re.search(r'name="csrf_token" value="([^"]+)"', again.split('class="lesson-end')[1]).group(1)
    assert client.post(f"{urls[0]}/complete", data={"csrf_token": token}).status_code == 302

    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    limited = TOKEN.search(_page(client, urls[1])).group(0)
    time.sleep(1.1)
    assert TOKEN.search(_page(client, urls[1])).group(0) != limited


def test_a_shared_page_that_reads_personal_data_fails(app, client, auth, db, tmp_path):
    slug, urls = _lesson_urls(app, db, tmp_path)
    auth.login_as("trainee", full_name="Private Person")
    leaky = DictLoader({"leaky.html": "{% extends 'base.html' %}{% block content %}{{ current_user.username }}"
                                      "{% endblock %}"})
    app.jinja_loader  # noqa: B018 - make sure Flask built its loader before we wrap it
    app.jinja_env.loader = ChoiceLoader([leaky, app.jinja_env.loader])
    with app.test_request_context(urls[0]):
        from flask import session as cookie_session
        from flask_login import login_user

        from cbt.auth.models import User
        from cbt.db import session

        login_user(session.query(User).filter_by(full_name="Private Person").one())
        cookie_session.pop("_flashes", None)
        with pytest.raises(page_shell.ShellLeak):
            page_shell.render("leaky.html", (), {})
        app.config["PAGE_SHELLS"] = False  # rendered the ordinary way, the same template is fine
        assert "trainee" in page_shell.render("leaky.html", (), {})


def test_lesson_page_reads_and_writes_no_more_than_before(app, client, auth, db, tmp_path, count_queries):
    _slug, urls = _lesson_urls(app, db, tmp_path)
    auth.login_as("trainee")
    _page(client, urls[0])
    _page(client, urls[0])
    count_queries().clear()
    _page(client, urls[0])
    statements = [s for s in count_queries() if not s.lstrip().upper().startswith("UPDATE USER_SESSIONS")]
    # The session with its user, and the enrolment with this lesson's completion: nothing else, no write.
    assert len(statements) == 2, statements
    assert csrf_token(client, urls[0])


def _quiz_urls(app, db, tmp_path) -> list[str]:
    version, _ = import_course(app, write_course(tmp_path / "src", "shell-quiz"))
    ids = ids_of(db, version)
    return [f"/quiz/{quiz_id}" for quiz_id in (*ids["quizzes"], ids["exam"])]


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_stored_quiz_overview_equals_the_rendered_one(app, client, auth, db, tmp_path, locale):
    urls = _quiz_urls(app, db, tmp_path)
    auth.login_as("trainee", full_name="Aigerim <Nurlanqyzy> & Co", locale=locale)
    for url in urls:  # practice quizzes and the exam
        _page(client, url)  # the first visit records it
        app.config["PAGE_SHELLS"] = False
        rendered = _page(client, url)
        app.config["PAGE_SHELLS"] = True
        _page(client, url)
        stored = _page(client, url)  # now certainly from the store
        assert _without_tokens(stored) == _without_tokens(rendered)
        assert "Aigerim &lt;Nurlanqyzy&gt; &amp; Co" in stored
        assert "cbt-hole-" not in stored


def test_quiz_overview_is_personal_once_the_trainee_has_attempts(app, client, auth, db, tmp_path, create_user):
    exam = _quiz_urls(app, db, tmp_path)[-1]
    auth.login_as("trainee", full_name="First Trainee")
    first = _page(client, exam)
    first = _page(client, exam)
    other = app.test_client()
    Auth(other, create_user).login(create_user("trainee", full_name="Second Trainee").username)
    second = _page(other, exam)
    second = _page(other, exam)
    assert "Second Trainee" in second and "First Trainee" not in second
    assert TOKEN.search(first).group(0) != TOKEN.search(second).group(0)
    # The token filled into the stored page is Second's own: the start form on it works ...
    token = re.search(r'name="csrf_token" value="([^"]+)"', second.split(f'action="{exam}/start"')[1]).group(1)
    started = other.post(f"{exam}/start", data={"csrf_token": token})
    assert started.status_code == 302 and "/quiz/attempts/" in started.headers["Location"]
    # ... and from then on Second's overview offers to continue that attempt, while First may still start.
    assert "Continue your attempt" in _page(other, exam)
    assert "Continue your attempt" not in _page(client, exam)
    assert f'action="{exam}/start"' in _page(client, exam)
