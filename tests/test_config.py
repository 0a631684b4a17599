"""Configuration from CBT_* variables and the generated secret key."""

from __future__ import annotations

import pytest

from cbt import create_app


def test_secret_key_is_generated_once_with_owner_only_permissions(tmp_path, database_url):
    first = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    second = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 64


def test_environment_variables_with_the_cbt_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("CBT_SESSION_IDLE_MINUTES", "7")
    monkeypatch.setenv("CBT_DEFAULT_LOCALE", "ru")
    monkeypatch.setenv("CBT_SECRET_KEY", "from-env")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_IDLE_MINUTES"] == 7
    assert app.config["DEFAULT_LOCALE"] == "ru"
    assert app.secret_key == "from-env"
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path}/cbt.sqlite3"


def test_unknown_default_locale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="CBT_DEFAULT_LOCALE"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DEFAULT_LOCALE": "de"})
