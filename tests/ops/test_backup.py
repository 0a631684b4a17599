"""``cbt backup`` and ``cbt restore``: consistent copies of a live SQLite file, checked restores, PG advice."""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from cbt.ops import backup as ops
from tests.conftest import PG_URL

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="the SQLite backup; PostgreSQL uses pg_dump")


def _database(app) -> Path:
    path = ops.sqlite_path(app.config["DATABASE_URL"])
    assert path is not None
    return path


def _usernames(app) -> list[str]:
    from cbt.auth.models import User
    from cbt.db import session

    with app.app_context():
        names = list(session.scalars(select(User.username).order_by(User.username)))
        session.rollback()
    return names


@sqlite_only
def test_round_trip_backup_change_restore(app, runner, create_user, tmp_path):
    """Data made before the backup is back after a restore; data made after it is gone."""
    create_user("trainee", username="before-backup", full_name="Айгүл Сәрсенова")
    out = tmp_path / "backups" / "cbt-backup.sqlite3"
    out.parent.mkdir()
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output

    create_user("trainee", username="after-backup")
    from cbt.auth.models import User
    from cbt.db import session, writing

    with app.app_context(), writing():
        session.scalar(select(User).where(User.username == "before-backup")).full_name = "changed"
        session.commit()
    assert _usernames(app) == ["after-backup", "before-backup"]

    result = runner.invoke(args=["restore", str(out)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Database restored" in result.output
    assert _usernames(app) == ["before-backup"]
    with app.app_context():
        assert session.scalar(select(User.full_name)) == "Айгүл Сәрсенова"
        session.rollback()
    # The replaced database is kept beside the live one, owner-only.
    kept = list(_database(app).parent.glob("cbt.sqlite3.before-restore-*"))
    assert len(kept) == 1 and stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    check = sqlite3.connect(kept[0])
    assert check.execute("SELECT count(*) FROM users").fetchone() == (2,)
    check.close()


@sqlite_only
def test_backup_is_one_checked_owner_only_file(app, runner, tmp_path):
    out = tmp_path / "b.sqlite3"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # password hashes and results inside
    assert not Path(f"{out}-wal").exists()
    connection = sqlite3.connect(out)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert connection.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1
    connection.close()
    assert list(tmp_path.glob(".*tmp")) == []


@sqlite_only
def test_backup_refuses_to_overwrite_without_force(app, runner, tmp_path):
    out = tmp_path / "b.sqlite3"
    out.write_text("precious")
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert out.read_text() == "precious"
    assert runner.invoke(args=["backup", "--out", str(out), "--force"]).exit_code == 0
    assert out.read_bytes().startswith(ops.SQLITE_HEADER)


@sqlite_only
def test_backup_while_the_server_writes_is_a_consistent_snapshot(app, tmp_path):
    """Writers keep committing (and one transaction stays open) during the backup; the copy is intact and
    holds only committed rows."""
    database = _database(app)
    setup = sqlite3.connect(database, isolation_level=None)
    setup.execute("CREATE TABLE scratch (n INTEGER NOT NULL, payload TEXT NOT NULL)")
    setup.close()
    open_tx = sqlite3.connect(database, isolation_level=None)
    open_tx.execute("BEGIN IMMEDIATE")
    open_tx.execute("INSERT INTO scratch VALUES (-1, 'uncommitted')")
    stop = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(database, isolation_level=None, timeout=10)
        n = 0
        while not stop.is_set():
            n += 1
            with contextlib.suppress(sqlite3.OperationalError):  # busy while the open transaction writes
                conn.execute("INSERT INTO scratch VALUES (?, ?)", (n, "x" * 2000))
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        outs = []
        for i in range(3):
            if i == 1:
                open_tx.execute("ROLLBACK")  # let the writer in for the later backups
            outs.append(ops.backup_sqlite(database, tmp_path / f"b{i}.sqlite3").path)
    finally:
        stop.set()
        thread.join()
        open_tx.close()
    for out in outs:
        copy = sqlite3.connect(out)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM scratch WHERE n = -1").fetchone() == (0,)
        copy.close()


@sqlite_only
@pytest.mark.parametrize("case", ["not_sqlite", "truncated", "corrupt", "not_cbt", "newer", "empty"])
def test_restore_refuses_a_bad_file_and_changes_nothing(app, runner, create_user, tmp_path, case):
    create_user("trainee", username="keep-me")
    good = tmp_path / "good.sqlite3"
    ops.backup_sqlite(_database(app), good)
    bad = tmp_path / f"{case}.sqlite3"
    if case == "not_sqlite":
        bad.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 100)
    elif case == "empty":
        bad.write_bytes(b"")
    elif case == "truncated":
        bad.write_bytes(good.read_bytes()[: 4096 * 3])
    elif case == "corrupt":
        data = bytearray(good.read_bytes())
        for offset in range(4096 * 5, len(data) - 4096, 4096):  # scribble over every page but the first few
            data[offset + 100: offset + 400] = b"\xff" * 300
        bad.write_bytes(bytes(data))
    elif case == "not_cbt":
        other = sqlite3.connect(bad)
        other.execute("CREATE TABLE notes (body TEXT)")
        other.commit()
        other.close()
    elif case == "newer":
        bad.write_bytes(good.read_bytes())
        other = sqlite3.connect(bad)
        other.execute("UPDATE alembic_version SET version_num = '9999_from_the_future' WHERE rowid = 1")
        other.commit()
        other.close()
    before = _database(app).read_bytes()
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code == 1, result.output
    expected = {
        "not_sqlite": "is not an SQLite database", "empty": "is not an SQLite database",
        "truncated": "is damaged", "corrupt": "is damaged", "not_cbt": "is not a CBT database",
        "newer": "newer version of CBT",
    }[case]
    assert expected in result.output
    assert _database(app).read_bytes() == before
    assert _usernames(app) == ["keep-me"]
    assert list(_database(app).parent.glob("*.before-restore-*")) == []


@sqlite_only
def test_restore_refuses_while_the_database_is_open_elsewhere(app, runner, create_user, tmp_path):
    """A running server holds connections: restoring under it would lose its writes, so it is refused."""
    create_user("trainee", username="live-user")
    good = tmp_path / "good.sqlite3"
    ops.backup_sqlite(_database(app), good)
    server = sqlite3.connect(_database(app), isolation_level=None)
    server.execute("SELECT count(*) FROM users").fetchone()  # an idle pooled connection, as waitress keeps
    try:
        result = runner.invoke(args=["restore", str(good), "--yes"])
    finally:
        server.close()
    assert result.exit_code == 1
    assert "is in use" in result.output and "Stop the CBT server" in result.output
    assert list(_database(app).parent.glob("*.before-restore-*")) == []
    assert runner.invoke(args=["restore", str(good), "--yes"]).exit_code == 0  # once it is closed


@sqlite_only
def test_restore_asks_first(app, runner, tmp_path):
    good = tmp_path / "good.sqlite3"
    ops.backup_sqlite(_database(app), good)
    result = runner.invoke(args=["restore", str(good)], input="n\n")
    assert result.exit_code == 1
    assert list(_database(app).parent.glob("*.before-restore-*")) == []


def test_postgres_gets_the_pg_dump_and_pg_restore_commands(app_config, tmp_path):
    from cbt import create_app

    app_config["DATABASE_URL"] = "postgresql://cbt:s3cret@db.example:5432/cbt"
    runner = create_app(app_config).test_cli_runner()
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "cbt.dump")])
    assert result.exit_code == 2
    assert f"pg_dump --format=custom --no-owner --file={tmp_path}/cbt.dump postgresql://cbt@db.example:5432/cbt" \
        in result.output
    assert "s3cret" not in result.output
    backup = tmp_path / "cbt.dump"
    backup.write_bytes(b"PGDMP")
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 2
    assert "pg_restore --clean --if-exists --no-owner --single-transaction" in result.output
    assert "s3cret" not in result.output


def test_backup_messages_are_translated(app_config, tmp_path):
    from cbt import create_app

    app_config["DATABASE_URL"] = f"sqlite:///{tmp_path}/missing/none.sqlite3"
    runner = create_app(app_config).test_cli_runner(env={"LANG": "ru_RU.UTF-8"})
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "b.sqlite3")], env={"LANG": "ru_RU.UTF-8"})
    assert result.exit_code == 1
    assert "Нет файла базы данных" in result.output
