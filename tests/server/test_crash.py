"""Kill the real server (SIGKILL) while 30 trainees save exam answers; no acknowledged answer may be lost.

The server is the production one (``python -m cbt serve``, its default workers) on a database prepared with the
operator's commands (``db upgrade``, ``courses import``, ``users create --password-stdin``). Each
simulated trainee is a thread with its own HTTP connection and cookie, reads CSRF tokens and the form
from the pages as a browser without JavaScript would, and posts one answer per question page. A save is
acknowledged when the server answers it with the redirect to the next page. After the kill and a restart,
every acknowledged answer must be in the ``responses`` table with the value that was sent, and an SQLite
file must pass ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import PG_URL, ROOT, TEST_PASSWORD, power_cut

TRAINEES = 30
COURSE = "vehicle-inspection"
#: Kill the server once this share of all the answers to give has been acknowledged: mid-run.
KILL_AFTER = 0.35
RUN_TIMEOUT = 60.0


# --- the server -------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: be killed if the test process dies (a CI timeout must not leave a server running)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Server:
    """``python -m cbt serve`` as a child process on a free loopback port."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "cbt", *args], input=stdin, capture_output=True, text=True,
            env=self.env, cwd=ROOT, timeout=120,
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"server-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cbt", "serve", "--port", str(self.port), "--threads", "8"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                status, _h, body = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200 and json.loads(body)["database"] == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not start:\n" + self.log())

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye, as when a terminal's power is cut."""
        if self.process is not None:
            power_cut(self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        logs = sorted(self.log_dir.glob("server-*.log"))
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in logs)


def request(port: int, method: str, path: str, body: dict[str, Any] | None = None,
            cookie: str | None = None, timeout: float = 15) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return _send(conn, method, path, body, cookie)
    finally:
        conn.close()


def _send(conn: http.client.HTTPConnection, method: str, path: str, body: dict[str, Any] | None,
          cookie: str | None) -> tuple[int, dict[str, str], str]:
    headers = {"Accept-Language": "en"}
    data = None
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        data = urlencode(body, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text


# --- a trainee in a browser without JavaScript -------------------------------------------------------

class QuestionForm(HTMLParser):
    """The question page's form: hidden fields and every answer control with its possible values."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.hidden: dict[str, str] = {}
        self.choices: dict[str, list[str]] = {}  # radio name -> values
        self.checkboxes: dict[str, list[str]] = {}
        self.texts: dict[str, bool] = {}  # name -> numeric?
        self.selects: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "question-form" in a.get("class", ""):
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        if tag == "input":
            kind, name = a.get("type", "text"), a.get("name", "")
            if kind == "hidden":
                self.hidden[name] = a.get("value", "")
            elif kind == "radio":
                self.choices.setdefault(name, []).append(a["value"])
            elif kind == "checkbox":
                self.checkboxes.setdefault(name, []).append(a["value"])
            elif kind == "text":
                self.texts[name] = a.get("inputmode") == "decimal"
        elif tag == "select":
            self._select = a["name"]
            self.selects[self._select] = []
        elif tag == "option" and self._select and a.get("value"):
            self.selects[self._select].append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False

    def answer(self, rng: random.Random) -> dict[str, list[str]]:
        """Some valid answer, different from trainee to trainee."""
        form: dict[str, list[str]] = {}
        for name, values in self.choices.items():
            form[name] = [rng.choice(values)]
        for name, values in self.checkboxes.items():
            form[name] = sorted(rng.sample(values, rng.randint(1, len(values))))
        for name, numeric in self.texts.items():
            words = ["tir", "CMR", "seal", "книжка МДП"]
            form[name] = [str(rng.randint(1, 999)) if numeric else rng.choice(words)]
        positions = [n for n in self.selects if n.startswith("position-")]
        order = list(range(1, len(positions) + 1))
        rng.shuffle(order)
        for name, position in zip(positions, order, strict=True):
            form[name] = [str(position)]
        for name, values in self.selects.items():
            if not name.startswith("position-"):
                form[name] = [rng.choice(values)]
        return form


class Trainee(threading.Thread):
    def __init__(self, port: int, username: str, exam_path: str, run: Run) -> None:
        super().__init__(name=username, daemon=True)
        self.port, self.username, self.exam_path, self.run_state = port, username, exam_path, run
        self.cookie: str | None = None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        self.rng = random.Random(username)
        self.acked: dict[tuple[int, int], dict[str, list[str]]] = {}
        self.attempt_id: int | None = None
        self.finished = False
        self.error: BaseException | None = None
        self.expected_error = False

    def http(self, method: str, path: str,
             body: dict[str, Any] | None = None) -> tuple[int, dict[str, str], str]:
        status, headers, text = _send(self.conn, method, path, body, self.cookie)
        match = re.match(r"cbt_session=([^;]*)", headers.get("set-cookie", ""))
        if match:
            self.cookie = f"cbt_session={match.group(1)}"
        return status, headers, text

    @staticmethod
    def token(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def run(self) -> None:
        try:
            self.work()
        except BaseException as error:  # noqa: BLE001 - judged by the test
            self.error = error
            # A lost connection is what a trainee sees of the kill; before the kill it is a failure.
            self.expected_error = self.run_state.killed.is_set() and isinstance(
                error, (OSError, http.client.HTTPException))
        finally:
            self.conn.close()

    def work(self) -> None:
        _s, _h, page = self.http("GET", "/login")
        status, headers, _t = self.http("POST", "/login", {
            "csrf_token": self.token(page), "username": self.username, "password": TEST_PASSWORD, "next": ""})
        assert status == 302, (self.username, status)
        _s, _h, page = self.http("GET", self.exam_path)
        status, headers, _t = self.http("POST", self.exam_path + "/start", {"csrf_token": self.token(page)})
        assert status == 302, status
        location = urlsplit(headers["location"]).path
        self.attempt_id = int(re.fullmatch(r"/quiz/attempts/(\d+)/1", location).group(1))
        page_number = 1
        while not self.run_state.stop.is_set():
            status, _h, page = self.http("GET", f"/quiz/attempts/{self.attempt_id}/{page_number}")
            assert status == 200, status
            form = QuestionForm()
            form.feed(page)
            answer = form.answer(self.rng)
            question_id = int(form.hidden["question"])
            last = 'value="finish"' in page
            body = {"csrf_token": form.hidden["csrf_token"], "seq": form.hidden["seq"],
                    "question": str(question_id), "action": "finish" if last else "next", **answer}
            status, headers, _t = self.http("POST", f"/quiz/attempts/{self.attempt_id}/{page_number}", body)
            expected = (f"/quiz/attempts/{self.attempt_id}/finish" if last
                        else f"/quiz/attempts/{self.attempt_id}/{page_number + 1}")
            assert status in (302, 303) and urlsplit(headers["location"]).path == expected, (status, headers)
            self.acked[(self.attempt_id, question_id)] = answer
            self.run_state.acknowledged()
            if last:
                self.finished = True
                return
            page_number += 1


class Run:
    def __init__(self, kill_at: int, server: Server) -> None:
        self.kill_at = kill_at
        self.server = server
        self.count = 0
        self.lock = threading.Lock()
        self.killed = threading.Event()
        self.stop = threading.Event()

    def acknowledged(self) -> None:
        with self.lock:
            self.count += 1
            if self.count == self.kill_at:
                self.killed.set()
                self.server.kill()


# --- reading what survived -------------------------------------------------------------------------------

def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///"):])
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture
def server_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The server's environment. On PostgreSQL, ``database_url`` (emptied after the test) is the database;
    on SQLite a brand-new file that ``db upgrade`` has to create."""
    url = PG_URL if PG_URL else f"sqlite:///{tmp_path / 'server.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBT_")}
    env.update({
        "CBT_DATABASE_URL": url,
        "CBT_INSTANCE_PATH": str(tmp_path / "instance"),
        "CBT_SECRET_KEY": "crash-test-secret",
        "CBT_PASSWORD_HASH_MEMORY_KIB": "1024",
        "CBT_PASSWORD_HASH_TIME_COST": "1",
        "CBT_DEFAULT_LOCALE": "en",
        "CBT_CLI_LOCALE": "en",
        "PYTHONPATH": str(ROOT),
    })
    return env


@pytest.mark.slow
def test_no_acknowledged_answer_is_lost_when_the_server_is_killed(server_env, tmp_path):
    url = server_env["CBT_DATABASE_URL"]
    server = Server(server_env, tmp_path)
    try:
        _crash_run(server, url)
    finally:
        server.stop()


def _crash_run(server: Server, url: str) -> None:
    started = time.monotonic()
    server.cli("db", "upgrade")
    assert "Imported vehicle-inspection version 1." in server.cli("courses", "import", f"courses/{COURSE}")
    usernames = [f"officer{n:02d}" for n in range(TRAINEES)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(lambda name: server.cli("users", "create", name, "--password-stdin",
                                                        stdin=TEST_PASSWORD + "\n"), usernames))
    assert all("created" in out for out in outputs)
    [(exam_id, draw)] = _rows(url, "SELECT id, draw FROM quizzes WHERE module_id IS NULL")
    questions_per_attempt = sum(rule["count"] for rule in _json(draw))
    setup_seconds = time.monotonic() - started

    server.start()
    run = Run(kill_at=int(TRAINEES * questions_per_attempt * KILL_AFTER), server=server)
    trainees = [Trainee(server.port, name, f"/quiz/{exam_id}", run) for name in usernames]
    for trainee in trainees:
        trainee.start()
    deadline = time.monotonic() + RUN_TIMEOUT
    for trainee in trainees:
        trainee.join(timeout=max(0.1, deadline - time.monotonic()))
    run.stop.set()
    assert run.killed.is_set(), f"only {run.count} saves acknowledged, no kill\n{server.log()}"
    for trainee in trainees:
        trainee.join(timeout=20)
        assert not trainee.is_alive(), trainee.name
    unexpected = [(t.name, repr(t.error)) for t in trainees if t.error is not None and not t.expected_error]
    assert not unexpected, unexpected

    acked: dict[tuple[int, int], dict[str, list[str]]] = {}
    for trainee in trainees:
        acked.update(trainee.acked)
    assert len(acked) >= run.kill_at
    assert not all(t.finished for t in trainees), "the kill came after everybody had finished"

    server.start()  # recovery after the crash: the server must come back on the same database
    if url.startswith("sqlite:///"):
        assert _rows(url, "PRAGMA integrity_check") == [("ok",)]
    stored = {(a, q): _json(answer) for a, q, answer in _rows(
        url, "SELECT attempt_id, question_version_id, answer FROM responses")}
    missing = sorted(set(acked) - set(stored))
    assert not missing, f"{len(missing)} acknowledged answers lost, e.g. {missing[:5]}"

    from cbt.quiz import grading

    layouts = {a: _json(layout) for a, layout in _rows(url, "SELECT id, layout FROM attempts")}
    questions = {q: (kind, _json(spec))
                 for q, kind, spec in _rows(url, "SELECT id, type, spec FROM question_versions")}
    wrong = []
    for (attempt_id, question_id), form in acked.items():
        kind, spec = questions[question_id]
        expected = grading.TYPES[kind].parse(spec, layouts[attempt_id][str(question_id)], form, None)
        if stored[(attempt_id, question_id)] != expected:
            wrong.append((attempt_id, question_id, stored[(attempt_id, question_id)], expected))
    assert not wrong, wrong[:5]

    # And a trainee who signs in again after the restart finds the answers where they left them.
    survivor = next(t for t in trainees if t.attempt_id and t.acked)
    again = Trainee(server.port, survivor.username, f"/quiz/{exam_id}", Run(0, server))
    _s, _h, page = again.http("GET", "/login")
    status, _h, _t = again.http("POST", "/login", {"csrf_token": again.token(page), "next": "",
                                                 "username": survivor.username, "password": TEST_PASSWORD})
    assert status == 302
    status, _h, page = again.http("GET", f"/quiz/attempts/{survivor.attempt_id}/finish")
    again.conn.close()
    assert status == 200
    assert page.count("Answer saved") >= len(survivor.acked)
    print(f"\ncrash test: setup {setup_seconds:.1f}s, {len(acked)} answers acknowledged before the kill, "
          f"{len(stored)} stored, {sum(t.finished for t in trainees)} of {TRAINEES} trainees had finished")
