"""WSGI entry point for gunicorn (``gunicorn wsgi:app``) or waitress (``waitress-serve wsgi:app``)."""

from cbt import create_app

app = create_app()
