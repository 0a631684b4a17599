"""Migrations build the schema from empty on the test engine, and the models do not drift from them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, inspect
from sqlalchemy import table as table_clause

import cbt.models  # noqa: F401
from cbt import migrations
from cbt.db import Base, make_engine
from tests.conftest import PG_URL

NOW = "2026-01-05 08:00:00.000000"


def test_upgrade_from_empty_creates_every_table(tmp_path):
    url = PG_URL or f"sqlite:///{tmp_path}/empty.sqlite3"
    engine = make_engine(url)
    if not PG_URL:
        migrations.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert migrations.current_revision(engine) is not None
    engine.dispose()


def test_models_and_migrations_do_not_drift(migrated_template):
    url = migrated_template if PG_URL else f"sqlite:///{migrated_template}"
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_connections_use_wal_foreign_keys_and_full_sync(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/p.sqlite3")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    engine.dispose()


def test_upgrade_keeps_existing_accounts_and_lists_their_enrolments_for_reports(tmp_path):
    """A classroom server upgraded in place: accounts keep signing in as before, reports recompute everything."""
    engine = make_engine(f"sqlite:///{tmp_path}/old.sqlite3")
    migrations.upgrade(engine, "0008_one_running_attempt")
    rows = {  # the tables as revision 0008 left them
        "users": dict(id=1, username="officer", full_name="Officer", role="trainee", is_active=True,
                      password_hash="x", created_at=NOW, uuid="a" * 32),
        "courses": dict(id=1, slug="c", created_at=NOW, uuid="b" * 32),
        "course_versions": dict(id=1, course_id=1, version=1, status="published", source_locale="en", title="{}",
                                description="{}", description_html="{}", estimated_minutes=60, completion="{}",
                                content_hash="h", created_at=NOW, uuid="c" * 32),
        "enrollments": dict(user_id=1, course_id=1, course_version_id=1, started_at=NOW, last_activity_at=NOW,
                            uuid="d" * 32),
    }
    with engine.begin() as conn:
        for table, row in rows.items():
            conn.execute(insert(table_clause(table, *(column(name) for name in row))).values(**row))

    migrations.upgrade(engine)

    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT must_change_password FROM users").scalar_one() == 0
        assert conn.exec_driver_sql("SELECT user_id, course_id FROM report_stale").all() == [(1, 1)]
        triggers = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars().all()
        assert "report_stale_enrollments_insert" in triggers and "report_stale_users_update" in triggers
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()


def test_a_second_schema_of_the_same_database_gets_its_own_report_triggers(migrated_template, tmp_path):
    """Two sites' schemas (or a test's) in one PostgreSQL database: triggers are looked up per schema, so the
    second migration does not take the first schema's triggers for its own."""
    from sqlalchemy import make_url, text

    from cbt.reports import triggers

    if PG_URL:  # the suite's schema, migrated, already has its triggers
        schema = "second_site"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    else:
        url = f"sqlite:///{tmp_path}/second.sqlite3"
    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
        if PG_URL:  # read independently of cbt.reports.triggers
            query = ("SELECT DISTINCT trigger_name FROM information_schema.triggers "
                     "WHERE event_object_schema = current_schema() AND trigger_name LIKE 'report_stale%'")
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'report_stale%'"
        with engine.connect() as conn:
            present = set(conn.execute(text(query)).scalars())
        assert present == triggers.names(engine.dialect.name)
        assert len(present) >= 5
    finally:
        engine.dispose()
        if PG_URL:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
