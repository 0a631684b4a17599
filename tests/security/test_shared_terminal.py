"""The shared classroom terminal: the next officer at the keyboard, and thirty officers behind one router.

* A session cookie copied before sign-out is worthless afterwards, for reading and for writing.
* No signed-in page may be stored by the browser (Back after sign-out shows nothing personal): every page
  of every role, error pages included, says ``Cache-Control: no-store``.
* One classroom NAT address: a targeted account is throttled while thirty classmates sign in.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from cbt.quiz.models import Response
from tests.conftest import TEST_PASSWORD, Auth, csrf_token
from tests.pages import build_world, page_urls

CLASSROOM = "192.0.2.10"  # the router every terminal of the classroom is seen behind


def test_a_cookie_replayed_after_sign_out_cannot_write(app, client, auth, tmp_path, db):
    """The thief has the cookie *and* a CSRF token from a page read before sign-out; the POST still fails."""
    world = build_world(app, client, auth, tmp_path)
    cookie = client.get_cookie("cbt_session").value
    token = csrf_token(client, f"/quiz/attempts/{world.attempt_id}/1")
    db.rollback()
    saved = db.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == world.attempt_id))
    db.commit()
    auth.logout()

    thief = app.test_client()
    thief.set_cookie("cbt_session", cookie)
    posts = [
        (f"/quiz/attempts/{world.attempt_id}/1", {"seq": "0", "answer": "1", "action": "next"}),
        (f"/quiz/attempts/{world.attempt_id}/autosave", {"seq": "0", "answer": "1", "question": "1"}),
        (f"/quiz/attempts/{world.attempt_id}/submit", {}),
        (f"/learn/courses/{world.slug}/lessons/{world.lesson_id}/complete", {}),
        ("/account/password", {"current_password": TEST_PASSWORD, "new_password": "Stolen-Session-42",
                               "confirm_password": "Stolen-Session-42"}),
        ("/logout", {}),
    ]
    for url, data in posts:
        response = thief.post(url, data={"csrf_token": token, **data})
        assert response.status_code in (302, 400), url
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login"), url
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Response)
                     .where(Response.attempt_id == world.attempt_id)) == saved
    db.commit()
    # The password was not changed by the thief.
    assert auth.login(_username(app, world)).status_code == 302


def _username(app, world) -> str:
    from cbt.auth.models import User
    from cbt.db import session
    from cbt.quiz.models import Attempt

    with app.app_context():
        name = session.scalar(select(User.username).join(Attempt, Attempt.user_id == User.id)
                              .where(Attempt.id == world.attempt_id))
        session.rollback()
    return name


@pytest.mark.parametrize("role", ["trainee", "trainer", "admin"])
def test_every_signed_in_page_is_no_store(app, client, auth, tmp_path, role):
    world = build_world(app, client, auth, tmp_path, role=role)
    urls = page_urls(app, world, role)
    assert len(urls) >= 5
    for url in urls + ["/no-such-page", f"/quiz/attempts/{world.attempt_id + 1000}/1"]:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert response.headers.get("Cache-Control") == "no-store", url
    # Redirects of a signed-in user and JSON answers are not stored either.
    token = csrf_token(client, "/learn/")
    autosave = client.post(f"/quiz/attempts/{world.attempt_id}/autosave",
                           data={"csrf_token": token, "question": "0", "seq": "0"})
    assert autosave.headers.get("Cache-Control") == "no-store"


def test_the_sign_in_page_and_error_pages_are_not_stored(client):
    for url in ("/login", "/no-such-page"):
        assert client.get(url).headers.get("Cache-Control") == "no-store", url


def test_thirty_trainees_behind_one_address_sign_in_while_a_targeted_account_is_throttled(app, create_user):
    """The insider at terminal 31 guesses a classmate's password; the class is not locked out."""

    def terminal() -> Auth:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = CLASSROOM
        return Auth(client, create_user)

    target = create_user("trainee", username="targeted-officer")
    trainees = [create_user("trainee", username=f"cadet{n:02d}") for n in range(30)]
    attacker = terminal()
    for _ in range(8):
        attacker.login(target.username, "Guess-password-1")
    assert attacker.login(target.username, "Guess-password-2").status_code == 429

    results: dict[str, list[int]] = {}
    lock = threading.Lock()

    def sign_in(username: str, typo: bool) -> None:
        auth = terminal()
        codes = []
        if typo:  # half the class mistypes once first
            codes.append(auth.login(username, "Oops-" + TEST_PASSWORD).status_code)
        codes.append(auth.login(username).status_code)
        codes.append(auth.client.get("/").status_code)
        with lock:
            results[username] = codes

    threads = [threading.Thread(target=sign_in, args=(t.username, n % 2 == 0)) for n, t in enumerate(trainees)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 30
    for username, codes in results.items():
        assert codes[-2:] == [302, 200], (username, codes)
    # Meanwhile the targeted officer's account is still throttled on this address, even with the right password.
    assert terminal().login(target.username).status_code == 429
