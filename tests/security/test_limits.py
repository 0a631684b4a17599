"""Request size limits (ASVS 4.0 V12.1.1, V13.1.3): too large is a translated 413 page, and nothing is stored."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from cbt.audit.models import AuditEvent
from tests.conftest import csrf_token

TITLES = {"kk": "Көлемі тым үлкен", "ru": "Слишком большой размер", "en": "Too large"}


def test_the_default_limit_is_64_megabytes(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024 * 1024


@pytest.fixture
def small_app(app_config):
    from cbt import create_app

    app_config["MAX_CONTENT_LENGTH"] = 4096
    application = create_app(app_config)
    yield application
    application.extensions["cbt.db"].engine.dispose()


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_a_too_large_form_gets_the_translated_413_page(small_app, locale):
    client = small_app.test_client()
    token = csrf_token(client)
    client.post("/language", data={"locale": locale, "next": "/login", "csrf_token": token})
    response = client.post("/login", data={"csrf_token": token, "username": "x" * 10_000, "password": "p"})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert f'<html lang="{locale}"' in page
    assert TITLES[locale] in page
    assert "Traceback" not in page and "RequestEntityTooLarge" not in page


def test_a_too_large_upload_or_raw_body_gets_413_and_stores_nothing(small_app):
    client = small_app.test_client()
    token = csrf_token(client)
    with small_app.extensions["cbt.db"].sessionmaker() as db:
        before = db.scalar(select(func.count()).select_from(AuditEvent))
    upload = client.post("/login", data={"csrf_token": token, "file": (io.BytesIO(b"\0" * 50_000), "big.zip")},
                         content_type="multipart/form-data")
    raw = client.post("/login", data=b"username=" + b"a" * 50_000, content_type="application/x-www-form-urlencoded")
    assert upload.status_code == raw.status_code == 413
    assert TITLES["en"] in raw.get_data(as_text=True)
    with small_app.extensions["cbt.db"].sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == before  # no failed sign-in recorded


def test_a_form_just_under_the_limit_is_served(small_app, create_user):
    client = small_app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"csrf_token": token, "username": "u" * 60, "password": "p" * 1000})
    assert response.status_code == 200  # an ordinary failed sign-in, not a 413
