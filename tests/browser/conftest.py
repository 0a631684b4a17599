"""Browser tests: Debian's chromium driven by Playwright against the app served by ``cbt serve`` on loopback.

Each server gets its own fresh database: a new SQLite file, or, when ``CBT_TEST_DATABASE_URL`` names a
PostgreSQL database, a schema of its own in it (two servers of one session never see each other's rows), and
the ``field-drill`` fixture course with one question of every type. Without chromium these tests are skipped
locally and fail in CI (``CBT_BROWSER_REQUIRED=1``), so a missing browser can never pass silently.

``shot()`` keeps screenshots; with ``CBT_UPDATE_SCREENSHOTS=1`` they replace the ones in docs/screenshots
that the README shows, so a run of this suite keeps them current.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
FIELD_DRILL = ROOT / "tests" / "fixtures" / "courses" / "field-drill"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PG_URL = os.environ.get("CBT_TEST_DATABASE_URL", "")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "Browser-Test-Pass-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def in_chromium(work: Callable[[Any], None]) -> None:
    """Run ``work(browser)`` with a Chromium of its own, in a thread of its own.

    Playwright's sync API refuses to start in a thread where another instance runs, and the session-scoped
    ``browser`` fixture of tests/browser (visible only there) may still be open; a new thread has its own
    event loop. Skipped without chromium, failed when ``CBT_BROWSER_REQUIRED`` says it must be there.
    """
    if CHROMIUM is None:
        if os.environ.get("CBT_BROWSER_REQUIRED"):
            pytest.fail("chromium is not installed but CBT_BROWSER_REQUIRED is set")
        pytest.skip("chromium is not installed")

    def job() -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                work(browser)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(job).result()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "cbt", *args],
            env=self.env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def create_user(self, username: str, role: str = "trainee", locale: str | None = None) -> str:
        args = ["users", "create", username, "--role", role, "--name", f"Officer {username}", "--password-stdin"]
        if locale:
            args += ["--locale", locale]
        self.cli(*args, stdin=PASSWORD + "\n")
        return username


def _database_url(tmp: Path) -> str:
    """A new SQLite file, or a fresh PostgreSQL schema named after ``tmp`` (dropped first) as the search path."""
    if not PG_URL:
        return f"sqlite:///{tmp}/browser.sqlite3"
    from sqlalchemy import make_url, text

    from cbt.db import make_engine

    schema = "browser_" + re.sub(r"[^a-z0-9_]", "_", tmp.name.lower())
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def start_server(tmp: Path, **settings: str) -> LiveServer:
    port = _free_port()
    env = {
        **os.environ,
        "CBT_DATABASE_URL": _database_url(tmp),
        "CBT_INSTANCE_PATH": str(tmp / "instance"),
        "CBT_PASSWORD_HASH_MEMORY_KIB": "1024",
        "CBT_PASSWORD_HASH_TIME_COST": "1",
        "CBT_DEFAULT_LOCALE": "kk",
        **settings,
    }
    env.pop("CBT_TEST_DATABASE_URL", None)
    for args in (["db", "upgrade"], ["courses", "import", str(FIELD_DRILL)]):
        subprocess.run([sys.executable, "-m", "cbt", *args], env=env, check=True, capture_output=True, timeout=120)
    process = subprocess.Popen(
        [sys.executable, "-m", "cbt", "serve", "--port", str(port), "--threads", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("the server did not start")
    return LiveServer(url, env, process)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("CBT_BROWSER_REQUIRED"):
            pytest.fail("chromium is not installed but CBT_BROWSER_REQUIRED is set")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10000)
    yield tab
    context.close()


def axe_check(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the current page; return serious and critical violations (evaluated outside CSP)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page: Any) -> None:
    violations = axe_check(page)
    assert violations == [], json.dumps({"url": page.url, "violations": violations}, ensure_ascii=False, indent=1)


def shot(page: Any, name: str, tmp_path: Path) -> None:
    """Keep a screenshot; with CBT_UPDATE_SCREENSHOTS=1 it replaces the one shown in the README."""
    folder = SCREENSHOTS if os.environ.get("CBT_UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=False)


def navigate(page: Any, target: Any) -> Any:
    """Click a link or a form's button (a selector or a locator) and wait for the page it leads to.

    The next check then runs on the new page, never on the old one; a refused request (a form without its CSRF
    token, a server error) fails here with the status and the page's words instead of as a missing element.
    """
    with page.expect_navigation() as navigation:
        if isinstance(target, str):
            page.click(target)
        else:
            target.click()
    response = navigation.value
    assert response is not None and response.ok, (
        f"{response.status if response else 'no answer'} from {page.url}: {page.inner_text('main')}")
    return response


def sign_in(page: Any, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():  # the session cookie is set once the POST's answer has arrived
        page.click("form[action='/login'] button[type=submit]")
