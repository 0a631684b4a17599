"""Backing up and restoring the classroom's SQLite database. Pure: no Flask, so tests call it directly.

A live SQLite file must never be copied with ``cp``: a copy taken between a write to the database and the
matching write to its ``-wal`` file is a corrupt database. :func:`backup_sqlite` uses SQLite's online
backup API instead, which reads one consistent snapshot while the server goes on serving (WAL readers do
not block writers), then checks the copy with ``PRAGMA integrity_check`` before it takes the requested
name (written under a temporary name and renamed, so a half-written backup never looks like a good one).

:func:`restore_sqlite` refuses anything that is not an intact SQLite database carrying this application's
``alembic_version``, stages the copy next to the live file, and swaps it in with an atomic rename. It needs
the server to be stopped: a running server keeps connections open to the old file and would go on writing
there. It checks that by taking an exclusive lock on the live database (any open connection prevents
that), and keeps the database it replaces as ``<name>.before-restore-<time>`` so a wrong restore can be
undone.

PostgreSQL has its own tools; :func:`pg_dump_command` and :func:`pg_restore_command` print the exact
commands (without the password, which ``pg_dump`` reads from ``PGPASSWORD`` or ``~/.pgpass``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """An operation refused; ``code`` says why (the CLI turns it into a translated message)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL, or None for another engine (or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _connect(path: Path, *, readonly: bool = False, timeout: float = 15.0) -> sqlite3.Connection:
    if readonly:
        # immutable: no locks, no -wal/-shm files created next to a backup that nobody writes.
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    return sqlite3.connect(path, isolation_level=None, timeout=timeout)


@contextlib.contextmanager
def _closing(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield connection
    finally:
        connection.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _integrity(connection: sqlite3.Connection) -> str:
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows)


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    """Copy ``source`` into a new self-contained file (rollback journal, owner-only permissions)."""
    target_path.unlink(missing_ok=True)
    fd = os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    with _closing(_connect(target_path)) as target:
        source.backup(target)
        # The copy of a WAL database is marked WAL; one file with no -wal beside it is what a backup should be.
        target.execute("PRAGMA journal_mode=DELETE")
        result = _integrity(target)
    if result != "ok":
        target_path.unlink(missing_ok=True)
        raise BackupError("copy_corrupt", detail=result)
    _fsync(target_path)


def _temporary_name(final: Path, tag: str) -> Path:
    return final.with_name(f".{final.name}.{tag}-{os.getpid()}.tmp")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    revisions: tuple[str, ...]


def backup_sqlite(database: Path, out: Path, *, overwrite: bool = False) -> BackupInfo:
    """Write a consistent, checked copy of the live ``database`` to ``out`` (safe while serving)."""
    if not database.is_file():
        raise BackupError("no_database", path=str(database))
    if out.exists() and out.resolve() == database.resolve():
        raise BackupError("same_file", path=str(out))
    if out.exists() and not overwrite:
        raise BackupError("exists", path=str(out))
    if not out.parent.is_dir():
        raise BackupError("no_folder", path=str(out.parent))
    staging = _temporary_name(out, "backup")
    try:
        with _closing(_connect(database)) as source:
            _copy(source, staging)
        revisions = check_backup_file(staging)
        os.replace(staging, out)
    finally:
        staging.unlink(missing_ok=True)
    _fsync_folder(out.parent)
    return BackupInfo(out, out.stat().st_size, revisions)


def check_backup_file(path: Path, known_revisions: Iterable[str] | None = None) -> tuple[str, ...]:
    """Return the migration revisions recorded in an SQLite backup, or raise :class:`BackupError`.

    The file must start with the SQLite header, pass ``PRAGMA integrity_check`` and have an
    ``alembic_version`` table whose revisions this code knows (when ``known_revisions`` is given): a
    backup made by a newer CBT cannot be restored into an older one.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError("unreadable", path=str(path), detail=str(error)) from error
    if header != SQLITE_HEADER:
        raise BackupError("not_sqlite", path=str(path))
    try:
        with _closing(_connect(path, readonly=True)) as connection:
            result = _integrity(connection)
            if result != "ok":
                raise BackupError("corrupt", path=str(path), detail=result[:500])
            try:
                rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            except sqlite3.DatabaseError as error:
                raise BackupError("not_cbt", path=str(path)) from error
    except sqlite3.DatabaseError as error:  # encrypted, truncated, or garbage after a valid header
        raise BackupError("corrupt", path=str(path), detail=str(error)) from error
    revisions = tuple(sorted(str(row[0]) for row in rows))
    if not revisions:
        raise BackupError("not_cbt", path=str(path))
    if known_revisions is not None:
        unknown = sorted(set(revisions) - set(known_revisions))
        if unknown:
            raise BackupError("newer", path=str(path), revisions=", ".join(unknown))
    return revisions


@dataclass(frozen=True)
class RestoreInfo:
    revisions: tuple[str, ...]
    #: The database that was replaced, kept beside it; None when there was none.
    previous: Path | None


def restore_sqlite(backup: Path, database: Path, known_revisions: Iterable[str] | None = None) -> RestoreInfo:
    """Replace ``database`` by the checked contents of ``backup``; the server must be stopped.

    Steps: check the backup; copy it through the backup API to a temporary file beside the database and
    check that copy; take an exclusive lock on the live database (refused while any process has it open);
    switch it out of WAL so no ``-wal`` file is left to be replayed into the restored one; keep it as
    ``<name>.before-restore-<UTC time>``; rename the staged copy over it.
    """
    if backup.resolve() == database.resolve():
        raise BackupError("same_file", path=str(backup))
    revisions = check_backup_file(backup, known_revisions)
    if not database.parent.is_dir():
        raise BackupError("no_folder", path=str(database.parent))
    staging = _temporary_name(database, "restore")
    previous: Path | None = None
    try:
        with _closing(_connect(backup, readonly=True)) as source:
            _copy(source, staging)
        if database.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            previous = database.with_name(f"{database.name}.before-restore-{stamp}")
            with _closing(_connect(database, timeout=0.5)) as live:
                try:
                    live.execute("PRAGMA locking_mode=EXCLUSIVE")
                    live.execute("BEGIN EXCLUSIVE")
                    live.execute("COMMIT")  # in exclusive locking mode the lock stays with the connection
                except sqlite3.OperationalError as error:
                    raise BackupError("in_use", path=str(database)) from error
                with contextlib.suppress(sqlite3.DatabaseError):  # a damaged database is kept as it is
                    live.execute("PRAGMA journal_mode=DELETE")  # folds in and removes the -wal file
                # Nobody else can open the file now: a plain copy is safe, and keeps a damaged one as found.
                for suffix in ("", "-wal"):
                    if Path(f"{database}{suffix}").exists():
                        shutil.copyfile(f"{database}{suffix}", f"{previous}{suffix}")
                        os.chmod(f"{previous}{suffix}", 0o600)
        os.replace(staging, database)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        _fsync_folder(database.parent)
    finally:
        staging.unlink(missing_ok=True)
    return RestoreInfo(revisions, previous)


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _libpq_url(url: str) -> str:
    """The URL as ``pg_dump`` takes it: plain ``postgresql://`` scheme, no password."""
    parsed = make_url(url).set(drivername="postgresql")._replace(password=None)
    return parsed.render_as_string(hide_password=False)


def pg_dump_command(url: str, out: Path) -> str:
    return shlex.join(["pg_dump", "--format=custom", "--no-owner", f"--file={out}", _libpq_url(url)])


def pg_restore_command(url: str, backup: Path) -> str:
    return shlex.join(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
         f"--dbname={_libpq_url(url)}", str(backup)]
    )
