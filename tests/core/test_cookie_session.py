"""The session cookie: checked in full once per distinct cookie, and still refused when tampered with, too old
or signed with a key no longer in use."""

from __future__ import annotations

import time
from types import SimpleNamespace

from cbt import cookie_session
from cbt.cookie_session import RememberingCookieSessions


def _cookie(client, app) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def _signed_in(client) -> bool:
    response = client.get("/learn/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_cookie_is_checked_in_full_once_then_found_again(app, client, auth):
    interface = app.session_interface
    assert isinstance(interface, RememberingCookieSessions)
    auth.login_as("trainee")
    assert _signed_in(client)
    assert _signed_in(client)  # the first page put a CSRF secret into the session: a new cookie
    before = interface._verified.cache_info()
    for _ in range(5):
        assert _signed_in(client)
    after = interface._verified.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (5, 0)
    # Flask-Login's identifier (a hash of address and browser, unused without session protection) is not kept.
    data = interface.get_signing_serializer(app).loads(_cookie(client, app))
    assert data.get("_id") is None and data["_user_id"]


def test_a_tampered_cookie_is_refused_after_the_good_one_was_remembered(app, client, auth):
    auth.login_as("trainee")
    assert _signed_in(client)
    good = _cookie(client, app)
    name = app.config["SESSION_COOKIE_NAME"]
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    client.set_cookie(name, forged)
    assert not _signed_in(client)
    assert not _signed_in(client)  # and again, now that the forged one has been seen
    client.set_cookie(name, good)
    assert _signed_in(client)


def test_a_remembered_cookie_still_ages(app, client, auth, monkeypatch):
    auth.login_as("trainee")
    assert _signed_in(client)
    limit = app.permanent_session_lifetime.total_seconds()
    now = time.time()
    monkeypatch.setattr(cookie_session, "time", SimpleNamespace(time=lambda: now + limit - 60))
    assert _signed_in(client)
    monkeypatch.setattr(cookie_session, "time", SimpleNamespace(time=lambda: now + limit + 60))
    assert not _signed_in(client)
    monkeypatch.setattr(cookie_session, "time", SimpleNamespace(time=lambda: now - 3600))  # signed in the future
    assert not _signed_in(client)


def test_a_cookie_signed_with_a_retired_key_is_refused_unless_kept_as_a_fallback(app, client, auth):
    auth.login_as("trainee")
    assert _signed_in(client)
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "a-new-key-" + "x" * 40
    assert not _signed_in(client)
    auth.login_as("trainee")  # a new cookie under the new key
    assert _signed_in(client)
    new_cookie = _cookie(client, app)
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = old_key, [app.config["SECRET_KEY"]]
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], new_cookie)
    assert _signed_in(client)


def test_a_cookie_carrying_flashed_messages_is_not_remembered(app, client, auth):
    auth.login_as("trainee")
    auth.logout()  # flashes "You have signed out" into the cookie
    value = _cookie(client, app)
    keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
    data = app.session_interface.get_signing_serializer(app).loads(value)
    assert data.get("_flashes")
    assert app.session_interface._verify(app, keys, value) is None
    page = client.get("/login").get_data(as_text=True)
    assert "You have signed out." in page
