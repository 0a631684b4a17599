"""WSGI entry point for gunicorn (``gunicorn wsgi:app``) or waitress (``waitress-serve wsgi:app``)."""

from cbt import create_app
from cbt.memory import limit_malloc_arenas
from cbt.web import warm_templates

limit_malloc_arenas()  # before the server's worker threads start (see cbt/memory.py)
app = create_app()
warm_templates(app)  # the first class after a restart does not wait for Jinja
