"""The triggers that list stale report standings, for SQLite and PostgreSQL (see :mod:`cbt.reports.models`).

Kept here rather than only in the migration because SQLite loses a table's triggers whenever a migration rebuilds
that table (Alembic's batch mode copies it to a new table, drops the old one and renames the copy), as any migration
that alters a column of ``users`` or ``attempts`` on SQLite does. :func:`cbt.reports.standings.refresh` therefore
checks once per process with :func:`missing` and puts back what is gone with :func:`install`, marking every
enrolment stale (changes made while a trigger was missing were not listed). The migration ``0010_report_indexes``
installs them the first time. Only SQL text here: no models, so the migration stays valid as the models evolve.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

UPSERT = "ON CONFLICT (user_id, course_id) DO UPDATE SET changes = report_stale.changes + 1"
_BY_VERSION = "SELECT {row}.user_id, course_id, 1 FROM course_versions WHERE id = {row}.course_version_id"
_BY_COURSE = "SELECT {row}.user_id, {row}.course_id, 1 WHERE true"

#: table -> (how a row names its (trainee, course) pairs, given NEW or OLD; the row's key columns; the columns
#: whose change moves a standing). Updates of other columns (autosave's counter, last-seen times) fire nothing.
SOURCES = {
    "attempts": (_BY_VERSION, "user_id, course_version_id",
                 "user_id, course_version_id, quiz_id, status, started_at, submitted_at, percent, passed"),
    "lesson_progress": (_BY_VERSION, "user_id, course_version_id",
                        "user_id, course_version_id, first_viewed_at, seconds_spent"),
    "enrollments": (_BY_COURSE, "user_id, course_id", "user_id, course_id, started_at"),
    "course_completions": (_BY_COURSE, "user_id, course_id", "user_id, course_id, completed_at, site_id"),
}
#: A trainee moved to another site or agency: every enrolment of theirs is placed anew.
_USERS = "SELECT user_id, course_id, 1 FROM enrollments WHERE user_id = {row}.id"
_USERS_MOVED = "OLD.site_id IS DISTINCT FROM NEW.site_id OR OLD.agency_id IS DISTINCT FROM NEW.agency_id"


def _mark(pairs: str, row: str) -> str:
    return f"INSERT INTO report_stale (user_id, course_id, changes) {pairs.format(row=row)} {UPSERT};"


def _keys(columns: str, row: str) -> str:
    return ", ".join(f"{row}.{c.strip()}" for c in columns.split(","))


def _sqlite_triggers() -> dict[str, str]:
    triggers = {}
    for table, (pairs, keys, watched) in SOURCES.items():
        moved = " OR ".join(f"OLD.{k.strip()} != NEW.{k.strip()}" for k in keys.split(","))
        triggers[f"report_stale_{table}_insert"] = f"AFTER INSERT ON {table} BEGIN {_mark(pairs, 'NEW')} END"
        triggers[f"report_stale_{table}_update"] = (f"AFTER UPDATE OF {watched} ON {table} "
                                                   f"BEGIN {_mark(pairs, 'NEW')} END")
        triggers[f"report_stale_{table}_rekey"] = (f"AFTER UPDATE OF {keys} ON {table} WHEN {moved} "
                                                  f"BEGIN {_mark(pairs, 'OLD')} END")
        triggers[f"report_stale_{table}_delete"] = f"AFTER DELETE ON {table} BEGIN {_mark(pairs, 'OLD')} END"
    triggers["report_stale_users_update"] = (
        f"AFTER UPDATE OF site_id, agency_id ON users WHEN {_USERS_MOVED.replace('IS DISTINCT FROM', 'IS NOT')} "
        f"BEGIN {_mark(_USERS, 'NEW')} END")
    return triggers


def _pg_function(table: str, pairs: str, keys: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION report_stale_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({_keys(keys, 'OLD')}) IS DISTINCT FROM ({_keys(keys, 'NEW')})) THEN
        {_mark(pairs, 'OLD')}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_mark(pairs, 'NEW')}
    END IF;
    RETURN NULL;
END
$$"""


def _pg_triggers() -> dict[str, tuple[str, str]]:
    """Trigger name -> (its function's DDL, the trigger's DDL)."""
    triggers = {}
    for table, (pairs, keys, watched) in SOURCES.items():
        triggers[f"report_stale_{table}"] = (
            _pg_function(table, pairs, keys),
            f"CREATE TRIGGER report_stale_{table} AFTER INSERT OR DELETE OR UPDATE OF {watched} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION report_stale_{table}()")
    users_function = f"""
CREATE OR REPLACE FUNCTION report_stale_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_mark(_USERS, 'NEW')}
    RETURN NULL;
END
$$"""
    triggers["report_stale_users"] = (
        users_function,
        f"CREATE TRIGGER report_stale_users AFTER UPDATE OF site_id, agency_id ON users FOR EACH ROW "
        f"WHEN ({_USERS_MOVED}) EXECUTE FUNCTION report_stale_users()")
    return triggers


def names(dialect: str) -> set[str]:
    return set(_pg_triggers() if dialect == "postgresql" else _sqlite_triggers())


def _present(connection: Any) -> set[str]:
    if connection.dialect.name == "postgresql":
        # Only the tables of the schema in use: another schema of the same database (a second site's, a test's)
        # has its own tables and triggers.
        query = ("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE NOT t.tgisinternal AND t.tgname LIKE 'report_stale%' AND n.nspname = current_schema()")
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'report_stale%'"
    return {name for (name,) in connection.execute(text(query))}


def missing(connection: Any) -> set[str]:
    """The report triggers this database lacks (one small catalogue query)."""
    return names(connection.dialect.name) - _present(connection)


def install(connection: Any) -> set[str]:
    """Create the triggers that are missing; returns their names. The caller commits."""
    absent = missing(connection)
    if connection.dialect.name == "postgresql":
        for name, (function, trigger) in _pg_triggers().items():
            if name in absent:
                connection.execute(text(function))
                connection.execute(text(trigger))
    else:
        for name, body in _sqlite_triggers().items():
            if name in absent:
                connection.execute(text(f"CREATE TRIGGER {name} {body}"))
    return absent


def drop(connection: Any) -> None:
    if connection.dialect.name == "postgresql":
        for name in _pg_triggers():
            table = name.removeprefix("report_stale_")
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            connection.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
    else:
        for name in _sqlite_triggers():
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
