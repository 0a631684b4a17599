"""CSRF beyond the sweep in tests/test_access.py: the JSON autosave, the language switcher, stolen tokens.

The sweep proves every POST refuses a missing or forged token for a signed-in admin. Here the endpoints a
trainee uses most are attacked with what a hostile page on the classroom LAN could send: no token, a
made-up one, a real token from *another* officer's session, and the token in the wrong place; each time
nothing may change.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cbt.auth.models import User
from cbt.quiz.models import Attempt, Response
from tests.conftest import CSRF_RE, Auth, csrf_token
from tests.pages import build_world

EXPIRED = "The form has expired or is not valid"


def _responses(db, attempt_id: int) -> int:
    db.rollback()
    count = db.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt_id))
    db.commit()
    return count


@pytest.fixture
def world(app, client, auth, tmp_path):
    return build_world(app, client, auth, tmp_path)


def _bad_tokens(app, create_user) -> list[dict[str, str]]:
    other = app.test_client()
    Auth(other, create_user).login_as("trainee")
    foreign = csrf_token(other, "/learn/")  # valid, but for someone else's session
    return [{}, {"csrf_token": ""}, {"csrf_token": "forged"}, {"csrf_token": foreign}]


def test_autosave_refuses_missing_forged_and_foreign_tokens(app, client, create_user, world, db):
    db.rollback()
    attempt = db.get(Attempt, world.attempt_id)
    question = attempt.question_ids[0]
    db.commit()
    before = _responses(db, world.attempt_id)
    for bad in _bad_tokens(app, create_user):
        response = client.post(f"/quiz/attempts/{world.attempt_id}/autosave",
                               data={"question": str(question), "seq": "0", "answer": "0", **bad})
        assert response.status_code == 400, bad
        assert EXPIRED in response.get_data(as_text=True)
    # JSON body instead of a form, token only in a JSON field: still refused.
    response = client.post(f"/quiz/attempts/{world.attempt_id}/autosave",
                           json={"question": question, "seq": 0, "answer": "0", "csrf_token": "x"})
    assert response.status_code == 400
    assert _responses(db, world.attempt_id) == before
    # The control: with the page's own token the same request saves.
    token = csrf_token(client, f"/quiz/attempts/{world.attempt_id}/1")
    ok = client.post(f"/quiz/attempts/{world.attempt_id}/autosave",
                     data={"question": str(question), "seq": "0", "answer": "0", "csrf_token": token})
    assert ok.status_code == 200 and ok.json["status"] == "saved"
    assert _responses(db, world.attempt_id) == before + 1


def test_the_token_in_a_header_must_be_the_real_one(client, world, db):
    """Flask-WTF also reads X-CSRFToken (the script may use it); a forged header is refused too."""
    db.rollback()
    question = db.get(Attempt, world.attempt_id).question_ids[0]
    db.commit()
    response = client.post(f"/quiz/attempts/{world.attempt_id}/autosave",
                           data={"question": str(question), "seq": "0", "answer": "0"},
                           headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400


def test_language_switcher_refuses_bad_tokens_and_changes_nothing(app, client, auth, create_user, db):
    user = auth.login_as("trainee", locale="en")
    for bad in _bad_tokens(app, create_user):
        response = client.post("/language", data={"locale": "kk", "next": "/", **bad})
        assert response.status_code == 400, bad
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(User.locale).where(User.id == user.id)) == "en"
    db.commit()
    # The control: a real token switches language and profile.
    client.post("/language", data={"locale": "kk", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert '<html lang="kk"' in client.get("/").get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(User.locale).where(User.id == user.id)) == "kk"


def test_anonymous_language_switch_and_sign_in_need_a_token(client, create_user):
    """Login CSRF: a hostile page cannot sign the terminal in as the attacker's account."""
    user = create_user("trainee")
    assert client.post("/login", data={"username": user.username, "password": "x"}).status_code == 400
    assert client.post("/language", data={"locale": "ru", "next": "/login"}).status_code == 400
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", ["trainee", "trainer"])
def test_every_post_refuses_bad_tokens_for_other_roles_too(app, client, auth, role):
    """The sweep in test_access signs in as admin; trainees and trainers get the same refusal."""
    auth.login_as(role)
    from tests.test_access import _routes, _url

    posts = [rule for rule, _view in _routes(app) if "POST" in rule.methods]
    for rule in posts:
        for data in ({}, {"csrf_token": "forged"}):
            assert client.post(_url(rule), data=data).status_code == 400, rule.rule


def test_post_from_another_origin_with_https_is_refused_by_referrer_check(app_config, create_user):
    """With CBT_SECURE_COOKIES (HTTPS) Flask-WTF also checks the Referer is this site."""
    from cbt import create_app

    app_config["SECURE_COOKIES"] = True
    application = create_app(app_config)
    try:
        client = application.test_client()
        page = client.get("/login", base_url="https://cbt.example")
        assert page.status_code == 200
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        user = create_user("trainee")
        data = {"username": user.username, "password": "Correct-Horse-42", "csrf_token": token}
        hostile = client.post("/login", data=data, base_url="https://cbt.example",
                              headers={"Referer": "https://evil.example/page"})
        assert hostile.status_code == 400
        same = client.post("/login", data=data, base_url="https://cbt.example",
                           headers={"Referer": "https://cbt.example/login"})
        assert same.status_code == 302
    finally:
        application.extensions["cbt.db"].engine.dispose()
