"""Two-step verification (TOTP) over real HTTP: enrolment, the second sign-in step, replay, recovery codes,
throttling of codes, the administrators' "required" mode and an administrator's reset."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import pyotp
import pytest
from sqlalchemy import func, select

from cbt.audit.models import AuditEvent
from cbt.auth.models import RecoveryCode, SignInFailure, TotpCredential, UserSession
from tests.conftest import Auth, csrf_token

SECRET_RE = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
RECOVERY_RE = re.compile(r'<code class="secret">([a-z2-9]{5}-[a-z2-9]{5})</code>')


def code_for(secret: str, offset: int = 0) -> str:
    """The code of the time step ``offset`` steps from now (the server accepts one step either way)."""
    return pyotp.TOTP(secret).generate_otp(int(time.time() // 30) + offset)


def enrol(client: Any) -> tuple[str, list[str]]:
    """Turn two-step verification on for the signed-in user; return the secret and the recovery codes."""
    token = csrf_token(client, "/account/two-factor")
    assert client.post("/account/two-factor/start", data={"csrf_token": token}).status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    response = client.post("/account/two-factor/confirm", data={"csrf_token": token, "code": code_for(secret)})
    assert response.status_code == 200
    codes = RECOVERY_RE.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def events(db, action: str) -> list[AuditEvent]:
    db.rollback()
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def post_code(client: Any, code: str) -> Any:
    """Send a code to the second step (the token from a page that keeps a pending sign-in, as the form would)."""
    return client.post("/login/code", data={"csrf_token": csrf_token(client, "/verify"), "code": code})


@pytest.fixture
def enrolled(app, client, auth):
    """A trainer with two-step verification on, signed out again; returns (user, secret, recovery codes)."""
    user = auth.login_as("trainer", full_name="Ерлан Сейітқали")
    secret, codes = enrol(client)
    auth.logout()
    return user, secret, codes


def test_enrolment_needs_a_valid_code_and_shows_the_secret_and_recovery_codes_only_once(client, auth, db):
    user = auth.login_as("trainer")
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "Set up two-step verification" in page and "<svg" not in page
    token = csrf_token(client, "/account/two-factor")
    client.post("/account/two-factor/start", data={"csrf_token": token})
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    assert "<svg" in page and "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    db.rollback()
    stored = db.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))
    assert stored.secret == secret and stored.confirmed_at is None  # kept server-side, not yet on

    wrong = client.post("/account/two-factor/confirm",
                        data={"csrf_token": token, "code": code_for(secret, 5)})  # valid 2.5 minutes from now
    assert wrong.status_code == 200 and "The code is not correct" in wrong.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(TotpCredential.confirmed_at).where(TotpCredential.user_id == user.id)) is None

    done = client.post("/account/two-factor/confirm", data={"csrf_token": token, "code": code_for(secret)})
    codes = RECOVERY_RE.findall(done.get_data(as_text=True))
    assert len(set(codes)) == 10
    db.rollback()
    assert db.scalar(select(TotpCredential.confirmed_at).where(TotpCredential.user_id == user.id)) is not None
    hashes = db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(hashes) == 10 and not any(c.replace("-", "") in h or c in h for c in codes for h in hashes)
    assert events(db, "auth.mfa_enabled")[-1].target == f"user:{user.id}"

    again = client.get("/account/two-factor").get_data(as_text=True)
    assert secret not in again and secret[:4] not in again and "<svg" not in again
    assert not any(c in again for c in codes)
    assert "10 unused recovery codes" in again
    # Starting again while it is on is refused and keeps the secret.
    client.post("/account/two-factor/start", data={"csrf_token": token})
    db.rollback()
    assert db.scalar(select(TotpCredential.secret).where(TotpCredential.user_id == user.id)) == secret


def test_only_staff_can_enrol(client, auth):
    auth.login_as("trainee")
    assert client.get("/account/two-factor").status_code == 403
    token = csrf_token(client, "/account/password")
    assert client.post("/account/two-factor/start", data={"csrf_token": token}).status_code == 403
    assert "Two-step verification" not in client.get("/account/password").get_data(as_text=True)


def test_sign_in_asks_for_the_code_and_waiting_for_it_is_not_a_session(client, auth, enrolled, db):
    user, secret, _codes = enrolled
    sessions_before = db.scalar(select(func.count()).select_from(UserSession))
    db.commit()
    response = auth.login(user.username, next_url="/account/sessions")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    # Half signed in is not signed in: every page still asks for the sign-in.
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/account/sessions").status_code == 302
    assert db.scalar(select(func.count()).select_from(UserSession)) == sessions_before
    db.commit()
    page = client.get("/login/code").get_data(as_text=True)
    assert user.username not in page and "Ерлан" not in page and "trainer" not in page.lower()
    wrong = post_code(client, "000000" if code_for(secret, 1) != "000000" else "111111")
    assert wrong.status_code == 200 and "The code is not correct" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302
    right = post_code(client, code_for(secret, 1))
    assert right.status_code == 302 and right.headers["Location"] == "/account/sessions"
    assert client.get("/").status_code == 200
    signed_in = events(db, "auth.sign_in")[-1]
    assert signed_in.actor_id == user.id and signed_in.details == {"second_factor": "totp"}
    assert events(db, "auth.mfa_failed")[-1].details == {"username": user.username}


def test_the_password_step_alone_cannot_reach_the_code_step_of_someone_else(client, auth, enrolled, create_user):
    """Without a right password there is no pending sign-in: the code page sends back to the password."""
    user, secret, _codes = enrolled
    assert auth.login(user.username, "Wrong-password-1").status_code == 200
    response = post_code(client, code_for(secret))
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_a_code_cannot_be_used_twice(app, client, auth, enrolled):
    user, secret, _codes = enrolled
    code = code_for(secret, 1)
    auth.login(user.username)
    assert post_code(client, code).status_code == 302
    auth.logout()
    auth.login(user.username)
    replay = post_code(client, code)
    assert replay.status_code == 200 and "already been used" in replay.get_data(as_text=True)
    # Nor from another terminal at the same moment.
    other = Auth(app.test_client(), auth.create_user)
    other.login(user.username)
    assert post_code(other.client, code).status_code == 200


def test_the_code_that_confirmed_enrolment_cannot_sign_in(client, auth, db):
    user = auth.login_as("admin")
    token = csrf_token(client, "/account/two-factor")
    client.post("/account/two-factor/start", data={"csrf_token": token})
    secret = SECRET_RE.search(client.get("/account/two-factor").get_data(as_text=True)).group(1).replace(" ", "")
    code = code_for(secret)
    client.post("/account/two-factor/confirm", data={"csrf_token": token, "code": code})
    auth.logout()
    auth.login(user.username)
    assert post_code(client, code).status_code == 200


def test_a_recovery_code_works_once(client, auth, enrolled, db):
    user, _secret, codes = enrolled
    auth.login(user.username)
    response = post_code(client, codes[3].upper().replace("-", " "))  # typed loosely
    assert response.status_code == 302 and client.get("/").status_code == 200
    used = events(db, "auth.mfa_recovery_code_used")[-1]
    assert used.details == {"left": 9}
    assert "9 unused recovery codes" in client.get("/account/two-factor").get_data(as_text=True)
    auth.logout()
    auth.login(user.username)
    assert post_code(client, codes[3]).status_code == 200
    assert client.get("/").status_code == 302
    assert post_code(client, codes[4]).status_code == 302


def test_wrong_codes_are_throttled_like_passwords(client, auth, enrolled, db):
    """Five wrong codes lock the account on this address; a right password does not reset the count."""
    user, secret, _codes = enrolled
    auth.login(user.username)
    for _ in range(4):
        assert post_code(client, "12345x").status_code == 200
    # Starting again with the right password must not clear the four failures.
    assert auth.login(user.username).status_code == 302
    assert post_code(client, "99999999").status_code == 200
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SignInFailure)
                     .where(SignInFailure.username == user.username)) == 5
    db.commit()
    throttled = post_code(client, code_for(secret, 1))  # even the right code is not looked at
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in throttled.get_data(as_text=True)
    assert auth.login(user.username).status_code == 429  # the password step shares the counter
    assert client.get("/").status_code == 302
    assert events(db, "auth.sign_in_throttled")


def test_a_right_code_clears_the_failures(client, auth, enrolled, db):
    user, secret, _codes = enrolled
    auth.login(user.username)
    for _ in range(3):
        post_code(client, "000001" if code_for(secret, 1) != "000001" else "000002")
    assert post_code(client, code_for(secret, 1)).status_code == 302
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SignInFailure)) == 0


def test_a_pending_sign_in_expires(client, auth, enrolled):
    user, secret, _codes = enrolled
    auth.login(user.username)
    with client.session_transaction() as cookie_session:
        pending = dict(cookie_session["pending_sign_in"])
        pending["since"] -= 301
        cookie_session["pending_sign_in"] = pending
    response = post_code(client, code_for(secret, 1))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_opening_the_sign_in_page_abandons_the_pending_step(client, auth, enrolled):
    user, secret, _codes = enrolled
    auth.login(user.username)
    client.get("/login")
    assert post_code(client, code_for(secret, 1)).headers["Location"] == "/login"


def test_a_user_deactivated_between_the_steps_cannot_finish(app, client, auth, enrolled, db):
    from sqlalchemy import update

    from cbt.auth.models import User

    user, secret, _codes = enrolled
    auth.login(user.username)
    db.execute(update(User).where(User.id == user.id).values(is_active=False))
    db.commit()
    assert post_code(client, code_for(secret, 1)).status_code == 200
    assert client.get("/").status_code == 302


@pytest.fixture
def required_app(app_config):
    from cbt import create_app

    app_config["ADMIN_MFA"] = "required"
    application = create_app(app_config)
    yield application
    application.extensions["cbt.db"].engine.dispose()


def test_required_mode_sends_administrators_to_enrol_first(required_app, create_user):
    client = required_app.test_client()
    auth = Auth(client, create_user)
    auth.login_as("admin")
    for url in ("/", "/admin/users", "/admin/audit", "/reports/", "/learn/"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", url
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "administrators must use two-step verification" in page
    token = csrf_token(client, "/account/two-factor")
    refused = client.post("/admin/users/new", data={"csrf_token": token, "username": "x", "full_name": "X",
                                                    "role": "admin"})
    assert refused.status_code == 302 and refused.headers["Location"] == "/account/two-factor"
    script = client.post("/quiz/attempts/1/autosave", data={"csrf_token": token},
                         headers={"X-Requested-With": "fetch"})
    assert script.status_code == 403 and script.get_json()["status"] == "two_factor_required"
    assert client.get("/account/password").status_code == 200  # the account pages stay open
    enrol(client)
    assert client.get("/admin/users").status_code == 200


def test_required_mode_leaves_trainers_and_trainees_alone(required_app, create_user):
    for role in ("trainer", "trainee"):
        client = required_app.test_client()
        Auth(client, create_user).login_as(role)
        assert client.get("/").status_code == 200, role


def test_an_unknown_mode_is_refused(app_config):
    from cbt import create_app

    app_config["ADMIN_MFA"] = "sometimes"
    with pytest.raises(ValueError, match="CBT_ADMIN_MFA"):
        create_app(app_config)


def test_an_administrator_can_turn_it_off_for_a_lost_phone(app, client, auth, enrolled, create_user, db):
    user, secret, _codes = enrolled
    phone = Auth(app.test_client(), create_user)
    phone.login(user.username)
    post_code(phone.client, code_for(secret, 1))
    assert phone.client.get("/").status_code == 200
    admin = auth.login_as("admin")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "On since" in page and "Turn off two-step verification" in page
    response = client.post(f"/admin/users/{user.id}/two-factor/reset",
                           data={"csrf_token": csrf_token(client, f"/admin/users/{user.id}")})
    assert response.status_code == 302
    db.rollback()
    assert db.scalar(select(func.count()).select_from(TotpCredential).where(TotpCredential.user_id == user.id)) == 0
    assert db.scalar(select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)) == 0
    reset = events(db, "user.mfa_reset")[-1]
    assert (reset.actor_id, reset.target) == (admin.id, f"user:{user.id}")
    assert phone.client.get("/").status_code == 302  # signed out everywhere
    assert client.get("/admin/users").status_code == 200  # the administrator is not
    fresh = Auth(app.test_client(), create_user)
    assert fresh.login(user.username).headers["Location"] == "/"  # the password alone signs in again
    # Nothing to reset a second time.
    again = client.post(f"/admin/users/{user.id}/two-factor/reset",
                        data={"csrf_token": csrf_token(client, f"/admin/users/{user.id}")}, follow_redirects=True)
    assert "does not use two-step verification" in html.unescape(again.get_data(as_text=True))
    assert len(events(db, "user.mfa_reset")) == 1


def test_only_administrators_can_reset_it(client, auth, enrolled, db):
    user, _secret, _codes = enrolled
    auth.login_as("trainer")
    response = client.post(f"/admin/users/{user.id}/two-factor/reset",
                           data={"csrf_token": csrf_token(client, "/account/password")})
    assert response.status_code == 403
    db.rollback()
    assert db.scalar(select(func.count()).select_from(TotpCredential)) == 1


def test_codes_are_accepted_one_step_either_way_and_no_further(app):
    """Clock drift of up to 30 seconds is tolerated; older or newer codes are not."""
    from cbt.auth.mfa import _matching_step

    secret = pyotp.random_base32()
    now = 1_900_000_000
    step = now // 30
    totp = pyotp.TOTP(secret)
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        match = _matching_step(secret, totp.generate_otp(step + offset), None, now=now)
        assert (match == step + offset) if accepted else match is None, offset
    assert _matching_step(secret, totp.generate_otp(step), step, now=now) is None  # already used
    assert _matching_step(secret, "12 34 56", None, now=now) in (None, step - 1, step, step + 1)
    assert _matching_step(secret, "abcdef", None, now=now) is None


def test_the_operator_can_turn_it_off_from_the_command_line(app, enrolled, create_user, db):
    """A sole administrator who lost the phone has no colleague to ask: the server's operator can help."""
    user, secret, _codes = enrolled
    phone = Auth(app.test_client(), create_user)
    phone.login(user.username)
    post_code(phone.client, code_for(secret, 1))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-2fa", user.username])
    assert result.exit_code == 0, result.output
    assert "is off" in result.output
    db.rollback()
    assert db.scalar(select(func.count()).select_from(TotpCredential).where(TotpCredential.user_id == user.id)) == 0
    reset = events(db, "user.mfa_reset")[-1]
    assert (reset.actor_id, reset.target) == (None, f"user:{user.id}")
    assert phone.client.get("/").status_code == 302  # its sessions ended
    again = runner.invoke(args=["users", "reset-2fa", user.username])
    assert again.exit_code != 0 and "has no two-step verification" in again.output
    unknown = runner.invoke(args=["users", "reset-2fa", "nobody-here"])
    assert unknown.exit_code != 0 and "Unknown user nobody-here" in unknown.output
