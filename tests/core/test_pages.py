"""Home pages, health check, error pages, language switcher and response headers."""

from __future__ import annotations

import re

from cbt import create_app
from tests.conftest import csrf_token


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(app_config, tmp_path):
    app_config["DATABASE_URL"] = f"sqlite:///{tmp_path}/missing-dir/nowhere.sqlite3"
    application = create_app(app_config)
    response = application.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_each_role_has_its_home(client, auth):
    expected = {"trainee": "My learning", "trainer": "Trainer workspace", "admin": "Administration"}
    for role, heading in expected.items():
        auth.login_as(role)
        page = client.get("/").get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in page
        assert "Sign out" in page
        auth.logout()


def test_not_found_page_is_translated_and_plain(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "ru"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "Страница не найдена" in page


def test_server_error_shows_no_stack_trace(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():  # pragma: no cover - body raises
        raise RuntimeError("secret SQL: SELECT password_hash FROM users")

    boom._cbt_access = ("public",)
    response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret SQL" not in page and "Traceback" not in page
    assert "Something went wrong" in page


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_language_switcher_for_anonymous_user_returns_to_the_same_page(client):
    token = csrf_token(client)
    response = client.post("/language", data={"csrf_token": token, "locale": "kk", "next": "/login?next=/"})
    assert response.headers["Location"] == "/login?next=/"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="kk">' in page


def test_language_choice_is_saved_to_the_profile(client, auth, db):
    from cbt.auth.models import User

    user = auth.login_as("trainee")
    token = csrf_token(client, "/")
    client.post("/language", data={"csrf_token": token, "locale": "ru", "next": "/"})
    db.expire_all()
    assert db.get(User, user.id).locale == "ru"
    auth.logout()
    client.get("/login")
    # A new session on another terminal speaks the saved language after sign-in.
    other = client.application.test_client()
    from tests.conftest import Auth

    Auth(other, None).login(user.username)
    assert '<html lang="ru">' in other.get("/").get_data(as_text=True)


def test_language_switcher_ignores_unknown_locales_and_foreign_next(client):
    token = csrf_token(client)
    response = client.post("/language", data={"csrf_token": token, "locale": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_static_assets_are_local(client):
    page = client.get("/login").get_data(as_text=True)
    assert not re.search(r'(?:src|href|action)="(?:https?:)?//', page)
    with client.get("/static/css/cbt.css") as css:
        assert css.status_code == 200
    with client.get("/static/fonts/NotoSans-Regular-LatinCyrillic.woff2") as font:
        assert font.status_code == 200 and font.data[:4] == b"wOF2"


def test_production_servers_compile_every_template_before_the_first_request(app):
    """``cbt serve`` and wsgi.py warm Jinja's cache: every page template compiles (a broken one fails here)."""
    from cbt.web import warm_templates

    cached_before = len(app.jinja_env.cache or {})
    count = warm_templates(app)
    names = {name for _loader, name in app.jinja_env.cache}
    assert count >= 60 and count > cached_before
    assert {"base.html", "learn/lesson.html", "quiz/overview.html", "quiz/question.html"} <= names
    assert count == len([n for n in names if n.endswith(".html")])
