"""Kill the real server with SIGKILL fifty times under load; nothing acknowledged may ever be lost.

``python -m cbt serve`` (its default workers) runs on a database prepared with the operator's commands. Trainees
signed in once (their server-side sessions must survive every crash) autosave answers as fast as they can,
and a stranger keeps failing to sign in with a new made-up name each time (an insert into the audit log
and the throttling table per request). At a random moment the server gets SIGKILL, mid-request. Then:

* SQLite: ``PRAGMA integrity_check`` is ``ok`` (WAL with ``synchronous=FULL``);
* every autosave acknowledged with ``{"status": "saved"}`` is stored, or a newer answer that the same
  trainee sent after it (committed, but the reply was cut off by the kill; such a commit can also become
  visible only after that check, and the trainee's next save is then refused as stale: see ``_landed_late``);
* every acknowledged failed sign-in is in ``audit_events`` and ``sign_in_failures``;
* the server starts again on the same files, and the same cookies still work.

The same runs against PostgreSQL when ``CBT_TEST_DATABASE_URL`` is set. ``CBT_CRASH_KILLS`` changes the
number of kills (default 50).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL, TEST_PASSWORD, named_connections
from tests.security.live import FIELD_DRILL, Client, Database, Server, create_accounts, server_environment

KILLS = int(os.environ.get("CBT_CRASH_KILLS", "50"))
TRAINEES = 6

pytestmark = pytest.mark.slow


class Load:
    """The traffic of one cycle: trainees autosaving, a stranger failing to sign in; acknowledgements kept."""

    def __init__(self, trainees: list[dict[str, Any]], stranger: Client, stranger_token: str, tag: str,
                 db: Database) -> None:
        self.trainees, self.stranger, self.stranger_token, self.cycle = trainees, stranger, stranger_token, tag
        self.db = db
        self.stop = threading.Event()
        self.acks = 0
        self.lock = threading.Lock()
        self.failed_names: list[str] = []
        self.errors: list[str] = []
        self.late_landings: list[str] = []

    def _ack(self) -> None:
        with self.lock:
            self.acks += 1

    def trainee(self, t: dict[str, Any]) -> None:
        client: Client = t["client"]
        n = 0
        while not self.stop.is_set():
            n += 1
            value = f"c{self.cycle}-{t['name']}-{n}"
            t["sent"].append(value)
            form = {"csrf_token": t["token"], "question": str(t["question"]), "seq": str(t["seq"]), "answer": value}
            try:
                status, body = client.request("POST", f"/quiz/attempts/{t['attempt']}/autosave", form)
            except (OSError, http.client.HTTPException):
                return  # the server is gone: this write was not acknowledged
            if status != 200:
                self.errors.append(f"{t['name']}: {status} {body[:200]}")
                return
            reply = json.loads(body)
            if reply["status"] == "stale" and n == 1 and self._landed_late(t, reply["seq"]):
                t["seq"] = reply["seq"]
                continue
            if reply["status"] != "saved":
                self.errors.append(f"{t['name']}: {reply}")
                return
            t["seq"] = reply["seq"]
            t["acked"] = (reply["seq"], value, len(t["sent"]) - 1)
            self._ack()

    def _landed_late(self, t: dict[str, Any], seq: int) -> bool:
        """Whether the stored answer, newer than the check after the kill saw, is one this trainee sent after its
        last acknowledged one: a commit the kill cut off, which the database showed only later.

        SQLite: a process killed while its commit waits for the disk (written to the log, not yet published in
        the log's index) leaves it unseen by the connections still open; when none is left, the next one rebuilds
        the index from the log and the commit appears (seen: a writer killed in its fsync, a reader's connection
        open, a check after the kill without the row, the first connection after the reader's kill with it).
        A trainee's first save after that is refused as stale and the page shows that newer answer, the
        trainee's own: nothing is lost. Only the first save of a cycle can meet it, as any later write replaces
        the unpublished commit in the log."""
        rows = self.db.rows("SELECT seq, answer FROM responses WHERE attempt_id = ? AND question_version_id = ?",
                            (t["attempt"], t["question"]))
        if not rows:
            return False
        stored_seq, answer = rows[0][0], json.dumps(Database.json(rows[0][1]))
        after = t["acked"][2] + 1 if t["acked"] else 0
        unacknowledged = t["sent"][after:-1]
        landed = t["seq"] < stored_seq < seq and any(json.dumps(v)[1:-1] in answer for v in unacknowledged)
        with self.lock:
            self.late_landings.append(f"{t['name']}: base {t['seq']}, stored {stored_seq} {answer}, "
                                      f"unacknowledged {unacknowledged[-3:]}, landed late: {landed}")
        return landed

    def stranger_signs_in(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            name = f"stranger-{self.cycle}-{n}"
            try:
                status, page = self.stranger.request("POST", "/login", {
                    "csrf_token": self.stranger_token, "username": name, "password": "Not-the-password-1"})
            except (OSError, http.client.HTTPException):
                return
            if status != 200 or "The username or password is not correct" not in page:
                self.errors.append(f"stranger: {status}")
                return
            self.failed_names.append(name)
            self._ack()


def _prepare(server: Server, db: Database, usernames: list[str]) -> tuple[int, int]:
    """The operator's set-up: schema, the fixture course, accounts. Returns (practice quiz, question)."""
    server.cli("db", "upgrade")
    server.cli("courses", "import", str(FIELD_DRILL))
    create_accounts(server.env, usernames, TEST_PASSWORD)
    [(practice,)] = db.rows("SELECT id FROM quizzes WHERE module_id IS NOT NULL")
    [(question,)] = db.rows("SELECT id FROM question_versions WHERE type = 'short_text'")
    return practice, question


def _sign_in_and_start(server: Server, db: Database, names: list[str], practice: int,
                       question: int) -> tuple[list[dict[str, Any]], Client, str]:
    trainees = []
    for name in names:
        client = Client(server.port)
        token = client.token("/login")
        status, _ = client.request("POST", "/login", {"csrf_token": token, "username": name,
                                                       "password": TEST_PASSWORD})
        assert status == 302
        token = client.token(f"/quiz/{practice}")
        status, _ = client.request("POST", f"/quiz/{practice}/start", {"csrf_token": token})
        assert status == 302
        [(attempt,)] = db.rows("SELECT a.id FROM attempts a JOIN users u ON u.id = a.user_id WHERE u.username = ?",
                               (name,))
        trainees.append({"name": name, "client": client, "token": token, "attempt": attempt,
                         "question": question, "seq": 0, "sent": [], "acked": None})
    stranger = Client(server.port)
    return trainees, stranger, stranger.token("/login")


def _verify(db: Database, trainees: list[dict[str, Any]], failed_names: list[str]) -> None:
    if db.url.startswith("sqlite:///"):
        assert db.rows("PRAGMA integrity_check") == [("ok",)]
    for t in trainees:
        if t["acked"] is None:
            continue
        acked_seq, acked_value, acked_index = t["acked"]
        rows = db.rows("SELECT seq, answer FROM responses WHERE attempt_id = ? AND question_version_id = ?",
                       (t["attempt"], t["question"]))
        assert rows, f"{t['name']}: acknowledged answer {acked_value} lost (no row)"
        stored_seq, answer = rows[0][0], json.dumps(Database.json(rows[0][1]))
        assert stored_seq >= acked_seq, f"{t['name']}: acknowledged seq {acked_seq} lost, found {stored_seq}"
        if stored_seq == acked_seq:
            assert json.dumps(acked_value)[1:-1] in answer, (t["name"], acked_value, answer)
        else:  # a later write committed but its reply was cut off: it must be one this trainee sent
            later = t["sent"][acked_index + 1:]
            assert any(json.dumps(v)[1:-1] in answer for v in later), (t["name"], answer, later[-3:])
        t["seq"] = stored_seq
    if failed_names:
        audited = {Database.json(d).get("username") for (d,) in db.rows(
            "SELECT details FROM audit_events WHERE action = 'auth.sign_in_failed'")}
        counted = {u for (u,) in db.rows("SELECT username FROM sign_in_failures")}
        lost = [n for n in failed_names if n not in audited or n not in counted]
        assert not lost, f"{len(lost)} acknowledged failed sign-ins lost, e.g. {lost[:3]}"


@pytest.fixture
def server_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    # One address sends hundreds of failed sign-ins on purpose: switch the per-address ceiling off.
    return server_environment(tmp_path, CBT_SIGNIN_MAX_FAILURES_PER_ADDRESS="0")


class Lane(threading.Thread):
    """One server process and its own trainees, killed again and again; lanes share the database."""

    def __init__(self, number: int, env: dict[str, str], log_dir: Path, kills: int, db: Database) -> None:
        super().__init__(name=f"lane{number}")
        self.number, self.kills, self.db = number, kills, db
        log_dir.mkdir()
        self.application = f"cbt-crash-lane{number}"
        if PG_URL:  # named, so the lane can wait for its killed server's database connections to end
            env = {**env, "CBT_DATABASE_URL": named_connections(env["CBT_DATABASE_URL"], self.application)}
        self.server = Server(env, log_dir)
        self.names = [f"crash{number}-{n}" for n in range(TRAINEES)]
        self.rng = random.Random(20261122 + number)
        self.acks = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
        finally:
            self.server.kill()

    def _settle(self) -> None:
        """On PostgreSQL a killed server's last COMMIT can still land after the kill: wait for its connections
        to end, or the check would read the answers before that write and the next cycle's save be stale."""
        if not PG_URL:
            return
        deadline = time.monotonic() + 15
        while self.db.rows("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                           (self.application,))[0][0]:
            assert time.monotonic() < deadline, f"{self.name}: the killed server's connections did not end"
            time.sleep(0.02)

    def _run(self) -> None:
        self.server.start()
        trainees, stranger, token = _sign_in_and_start(self.server, self.db, self.names, *self.quiz)
        failed: list[str] = []
        try:
            for cycle in range(self.kills):
                if cycle:
                    self.server.start()
                load = Load(trainees, stranger, token, f"{self.number}.{cycle}", self.db)
                threads = [threading.Thread(target=load.trainee, args=(t,)) for t in trainees]
                threads.append(threading.Thread(target=load.stranger_signs_in))
                for thread in threads:
                    thread.start()
                wanted = self.rng.randint(4, 30)  # kill after a random number of acknowledged writes
                deadline = time.monotonic() + 10
                while load.acks < wanted and time.monotonic() < deadline and not load.errors:
                    time.sleep(0.002)
                self.server.kill()
                load.stop.set()
                for thread in threads:
                    thread.join(timeout=15)
                assert not load.errors, (load.errors[:5], load.late_landings)
                if load.late_landings:
                    print(f"\n{self.name} cycle {cycle}: {load.late_landings}")  # noqa: T201
                assert load.acks >= wanted, f"{self.name} cycle {cycle}: {load.acks} acks\n{self.server.log()}"
                for t in trainees:
                    t["client"].close()
                stranger.close()
                failed += load.failed_names
                self._settle()
                _verify(self.db, trainees, failed)
                self.acks += load.acks
            # After the last crash the server comes back and the trainees' sessions still work.
            self.server.start()
            status, _ = trainees[0]["client"].request("GET", f"/quiz/attempts/{trainees[0]['attempt']}/1")
            assert status == 200
        finally:
            for t in trainees:
                t["client"].close()
            stranger.close()

    quiz: tuple[int, int] = (0, 0)


def test_fifty_kills_under_load_lose_nothing_acknowledged(server_env, tmp_path):
    """Three servers on one database, each killed 17 times while it and the others serve (51 kills)."""
    lanes_count = 3
    db = Database(server_env["CBT_DATABASE_URL"])
    started = time.monotonic()
    per_lane = -(-KILLS // lanes_count)
    lanes = [Lane(n, server_env, tmp_path / f"lane{n}", per_lane, db) for n in range(lanes_count)]
    Lane.quiz = _prepare(lanes[0].server, db, [name for lane in lanes for name in lane.names])
    setup_done = time.monotonic()
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join(timeout=600)
    for lane in lanes:
        assert not lane.is_alive(), lane.name
        if lane.error is not None:
            raise lane.error
    kills = sum(lane.server.starts - 1 for lane in lanes)
    assert kills >= KILLS
    total = sum(lane.acks for lane in lanes)
    assert total >= kills * 4
    print(f"\n{kills} kills, {total} acknowledged writes, {time.monotonic() - started:.1f} s "  # noqa: T201
          f"(set-up {setup_done - started:.1f} s)")
