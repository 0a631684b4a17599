"""The production server behind ``cbt serve``: one process per core where the system allows it.

A Python process runs Python on one core at a time. A classroom server has two or more cores and its hardest
minute is a whole class starting the same exam at once, so on Linux and macOS ``cbt serve`` runs gunicorn
with one worker process per core (at most four) and the requested threads in each; the SQLite database in
WAL mode serves several processes as it serves several threads (writers queue on its lock for up to the busy
timeout). Windows has no ``fork``: there, and with ``--workers 1``, waitress serves from one process.

Nothing here keeps state between requests: sessions, sign-in throttling and every cache that could go stale
live in the database, and the per-process caches hold only published course versions, which never change.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask

#: A worker costs 110-140 MB after a working day; more than four buys little on a classroom server.
MAX_AUTO_WORKERS = 4
#: Open connections waitress accepts at once (its default, 100, is too few for a classroom; see serve()).
WAITRESS_CONNECTIONS = 500
#: Seconds an idle connection stays open: browsers keep theirs between clicks, so idle ones are dropped late.
IDLE_CONNECTION_S = 120


def can_fork() -> bool:
    return sys.platform != "win32"


def default_workers() -> int:
    """One worker process per core (at most four) where processes can be forked, else one."""
    if not can_fork():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_AUTO_WORKERS))


def uses_gunicorn(workers: int) -> bool:
    """Several worker processes are gunicorn's; one is waitress's."""
    return workers > 1


def serve(app: Flask, *, host: str, port: int, threads: int, workers: int) -> None:
    """Serve ``app`` until stopped (Ctrl+C or SIGTERM), with waitress for one process, gunicorn for several."""
    if not uses_gunicorn(workers):
        from waitress import serve as waitress_serve

        # A browser keeps two to six connections open between clicks: waitress's default limit of 100 open
        # connections is reached by a class of 30-50, after which a new terminal waits until idle ones time out.
        # 500 stays below select()'s limit on Windows (512 sockets).
        waitress_serve(app, host=host, port=port, threads=threads, ident="cbt", channel_timeout=IDLE_CONNECTION_S,
                       connection_limit=WAITRESS_CONNECTIONS)
        return
    _gunicorn(app, host=host, port=port, threads=threads, workers=workers)


def _gunicorn(app: Flask, *, host: str, port: int, threads: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    def post_fork(_server: Any, _worker: Any) -> None:
        # Connections opened before the fork belong to the parent; a child must open its own.
        app.extensions["cbt.db"].engine.dispose(close=False)

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "proc_name": "cbt",
        "keepalive": IDLE_CONNECTION_S,
        # A report export or a course import may run for a minute; a worker is restarted only when it hangs.
        "timeout": 180,
        "graceful_timeout": 30,
        # The application trusts forwarded headers only from the proxies the operator counted (PROXY_COUNT).
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "post_fork": post_fork,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }

    class Server(BaseApplication):  # type: ignore[misc] - gunicorn has no type hints
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    Server().run()
