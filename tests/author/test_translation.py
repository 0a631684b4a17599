"""Translating side by side, and the list of translation gaps per language."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from cbt.author.models import Draft
from tests.author.conftest import folder_of
from tests.author.test_publish import start_draft


@pytest.fixture
def draft(auth, browser, published) -> str:
    published()
    auth.login_as("admin")
    return start_draft(browser, "tiny-course")


def test_gaps_list_every_missing_text_with_a_link_to_translate_it(browser, draft):
    page = html.unescape(browser.page(f"{draft}/gaps/kk"))
    assert "1 text is missing in this language." in page
    assert "The whole lesson 02-only-russian" in page
    link = re.search(r'href="([^"]+/lessons/02-only-russian/kk)"', page).group(1)
    lesson = html.unescape(browser.page(link))
    assert "Source text" in lesson and "Second lesson." in lesson  # the source beside the empty form
    assert "This lesson has no text in this language yet" in lesson
    assert browser.post(link, {"title": "Екінші сабақ", "minutes": "5", "body": "Екінші сабақ.",
                               "action": "save"}).status_code == 302  # fmt: skip
    assert "Nothing is missing in this language." in browser.page(f"{draft}/gaps/kk")


def test_a_field_gap_links_to_the_side_by_side_page(app, browser, draft):
    module = f"{draft}/modules/01-intro"
    response = browser.post(f"{module}/questions/new?type=short_text", {
        "id": "t-q2", "prompt.en": "Name the carnet.", "answer.en": "TIR carnet\nTIR", "action": "save"})
    assert response.status_code == 302
    page = html.unescape(browser.page(f"{draft}/gaps/ru"))
    assert "Question 2 · Question text" in page and "Question 2 · Accepted answers" in page
    link = re.search(r'href="([^"]+/translate/ru/modules/01-intro/questions/t-q2)"', page).group(1)
    form = html.unescape(browser.page(link))
    assert form.count("not translated") == 2 and form.count('class="untranslated"') == 2
    assert "Name the carnet." in form
    response = browser.post(link, {"prompt.ru": "Назовите книжку.", "answer.ru": "книжка МДП\nМДП",
                                   "_lines.answer": "1"})  # fmt: skip
    assert response.status_code == 302
    bank = (folder_of(app, draft) / "01-intro" / "questions.yaml").read_text(encoding="utf-8")
    assert "    ru: Назовите книжку.\n    en: Name the carnet." in bank  # locales kept in order
    assert "    ru:\n      - книжка МДП\n      - МДП\n" in bank
    assert "t-q2" not in browser.page(f"{draft}/gaps/ru")


def test_translating_updates_the_completeness_shown_everywhere(app, browser, draft, db):
    before = db.scalar(select(Draft.translation))
    assert before["kk"] == before["total"] - 1
    url = f"{draft}/modules/01-intro/lessons/02-only-russian/kk"
    browser.post(url, {"title": "Екінші", "minutes": "5", "body": "Мәтін.", "action": "save"})
    db.rollback()
    after = db.scalar(select(Draft.translation))
    assert after["kk"] == after["total"]
    text = " ".join(re.sub(r"<[^>]+>", " ", browser.page(draft)).split())
    assert "Қазақша : 100%" in text


def test_clearing_a_translation_removes_it_and_it_becomes_a_gap(app, browser, draft):
    url = f"{draft}/translate/kk/course"
    page = html.unescape(browser.page(url))
    assert "Шекара негіздері" in page and "Border basics" in page
    assert browser.post(url, {"title.kk": "", "description.kk": "Қысқа курс."}).status_code == 302
    text = (folder_of(app, draft) / "course.yaml").read_text(encoding="utf-8")
    assert "kk: Шекара негіздері" not in text
    gaps = html.unescape(browser.page(f"{draft}/gaps/kk"))
    assert "course.yaml" in gaps and "Title" in gaps


def test_a_lesson_translation_can_be_removed(app, browser, draft):
    url = f"{draft}/modules/01-intro/lessons/01-welcome/kk"
    response = browser.post(url, {"title": "Қош келдіңіз", "minutes": "5", "body": "x", "action": "remove"})
    assert response.status_code == 302
    assert not (folder_of(app, draft) / "01-intro" / "01-welcome.kk.md").exists()
    source = f"{draft}/modules/01-intro/lessons/01-welcome/en"
    response = browser.post(source, {"title": "Welcome", "minutes": "5", "body": "x", "action": "remove"})
    assert (folder_of(app, draft) / "01-intro" / "01-welcome.en.md").exists()  # never the source language
