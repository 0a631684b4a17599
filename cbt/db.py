"""Database plumbing: declarative base, UTC timestamps, engine set-up and the per-request session.

SQLite is the classroom default and PostgreSQL the central-server engine; the differences are kept here so
the rest of the code writes plain SQLAlchemy 2.0. On SQLite every connection gets WAL, foreign keys, a busy
timeout and ``synchronous=FULL`` (an answer the server acknowledged must survive a power cut), and write
transactions start with ``BEGIN IMMEDIATE``: a deferred read transaction that later tries to write fails at
once under contention, whatever the busy timeout, so requests that write declare it up front, and wait for their
turn in a :class:`WriterQueue` before they do. Writes that can be lost to a power cut without losing anything a
trainee did (:func:`relaxed_commits`) commit without waiting for the disk.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import JSON, DateTime, MetaData, TextClause, Uuid, bindparam, create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

try:
    import fcntl
except ImportError:  # Windows: one server process; SQLite's busy handler orders its writers
    fcntl = None  # type: ignore[assignment]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind of datetime stored)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as UTC.

    SQLite keeps no time zone, so values come back naive; this type makes them aware again so comparisons
    with :func:`utcnow` never mix naive and aware datetimes. Naive input is a programming error.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[int]: JSON(),
        list[dict[str, Any]]: JSON(),
        uuid.UUID: Uuid(),
    }


class UUIDMixin:
    """A stable identity for records that will travel between classroom and central servers."""

    uuid: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4, unique=True)


#: Set while the current unit of work intends to write; read by the SQLite ``begin`` hook.
_write_intent: ContextVar[bool] = ContextVar("cbt_write_intent", default=False)

#: Cleared while transactions may commit without waiting for the disk (:func:`relaxed_commits`).
_durable: ContextVar[bool] = ContextVar("cbt_durable", default=True)


class WriterQueue:
    """The order in which one database's write transactions start, kept by the operating system.

    SQLite lets one writer in at a time; the others retry in its busy handler, sleeping 1, 2, 5, 10 ... 100 ms
    between tries, so the write lock often sits free while every waiter sleeps (a class's answers, saved at
    the same moment, queued for milliseconds they did not need to). Here a writer first takes its process's
    turn (a thread lock: one waiter per process) and then a lock file shared by every process that serves
    the database (``flock``; the kernel drops it when a process dies); both wake the next waiter the moment
    the writer before it ends. SQLite's own lock still decides, and its busy timeout still covers writers
    that do not queue here (another program, a backup). Without ``flock`` (Windows, one server process) the
    thread lock alone orders the writers.
    """

    def __init__(self, path: str | None, timeout_s: float) -> None:
        self.path = path if fcntl is not None else None
        self.timeout_s = timeout_s
        self._turn = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        _QUEUES.add(self)

    def enter(self) -> None:
        # A thread that already writes through another connection times out here as SQLite would.
        if not self._turn.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError("database is locked")
        try:
            if self.path is not None:
                fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
        except BaseException:
            self._turn.release()
            raise

    def leave(self) -> None:
        try:
            if self.path is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._turn.release()

    def _lock_file(self) -> int:
        # An inherited descriptor shares its lock with the parent: each process opens its own.
        if self._pid != os.getpid():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)  # type: ignore[arg-type]
            weakref.finalize(self, os.close, fd)  # an application made and dropped (tests) keeps no descriptor
            self._fd, self._pid = fd, os.getpid()
        return self._fd  # type: ignore[return-value]

    def _after_fork(self) -> None:
        self._turn = threading.Lock()


_QUEUES: weakref.WeakSet[WriterQueue] = weakref.WeakSet()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: [queue._after_fork() for queue in list(_QUEUES)])


class _QueuedConnection(sqlite3.Connection):
    """An SQLite connection whose immediate transactions wait in the database's :class:`WriterQueue`."""

    writer_queue: WriterQueue | None = None
    _in_queue = False
    _relaxed = False

    def begin_immediate(self, durable: bool = True) -> None:
        if self.writer_queue is not None and not self._in_queue:
            self.writer_queue.enter()
            self._in_queue = True
        try:
            if not durable and not self._relaxed:
                # Only outside a transaction may the level change; the commit or rollback restores FULL.
                self.execute("PRAGMA synchronous=NORMAL")
                self._relaxed = True
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._ended()
            raise

    def _ended(self) -> None:
        """After a transaction (or a failed start of one): durable again, and the next writer's turn."""
        try:
            self._restore_durability()
        finally:
            self._leave_queue()

    def _leave_queue(self) -> None:
        if self._in_queue:
            self._in_queue = False
            self.writer_queue.leave()  # type: ignore[union-attr]

    def _restore_durability(self) -> None:
        if self._relaxed and not self.in_transaction:  # a failed COMMIT leaves it to the rollback that follows
            self._relaxed = False
            self.execute("PRAGMA synchronous=FULL")

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._ended()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._ended()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_queue()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    database = engine.url.database
    on_disk = bool(database) and database != ":memory:" and not database.startswith("file:")
    queue = WriterQueue(database + "-writers" if on_disk else None, busy_timeout_ms / 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        dbapi_conn.writer_queue = queue
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: every request begins at least one transaction, and SQLAlchemy's statement
        # path costs more than SQLite's BEGIN itself. Its errors are raised as SQLAlchemy's, as before.
        immediate = _write_intent.get()
        dbapi_conn = conn.connection.dbapi_connection
        try:
            if immediate:
                dbapi_conn.begin_immediate(_durable.get())
            else:
                dbapi_conn.execute("BEGIN")
        except sqlite3.Error as error:
            raise DBAPIError.instance("BEGIN IMMEDIATE" if immediate else "BEGIN", (), error, sqlite3.Error) from error


#: A pooled PostgreSQL connection that has waited in the pool longer than this is checked before it is used.
PING_AFTER_IDLE_S = 10.0


def _ping_after_idle(engine: Engine, idle_s: float) -> None:
    """Check a pooled connection before use only when it has been idle, not on every checkout.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip on every request (measured: about a tenth of a
    signed-in lesson page's time). Connections are lost when the server restarts or a firewall drops idle
    ones; a connection in steady use is checked by its own statements, and the first statement of a
    signed-in request, the session check, is read again on a new connection when its connection turns out
    lost (:mod:`cbt.driver_read`); a request whose first statement is the ORM's (signing in) fails once.
    A failed check raises ``DisconnectionError``, on which the pool replaces the connection and tries again.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["cbt.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("cbt.idle_since")  # none on a new connection: it has just proved itself
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"connection lost while idle in the pool: {error}") from error


def make_engine(url: str, *, busy_timeout_ms: int = 15000, echo: bool = False,
                ping_after_idle_s: float = PING_AFTER_IDLE_S) -> Engine:
    """Create an engine with the settings this application relies on for ``url``'s dialect."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False,
                          "factory": _QueuedConnection},
            pool_size=20,
            max_overflow=20,
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
    _ping_after_idle(engine, ping_after_idle_s)

    @event.listens_for(engine, "begin")
    def _leave_autocommit(conn: Any) -> None:
        # A request's reads outside a transaction run in the driver's autocommit mode (no BEGIN and ROLLBACK
        # round trips, see :mod:`cbt.driver_read`); every transaction SQLAlchemy begins is a real one.
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn.autocommit:
            dbapi_conn.autocommit = False
        if not _durable.get():
            dbapi_conn.execute("SET LOCAL synchronous_commit TO OFF")  # this transaction only

    return engine


class Database:
    """The engine and session factory of one application instance."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 15000, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms, echo=echo)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def init_app(app: Flask) -> Database:
    database = Database(
        app.config["DATABASE_URL"],
        busy_timeout_ms=int(app.config["SQLITE_BUSY_TIMEOUT_MS"]),
        echo=bool(app.config.get("SQL_ECHO")),
    )
    app.extensions["cbt.db"] = database

    @app.before_request
    def _declare_write_intent() -> None:
        from flask import request

        if request.method not in ("GET", "HEAD", "OPTIONS"):
            g._cbt_write_token = _write_intent.set(True)

    @app.teardown_request
    def _clear_write_intent(_exc: BaseException | None) -> None:
        token = g.pop("_cbt_write_token", None)
        if token is not None:
            _write_intent.reset(token)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        db_session = g.pop("_cbt_session", None)
        if db_session is not None:
            db_session.close()
        connection = g.pop("_cbt_connection", None)
        if connection is not None:
            connection.close()

    return database


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["cbt.db"]


def get_session() -> Session:
    """The session of the current application context, created on first use.

    A request's session is bound to one pooled connection, held until the request ends: its transactions run
    there, and so do the driver reads made outside them (:mod:`cbt.driver_read`), without a transaction of
    their own. Commands keep the engine-bound session, which returns its connection to the pool between
    transactions.
    """
    if "_cbt_session" not in g:
        database = get_database()
        if has_request_context():
            g._cbt_session = database.sessionmaker(bind=request_connection())
        else:
            g._cbt_session = database.sessionmaker()
    return g._cbt_session


def request_connection() -> Connection:
    """The current request's pooled connection (see :func:`get_session`), taken on first use."""
    if "_cbt_connection" not in g:
        g._cbt_connection = get_database().engine.connect()
    return g._cbt_connection


def read_target() -> Session | Connection:
    """Where a driver read (:mod:`cbt.driver_read`) runs: in a request, its connection — inside the session's
    transaction when one is open there, without making a session when none exists; in a command, the session.
    """
    return request_connection() if has_request_context() else get_session()


#: The current request's (or CLI command's) session.
session: Session = LocalProxy(get_session)  # type: ignore[assignment]


@contextlib.contextmanager
def write_transaction(*, durable: bool = True) -> Iterator[Session]:
    """Run a write inside a GET request (or any read transaction) safely on SQLite.

    Ends the current read transaction, begins an immediate one for the block, commits it, and restores the
    caller's intent. Rolls back on error. ``durable=False``: see :func:`relaxed_commits`.
    """
    db_session = get_session()
    if db_session.in_transaction():
        db_session.commit()
    token = _write_intent.set(True)
    try:
        with relaxed_commits(not durable):
            yield db_session
            db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    finally:
        _write_intent.reset(token)


@contextlib.contextmanager
def relaxed_commits(relaxed: bool = True) -> Iterator[None]:
    """Let the transactions begun in the block commit without waiting for the disk to make them durable.

    For writes whose loss to a power cut loses nothing a person did: where a trainee is (to resume there) and
    the time they spent, an attempt just started (no answer yet), an overdue attempt finished (done again from
    its saved answers). Every write is still atomic and visible at once; only the disk's flush is not waited
    for (SQLite: ``synchronous=NORMAL`` in WAL mode; PostgreSQL: ``synchronous_commit=off``), and the next
    durable commit (an answer saved) flushes it too, as both engines write their log in order. When a class
    starts an exam together, the page and the start are about 120 writes in a second, each waiting for a
    flush in turn; on a slow disk that queue, not the work, was the rush's latency.
    """
    if not relaxed:
        yield
        return
    token = _durable.set(False)
    try:
        yield
    finally:
        _durable.reset(token)


def write_intended() -> bool:
    """Whether the current request or block declared that it writes (its SQLite transactions are immediate)."""
    return _write_intent.get()


@contextlib.contextmanager
def reading() -> Iterator[Session]:
    """Run reads without any write lock, even inside a request that writes (a POST).

    Ends the current transaction, runs the block in a plain (deferred, on SQLite) transaction and ends that
    one too, so slow work after the block (a password hash) runs with no transaction open and the write that
    follows is short. Objects loaded in the block stay usable (the session does not expire on commit).
    """
    db_session = get_session()
    if db_session.in_transaction():
        db_session.commit()
    token = _write_intent.set(False)
    try:
        yield db_session
        db_session.commit()  # nothing was written: this only ends the read transaction
    except BaseException:
        db_session.rollback()
        raise
    finally:
        _write_intent.reset(token)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Declare write intent for a block (CLI commands, background jobs); the caller commits."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def insert_ignoring_conflicts(model: type[Base], values: dict[str, Any], index_elements: Sequence[str],
                              returning: Sequence[str] = ()) -> Any:
    """An INSERT that does nothing when a unique key already exists (SQLite and PostgreSQL), optionally
    returning columns of the inserted row (no row when it did nothing).

    This is how "exactly once" records (a completion, a first view) stay single under racing requests:
    the database's unique constraint decides, not a read-then-write in Python. Both engines speak the same
    ``ON CONFLICT (...) DO NOTHING``; the statement is a text with typed parameters, made once per shape,
    because SQLAlchemy caches no dialect's ``ON CONFLICT`` insert and would compile one on every call
    (about a millisecond on an exam page's first visit).
    """
    statement = _ignoring_insert(model, tuple(values), tuple(index_elements), tuple(returning))
    return statement.bindparams(**values)


@functools.lru_cache(maxsize=128)
def _ignoring_insert(model: type[Base], keys: tuple[str, ...], index_elements: tuple[str, ...],
                     returning: tuple[str, ...]) -> TextClause:
    columns = model.__mapper__.columns  # by attribute name

    def names(attributes: tuple[str, ...]) -> str:
        return ", ".join(f'"{columns[attribute].name}"' for attribute in attributes)

    # Every name comes from the mapper (an unknown key fails the lookup); every value is a bound parameter.
    sql = (f'INSERT INTO "{model.__table__.name}" ({names(keys)}) '  # noqa: S608
           f'VALUES ({", ".join(":" + key for key in keys)}) ON CONFLICT ({names(index_elements)}) DO NOTHING')
    if returning:
        sql += f" RETURNING {names(returning)}"
    return text(sql).bindparams(*(bindparam(key, type_=columns[key].type) for key in keys))
