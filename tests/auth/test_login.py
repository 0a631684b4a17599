"""Sign-in, sign-out, idle timeout and server-side sessions, through real HTTP requests."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from cbt.audit.models import AuditEvent
from cbt.auth.models import User, UserSession
from cbt.db import utcnow
from tests.conftest import TEST_PASSWORD, csrf_token


def test_sign_in_with_right_password_opens_home(client, auth, create_user):
    user = create_user("trainee", full_name="Айгүл Сәрсенова")
    response = auth.login(user.username)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Айгүл Сәрсенова" in page


def test_username_is_case_insensitive(client, auth, create_user):
    create_user("trainee", username="officer7")
    assert auth.login("  OFFICER7 ").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, auth, create_user, db):
    user = create_user("trainee")
    response = auth.login(user.username, "Wrong-password-1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The username or password is not correct" in page
    unknown = auth.login("nobody-here", "Wrong-password-1").get_data(as_text=True)
    assert "The username or password is not correct" in unknown
    assert client.get("/").status_code == 302
    actions = db.scalars(select(AuditEvent.action)).all()
    assert actions.count("auth.sign_in_failed") == 2


def test_deactivated_user_cannot_sign_in(client, auth, create_user, db):
    user = create_user("trainee")
    db.execute(update(User).where(User.id == user.id).values(is_active=False))
    db.commit()
    assert auth.login(user.username).status_code == 200
    assert client.get("/").status_code == 302


def test_deactivation_ends_an_open_session(client, auth, db):
    user = auth.login_as("trainee")
    assert client.get("/").status_code == 200
    db.execute(update(User).where(User.id == user.id).values(is_active=False))
    db.commit()
    assert client.get("/").status_code == 302


def test_sign_out_ends_the_server_side_session_and_an_old_cookie_is_refused(client, auth, app, db):
    auth.login_as("trainee")
    cookie = client.get_cookie("cbt_session").value
    assert auth.logout().headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    # Replay the cookie captured before sign-out from another "terminal".
    thief = app.test_client()
    thief.set_cookie("cbt_session", cookie)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    ended = db.scalars(select(UserSession.ended_reason)).all()
    assert ended == ["signed_out"]


def test_sign_out_requires_post(client, auth):
    auth.login_as("trainee")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_session_cookie_changes_at_sign_in(client, auth, create_user):
    client.get("/login")
    before = client.get_cookie("cbt_session").value
    user = create_user("trainee")
    auth.login(user.username)
    assert client.get_cookie("cbt_session").value != before


def test_idle_timeout_returns_to_sign_in_with_a_message(client, auth, db):
    auth.login_as("trainee")
    assert client.get("/").status_code == 200
    db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=21)))
    db.commit()
    response = client.get("/")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out after 20 minutes without activity" in page
    assert db.scalar(select(UserSession.ended_reason)) == "idle"


def test_activity_keeps_the_session_alive(client, auth, db):
    auth.login_as("trainee")
    db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=19)))
    db.commit()
    assert client.get("/").status_code == 200
    db.expire_all()
    assert utcnow() - db.scalar(select(UserSession.last_seen_at)) < timedelta(minutes=1)


def test_absolute_timeout(client, auth, db):
    auth.login_as("trainee")
    db.execute(update(UserSession).values(created_at=utcnow() - timedelta(hours=13)))
    db.commit()
    assert client.get("/").status_code == 302


def test_idle_minutes_are_configurable(app_config, create_user, db):
    """The page tells its script the configured idle time; the server applies the same limit."""
    from cbt import create_app
    from tests.conftest import Auth

    app_config["SESSION_IDLE_MINUTES"] = 5
    application = create_app(app_config)
    client = application.test_client()
    assert "idle-warning" not in client.get("/login").get_data(as_text=True)  # nobody to sign out
    Auth(client, create_user).login_as("trainee")
    assert 'data-idle-seconds="300"' in client.get("/").get_data(as_text=True)
    db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
    db.commit()
    assert client.get("/").status_code == 302
    application.extensions["cbt.db"].engine.dispose()


def test_next_parameter_is_followed_only_within_the_site(client, auth, create_user):
    user = create_user("trainee")
    assert auth.login(user.username, next_url="/account/password").headers["Location"] == "/account/password"
    auth.logout()
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = auth.login(user.username, next_url=evil)
        assert response.headers["Location"] == "/", evil
        auth.logout()


def test_anonymous_is_sent_to_sign_in_with_next(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account/password"


def test_change_password(client, auth, db):
    user = auth.login_as("trainee")
    token = csrf_token(client, "/account/password")
    form = {
        "csrf_token": token,
        "current_password": TEST_PASSWORD,
        "new_password": "Brand-New-Secret-9",
        "confirm_password": "Brand-New-Secret-9",
    }
    assert client.post("/account/password", data=form).status_code == 302
    auth.logout()
    assert auth.login(user.username).status_code == 200  # old password refused
    assert auth.login(user.username, "Brand-New-Secret-9").status_code == 302


def test_change_password_errors_are_shown_and_nothing_changes(client, auth, db):
    user = auth.login_as("trainee")
    before = db.scalar(select(User.password_hash).where(User.id == user.id))
    token = csrf_token(client, "/account/password")
    cases = [
        (
            {
                "current_password": "nope-nope-nope",
                "new_password": "Brand-New-Secret-9",
                "confirm_password": "Brand-New-Secret-9",
            },
            "The current password is not correct.",
        ),
        (
            {"current_password": TEST_PASSWORD, "new_password": "short", "confirm_password": "short"},
            "at least 12 characters",
        ),
        (
            {
                "current_password": TEST_PASSWORD,
                "new_password": "Brand-New-Secret-9",
                "confirm_password": "other-other-9",
            },
            "The two new passwords are not the same.",
        ),
        (
            {
                "current_password": TEST_PASSWORD,
                "new_password": f"{user.username}-long-pass",
                "confirm_password": f"{user.username}-long-pass",
            },
            "must not contain the username",
        ),
        (
            {
                "current_password": TEST_PASSWORD,
                "new_password": "passwordpassword",
                "confirm_password": "passwordpassword",
            },
            "too common",
        ),
    ]
    for data, message in cases:
        response = client.post("/account/password", data={"csrf_token": token, **data})
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(select(User.password_hash).where(User.id == user.id)) == before


def test_password_change_ends_other_sessions(app, client, auth, create_user):
    user = auth.login_as("trainee")
    other = app.test_client()
    from tests.conftest import Auth

    Auth(other, create_user).login(user.username)
    assert other.get("/").status_code == 200
    token = csrf_token(client, "/account/password")
    client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": TEST_PASSWORD,
            "new_password": "Brand-New-Secret-9",
            "confirm_password": "Brand-New-Secret-9",
        },
    )
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_pages_of_a_signed_in_user_are_not_cached(client, auth):
    auth.login_as("trainee")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client):
    header = " ".join(client.get("/login").headers.getlist("Set-Cookie"))
    assert "cbt_session=" in header
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # plain HTTP on a classroom LAN unless CBT_SECURE_COOKIES is set


def test_secure_cookies_when_configured(app_config):
    from cbt import create_app

    app_config["SECURE_COOKIES"] = True
    header = " ".join(create_app(app_config).test_client().get("/login").headers.getlist("Set-Cookie"))
    assert "Secure" in header


def test_plain_http_keeps_the_plain_cookie_name(client, auth):
    """Classroom LANs without HTTPS: a ``__Host-`` cookie would be refused by the browser (it needs Secure)."""
    header = " ".join(client.get("/login").headers.getlist("Set-Cookie"))
    assert header.startswith("cbt_session=") and "__Host-" not in header
    auth.login_as("trainee")
    assert client.get("/").status_code == 200


def test_with_secure_cookies_the_session_cookie_has_the_host_prefix(app_config, create_user):
    """ASVS 3.4.4: ``__Host-`` name, Secure, Path=/ and no Domain, so no sibling host can plant or read it."""
    from cbt import create_app

    app_config["SECURE_COOKIES"] = True
    application = create_app(app_config)
    site = "https://cbt.example"
    try:
        client = application.test_client()
        page = client.get("/login", base_url=site)
        assert page.request.is_secure
        cookies = page.headers.getlist("Set-Cookie")
        assert len(cookies) == 1
        name, *attributes = [part.strip() for part in cookies[0].split(";")]
        assert name.startswith("__Host-cbt_session=")
        assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)
        assert not [a for a in attributes if a.lower().startswith("domain")]
        # A whole sign-in works with it, and the plain name is neither set nor honoured.
        user = create_user("trainee")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        response = client.post("/login", base_url=site, headers={"Referer": f"{site}/login"},
                                data={"username": user.username, "password": TEST_PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        assert client.get("/", base_url=site).status_code == 200
        assert client.get_cookie("cbt_session", domain="cbt.example") is None
        stolen = client.get_cookie("__Host-cbt_session", domain="cbt.example").value
        plain = application.test_client()
        plain.set_cookie("cbt_session", stolen, domain="cbt.example")
        assert plain.get("/", base_url=site).status_code == 302
        prefixed = application.test_client()
        prefixed.set_cookie("__Host-cbt_session", stolen, domain="cbt.example")
        assert prefixed.get("/", base_url=site).status_code == 200  # the same cookie under its real name
    finally:
        application.extensions["cbt.db"].engine.dispose()


def test_secure_cookies_from_the_environment(monkeypatch, app_config):
    from cbt import create_app

    monkeypatch.setenv("CBT_SECURE_COOKIES", "1")
    application = create_app(app_config)
    assert application.config["SESSION_COOKIE_NAME"] == "__Host-cbt_session"
    assert application.config["SESSION_COOKIE_SECURE"] is True
    application.extensions["cbt.db"].engine.dispose()
