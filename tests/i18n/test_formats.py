"""Plural forms, dates and numbers per locale, and the catalog checks themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from flask_babel import force_locale, ngettext

from cbt import i18n_check

ROOT = Path(__file__).resolve().parents[2]


def _minutes(app, locale, n):
    with app.test_request_context(), force_locale(locale):
        return ngettext(
            "You were signed out after %(num)d minute without activity.",
            "You were signed out after %(num)d minutes without activity.",
            n,
        )


def _lessons(app, locale, n):
    with app.test_request_context(), force_locale(locale):
        return ngettext("%(num)d lesson", "%(num)d lessons", n)


@pytest.mark.parametrize(
    ("n", "word"), [(1, "урок"), (2, "урока"), (5, "уроков"), (21, "урок"), (22, "урока"), (11, "уроков")]
)
def test_russian_has_three_plural_forms(app, n, word):
    assert _lessons(app, "ru", n) == f"{n} {word}"


def test_russian_plural_in_a_sentence(app):
    assert "1 минуты" in _minutes(app, "ru", 1) and "5 минут" in _minutes(app, "ru", 5)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_kazakh_plurals(app, n):
    # Kazakh does not inflect a noun after a numeral: one form serves 1, 2 and 5.
    assert _lessons(app, "kk", n) == f"{n} сабақ"
    assert str(n) in _minutes(app, "kk", n)


def test_english_plurals(app):
    assert "1 minute " in _minutes(app, "en", 1) and "2 minutes" in _minutes(app, "en", 2)


@pytest.mark.parametrize(("locale", "expected"), [("ru", "22 нояб. 2026"), ("kk", "2026"), ("en", "Nov 22, 2026")])
def test_dates_follow_the_locale(app, locale, expected):
    moment = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    with app.test_request_context(), force_locale(locale):
        rendered = app.jinja_env.from_string("{{ d|date }}").render(d=moment)
    assert expected in rendered
    if locale == "kk":
        assert "қар" in rendered.lower()


def test_percent_and_numbers_follow_the_locale(app):
    with app.test_request_context(), force_locale("ru"):
        assert app.jinja_env.from_string("{{ 12.5|number }}").render() == "12,5"
    with app.test_request_context(), force_locale("en"):
        assert app.jinja_env.from_string("{{ 12.5|number }}").render() == "12.5"


def test_shipped_catalogs_pass_the_check():
    assert i18n_check.check_all(ROOT, ("kk", "ru", "en")) == []


def test_check_finds_untranslated_fuzzy_and_placeholder_problems():
    template = Catalog()
    for msgid in ("Hello", "Hi %(name)s", "Bye", "Fuzzy one"):
        template.add(msgid)
    catalog = Catalog(locale="ru")
    catalog.add("Hello", "Привет")
    catalog.add("Hi %(name)s", "Привет %(nom)s")
    catalog.add("Fuzzy one", "Нечёткий", flags=["fuzzy"])
    problems = {(p.msgid, p.problem.split(" (")[0]) for p in i18n_check.check_catalog("ru", catalog, template)}
    assert problems == {("Hi %(name)s", "placeholders differ"), ("Bye", "untranslated"), ("Fuzzy one", "fuzzy")}


def test_a_new_string_in_the_code_makes_the_template_stale(tmp_path):
    (tmp_path / "cbt").mkdir()
    (tmp_path / "cbt" / "mod.py").write_text('from flask_babel import gettext as _\n_("A brand new sentence")\n')
    assert i18n_check.stale_entries(i18n_check.extract(tmp_path), Catalog()) == ["A brand new sentence"]


def test_every_code_string_is_in_the_template():
    current = i18n_check.extract(ROOT)
    assert i18n_check.stale_entries(current, i18n_check.read_catalog(ROOT / "translations" / "messages.pot")) == []
