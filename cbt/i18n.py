"""Locale selection and formatting helpers (Flask-Babel).

Order of precedence: the signed-in user's saved preference, then the language picked with the switcher
(kept in the session, so it works on the sign-in page of a shared terminal), then the browser's
Accept-Language, then ``CBT_DEFAULT_LOCALE``.
"""

from __future__ import annotations

from pathlib import Path

import os

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from cbt.extensions import babel

#: Self-names shown by the language switcher; never translated.
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def translation_directories() -> list[str]:
    """Compiled catalogs: inside the installed package, else the source tree's ``translations/``."""
    package_dir = Path(__file__).parent / "translations"
    source_dir = Path(__file__).parent.parent / "translations"
    return [str(d) for d in (package_dir, source_dir) if d.is_dir()]


def select_locale() -> str:
    locales = current_app.config["LOCALES"]
    if not has_request_context():
        return _cli_locale(locales)
    if current_user and current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    picked = session.get("locale")
    if picked in locales:
        return picked
    return _best_browser_match(locales) or current_app.config["DEFAULT_LOCALE"]


def _best_browser_match(locales: tuple[str, ...]) -> str | None:
    return request.accept_languages.best_match(locales)


def _cli_locale(locales: tuple[str, ...]) -> str:
    """Commands speak the operator's language: ``CBT_CLI_LOCALE``, else ``LANG`` (``ru_RU.UTF-8``), else English."""
    for raw in (os.environ.get("CBT_CLI_LOCALE"), os.environ.get("LANG")):
        code = (raw or "").split(".")[0].split("_")[0].lower()
        if code in locales:
            return code
    return "en" if "en" in locales else current_app.config["DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(translation_directories()))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(language_names=LANGUAGE_NAMES, current_locale=current_locale)
