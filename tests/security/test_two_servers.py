"""Two server processes on one database, trainees spread over both: no lost and no duplicated records.

On PostgreSQL (``CBT_TEST_DATABASE_URL``) this is the central-server layout behind a load balancer; on
SQLite it is two processes sharing one file (WAL, ``BEGIN IMMEDIATE``, busy timeout). Every trainee signs
in on one server and then sends each request to the other one in turn (the server-side session and the
CSRF token are valid on both). At the same moment each trainee

* autosaves a run of answers alternating between the servers: afterwards exactly one answer row exists,
  it holds the last acknowledged value, and the attempt's sequence number counts every save exactly once
  (a lost update between processes would leave it short);
* completes the same lesson on both servers at once (a double click on two terminals): one progress row,
  one enrollment;
* starts the same exam on both servers at once: never two running attempts;
* fails to sign in with a wrong password on both: every failure counted once.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_PASSWORD
from tests.security.live import FIELD_DRILL, Client, Database, Server, create_accounts, server_environment

pytestmark = pytest.mark.slow

TRAINEES = 12
SAVES = 16


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Any:
    env = server_environment(tmp_path, CBT_SIGNIN_MAX_FAILURES_PER_ADDRESS="0")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = Server(env, tmp_path / "a"), Server(env, tmp_path / "b")
    first.cli("db", "upgrade")
    first.cli("courses", "import", str(FIELD_DRILL))
    create_accounts(env, [f"pair{n}" for n in range(TRAINEES)], TEST_PASSWORD)
    first.start()
    second.start()
    yield first, second, Database(env["CBT_DATABASE_URL"])
    first.kill()
    second.kill()


def _in_parallel(*calls: Any) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Any) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_two_servers_one_database_lose_and_duplicate_nothing(servers):
    first, second, db = servers
    [(practice,)] = db.rows("SELECT id FROM quizzes WHERE module_id IS NOT NULL")
    [(exam,)] = db.rows("SELECT id FROM quizzes WHERE module_id IS NULL")
    [(lesson,)] = db.rows("SELECT id FROM lessons")
    [(question,)] = db.rows("SELECT id FROM question_versions WHERE type = 'short_text'")
    report: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    def trainee(n: int) -> None:
        name = f"pair{n}"
        home, away = (first, second) if n % 2 == 0 else (second, first)
        on = {"home": Client(home.port), "away": Client(away.port)}
        token = on["home"].token("/login")
        status, _ = on["home"].request("POST", "/login", {"csrf_token": token, "username": name,
                                                           "password": TEST_PASSWORD})
        assert status == 302, name
        on["away"].cookie = on["home"].cookie  # the same browser session, served by the other process
        token = on["away"].token(f"/quiz/{practice}")
        on["home"].cookie = on["away"].cookie  # now holding the CSRF secret the token is checked against
        status, _ = on["away"].request("POST", f"/quiz/{practice}/start", {"csrf_token": token})
        assert status == 302
        [(attempt,)] = db.rows("SELECT a.id FROM attempts a JOIN users u ON u.id = a.user_id "
                               "WHERE u.username = ? AND a.quiz_id = ?", (name, practice))
        seq, acked = 0, []
        for k in range(SAVES):
            client = on["home"] if k % 2 else on["away"]
            value = f"{name}-answer-{k}"
            status, body = client.request("POST", f"/quiz/attempts/{attempt}/autosave", {
                "csrf_token": token, "question": str(question), "seq": str(seq), "answer": value})
            assert status == 200, body[:300]
            reply = json.loads(body)
            assert reply["status"] == "saved", reply
            seq = reply["seq"]
            acked.append(value)
        # Both terminals at once: complete the lesson, start the exam, fail a sign-in.
        lesson_url = f"/learn/courses/field-drill/lessons/{lesson}/complete"
        _in_parallel(*(lambda c=c: c.request("POST", lesson_url, {"csrf_token": token}) for c in on.values()))
        _in_parallel(*(lambda c=c: c.request("POST", f"/quiz/{exam}/start", {"csrf_token": token})
                       for c in on.values()))
        strangers = [Client(first.port), Client(second.port)]
        tokens = [s.token("/login") for s in strangers]
        codes = _in_parallel(*(lambda s=s, t=t: s.request("POST", "/login", {
            "csrf_token": t, "username": f"ghost-{name}", "password": "Wrong-password-1"})[0]
            for s, t in zip(strangers, tokens, strict=True)))
        assert codes == [200, 200]
        for client in [*on.values(), *strangers]:
            client.close()
        with lock:
            report[name] = {"attempt": attempt, "saves": len(acked), "last": acked[-1]}

    _in_parallel(*(lambda n=n: trainee(n) for n in range(TRAINEES)))
    assert len(report) == TRAINEES

    for name, facts in report.items():
        rows = db.rows("SELECT answer FROM responses WHERE attempt_id = ? AND question_version_id = ?",
                       (facts["attempt"], question))
        assert len(rows) == 1, (name, rows)
        assert facts["last"] in str(Database.json(rows[0][0])), (name, rows)
        [(attempt_seq,)] = db.rows("SELECT seq FROM attempts WHERE id = ?", (facts["attempt"],))
        assert attempt_seq == facts["saves"], f"{name}: {facts['saves']} saves, attempt seq {attempt_seq}"
    duplicates = {
        "lesson_progress": "SELECT user_id, lesson_id, count(*) FROM lesson_progress GROUP BY user_id, lesson_id "
                           "HAVING count(*) > 1",
        "enrollments": "SELECT user_id, course_id, count(*) FROM enrollments GROUP BY user_id, course_id "
                       "HAVING count(*) > 1",
        "running attempts": "SELECT user_id, quiz_id, count(*) FROM attempts WHERE status = 'in_progress' "
                            "GROUP BY user_id, quiz_id HAVING count(*) > 1",
    }
    for what, sql in duplicates.items():
        assert db.rows(sql) == [], what
    completed = db.rows("SELECT count(*) FROM lesson_progress WHERE completed_at IS NOT NULL AND lesson_id = ?",
                        (lesson,))
    assert completed == [(TRAINEES,)]
    exams = db.rows("SELECT count(*) FROM attempts WHERE quiz_id = ?", (exam,))
    assert exams == [(TRAINEES,)]
    for name in report:
        failures = db.rows("SELECT count(*) FROM sign_in_failures WHERE username = ?", (f"ghost-{name}",))
        assert failures == [(2,)], name
