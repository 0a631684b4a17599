"""Every page of every role in kk, ru and en: right <html lang>, no English left over, Kazakh letters."""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import pytest

from cbt.i18n_check import read_catalog
from tests.conftest import csrf_token
from tests.pages import build_world, page_urls

ROOT = Path(__file__).resolve().parents[2]
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
#: English words that are proper names or codes and may stay in any language.
ALLOWED = {"CBT", "Қазақша", "Русский", "English"}


@cache
def english_phrases() -> list[str]:
    """Fragments of every msgid long enough to be recognisable English (placeholders split them)."""
    phrases = set()
    for message in read_catalog(ROOT / "translations" / "messages.pot"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for text in ids:
            for fragment in re.split(r"%\(\w+\)[sd]|<[^>]+>", text):
                fragment = fragment.strip(" .,:;!?()·→←-")
                if len(fragment) >= 12 and " " in fragment:
                    phrases.add(fragment)
    return sorted(phrases)


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<[^>]*\blang="en"[^>]*>English<', " ", page)
    text = re.sub(r"<[^>]+>", " ", page)
    attributes = " ".join(re.findall(r'(?:aria-label|alt|title|placeholder)="([^"]*)"', page))
    return html.unescape(text + " " + attributes)


@pytest.mark.parametrize("role", ["trainee", "trainer", "admin"])
def test_every_page_in_every_language(app, client, auth, tmp_path, role):
    world = build_world(app, client, auth, tmp_path, role)
    urls = page_urls(app, world, role)
    assert len(urls) >= 8
    for locale in ("kk", "ru", "en"):
        client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": locale, "next": "/"})
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (locale, url)
            page = response.get_data(as_text=True)
            assert f'<html lang="{locale}">' in page, (locale, url)
            text = visible_text(page)
            if locale != "en":
                leftovers = [p for p in english_phrases() if p in text]
                assert leftovers == [], (locale, url, leftovers[:5])
            if locale == "kk":
                assert KAZAKH_LETTERS & set(text), url


def test_anonymous_pages_in_every_language(client):
    for locale in ("kk", "ru", "en"):
        client.post("/language", data={"csrf_token": csrf_token(client), "locale": locale, "next": "/login"})
        for url in ("/login", "/no-such-page"):
            page = client.get(url).get_data(as_text=True)
            assert f'<html lang="{locale}">' in page
            if locale != "en":
                assert [p for p in english_phrases() if p in visible_text(page)] == [], (locale, url)


def test_browser_language_is_used_before_the_default(client):
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ru">' in page and "Войти" in page


def test_switcher_returns_to_the_same_page_everywhere(app, client, auth, tmp_path):
    world = build_world(app, client, auth, tmp_path, "trainee")
    for url in page_urls(app, world, "trainee"):
        response = client.post("/language", data={"csrf_token": csrf_token(client, url), "locale": "kk", "next": url})
        assert response.status_code == 302 and response.headers["Location"] == url


def test_lesson_falls_back_and_says_so(app, client, auth, tmp_path):
    build_world(app, client, auth, tmp_path, "trainee")
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "kk", "next": "/"})
    course = client.get("/learn/courses/tiny-course").get_data(as_text=True)
    second = re.findall(r'href="(/learn/courses/tiny-course/lessons/\d+)"', course)[1]
    page = client.get(second).get_data(as_text=True)
    assert "Второй урок" in page  # shown in Russian, the next locale of the fallback order
    assert '<html lang="kk">' in page and 'lang="ru"' in page
    assert "Русский" in visible_text(page.split('class="notice"', 1)[1].split("</p>", 1)[0])
