"""Journey 1 and 2: a trainee in Kazakh with JavaScript, and in English without it; accessibility on every page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.browser.conftest import PASSWORD, assert_accessible, navigate, shot, sign_in
from tests.browser.drill import ANSWERS, answer


def take_practice_quiz(page, locale: str, javascript: bool, checked: list[str], tmp_path: Path) -> None:
    kinds = []
    while True:
        if javascript:  # axe runs inside the page: it needs JavaScript
            assert_accessible(page)
        kind = answer(page, locale, javascript=javascript)
        kinds.append(kind)
        if kind == "hotspot" and locale == "kk":
            shot(page, "quiz-hotspot-kk", tmp_path)
        if kind != "scenario":
            navigate(page, "button[value=check]")
            assert page.locator("section.review.right").count() == 1, (kind, page.inner_text("main"))
            checked.append(kind)
        if page.locator("button[value=finish]").count():
            navigate(page, "button[value=finish]")
            break
        navigate(page, "button[value=next]")
    assert sorted(kinds) == sorted(ANSWERS[locale])


def test_trainee_journey_in_kazakh_with_javascript(live_server, browser, tmp_path):
    username = live_server.create_user(f"asel-{uuid.uuid4().hex[:6]}", locale=None)
    # A classroom terminal set up in Kazakh: its browser asks for kk first.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(live_server.url + "/login")
    assert page.get_attribute("html", "lang") == "kk"
    assert_accessible(page)
    shot(page, "login-kk", tmp_path)
    # Keyboard only: the username field has the focus; from the top of the page, Tab reaches the skip link first.
    assert page.evaluate("document.activeElement.id") == "username"
    page.mouse.click(1, 1)  # move the focus start to the top of the page (the header)
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert "Далалық жаттығу" in page.inner_text("main")
    assert_accessible(page)
    shot(page, "my-learning-kk", tmp_path)
    # Tab to the course's Start button and press Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if "field-drill/continue" in (page.evaluate("document.activeElement.getAttribute('href') || ''")):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/lessons/\d+$"))
    assert page.locator("article.lesson h1").inner_text() == "Нұсқама"
    assert page.locator("article.lesson img").evaluate("img => img.naturalWidth") > 0  # media served locally
    assert_accessible(page)
    shot(page, "lesson-kk", tmp_path)
    navigate(page, "form[action$='/complete'] button")
    page.wait_for_url(re.compile(r".*/quiz/\d+$"))
    assert_accessible(page)
    navigate(page, "form[action$='/start'] button")
    checked: list[str] = []
    take_practice_quiz(page, "kk", True, checked, tmp_path)
    assert_accessible(page)
    navigate(page, "form[action$='/submit'] button")
    assert "100" in page.inner_text(".result .big")
    assert_accessible(page)
    shot(page, "result-kk", tmp_path)

    # The exam: answer three questions, then the terminal "crashes" (the browser closes).
    page.goto(live_server.url + "/learn/courses/field-drill")
    navigate(page, "a[href$='/quiz/2'], a.button[href*='/quiz/']:not([href$='/quiz/1'])")
    navigate(page, "form[action$='/start'] button")
    assert page.locator(".timer").count() == 1
    answered = []
    for _ in range(3):
        kind = answer(page, "kk")
        answered.append(kind)
        navigate(page, "button[value=next]")
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
    page = context.new_page()
    sign_in(page, live_server, username)
    page.goto(live_server.url + "/learn/courses/field-drill/continue")
    navigate(page, "a.button.primary[href*='/attempts/']")
    for number in range(1, 4):
        navigate(page, f"button[value=goto-{number}]")
        filled = page.evaluate("""() => [...document.querySelectorAll(
                'form.question-form input, form.question-form select')]
            .some(e => (e.type === 'radio' || e.type === 'checkbox') ? e.checked
                       : (e.type !== 'hidden' && e.value) || (e.type === 'hidden' && e.name === 'x' && e.value)
                         || document.querySelectorAll('.scenario-step.done').length)""")
        assert filled, f"answer {number} was lost"
    navigate(page, "button[value=goto-4]")
    while True:
        answer(page, "kk")
        if page.locator("button[value=finish]").count():
            navigate(page, "button[value=finish]")
            break
        navigate(page, "button[value=next]")
    navigate(page, "form[action$='/submit'] button")
    assert "100" in page.inner_text(".result .big")
    page.goto(live_server.url + "/learn/courses/field-drill")
    assert page.locator("#course-progress").get_attribute("value") == "100"
    assert_accessible(page)
    shot(page, "course-kk", tmp_path)
    # The same trainee switches language: the page stays, now in Russian, then English.
    for locale, word in (("ru", "Модули"), ("en", "Modules")):
        navigate(page, f"button[name=locale][value={locale}]")
        assert page.get_attribute("html", "lang") == locale and word in page.inner_text("main")
        assert page.url.endswith("/learn/courses/field-drill")
        assert_accessible(page)
        shot(page, f"course-{locale}", tmp_path)
    page.goto(live_server.url + "/learn/transcript")
    shot(page, "transcript-en", tmp_path)
    context.close()


def test_trainee_journey_in_english_without_javascript(live_server, browser, tmp_path):
    nojs = live_server.create_user(f"nojs-{uuid.uuid4().hex[:6]}")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(live_server.url + "/login")
    navigate(page, "button[name=locale][value=en]")
    assert page.get_attribute("html", "lang") == "en"
    sign_in(page, live_server, nojs)
    navigate(page, "a[href$='/field-drill/continue']")
    navigate(page, "form[action$='/complete'] button")
    navigate(page, "form[action$='/start'] button")
    checked: list[str] = []
    take_practice_quiz(page, "en", False, checked, tmp_path)
    navigate(page, "form[action$='/submit'] button")
    assert "100" in page.inner_text(".result .big")
    context.close()
