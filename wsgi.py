"""WSGI entry point for gunicorn (``gunicorn wsgi:app``) or waitress (``waitress-serve wsgi:app``)."""

from cbt import create_app
from cbt.memory import limit_malloc_arenas

limit_malloc_arenas()  # before the server's worker threads start (see cbt/memory.py)
app = create_app()
