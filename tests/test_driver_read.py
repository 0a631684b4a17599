"""Reads straight through the driver return what SQLAlchemy would, inside the session's own transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Float, Integer, Numeric, bindparam, cast, event, select
from sqlalchemy.exc import DBAPIError

from cbt.auth.models import User, UserSession
from cbt.db import utcnow
from cbt.driver_read import DriverRead, attach, columns
from cbt.org.models import Site

_SITE = select(Site.id, Site.uuid, Site.code, Site.names, Site.neighbour_country_id).where(
    Site.code == bindparam("code"))
_USER = select(*columns(User)).where(User.id == bindparam("id"))


def test_values_come_back_as_sqlalchemy_converts_them(db: Any, site: Site, create_user: Any) -> None:
    user = create_user(site_id=site.id, must_change_password=True)
    db.add(UserSession(user_id=user.id, token_hash="a" * 64, last_seen_at=utcnow() - timedelta(minutes=3)))
    db.commit()
    numbers = select(cast(bindparam("n", type_=Integer), Float).label("f"),
                     cast(bindparam("n", type_=Integer), Numeric(10, 2)).label("d"))  # PostgreSQL: by type code
    for statement, params in ((_SITE, {"code": "kordai"}), (_USER, {"id": user.id}), (numbers, {"n": 3}),
                              (select(UserSession.last_seen_at, UserSession.ended_at).where(
                                  UserSession.token_hash == bindparam("h")), {"h": "a" * 64})):
        expected = db.execute(statement, params).one()
        got = DriverRead(statement).first(db, params)
        assert tuple(got) == tuple(expected)
        assert [type(value) for value in got] == [type(value) for value in expected]  # UUID, dict, bool, datetime
        assert got._fields == tuple(expected._fields)
    assert DriverRead(_SITE).first(db, {"code": "nowhere"}) is None


def test_it_reads_in_the_sessions_transaction(db: Any, site: Site) -> None:
    db.add(Site(code="new-post", kind="bcp", names={"en": "New post"}, country_id=site.country_id))
    db.flush()  # not committed: only this session's connection can see it
    found = DriverRead(_SITE).first(db, {"code": "new-post"})
    assert found is not None and found.names == {"en": "New post"}
    db.rollback()
    assert DriverRead(_SITE).first(db, {"code": "new-post"}) is None


def test_statement_listeners_see_driver_reads(app: Any, db: Any, site: Site) -> None:
    seen: list[str] = []
    engine = app.extensions["cbt.db"].engine

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        DriverRead(_SITE).first(db, {"code": "kordai"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1 and "FROM sites" in seen[0]


def test_driver_errors_are_raised_as_sqlalchemys(db: Any) -> None:
    from sqlalchemy import column, table

    broken = DriverRead(select(column("x")).select_from(table("no_such_table")).where(column("x") == bindparam("x")))
    with pytest.raises(DBAPIError):
        broken.first(db, {"x": 1})


def test_statements_needing_conversion_are_refused(db: Any) -> None:
    in_list = DriverRead(select(Site.id).where(Site.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="IN lists"):
        in_list.first(db, {"ids": [1, 2]})
    since = bindparam("since", type_=UserSession.last_seen_at.type)
    typed = DriverRead(select(UserSession.id).where(UserSession.last_seen_at > since))
    with pytest.raises(ValueError, match="since"):
        typed.first(db, {"since": utcnow()})


def test_attach_gives_a_persistent_object_with_nothing_to_flush(app: Any, db: Any, site: Site,
                                                              create_user: Any) -> None:
    user_id = create_user(site_id=site.id, full_name="Асель").id
    row = DriverRead(_USER).first(db, {"id": user_id})
    user = attach(db, User, row._asdict())
    assert user in db and not db.dirty and not db.new
    assert user.full_name == "Асель"
    assert user.site.names["ru"] == "Кордай"  # a relationship loads lazily, as on an object the ORM loaded
    assert db.get(User, user_id) is user
    assert attach(db, User, row._asdict()) is user  # the identity map decides
    statements: list[str] = []
    engine = app.extensions["cbt.db"].engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    db.flush()
    assert statements == []  # attaching is not a change
    user.locale = "kk"
    db.commit()
    assert any(s.startswith("UPDATE users") for s in statements)
    db.expire_all()
    assert db.get(User, user_id).locale == "kk"
