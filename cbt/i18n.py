"""Locale selection and formatting helpers (Flask-Babel).

Order of precedence: the signed-in user's saved preference, then the language picked with the switcher
(kept in the session, so it works on the sign-in page of a shared terminal), then the browser's
Accept-Language, then ``CBT_DEFAULT_LOCALE``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from cbt.extensions import babel

#: Self-names shown by the language switcher; never translated.
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def translation_directories() -> list[str]:
    """Compiled catalogs: inside the installed package, else the source tree's ``translations/``."""
    package_dir = Path(__file__).parent / "translations"
    source_dir = Path(__file__).parent.parent / "translations"
    return [str(d) for d in (package_dir, source_dir) if d.is_dir()]


def select_locale() -> Locale:
    """The request's language (Flask-Babel's locale selector; it runs once per request)."""
    locales = current_app.config["LOCALES"]
    if not has_request_context():
        return _locale(_cli_locale(locales))
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    if user.is_authenticated and user.locale in locales:
        return _locale(user.locale)
    picked = session.get("locale")
    if picked in locales:
        return _locale(picked)
    return _locale(_best_browser_match(request.headers.get("Accept-Language", ""), locales)
                   or current_app.config["DEFAULT_LOCALE"])


@functools.lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    """Parsed once per process: Flask-Babel takes a ready ``Locale`` as it is."""
    return Locale.parse(code)


@functools.lru_cache(maxsize=1024)
def _best_browser_match(header: str, locales: tuple[str, ...]) -> str | None:
    """The browser's best language; a classroom's terminals send the same few headers, parsed once each."""
    return parse_accept_header(header, LanguageAccept).best_match(locales)


def _cli_locale(locales: tuple[str, ...]) -> str:
    """Commands speak the operator's language: ``CBT_CLI_LOCALE``, else ``LANG`` (``ru_RU.UTF-8``), else English."""
    for raw in (os.environ.get("CBT_CLI_LOCALE"), os.environ.get("LANG")):
        code = (raw or "").split(".")[0].split("_")[0].lower()
        if code in locales:
            return code
    return "en" if "en" in locales else current_app.config["DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def localized(texts: Mapping[str, Any] | None, locale: str | None = None) -> str:
    """The text of a ``{locale: text}`` field in the reader's language, else by the content fallback order."""
    return localized_with_locale(texts, locale)[0]


def localized_with_locale(texts: Mapping[str, Any] | None, locale: str | None = None) -> tuple[str, str | None]:
    if not texts:
        return "", None
    wanted = locale or current_locale()
    for candidate in (wanted, *current_app.config["CONTENT_FALLBACK"], *sorted(texts)):
        value = texts.get(candidate)
        if value:
            return str(value), candidate
    return "", None


#: Template context key holding the catalog a render uses (looked up once per render, not once per string).
_CATALOG = "_cbt_catalog"


def _catalog(context: Any) -> Any:
    catalog = context.get(_CATALOG)
    return catalog if catalog is not None else get_translations()


@pass_context
def _template_gettext(context: Any, string: str) -> str:
    return _catalog(context).ugettext(string)


@pass_context
def _template_ngettext(context: Any, singular: str, plural: str, num: int) -> str:
    return _catalog(context).ungettext(singular, plural, num)


@pass_context
def _template_pgettext(context: Any, msgctxt: str, string: str) -> str:
    return _catalog(context).upgettext(msgctxt, string)


@pass_context
def _template_npgettext(context: Any, msgctxt: str, singular: str, plural: str, num: int) -> str:
    return _catalog(context).unpgettext(msgctxt, singular, plural, num)


def _install_fast_template_gettext(app: Flask) -> None:
    """Templates translate through the catalog fetched once per render.

    Flask-Babel's own template callables resolve the locale and the catalog again for every string (a page has
    dozens); the catalog is taken when the render starts, so ``force_locale`` around a render still works.
    """
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True,
        pgettext=_template_pgettext, npgettext=_template_npgettext,
    )
    app.context_processor(lambda: {_CATALOG: get_translations()})


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(translation_directories()))
    babel.init_app(app, locale_selector=select_locale)
    _install_fast_template_gettext(app)
    app.jinja_env.globals.update(language_names=LANGUAGE_NAMES, current_locale=current_locale)
    app.jinja_env.filters["loc"] = localized
    from flask_babel import format_datetime, format_decimal, format_percent

    app.jinja_env.filters.update(
        date=format_day,
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        number=lambda value: format_decimal(value) if value is not None else "",
        percent=lambda value: format_percent(value / 100, "#,##0%") if value is not None else "–",
        minutes=format_minutes,
    )


def format_day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A day in the reader's language (and, for a moment in time, the reader's time zone); "" for none."""
    from flask_babel import format_date

    return format_date(value, fmt) if value else ""


def format_minutes(minutes: float | int | None) -> str:
    """A duration for people: "45 min" or "2 h 5 min", in the reader's language."""
    if minutes is None:
        return ""
    return _format_minutes(int(round(float(minutes))), str(get_locale()))


@functools.lru_cache(maxsize=1024)
def _format_minutes(total: int, locale: str) -> str:
    """Babel's duration formatting is slow and its result depends only on these two values."""
    from datetime import timedelta

    from babel.dates import format_timedelta as babel_timedelta

    def format_timedelta(delta: timedelta, **kwargs: Any) -> str:
        return babel_timedelta(delta, locale=locale, granularity="minute", **kwargs)

    if total < 60:
        return format_timedelta(timedelta(minutes=total), threshold=1, format="short")
    hours, rest = divmod(total, 60)
    parts = [format_timedelta(timedelta(hours=hours), threshold=1, format="short")]
    if rest:
        parts.append(format_timedelta(timedelta(minutes=rest), threshold=1, format="short"))
    return " ".join(parts)
