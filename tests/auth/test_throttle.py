"""Sign-in throttling: per account and address, per address overall, in the database, quiet about accounts."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from cbt.audit.models import AuditEvent
from cbt.auth import passwords
from cbt.auth.models import SignInFailure
from cbt.db import utcnow
from tests.conftest import TEST_PASSWORD, Auth, csrf_token

WRONG = "Wrong-password-1"


@pytest.fixture
def verify_calls(monkeypatch):
    """Record every password verification (the stored hash it was given)."""
    calls: list[str | None] = []
    original = passwords.HashPolicy.verify

    def spy(self, stored_hash, password):
        calls.append(stored_hash)
        return original(self, stored_hash, password)

    monkeypatch.setattr(passwords.HashPolicy, "verify", spy)
    return calls


def client_at(app, address: str):
    """A test client whose requests come from ``address`` (another terminal or network)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _fail(auth: Auth, username: str, times: int) -> None:
    for _ in range(times):
        assert auth.login(username, WRONG).status_code == 200


def test_account_is_throttled_after_five_failures_and_the_password_is_not_checked(
    client, auth, create_user, verify_calls, db
):
    user = create_user("trainee")
    _fail(auth, user.username, 5)
    assert len(verify_calls) == 5
    response = auth.login(user.username)  # the right password
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many failed sign-in attempts" in page
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert len(verify_calls) == 5, "a throttled attempt must not reach the password check"
    assert client.get("/").status_code == 302  # not signed in
    assert db.scalar(select(func.count()).select_from(SignInFailure)) == 5  # refusals are not failures


def test_unknown_usernames_are_throttled_with_the_same_page(auth, create_user):
    """Status, message and form are the same for an existing and a made-up account."""
    user = create_user("trainee")
    _fail(auth, user.username, 5)
    _fail(auth, "no-such-officer", 5)
    known = auth.login(user.username, WRONG)
    unknown = auth.login("no-such-officer", WRONG)
    assert known.status_code == unknown.status_code == 429

    def page(response, name):
        text = response.get_data(as_text=True).replace(name, "USERNAME")
        return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", text)

    assert page(known, user.username) == page(unknown, "no-such-officer")


def test_an_unknown_username_still_runs_the_password_check(auth, verify_calls):
    """Same code path, same time: the dummy hash is verified when there is no such user."""
    assert auth.login("nobody-at-all", WRONG).status_code == 200
    assert verify_calls == [None]  # HashPolicy.verify(None, ...) verifies against the dummy hash


def test_success_clears_the_failures_of_that_account_and_address(client, auth, create_user, db):
    user = create_user("trainee")
    other = create_user("trainee")
    _fail(auth, user.username, 4)
    _fail(auth, other.username, 2)
    assert auth.login(user.username).status_code == 302
    auth.logout()
    db.rollback()
    assert db.scalars(select(SignInFailure.username)).all() == [other.username] * 2
    _fail(auth, user.username, 4)  # counting starts again from zero
    assert auth.login(user.username).status_code == 302


def test_one_address_is_capped_over_all_accounts(app_config, create_user):
    from cbt import create_app

    app_config.update(SIGNIN_MAX_FAILURES_PER_ADDRESS=8)
    application = create_app(app_config)
    try:
        attacker = Auth(application.test_client(), create_user)
        for n in range(8):  # a different account each time: the per-account limit never triggers
            assert attacker.login(f"guess{n}", WRONG).status_code == 200
        victim = create_user("trainee")
        assert attacker.login(victim.username).status_code == 429
        elsewhere = client_at(application, "10.0.0.99")
        assert Auth(elsewhere, create_user).login(victim.username).status_code == 302
    finally:
        application.extensions["cbt.db"].engine.dispose()


def test_throttling_is_per_client_address(app, create_user):
    user = create_user("trainee")
    here = Auth(client_at(app, "10.1.1.1"), create_user)
    there = Auth(client_at(app, "10.2.2.2"), create_user)
    _fail(here, user.username, 5)
    assert here.login(user.username).status_code == 429
    assert there.login(user.username).status_code == 302


def test_failures_leave_the_window_and_old_rows_are_pruned(auth, create_user, db):
    user = create_user("trainee")
    _fail(auth, user.username, 5)
    db.execute(update(SignInFailure).values(created_at=utcnow() - timedelta(minutes=16)))
    db.commit()
    _fail(auth, user.username, 1)  # allowed again; recording it prunes the expired rows
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SignInFailure)) == 1
    assert auth.login(user.username).status_code == 302


def test_retry_after_counts_down_from_the_failure_that_frees_the_account(auth, create_user, db):
    user = create_user("trainee")
    _fail(auth, user.username, 5)
    oldest = db.scalar(select(func.min(SignInFailure.id)))
    db.execute(update(SignInFailure).where(SignInFailure.id == oldest)
               .values(created_at=utcnow() - timedelta(minutes=14)))
    db.commit()
    response = auth.login(user.username)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert "Wait 1 minute and try again" in response.get_data(as_text=True)


def test_counters_are_shared_by_every_worker(app_config, create_user):
    """Two application instances (two workers or servers) on one database see the same failures."""
    from cbt import create_app

    first, second = create_app(app_config), create_app(app_config)
    try:
        user = create_user("trainee")
        _fail(Auth(first.test_client(), create_user), user.username, 3)
        _fail(Auth(second.test_client(), create_user), user.username, 2)
        assert Auth(first.test_client(), create_user).login(user.username).status_code == 429
    finally:
        for application in (first, second):
            application.extensions["cbt.db"].engine.dispose()


def test_limits_come_from_the_environment(monkeypatch, app_config, create_user):
    from cbt import create_app

    monkeypatch.setenv("CBT_SIGNIN_MAX_FAILURES", "2")
    monkeypatch.setenv("CBT_SIGNIN_MAX_FAILURES_PER_ADDRESS", "40")
    application = create_app(app_config)
    try:
        assert application.config["SIGNIN_MAX_FAILURES"] == 2
        assert application.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"] == 40
        auth = Auth(application.test_client(), create_user)
        user = create_user("trainee")
        _fail(auth, user.username, 2)
        assert auth.login(user.username).status_code == 429
    finally:
        application.extensions["cbt.db"].engine.dispose()


def test_defaults():
    from cbt.config import DEFAULTS

    assert (DEFAULTS["SIGNIN_MAX_FAILURES"], DEFAULTS["SIGNIN_MAX_FAILURES_PER_ADDRESS"]) == (5, 100)
    assert DEFAULTS["SIGNIN_WINDOW_MINUTES"] == 15


def test_failed_and_throttled_sign_ins_are_audited_and_logged(auth, create_user, db, caplog):
    user = create_user("trainee")
    with caplog.at_level(logging.INFO, logger="cbt.security"):
        _fail(auth, user.username, 5)
        auth.login(user.username)
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("auth.sign_in_failed") == 5
    assert actions[-1] == "auth.sign_in_throttled"
    throttled = db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_throttled"))
    assert throttled.details == {"username": user.username, "scope": "account"}
    assert throttled.client_address == "127.0.0.1"
    events = [(r.security_event, r.username, r.client_address, r.levelno) for r in caplog.records
              if hasattr(r, "security_event")]
    assert events.count(("auth.sign_in_failed", user.username, "127.0.0.1", logging.INFO)) == 5
    assert events[-1] == ("auth.sign_in_throttled", user.username, "127.0.0.1", logging.WARNING)
    assert TEST_PASSWORD not in caplog.text and WRONG not in caplog.text


def test_a_forged_username_cannot_forge_log_lines(auth, caplog):
    with caplog.at_level(logging.INFO, logger="cbt.security"):
        auth.login("evil\nauth.sign_in username='admin'", WRONG)
    lines = [r.getMessage() for r in caplog.records if hasattr(r, "security_event")]
    assert len(lines) == 1 and "\n" not in lines[0]


def test_throttled_page_is_translated(app, create_user):
    client = app.test_client()
    auth = Auth(client, create_user)
    user = create_user("trainee")
    _fail(auth, user.username, 5)
    for locale, words in (("kk", "Сәтсіз кіру әрекеттері тым көп"), ("ru", "Слишком много неудачных попыток входа")):
        client.post("/language", data={"locale": locale, "next": "/login", "csrf_token": csrf_token(client)})
        response = auth.login(user.username)
        assert response.status_code == 429
        assert words in response.get_data(as_text=True), locale


@pytest.fixture
def lock_probe(app, monkeypatch):
    """While argon2 runs (verify and hash), record whether the request holds a transaction or the write lock.

    ``in_transaction`` is the request's own session; ``blocked`` says whether another connection could not
    take SQLite's write lock at that moment (always False on PostgreSQL, where the first check decides).
    """
    from sqlalchemy import text

    from cbt.db import get_session

    seen: list[dict[str, object]] = []
    engine = app.extensions["cbt.db"].engine

    def probe(what: str) -> None:
        blocked = False
        if engine.dialect.name == "sqlite":
            import sqlite3

            other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            except sqlite3.OperationalError:
                blocked = True
            finally:
                other.close()
        else:
            with engine.connect() as conn:
                blocked = bool(conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND pid <> pg_backend_pid()")).scalar())
        seen.append({"what": what, "in_transaction": get_session().in_transaction(), "blocked": blocked})

    verify, make = passwords.HashPolicy.verify, passwords.HashPolicy.hash

    def spy_verify(self, stored_hash, password):
        probe("verify")
        return verify(self, stored_hash, password)

    def spy_hash(self, password):
        probe("hash")
        return make(self, password)

    monkeypatch.setattr(passwords.HashPolicy, "verify", spy_verify)
    monkeypatch.setattr(passwords.HashPolicy, "hash", spy_hash)
    return seen


def test_the_password_is_checked_outside_any_transaction(client, auth, create_user, lock_probe, db):
    """Argon2 never runs while the sign-in holds a transaction (on SQLite: the one write lock)."""
    user = create_user("trainee")
    lock_probe.clear()
    assert auth.login(user.username, WRONG).status_code == 200  # failure: one counter row afterwards
    assert auth.login("nobody-at-all", WRONG).status_code == 200  # unknown user: the dummy hash
    assert auth.login(user.username).status_code == 302  # success: session row afterwards
    assert [p["what"] for p in lock_probe] == ["verify"] * 3
    assert not any(p["in_transaction"] or p["blocked"] for p in lock_probe), lock_probe
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SignInFailure)) == 1  # nobody-at-all; officer's cleared


def test_an_outdated_hash_is_upgraded_without_holding_the_lock(app_config, create_user, lock_probe, db):
    """A hash made with cheaper parameters is re-hashed at sign-in: the hashing also runs outside the lock."""
    from cbt import create_app
    from cbt.auth.models import User

    user = create_user("trainee")  # hashed with time_cost=1
    app_config["PASSWORD_HASH_TIME_COST"] = 2
    application = create_app(app_config)
    try:
        lock_probe.clear()
        assert Auth(application.test_client(), create_user).login(user.username).status_code == 302
        # The probe watches the fixture's app; this app has its own engine on the same database file.
        assert [p["what"] for p in lock_probe] == ["verify", "hash"]
        assert not any(p["in_transaction"] for p in lock_probe), lock_probe
        db.rollback()
        assert "t=2," in db.scalar(select(User.password_hash).where(User.id == user.id))
    finally:
        application.extensions["cbt.db"].engine.dispose()


def test_the_limit_is_checked_again_when_the_outcome_is_written(client, auth, create_user, monkeypatch, db):
    """Failures recorded by other terminals while this password was being verified still count."""
    from cbt.auth.models import SignInFailure as Failure
    from cbt.db import get_session

    user = create_user("trainee")
    _fail(auth, user.username, 4)
    verify = passwords.HashPolicy.verify

    def meanwhile(self, stored_hash, password):
        # Another terminal's failure lands while this sign-in verifies its (right) password.
        db.add(Failure(username=user.username, client_address="127.0.0.1", created_at=utcnow()))
        db.commit()
        assert not get_session().in_transaction()
        return verify(self, stored_hash, password)

    monkeypatch.setattr(passwords.HashPolicy, "verify", meanwhile)
    assert auth.login(user.username).status_code == 429
    assert client.get("/").status_code == 302


def test_a_password_change_hashes_outside_any_transaction(client, auth, lock_probe):
    """The first sign-in of a class changes thirty passwords at once: two argon2 runs each, none under the lock."""
    auth.login_as("trainee")
    token = csrf_token(client, "/account/password")
    lock_probe.clear()
    response = client.post("/account/password", data={"csrf_token": token, "current_password": TEST_PASSWORD,
                                                       "new_password": "Brand-New-Secret-9",
                                                       "confirm_password": "Brand-New-Secret-9"})
    assert response.status_code == 302
    assert [p["what"] for p in lock_probe] == ["verify", "hash"]
    assert not any(p["in_transaction"] or p["blocked"] for p in lock_probe), lock_probe
