"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL from ``CBT_TEST_DATABASE_URL``).

The schema is built once per session by the real migrations; each test then gets a copy of the migrated
SQLite file, or an emptied PostgreSQL database, so tests stay independent and fast.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from cbt import create_app, migrations
from cbt.db import Base, make_engine

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("CBT_TEST_DATABASE_URL", "")
TEST_PASSWORD = "Correct-Horse-42"


def named_connections(url: str, name: str) -> str:
    """``url`` with PostgreSQL's ``application_name`` set: a test can then find (or drop) those connections only."""
    return make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)


def power_cut(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to a server started in a session of its own, and every process of it, as when the power goes.

    With several workers, gunicorn's processes all get the signal at once; a process in the middle of a disk
    write (an fsync of a commit) finishes that call before it dies, so this returns only once none of them is
    left: what the test then reads from the database is all the server will ever have written.
    """
    if process.poll() is not None:
        return
    group = process.pid
    os.killpg(group, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(group):
        time.sleep(0.01)


def _group_alive(group: int) -> bool:
    return any(_alive_in_group(stat, group) for stat in Path("/proc").glob("[0-9]*/stat"))


def _alive_in_group(stat: Path, group: int) -> bool:
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False  # gone while we looked
    return fields[0] != "Z" and int(fields[2]) == group  # state, then ppid, then process group


def pytest_configure(config: pytest.Config) -> None:
    from cbt import i18n_check

    # Tests run from the source tree: compile the catalogs the way a wheel build does.
    i18n_check.compile_all(ROOT)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the migrations once; return the URL of the migrated database (template file for SQLite)."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        migrations.upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        yield PG_URL
        engine = make_engine(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return
    path = tmp_path / "cbt.sqlite3"
    shutil.copyfile(migrated_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Settings for the test app; tests may change them before asking for ``app``."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        # Cheap hashes keep the suite fast; the real parameters are tested in test_passwords.
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        "PASSWORD_HASH_TIME_COST": 1,
        "DEFAULT_LOCALE": "en",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(app_config)
    yield application
    application.extensions["cbt.db"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """A session of its own on the app's database, for arranging and checking data.

    Deliberately outside any app context: requests made by the test client then run exactly as they would
    from another terminal, with their own session. End its transaction (commit or rollback) before reading
    what a request wrote: on SQLite a transaction keeps reading its first snapshot.
    """
    with app.extensions["cbt.db"].sessionmaker() as session:
        yield session


@pytest.fixture
def site(db: Any) -> Any:
    """A border crossing point (Kordai, Kazakhstan), committed."""
    from cbt.org.models import Country, Site

    country = Country(code="KZ", names={"en": "Kazakhstan", "kk": "Қазақстан"})
    db.add(country)
    db.flush()
    row = Site(code="kordai", kind="bcp", names={"en": "Kordai", "ru": "Кордай"}, country_id=country.id)
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def create_user(app: Flask) -> Callable[..., Any]:
    """Factory: ``create_user(role="trainee", username=None, password=TEST_PASSWORD, **fields)``."""
    counter = {"n": 0}

    def factory(
        role: str = "trainee", username: str | None = None, password: str = TEST_PASSWORD, **fields: Any
    ) -> Any:
        from cbt.auth import services
        from cbt.db import get_session, writing

        counter["n"] += 1
        name = username or f"{role}{counter['n']}"
        with app.app_context(), writing():
            user = services.create_user(name, password, role=role, **fields)
            get_session().commit()
            return user

    return factory


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Read a CSRF token the way a browser gets one: from a page's form."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    """Sign in and out through the real forms."""

    def __init__(self, client: FlaskClient, create_user: Callable[..., Any]) -> None:
        self.client = client
        self.create_user = create_user

    def login(self, username: str, password: str = TEST_PASSWORD, next_url: str = "") -> Any:
        token = csrf_token(self.client)
        return self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token, "next": next_url}
        )

    def login_as(self, role: str = "trainee", **fields: Any) -> Any:
        user = self.create_user(role, **fields)
        response = self.login(user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self) -> Any:
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/")})


@pytest.fixture
def auth(client: FlaskClient, create_user: Callable[..., Any]) -> Auth:
    return Auth(client, create_user)


@pytest.fixture
def count_queries(app: Flask) -> Iterator[Callable[[], list[str]]]:
    """Collect the SQL statements run while the test makes requests; call the fixture to read them."""
    statements: list[str] = []
    engine = app.extensions["cbt.db"].engine

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    statements.clear()
    yield lambda: statements
    event.remove(engine, "before_cursor_execute", _record)
