"""Small ASVS 4.0 level-2 checks that no other test pins (docs/SECURITY.md maps each requirement to a test)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, text

from cbt.auth.models import User, UserSession
from tests.conftest import Auth, csrf_token
from tests.pages import build_world, page_urls

# --- V2 authentication --------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [
    "Пароль Қ 🙂 әғқңөұүһі ",  # Cyrillic, Kazakh letters, emoji and a trailing space, kept exactly
    "x" * 64,
    "correct horse battery staple border",  # all lower case: no composition rules (2.1.9)
    "Ab1!" * 50,  # 200 characters, the form's limit
])
def test_asvs_2_1_2__2_1_3__2_1_4_long_and_unicode_passwords_verify_exactly_as_typed(client, create_user, password):
    user = create_user("trainee", password=password)
    auth = Auth(client, create_user)
    assert auth.login(user.username, password).status_code == 302
    auth.logout()
    for near in {password.strip(), password.upper(), password.lower(), password[:-1]} - {password}:
        assert auth.login(user.username, near).status_code == 200, near  # no truncation, no case folding


def test_asvs_2_1_11_password_fields_allow_paste_and_password_managers(client, auth):
    pages = [client.get("/login").get_data(as_text=True)]
    auth.login_as("trainee")
    pages.append(client.get("/account/password").get_data(as_text=True))
    fields = [tag for page in pages for tag in re.findall(r"<input[^>]*type=\"password\"[^>]*>", page)]
    assert len(fields) == 4
    for tag in fields:
        assert "onpaste" not in tag and 'autocomplete="off"' not in tag, tag
        assert re.search(r'autocomplete="(current|new)-password"', tag), tag


def test_asvs_2_5_4_a_fresh_installation_has_no_accounts(db):
    """No default admin: the first account is made by the operator (``cbt users create``)."""
    assert db.scalar(select(func.count()).select_from(User)) == 0


# --- V3 session management ----------------------------------------------------------------------------


def test_asvs_3_2_2_session_tokens_are_random_256_bit_and_stored_only_as_hashes(app, client, create_user, db):
    from cbt.auth.sessions import _hash

    tokens = []
    for _ in range(3):
        other = app.test_client()
        user = create_user("trainee")
        Auth(other, create_user).login(user.username)
        serializer = app.session_interface.get_signing_serializer(app)
        tokens.append(serializer.loads(other.get_cookie("cbt_session").value)["_user_id"])
    assert len(set(tokens)) == 3
    assert all(len(t) >= 43 for t in tokens)  # secrets.token_urlsafe(32): 256 bits
    stored = set(db.scalars(select(UserSession.token_hash)))
    assert stored == {_hash(t) for t in tokens}
    assert not stored & set(tokens)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("href", "src", "action", "formaction")]


def test_asvs_3_1_1_no_session_or_csrf_token_ever_appears_in_a_url(app, client, auth, tmp_path):
    world = build_world(app, client, auth, tmp_path)
    checked = 0
    for url in page_urls(app, world, "trainee"):
        parser = _Links()
        parser.feed(client.get(url).get_data(as_text=True))
        for link in parser.urls:
            keys = {k.lower() for k in parse_qs(urlsplit(link).query)}
            assert not keys & {"session", "token", "csrf_token", "cbt_session", "sid"}, (url, link)
            checked += 1
    assert checked > 20


# --- V4 access control --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/.git/config", "/static/", "/static/../pyproject.toml", "/static/%2e%2e/cbt.sqlite3",
                                  "/instance/secret_key", "/cbt.sqlite3", "/static/css/", "/wsgi.py"])
def test_asvs_4_3_2_no_directory_listing_or_metadata_files(client, path):
    response = client.get(path)
    assert response.status_code == 404, path
    assert "Index of" not in response.get_data(as_text=True)


# --- V14 configuration --------------------------------------------------------------------------------


def test_asvs_14_4_1_every_page_declares_its_type_and_charset(app, client, auth, tmp_path):
    world = build_world(app, client, auth, tmp_path)
    for url in page_urls(app, world, "trainee") + ["/no-such-page"]:
        assert client.get(url).headers["Content-Type"] == "text/html; charset=utf-8", url
    token = csrf_token(client, "/learn/")
    reply = client.post(f"/quiz/attempts/{world.attempt_id}/autosave", data={"csrf_token": token, "question": "0"})
    assert reply.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE"])
def test_asvs_14_5_1_only_the_methods_in_use_are_accepted(client, auth, method):
    auth.login_as("trainee")
    for url in ("/", "/learn/", "/login", "/account/password"):
        response = client.open(url, method=method)
        assert response.status_code == 405, (method, url)
        assert "Not allowed" in response.get_data(as_text=True)


def test_asvs_14_3_2_debug_is_off_and_errors_show_no_internals(app_config):
    from cbt import create_app

    app_config.pop("TESTING")
    application = create_app(app_config)
    try:
        assert application.debug is False
        assert application.config["PROPAGATE_EXCEPTIONS"] is None

        @application.get("/boom-for-test")
        def _boom():  # pragma: no cover - the body raises
            raise RuntimeError("secret internals")

        response = application.test_client().get("/boom-for-test")
        assert response.status_code == 500
        page = response.get_data(as_text=True)
        assert "secret internals" not in page and "Traceback" not in page
    finally:
        application.extensions["cbt.db"].engine.dispose()


def test_asvs_14_4_5_hsts_only_with_https(app_config, client):
    from cbt import create_app

    assert "Strict-Transport-Security" not in client.get("/login").headers
    app_config["SECURE_COOKIES"] = True
    application = create_app(app_config)
    try:
        assert application.test_client().get("/login").headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        application.extensions["cbt.db"].engine.dispose()


def test_asvs_14_5_4_forwarded_headers_are_ignored_unless_a_proxy_is_configured(app_config, create_user, db):
    """A client cannot pick its address for throttling and audit by sending X-Forwarded-For itself."""
    from cbt import create_app

    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.7")):
        app_config["PROXY_COUNT"] = proxies
        application = create_app(app_config)
        try:
            client = application.test_client()
            token = csrf_token(client)
            client.post("/login", data={"csrf_token": token, "username": f"ghost{proxies}", "password": "x"},
                        headers={"X-Forwarded-For": "203.0.113.7"})
        finally:
            application.extensions["cbt.db"].engine.dispose()
        db.rollback()
        address = db.execute(text("SELECT client_address FROM sign_in_failures WHERE username = :u"),
                             {"u": f"ghost{proxies}"}).scalar()
        assert address == expected, proxies


def test_asvs_14_4_3__14_4_6__14_4_7_csp_referrer_and_framing_on_every_response(client, auth):
    auth.login_as("trainee")
    for url in ("/login", "/", "/no-such-page", "/static/css/cbt.css"):
        response = client.get(url)
        headers = response.headers
        response.close()  # a file response (the stylesheet) keeps its file open until closed
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
        assert headers["Referrer-Policy"] == "same-origin", url
        assert headers["X-Frame-Options"] == "DENY", url


def test_asvs_12_5_2_course_media_is_never_run_as_a_page(app, client, auth):
    """An SVG (or anything) from a course package is served sandboxed: opened on its own it runs nothing."""
    from cbt.courses.importer import import_folder
    from cbt.db import session, writing
    from tests.security.live import FIELD_DRILL

    with app.app_context(), writing():
        version_id = import_folder(FIELD_DRILL).version.id
        session.commit()
    auth.login_as("trainee")
    response = client.get(f"/media/{version_id}/media/truck.svg")
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none' covers it
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/media/{version_id}/media/../course.yaml").status_code == 404
