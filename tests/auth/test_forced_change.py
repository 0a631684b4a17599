"""A password an administrator chose must be replaced before anything else (ASVS 2.3.1), over real HTTP."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from cbt.audit.models import AuditEvent
from cbt.auth.models import User
from tests.conftest import TEST_PASSWORD, Auth, csrf_token

NEW_PASSWORD = "My-Own-Secret-2026"


def admin_creates(client, username: str) -> str:
    """Create an account through the administration form; return the one-time password it shows."""
    page = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": username, "full_name": "Асель Нұрланқызы",
        "role": "trainee", "service_number": "", "agency": "", "site": "", "locale": ""}).get_data(as_text=True)
    return re.search(r'<code class="secret">([^<]+)</code>', page).group(1)


def change(client, current: str, new: str = NEW_PASSWORD):
    return client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"), "current_password": current,
        "new_password": new, "confirm_password": new})


def flag(db, username: str) -> bool:
    db.rollback()
    return db.scalar(select(User.must_change_password).where(User.username == username))


def test_an_account_created_by_an_administrator_must_change_its_password_first(app, client, auth, create_user, db):
    auth.login_as("admin")
    password = admin_creates(client, "asel")
    assert flag(db, "asel") is True
    user_client = app.test_client()
    user = Auth(user_client, create_user)
    response = user.login("asel", password, next_url="/learn/transcript")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    for url in ("/", "/learn/", "/learn/transcript", "/account/sessions", "/verify", "/quiz/1"):
        response = user_client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/account/password", url
    page = user_client.get("/account/password").get_data(as_text=True)
    assert "Choose a new password of your own before you continue." in page  # the flash of the redirect
    assert "Your password was set by an administrator" in page
    assert 'class="account-nav"' not in page  # no links that would only lead back here
    token = csrf_token(user_client, "/account/password")
    # A script gets JSON, not a redirect to a page it cannot show.
    script = user_client.post("/quiz/attempts/1/autosave", data={"csrf_token": token, "question": "1"},
                              headers={"X-Requested-With": "fetch"})
    assert script.status_code == 403 and script.get_json() == {"status": "password_change_required",
                                                               "location": "/account/password"}
    assert script.headers["Content-Type"] == "application/json"
    # What stays open: static files, the language switcher, the idle ping, signing out.
    static = user_client.get("/static/css/cbt.css")
    assert static.status_code == 200
    static.close()
    assert user_client.get("/session/ping").status_code == 204
    switched = user_client.post("/language", data={"csrf_token": token, "locale": "ru", "next": "/account/password"})
    assert switched.headers["Location"] == "/account/password"
    assert "Сменить пароль" in user_client.get("/account/password").get_data(as_text=True)
    user_client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})

    assert change(user_client, password, "short").status_code == 200  # the policy still applies
    assert flag(db, "asel") is True
    assert change(user_client, password).status_code == 302
    assert flag(db, "asel") is False
    assert user_client.get("/learn/transcript").status_code == 200
    changed = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_change")).all()[-1]
    assert changed.details == {"forced": True}
    user.logout()
    assert user.login("asel", password).status_code == 200
    assert user.login("asel", NEW_PASSWORD).headers["Location"] == "/"


def test_sign_out_works_while_a_change_is_due(app, client, auth, create_user):
    auth.login_as("admin")
    password = admin_creates(client, "leaver")
    user = Auth(app.test_client(), create_user)
    user.login("leaver", password)
    response = user.client.post("/logout", data={"csrf_token": csrf_token(user.client, "/account/password")})
    assert response.headers["Location"] == "/login"
    assert user.client.get("/account/password").headers["Location"].startswith("/login")


def test_a_password_reset_forces_a_change_again(app, client, auth, create_user, db):
    create_user("trainee", username="forgetful")
    assert flag(db, "forgetful") is False
    auth.login_as("admin")
    target = db.scalar(select(User.id).where(User.username == "forgetful"))
    page = client.post(f"/admin/users/{target}/password",
                       data={"csrf_token": csrf_token(client, f"/admin/users/{target}")}).get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    assert "they must choose a new password when they sign in with it" in page
    assert flag(db, "forgetful") is True
    assert "must choose a new password at the next sign-in" in client.get(f"/admin/users/{target}").get_data(
        as_text=True)
    user = Auth(app.test_client(), create_user)
    assert user.login("forgetful", password).headers["Location"] == "/account/password"
    assert change(user.client, password).status_code == 302
    assert flag(db, "forgetful") is False


def test_imported_accounts_must_change_but_updated_ones_do_not(client, auth, create_user, db):
    create_user("trainee", username="existing", full_name="Old Name")
    auth.login_as("admin")
    upload = client.post("/admin/users/import", data={
        "csrf_token": csrf_token(client, "/admin/users/import"),
        "file": (io.BytesIO("username,full_name,role\nnewcomer,Жаңа Қызметкер,trainee\n"
                                          "existing,New Name,trainee\n".encode()), "users.csv")},
        content_type="multipart/form-data")
    preview = upload.headers["Location"]
    result = client.post(preview, data={"csrf_token": csrf_token(client, preview), "action": "all"})
    assert result.status_code == 200
    assert flag(db, "newcomer") is True
    assert flag(db, "existing") is False


def test_accounts_from_the_command_line_and_the_demo_are_not_forced(runner, db):
    """The operator typed the password (``cbt users create``) or it is public (``cbt demo``): no forced change."""
    result = runner.invoke(args=["users", "create", "operator", "--role", "admin", "--password-stdin"],
                           input=TEST_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert flag(db, "operator") is False
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    db.rollback()
    flags = dict(db.execute(select(User.username, User.must_change_password)).all())
    assert flags == {"operator": False, "trainee": False, "trainer": False, "admin": False}
