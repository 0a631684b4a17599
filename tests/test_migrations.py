"""Migrations build the schema from empty on the test engine, and the models do not drift from them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import cbt.models  # noqa: F401
from cbt import migrations
from cbt.db import Base, make_engine
from tests.conftest import PG_URL


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
