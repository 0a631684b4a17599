"""Every ``cbt`` command, including its error paths."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
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


def _worker_processes(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


@contextlib.contextmanager
def _serving(database_url: str, tmp_path: Path, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    """``cbt serve --workers N`` on a free port; yields the process, the port and the first /healthz's Server
    header; the server's output is checked after it stops."""
    port = _free_port()
    env = {**os.environ, "CBT_DATABASE_URL": database_url, "CBT_INSTANCE_PATH": str(tmp_path / "inst")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cbt", "serve", "--port", str(port), "--workers", str(workers)],
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
                    server_header = response.headers.get("Server", "")
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not answer")
        yield process, port, server_header
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "Serving CBT" in output
    assert f"{workers} worker process" in output


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_runs_a_production_server(database_url, tmp_path, workers):
    """One worker: waitress in this process; several (Linux, macOS): gunicorn with that many processes."""
    with _serving(database_url, tmp_path, workers) as (process, _port, server_header):
        assert not any(ch.isdigit() for ch in server_header), server_header  # no version for attackers to match
        if sys.platform.startswith("linux"):
            expected = 0 if workers == 1 else workers
            deadline = time.monotonic() + 15  # gunicorn forks its workers one after the other
            while len(_worker_processes(process.pid)) != expected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(_worker_processes(process.pid)) == expected
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_a_new_terminal_while_a_classroom_keeps_its_connections_open(database_url, tmp_path, workers):
    """Sixty browsers keep two or three connections each open between clicks (150 here); the next terminal
    to connect is answered at once, not after idle connections time out."""
    with _serving(database_url, tmp_path, workers) as (_process, port, _header):
        idle = []
        try:
            for _ in range(150):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/healthz")
                assert conn.getresponse().read()
                idle.append(conn)  # kept open, as a browser keeps it
            started = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                assert response.status == 200
            assert time.monotonic() - started < 2
        finally:
            for conn in idle:
                conn.close()


def test_serve_uses_one_process_per_core_up_to_four(monkeypatch):
    from cbt import serving

    monkeypatch.setattr(serving.os, "sched_getaffinity", lambda _pid: set(range(2)), raising=False)
    assert serving.default_workers() == 2
    monkeypatch.setattr(serving.os, "sched_getaffinity", lambda _pid: set(range(16)), raising=False)
    assert serving.default_workers() == 4
    monkeypatch.setattr(serving.sys, "platform", "win32")
    assert serving.default_workers() == 1


def test_serve_refuses_several_workers_where_processes_cannot_fork(runner, monkeypatch):
    from cbt import serving

    monkeypatch.setattr(serving.sys, "platform", "win32")
    result = runner.invoke(args=["serve", "--workers", "2"])
    assert result.exit_code != 0
    assert "--workers 1" in result.output


def test_serve_rejects_a_bad_port(runner):
    result = runner.invoke(args=["serve", "--port", "70000"])
    assert result.exit_code != 0
    assert "70000" in result.output
