"""``db.insert_ignoring_conflicts``: exactly-once rows, typed values, one compiled statement per shape."""

from __future__ import annotations

import uuid

from sqlalchemy import event, select

from cbt.db import get_session, insert_ignoring_conflicts, writing
from cbt.org.models import Country, Site


def test_a_second_insert_of_the_same_key_does_nothing_and_values_keep_their_types(app):
    with app.app_context(), writing():
        db = get_session()
        country = Country(code="KZ", names={"en": "Kazakhstan"})
        db.add(country)
        db.flush()
        first_uuid, second_uuid = uuid.uuid4(), uuid.uuid4()
        values = {"code": "kordai", "kind": "bcp", "names": {"ru": "Кордай", "en": "Kordai"},
                  "country_id": country.id}
        inserted = db.execute(insert_ignoring_conflicts(
            Site, {**values, "uuid": first_uuid}, ["code"], returning=["id"])).first()
        again = db.execute(insert_ignoring_conflicts(
            Site, {**values, "kind": "academy", "uuid": second_uuid}, ["code"], returning=["id"])).first()
        db.commit()
        assert inserted is not None and again is None
        site = db.scalars(select(Site)).one()
        assert (site.id, site.kind, site.names, site.uuid) == (inserted[0], "bcp", values["names"], first_uuid)


def test_the_statement_is_compiled_once_per_shape(app):
    """SQLAlchemy caches no dialect's ON CONFLICT insert; this one is a text statement it does cache."""
    engine = app.extensions["cbt.db"].engine
    compiled: list[object] = []

    def _seen(_conn, _cursor, statement, _params, context, _many) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO \"COUNTRIES\""):
            compiled.append(context.compiled)

    event.listen(engine, "before_cursor_execute", _seen)
    try:
        with app.app_context(), writing():
            db = get_session()
            for code in ("KZ", "KG", "KZ"):
                db.execute(insert_ignoring_conflicts(Country, {"code": code, "names": {"en": code}}, ["code"]))
            db.commit()
            assert sorted(db.scalars(select(Country.code))) == ["KG", "KZ"]
    finally:
        event.remove(engine, "before_cursor_execute", _seen)
    assert len(compiled) == 3 and len({id(c) for c in compiled}) == 1
