"""SQLite writers wait in a queue kept by the operating system: the next one starts the moment the one before
it ends (SQLite's busy handler would have it asleep for up to 100 ms), across threads and server processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cbt.db import make_engine, writing
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's single writer; PostgreSQL has row locks")

#: Long enough that SQLite's busy handler, sleeping 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 ... ms between
#: tries, would wake next at 328 ms: a waiter that starts within a few milliseconds was woken, not polling.
HOLD_S = 0.23


def _engine(tmp_path: Path, busy_timeout_ms: int = 15000):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path}/q.sqlite3", busy_timeout_ms=busy_timeout_ms)
    with writing(), engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS saves (n INTEGER NOT NULL, at REAL NOT NULL)"))
    return engine


def _write(engine, n: int) -> float:  # type: ignore[no-untyped-def]
    """One write transaction; returns when its BEGIN IMMEDIATE went through."""
    with writing(), engine.begin() as conn:
        started = time.monotonic()
        conn.execute(text("INSERT INTO saves VALUES (:n, :at)"), {"n": n, "at": started})
    return started


def test_a_waiting_writer_starts_as_soon_as_the_writer_before_it_commits(tmp_path):
    engine = _engine(tmp_path)
    holding = threading.Event()
    released: list[float] = []

    def first() -> None:
        with writing(), engine.begin() as conn:
            conn.execute(text("INSERT INTO saves VALUES (1, 0)"))
            holding.set()
            time.sleep(HOLD_S)
            released.append(time.monotonic())  # the commit follows at once

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    started = _write(engine, 2)
    thread.join()
    waited_after_release = started - released[0]
    assert 0 <= waited_after_release < 0.05, waited_after_release
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM saves ORDER BY n")).scalars().all() == [1, 2]
    engine.dispose()


def test_a_writer_in_another_server_process_waits_its_turn_and_is_woken_at_once(tmp_path):
    """Two gunicorn workers share the database: the queue is a lock file, not a thread lock."""
    engine = _engine(tmp_path)
    script = textwrap.dedent("""
        import sys, time
        from sqlalchemy import text
        from cbt.db import make_engine, writing
        engine = make_engine(sys.argv[1])
        with writing(), engine.begin() as conn:
            conn.execute(text("INSERT INTO saves VALUES (1, 0)"))
            print("holding", flush=True)
            time.sleep(float(sys.argv[2]))
            print(time.monotonic(), flush=True)
    """)
    other = subprocess.Popen([sys.executable, "-c", script, f"sqlite:///{tmp_path}/q.sqlite3", str(HOLD_S)],
                             stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None
    assert other.stdout.readline().strip() == "holding"
    started = _write(engine, 2)
    released = float(other.stdout.readline())
    assert other.wait(10) == 0
    other.stdout.close()
    assert 0 <= started - released < 0.05, started - released
    engine.dispose()


def test_a_rolled_back_or_failed_write_leaves_the_queue(tmp_path):
    engine = _engine(tmp_path, busy_timeout_ms=300)
    with pytest.raises(ZeroDivisionError), writing(), engine.begin() as conn:
        conn.execute(text("INSERT INTO saves VALUES (1, 0)"))
        1 / 0  # noqa: B018 - a request that fails half-way
    with pytest.raises(OperationalError), writing(), engine.begin() as conn:
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))
    started = time.monotonic()
    _write(engine, 2)
    assert time.monotonic() - started < 0.2  # the queue was free: no wait for the 300 ms timeout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM saves")).scalars().all() == [2]
    engine.dispose()


def test_a_thread_that_writes_through_two_connections_gets_the_busy_error_not_a_hang(tmp_path):
    """The second connection waits behind the first, held by the same thread: after the busy timeout it
    fails as SQLite's own lock would have made it fail, instead of waiting for ever."""
    engine = _engine(tmp_path, busy_timeout_ms=300)
    started = time.monotonic()
    with writing(), engine.begin() as conn:
        conn.execute(text("INSERT INTO saves VALUES (1, 0)"))
        with pytest.raises(OperationalError, match="database is locked"):
            _write(engine, 2)
    assert 0.25 < time.monotonic() - started < 5
    _write(engine, 3)  # and the queue works afterwards
    engine.dispose()


def test_writers_outside_the_queue_still_meet_sqlites_lock(tmp_path):
    """Another program (the sqlite3 shell, a backup) does not queue: SQLite's lock and busy timeout decide."""
    import sqlite3

    engine = _engine(tmp_path, busy_timeout_ms=200)
    outsider = sqlite3.connect(f"{tmp_path}/q.sqlite3", isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            _write(engine, 1)
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
    _write(engine, 2)
    engine.dispose()


def test_many_writers_lose_no_write(tmp_path):
    engine = _engine(tmp_path)
    threads = [threading.Thread(target=lambda n=n: [_write(engine, n * 100 + i) for i in range(20)])
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT n) FROM saves")).scalar() == 160
    engine.dispose()


def test_a_dropped_engine_leaves_no_lock_file_open(tmp_path):
    """Tests and commands make and drop applications: the queue's descriptor goes with its engine."""
    import gc
    import os

    def open_queue_files() -> int:
        mine = os.path.realpath(tmp_path / "q.sqlite3-writers")
        return sum(1 for fd in Path("/proc/self/fd").iterdir() if os.path.realpath(fd) == mine)

    engine = _engine(tmp_path)
    _write(engine, 1)
    assert open_queue_files() == 1
    engine.dispose()
    del engine
    gc.collect()
    assert open_queue_files() == 0
