"""Every ``cbt`` command, including its error paths."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from sqlalchemy import select

from cbt.auth.models import User


def test_db_upgrade_is_repeatable(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database is at revision" in result.output


def test_users_create_with_password_from_stdin(runner, db):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Officer1",
            "--role",
            "trainer",
            "--name",
            "Жанар Ғалымқызы",
            "--locale",
            "kk",
            "--password-stdin",
        ],
        input="Strong-Password-77\n",
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "officer1"))
    assert user.role == "trainer" and user.full_name == "Жанар Ғалымқызы" and user.locale == "kk"


def test_users_create_with_site_and_agency(runner, db):
    assert runner.invoke(args=["demo"]).exit_code == 0
    result = runner.invoke(
        args=["users", "create", "o2", "--site", "kordai", "--agency", "kz-customs", "--password-stdin"],
        input="Strong-Password-77\n",
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "o2"))
    assert user.site.code == "kordai" and user.agency.code == "kz-customs"


def test_users_create_error_paths(runner, db):
    ok = runner.invoke(args=["users", "create", "taken", "--password-stdin"], input="Strong-Password-77\n")
    assert ok.exit_code == 0
    cases = [
        (["users", "create", "taken", "--password-stdin"], "Strong-Password-77\n", "already taken"),
        (["users", "create", "x1", "--role", "boss", "--password-stdin"], "Strong-Password-77\n", "Invalid value"),
        (["users", "create", "x2", "--password-stdin"], "short\n", "at least 12 characters"),
        (["users", "create", "x3", "--password-stdin"], "\n", "at least 12 characters"),
        (["users", "create", "x4", "--site", "nowhere", "--password-stdin"], "Strong-Password-77\n", "Unknown site"),
        (["users", "create", "x5", "--agency", "nobody", "--password-stdin"], "Strong-Password-77\n", "Unknown agency"),
        (["users", "create", "x6", "--locale", "de", "--password-stdin"], "Strong-Password-77\n", "Unknown language"),
        (["users", "create", "bad name", "--password-stdin"], "Strong-Password-77\n", "without spaces"),
    ]
    for args, stdin, message in cases:
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    db.expire_all()
    assert db.scalars(select(User.username)).all() == ["taken"]


def test_users_list(runner):
    runner.invoke(
        args=["users", "create", "listed", "--role", "admin", "--password-stdin"], input="Strong-Password-77\n"
    )
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "listed\tadmin" in result.output
    assert "listed" not in runner.invoke(args=["users", "list", "--role", "trainee"]).output


def test_demo_is_idempotent_and_prints_working_credentials(runner, client, db):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert db.scalar(select(User).where(User.username == "admin")).role == "admin"
    assert len(db.scalars(select(User)).all()) == 3
    from tests.conftest import Auth

    auth = Auth(client, None)
    for line in first.output.splitlines()[1:]:
        username, password, _role = line.split()
        assert auth.login(username, password).status_code == 302
        auth.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_a_production_server(database_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "CBT_DATABASE_URL": database_url, "CBT_INSTANCE_PATH": str(tmp_path / "inst")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cbt", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    assert response.status == 200
                    assert b'"status":"ok"' in response.read()
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not answer")
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert "Serving CBT" in output
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_serve_rejects_a_bad_port(runner):
    result = runner.invoke(args=["serve", "--port", "70000"])
    assert result.exit_code != 0
    assert "70000" in result.output
