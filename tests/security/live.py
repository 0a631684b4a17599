"""Real server processes for the security tests: ``python -m cbt serve`` on a free port, raw HTTP clients
with one cookie each, and direct reads of the server's database (SQLite file or PostgreSQL)."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.conftest import PG_URL, ROOT, power_cut

FIELD_DRILL = ROOT / "tests" / "fixtures" / "courses" / "field-drill"
TOKEN_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def server_environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a test server: PostgreSQL from ``CBT_TEST_DATABASE_URL``, else a new SQLite file."""
    url = PG_URL if PG_URL else f"sqlite:///{tmp_path / 'server.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBT_")}
    env.update({
        "CBT_DATABASE_URL": url, "CBT_INSTANCE_PATH": str(tmp_path / "instance"),
        "CBT_SECRET_KEY": "security-live-secret", "CBT_PASSWORD_HASH_MEMORY_KIB": "1024",
        "CBT_PASSWORD_HASH_TIME_COST": "1", "CBT_DEFAULT_LOCALE": "en", "CBT_CLI_LOCALE": "en",
        "PYTHONPATH": str(ROOT), **settings,
    })
    return env


def create_accounts(env: dict[str, str], usernames: list[str], password: str) -> None:
    """Accounts through the service behind ``cbt users create``, in one process (many CLI runs are slow)."""
    from cbt import create_app
    from cbt.auth import services
    from cbt.db import session, writing

    app = create_app({"DATABASE_URL": env["CBT_DATABASE_URL"], "SECRET_KEY": "x",
                      "INSTANCE_PATH": env["CBT_INSTANCE_PATH"],
                      "PASSWORD_HASH_MEMORY_KIB": 1024, "PASSWORD_HASH_TIME_COST": 1})
    with app.app_context(), writing():
        for name in usernames:
            services.create_user(name, password)
        session.commit()
    app.extensions["cbt.db"].engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir, self.port = env, log_dir, _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([sys.executable, "-m", "cbt", *args], input=stdin, capture_output=True, text=True,
                                env=self.env, cwd=ROOT, timeout=120)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def start(self) -> None:
        self.starts += 1
        with (self.log_dir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cbt", "serve", "--port", str(self.port), "--threads", "8"],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.02)
            finally:
                conn.close()
        raise AssertionError("the server did not start\n" + self.log())

    def kill(self) -> None:
        if self.process is not None:
            power_cut(self.process)

    def log(self) -> str:
        path = self.log_dir / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


class Client:
    """One browser: a cookie jar of one cookie and a keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> tuple[int, str]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Accept-Language": "en"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("cbt_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, text

    def token(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, (path, status)
        match = TOKEN_RE.search(page)
        assert match, path
        return match.group(1)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Database:
    """Reads the server's database directly (SQLite file or PostgreSQL), as another process would."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.url.startswith("sqlite:///"):
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=10)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()

    @staticmethod
    def json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


