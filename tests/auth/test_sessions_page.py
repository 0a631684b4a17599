"""My sessions (ASVS 3.3.4): a user sees their own open sessions and ends one or all others; an ended
session's cookie is worthless when replayed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from cbt.audit.models import AuditEvent
from cbt.auth.models import UserSession
from cbt.auth.sessions import short_agent
from cbt.db import utcnow
from tests.conftest import Auth, csrf_token

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
ANDROID = ("Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Mobile Safari/537.36")


def terminal(app, create_user, address: str, agent: str) -> Auth:
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    return Auth(client, create_user)


@pytest.fixture
def three_terminals(app, create_user):
    """One trainee signed in on three terminals, and a classmate signed in on a fourth."""
    user = create_user("trainee", username="officer")
    here = terminal(app, create_user, "10.0.0.5", FIREFOX)
    phone = terminal(app, create_user, "10.0.0.77", ANDROID)
    other = terminal(app, create_user, "10.0.0.9", "curl/8.0")
    for auth in (here, phone, other):
        assert auth.login("officer").status_code == 302
    classmate = terminal(app, create_user, "10.0.0.6", FIREFOX)
    classmate.login(create_user("trainee", username="classmate").username)
    return user, here, phone, other, classmate


def session_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'action="/account/sessions/(\d+)/end"', page)]


def test_the_page_lists_only_the_users_open_sessions(three_terminals, db):
    _user, here, _phone, _other, classmate = three_terminals
    db.execute(update(UserSession).where(UserSession.client_address == "10.0.0.9")
               .values(last_seen_at=utcnow().replace(year=2020), created_at=utcnow().replace(year=2020)))
    db.commit()
    page = here.client.get("/account/sessions").get_data(as_text=True)
    assert "Firefox 128, Windows" in page and "Chrome 124, Android" in page
    assert "10.0.0.5" in page and "10.0.0.77" in page
    assert "10.0.0.9" not in page  # over its age limit: no longer a session
    assert "10.0.0.6" not in page  # someone else's
    assert page.count("This device") == 1
    assert len(session_ids(page)) == 1  # an end button for the other session, not for this one
    assert "End all other sessions" in page
    assert 'href="/account/sessions"' in here.client.get("/account/password").get_data(as_text=True)
    assert classmate.client.get("/account/sessions").status_code == 200


def test_ending_a_session_makes_its_cookie_useless(app, three_terminals, db):
    _user, here, phone, _other, _classmate = three_terminals
    cookie = phone.client.get_cookie("cbt_session").value
    page = here.client.get("/account/sessions").get_data(as_text=True)
    phone_id = db.scalar(select(UserSession.id).where(UserSession.client_address == "10.0.0.77"))
    db.commit()
    assert phone_id in session_ids(page)
    response = here.client.post(f"/account/sessions/{phone_id}/end",
                                data={"csrf_token": csrf_token(here.client, "/account/sessions")})
    assert response.status_code == 302 and response.headers["Location"] == "/account/sessions"
    # Replay the phone's cookie from anywhere: it no longer signs anybody in.
    thief = app.test_client()
    thief.set_cookie("cbt_session", cookie)
    replay = thief.get("/learn/")
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/login")
    assert phone.client.get("/learn/").status_code == 302
    assert here.client.get("/learn/").status_code == 200
    db.rollback()
    assert db.scalar(select(UserSession.ended_reason).where(UserSession.id == phone_id)) == "ended_by_user"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "auth.session_end")).one()
    assert event.details == {"session": phone_id}


def test_ending_all_others_keeps_this_one(three_terminals, db):
    _user, here, phone, other, classmate = three_terminals
    response = here.client.post("/account/sessions/end-others",
                                data={"csrf_token": csrf_token(here.client, "/account/sessions")},
                                follow_redirects=True)
    assert "2 other sessions were ended." in response.get_data(as_text=True)
    assert here.client.get("/learn/").status_code == 200
    assert phone.client.get("/learn/").status_code == 302
    assert other.client.get("/learn/").status_code == 302
    assert classmate.client.get("/learn/").status_code == 200  # other people are not touched
    assert "End all other sessions" not in here.client.get("/account/sessions").get_data(as_text=True)


def test_someone_elses_session_cannot_be_ended(three_terminals, db):
    _user, here, _phone, _other, classmate = three_terminals
    theirs = db.scalar(select(UserSession.id).where(UserSession.client_address == "10.0.0.6"))
    db.commit()
    token = csrf_token(here.client, "/account/sessions")
    assert here.client.post(f"/account/sessions/{theirs}/end", data={"csrf_token": token}).status_code == 404
    assert here.client.post("/account/sessions/999999/end", data={"csrf_token": token}).status_code == 404
    assert classmate.client.get("/learn/").status_code == 200


def test_ending_needs_a_csrf_token(three_terminals, db):
    _user, here, phone, _other, _classmate = three_terminals
    phone_id = db.scalar(select(UserSession.id).where(UserSession.client_address == "10.0.0.77"))
    db.commit()
    assert here.client.post(f"/account/sessions/{phone_id}/end").status_code == 400
    assert here.client.post("/account/sessions/end-others", data={"csrf_token": "forged"}).status_code == 400
    assert here.client.get(f"/account/sessions/{phone_id}/end").status_code == 405
    assert phone.client.get("/learn/").status_code == 200


def test_ending_this_session_signs_out(three_terminals, db):
    _user, here, _phone, _other, _classmate = three_terminals
    mine = db.scalar(select(UserSession.id).where(UserSession.client_address == "10.0.0.5"))
    db.commit()
    response = here.client.post(f"/account/sessions/{mine}/end",
                                data={"csrf_token": csrf_token(here.client, "/account/sessions")})
    assert response.headers["Location"] == "/login"
    assert here.client.get("/learn/").status_code == 302


@pytest.mark.parametrize(("agent", "shown"), [
    (FIREFOX, "Firefox 128, Windows"),
    (ANDROID, "Chrome 124, Android"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 Edg/120.0.2210.91", "Edge 120, Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", "Safari 17, iOS"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 YaBrowser/24.6.0 "
     "Safari/537.36", "Yandex 24, Linux"),
    ("curl/8.0", "curl/8.0"),
    ("x" * 300, "x" * 40 + "…"),
    (None, ""),
])
def test_user_agents_are_shortened_to_what_a_person_recognises(agent, shown):
    assert short_agent(agent) == shown
