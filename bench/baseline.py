"""Baselines served the same way as CBT (same server, workers and threads): a bare Flask + Jinja page of the
same size, and a bare SQLAlchemy insert into SQLite with the same durability settings (WAL, synchronous=FULL).

Run: python bench/baseline.py --port 5101 --threads 8 --page-bytes 7000 --db /tmp/base.sqlite3
 or: gunicorn --workers 2 --threads 8 --pythonpath bench "baseline:make_app(7000, '/tmp/base.sqlite3')"
"""

from __future__ import annotations

import argparse

from flask import Flask, request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, insert

from cbt.serving import serve

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/cbt.css"></head><body><main><h1>{{ title }}</h1>
{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}</main></body></html>"""


def make_app(page_bytes: int, db_path: str) -> Flask:
    app = Flask(__name__)
    engine = create_engine(
        f"sqlite:///{db_path}", connect_args={"check_same_thread": False, "timeout": 15}, pool_size=20, max_overflow=20
    )

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
        conn.isolation_level = None
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=15000"):
            conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    metadata = MetaData()
    rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("value", String(200)))
    with engine.begin() as conn:  # immediate: several gunicorn workers may start at once
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, value VARCHAR(200))")
    paragraphs = ["Lorem ipsum dolor sit amet, border crossing point inspection text. " * 3] * max(1, page_bytes // 220)

    # Compiled once, as Flask's loader caches CBT's templates (render_template_string would compile per request).
    template = app.jinja_env.from_string(PAGE)

    @app.get("/page")
    def page() -> str:
        return template.render(title="Baseline page", paragraphs=paragraphs)

    @app.post("/insert")
    def do_insert() -> tuple[str, int]:
        with engine.begin() as conn:
            conn.execute(insert(rows).values(value=request.form.get("value", "x")[:200]))
        return '{"status":"saved"}', 200

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--page-bytes", type=int, default=7000)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    # One process: waitress with exactly the settings cbt serve gives it (several: gunicorn's command line).
    serve(make_app(args.page_bytes, args.db), host="127.0.0.1", port=args.port, threads=args.threads, workers=1)
