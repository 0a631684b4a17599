"""The access sweep: every route declares who may use it, and the declaration holds over HTTP.

A new view without ``@public`` or ``@roles_required`` fails ``test_every_view_declares_access``; the
HTTP tests then prove the declarations for anonymous users, each role and CSRF.
"""

from __future__ import annotations

import re

import pytest

from cbt.security import ACCESS_ATTR

SAMPLE_VALUES = {"int": "1", "string": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        yield rule, view


def _url(rule) -> str:
    url = rule.rule
    for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
        value = SAMPLE_VALUES.get(converter or "string", "x")
        url = re.sub(r"<[^>]*\b" + name + ">", value, url, count=1)
    return url


def test_every_view_declares_access(app):
    missing = [rule.rule for rule, view in _routes(app)
               if rule.endpoint != "static" and not hasattr(view, ACCESS_ATTR)]
    assert missing == []


def test_anonymous_users_are_sent_to_sign_in_from_every_protected_route(app, client):
    checked = 0
    for rule, view in _routes(app):
        access = getattr(view, ACCESS_ATTR, ("public",))
        if "public" in access:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_url(rule), method=method)
            if method == "GET":
                assert response.status_code == 302, rule.rule
                assert response.headers["Location"].startswith("/login"), rule.rule
            else:  # POSTs are refused before reaching the view: no CSRF token
                assert response.status_code in (302, 400), (method, rule.rule)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("role", ["trainee", "trainer", "admin"])
def test_wrong_role_gets_403_everywhere(app, client, auth, role):
    auth.login_as(role)
    for rule, view in _routes(app):
        access = getattr(view, ACCESS_ATTR, ("public",))
        if "public" in access or role in access or "GET" not in rule.methods:
            continue
        response = client.get(_url(rule))
        assert response.status_code == 403, rule.rule
        assert "Access denied" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["trainee", "trainer", "admin"])
def test_right_role_is_not_refused(app, client, auth, role):
    auth.login_as(role)
    for rule, view in _routes(app):
        access = getattr(view, ACCESS_ATTR, ("public",))
        if role not in access or "GET" not in rule.methods or rule.arguments:
            continue
        assert client.get(_url(rule)).status_code not in (302, 403), rule.rule


def test_every_post_requires_a_csrf_token(app, client, auth):
    """Signed in as admin (who may do most), every POST without or with a wrong token is refused."""
    auth.login_as("admin")
    posts = [rule for rule, _view in _routes(app) if "POST" in rule.methods]
    assert posts
    for rule in posts:
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(_url(rule), data=data)
            assert response.status_code == 400, rule.rule
            assert "The form has expired or is not valid" in response.get_data(as_text=True)
