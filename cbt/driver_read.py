"""Reads on the hottest paths run straight through the database driver, on the session's own connection.

Every signed-in page checks its session, and the lesson, question and autosave requests read one row more.
Through SQLAlchemy's ORM such a statement costs several times what the database spends on it (measured on a
classroom server: 250-350 µs against 25-60 µs through the driver). A :class:`DriverRead` is a fixed select,
compiled once per dialect: its SQL goes to the driver's cursor with the session's connection, inside the
session's transaction when one is open (so it sees the session's own writes), and otherwise on its own, in the
driver's autocommit mode: a signed-in page that only reads then costs no BEGIN and ROLLBACK (on PostgreSQL, two
round trips of the five such a page made). Each column's value passes through the same conversion SQLAlchemy
would apply (timestamps, UUIDs, JSON, booleans). Only statements with plain bound values
qualify: one whose parameters would need conversion, or expanding ``IN`` lists, is refused when compiled.
Listeners of the engine's ``before_cursor_execute`` and ``after_cursor_execute`` events see these statements
(with no execution context); SQLAlchemy's own statement log (``echo``) does not.

:func:`attach` turns such a row into a mapped object that belongs to the session as if the ORM had loaded it
(relationships load lazily, changes are flushed), without the ORM's loading machinery.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Select, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached

T = TypeVar("T")


class _Compiled(NamedTuple):
    sql: str
    #: Parameter names in the order a positional driver takes them; None for named parameters.
    order: tuple[str, ...] | None
    types: tuple[Any, ...]
    row: type


class DriverRead:
    """A select built once and run through the driver; rows come back as named tuples."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        #: Per dialect, each column's conversion; made from the first cursor's description, as SQLAlchemy does
        #: (a driver's numeric conversion depends on the type the server reports).
        self._processors: dict[str, tuple[Callable[[Any], Any] | None, ...]] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("a driver read cannot expand IN lists; use a session statement")
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise ValueError(f"parameter {bind.key!r} needs conversion; use a session statement")
        columns = list(self.statement.selected_columns)
        types = tuple(column.type.dialect_impl(dialect) for column in columns)
        names = [column.key for column in columns]
        order = tuple(compiled.positiontup or ()) if dialect.positional else None
        return _Compiled(compiled.string, order, types, NamedTuple("Row", [(n, Any) for n in names]))

    def first(self, source: Session | Connection, params: Mapping[str, Any]) -> Any:
        """The first row for ``params`` (None when there is none), read on ``source``: a session, or the
        connection a request's session is bound to (:func:`cbt.db.read_target`).

        Read in the open transaction when there is one, so the session's own uncommitted rows are seen; on a
        connection with no transaction open (a request's, see :func:`cbt.db.get_session`), read in the
        driver's autocommit mode instead. Such a read is not part of a write transaction begun after it
        (inside ``write_transaction()`` too, until the block's first statement): a write that depends on what
        it read guards itself in its own statement, as the attempt's conditional updates do, or reads through
        the session.
        """
        connection = source if isinstance(source, Connection) else source.bind
        if not isinstance(connection, Connection):
            return self._read(source.connection(), params)  # type: ignore[union-attr]
        if connection.in_transaction():
            return self._read(connection, params)
        _outside_transaction(connection.connection.dbapi_connection)
        try:
            return self._read(connection, params)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        # The pooled connection was lost (a server restart): nothing was read or written on it, so read again
        # on a new one. This is the first statement of every signed-in request, which is why the pool does not
        # check connections in steady use (see cbt.db). The pool's other connections were most likely lost
        # with it: they are discarded, as SQLAlchemy does when its own statements find a connection lost.
        connection.engine.dispose()
        _outside_transaction(connection.connection.dbapi_connection)
        return self._read(connection, params)

    def _read(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        arguments: Any = tuple(params[name] for name in compiled.order) if compiled.order is not None else params
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        lost: BaseException | None = None
        events = connection.dispatch
        try:
            # Listeners of the engine's cursor events (statement counters, profilers) see these reads too.
            for listener in events.before_cursor_execute:
                listener(connection, cursor, compiled.sql, arguments, None, False)
            cursor.execute(compiled.sql, arguments)
            for listener in events.after_cursor_execute:
                listener(connection, cursor, compiled.sql, arguments, None, False)
            raw = cursor.fetchone()
            processors = self._processors.get(dialect.name)
            if processors is None:
                processors = self._processors[dialect.name] = tuple(
                    kind.result_processor(dialect, described[1])
                    for kind, described in zip(compiled.types, cursor.description, strict=True)
                )
        except dialect.loaded_dbapi.Error as error:
            # Raised as SQLAlchemy raises driver errors, so error pages and retries treat them alike; a lost
            # connection is invalidated, as SQLAlchemy does, so the pool does not hand it out again.
            if dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor):
                lost = error
            raise DBAPIError.instance(compiled.sql, arguments, error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost is not None) from error
        finally:
            cursor.close()
            if lost is not None:
                connection.invalidate(lost)
        if raw is None:
            return None
        return compiled.row(*[
            value if process is None or value is None else process(value)
            for process, value in zip(processors, raw, strict=True)
        ])


def _outside_transaction(dbapi_connection: Any) -> None:
    """Let the statement run on its own: psycopg begins a transaction before a statement unless in autocommit
    (the engine turns it off again when SQLAlchemy begins one); sqlite3 with ``isolation_level=None``, as
    :mod:`cbt.db` sets it, never begins one."""
    if getattr(dbapi_connection, "autocommit", None) is False:
        dbapi_connection.autocommit = True


def attach(db_session: Session, model: type[T], values: Mapping[str, Any], prefix: str = "") -> T:
    """A persistent ``model`` in ``db_session`` made from a row of all its columns, as if the ORM loaded it.

    ``values`` holds each column under its attribute name, after ``prefix`` (see :func:`columns`). The
    identity map decides: an object the session already holds is returned unchanged. The session holds
    unchanged objects weakly, as it does the ORM's: keep a reference (or set it as a loaded relationship
    with ``set_committed_value``) for as long as the object should be found there.
    """
    mapper = model.__mapper__  # type: ignore[attr-defined]
    key = mapper.identity_key_from_primary_key([values[prefix + column.key] for column in mapper.primary_key])
    held = db_session.identity_map.get(key)
    if held is not None:
        return held  # type: ignore[no-any-return]
    instance = mapper.class_manager.new_instance()
    # Into the instance's dict as the ORM's loader puts them: loaded values, not changes to flush.
    inspect(instance).dict.update({name: values[prefix + name] for name in _column_keys(mapper)})
    make_transient_to_detached(instance)  # its identity set, ready to join a session
    db_session.add(instance)
    return instance  # type: ignore[no-any-return]


def columns(model: type, prefix: str = "") -> list[Any]:
    """Every mapped column of ``model``, labelled ``prefix`` + its attribute name: a select's part for
    :func:`attach`."""
    return [getattr(model, name).label(prefix + name) for name in _column_keys(model.__mapper__)]  # type: ignore[attr-defined]


@functools.cache
def _column_keys(mapper: Any) -> tuple[str, ...]:
    return tuple(mapper.columns.keys())  # attribute names, not column names
