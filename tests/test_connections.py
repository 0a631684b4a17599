"""A request's database connection: reads outside a transaction, real transactions after them, lost connections.

A request's session is bound to one pooled connection; driver reads made before the session begins a
transaction run on it without one (autocommit on PostgreSQL). Connections lost while idle in the pool are
checked before use; one lost in steady use is replaced by the session check, the first read of a signed-in
request, without the person seeing an error.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.exc import DBAPIError

from cbt.db import get_session, make_engine
from cbt.driver_read import DriverRead
from cbt.org.models import Site
from tests.conftest import PG_URL, Auth, named_connections

_SITE = select(Site.id, Site.names).where(Site.code == bindparam("code"))
#: The app's connections carry this name on PostgreSQL, so a test can drop them and no others.
APP_NAME = "cbt-connections-test"

postgresql_only = pytest.mark.skipif(not PG_URL, reason="a PostgreSQL server can drop connections; SQLite has none")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    if PG_URL:
        app_config["DATABASE_URL"] = named_connections(PG_URL, APP_NAME)
    return app_config


def _driver_in_transaction(dbapi_connection: Any) -> bool:
    if hasattr(dbapi_connection, "info"):  # psycopg
        return dbapi_connection.info.transaction_status.name != "IDLE"
    return bool(dbapi_connection.in_transaction)  # sqlite3


def test_a_requests_read_outside_a_transaction_begins_none(app: Any, site: Site) -> None:
    engine = app.extensions["cbt.db"].engine
    begun: list[object] = []

    def record(connection: object) -> None:
        begun.append(connection)

    event.listen(engine, "begin", record)
    try:
        with app.test_request_context():
            request_session = get_session()
            found = DriverRead(_SITE).first(request_session, {"code": "kordai"})
            assert found is not None and found.names == {"en": "Kordai", "ru": "Кордай"}
            connection = request_session.bind
            assert not connection.in_transaction()
            assert not _driver_in_transaction(connection.connection.dbapi_connection)
    finally:
        event.remove(engine, "begin", record)
    assert begun == []
    assert engine.pool.checkedout() == 0  # the request's connection went back to the pool


def test_writes_after_a_read_outside_a_transaction_are_one_transaction(app: Any, site: Site) -> None:
    """On PostgreSQL the read leaves the driver in autocommit; a write after it must still be rolled back whole."""
    with app.test_request_context():
        request_session = get_session()
        assert DriverRead(_SITE).first(request_session, {"code": "kordai"}) is not None
        request_session.add(Site(code="new-post", kind="bcp", names={"en": "New post"}, country_id=site.country_id))
        request_session.flush()
        assert _driver_in_transaction(request_session.bind.connection.dbapi_connection)
        # Inside the session's transaction now: the read sees the uncommitted row, on the same connection.
        assert DriverRead(_SITE).first(request_session, {"code": "new-post"}) is not None
        request_session.rollback()
        assert DriverRead(_SITE).first(request_session, {"code": "new-post"}) is None
        request_session.add(Site(code="kept", kind="bcp", names={"en": "Kept"}, country_id=site.country_id))
        request_session.commit()
    with app.test_request_context():
        assert DriverRead(_SITE).first(get_session(), {"code": "kept"}) is not None
        assert DriverRead(_SITE).first(get_session(), {"code": "new-post"}) is None


def _drop_app_connections() -> int:
    """Terminate the server side of every connection named APP_NAME (as a server restart would); wait until gone."""
    assert PG_URL
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        dropped = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = %s", (APP_NAME,)).fetchone()[0]
        for _ in range(200):
            if not admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                 (APP_NAME,)).fetchone()[0]:
                break
            time.sleep(0.02)
    return int(dropped)


@postgresql_only
def test_a_connection_lost_in_steady_use_costs_a_signed_in_request_nothing(app: Any, client: Any, auth: Any,
                                                                         create_user: Any) -> None:
    auth.login_as("trainee")
    colleague = create_user("trainee")
    assert client.get("/learn/").status_code == 200
    engine = app.extensions["cbt.db"].engine
    with engine.connect() as first, engine.connect() as second:  # two connections in the pool, used a moment ago
        first.execute(text("SELECT 1"))
        second.execute(text("SELECT 1"))
    assert _drop_app_connections() >= 2  # as a server restart would
    response = client.get("/learn/")
    assert response.status_code == 200, response.status_code
    assert client.get("/learn/transcript").status_code == 200
    # The pool's other lost connection went with the first: a sign-in, whose first statement is the ORM's and
    # is not read again, finds a working connection.
    assert Auth(app.test_client(), create_user).login(colleague.username).status_code == 302


@postgresql_only
def test_a_connection_idle_in_the_pool_is_checked_before_use() -> None:
    assert PG_URL
    for ping_after_idle_s, survives in ((0.0, True), (3600.0, False)):
        engine = make_engine(named_connections(PG_URL, APP_NAME), ping_after_idle_s=ping_after_idle_s)
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar() == 1
            assert _drop_app_connections() == 1
            with engine.connect() as connection:
                if survives:  # idle longer than the limit: checked, found lost, replaced
                    assert connection.execute(text("SELECT 1")).scalar() == 1
                else:  # in steady use: not checked, so the statement finds it lost
                    with pytest.raises(DBAPIError) as lost:
                        connection.execute(text("SELECT 1"))
                    assert lost.value.connection_invalidated
        finally:
            engine.dispose()
