"""Password hashing parameters, rehashing and the password policy (pure, no Flask)."""

from __future__ import annotations

from cbt.auth import passwords


def test_default_parameters_are_owasp_argon2id():
    policy = passwords.HashPolicy()
    stored = policy.hash("Some-Long-Secret-1")
    assert stored.startswith("$argon2id$") and "m=19456,t=2,p=1" in stored
    assert policy.verify(stored, "Some-Long-Secret-1")
    assert not policy.verify(stored, "Some-Long-Secret-2")


def test_unknown_user_verification_fails():
    assert not passwords.HashPolicy(memory_kib=1024, time_cost=1).verify(None, "anything")


def test_changed_parameters_ask_for_a_rehash():
    old = passwords.HashPolicy(memory_kib=1024, time_cost=1).hash("x-secret-password")
    assert passwords.HashPolicy().needs_rehash(old)
    assert not passwords.HashPolicy(memory_kib=1024, time_cost=1).needs_rehash(old)


def test_policy():
    assert passwords.password_problems("Brand-New-Secret-9", username="ivan", min_length=12) == []
    assert passwords.TOO_SHORT in passwords.password_problems("short", username="ivan", min_length=12)
    assert passwords.SAME_AS_USERNAME in passwords.password_problems("ivanivanivan-1", username="ivan", min_length=12)
    assert passwords.TOO_COMMON in passwords.password_problems("qwertyuiop123", username="x", min_length=12)


def test_login_upgrades_an_old_hash(app, client, create_user, db):
    from sqlalchemy import select

    from cbt.auth.models import User
    from tests.conftest import Auth

    user = create_user("trainee")
    app.config["PASSWORD_HASH_MEMORY_KIB"] = 2048
    assert Auth(client, None).login(user.username).status_code == 302
    db.expire_all()
    assert "m=2048" in db.scalar(select(User.password_hash).where(User.id == user.id))
