"""Journey 3: a trainer (Russian UI) writes a course in the browser, translates it, previews, publishes and
assigns it to a cohort; a trainee (Kazakh UI) then reads the lesson, passes the quiz and completes the course.
Axe runs on every page of the way.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser.conftest import assert_accessible, navigate, shot, sign_in

pytestmark = pytest.mark.browser

#: Every text of the course, by language; the trainer writes Russian first and translates into the others.
COURSE = {
    "title": {"ru": "Досмотр на пункте пропуска", "kk": "Өткізу пунктіндегі тексеру",
              "en": "Checkpoint inspection"},
    "description": {
        "ru": "Короткий курс для инспекторов: с каких документов начинается досмотр.",
        "kk": "Инспекторларға арналған қысқа курс: тексеру қай құжаттардан басталады.",
        "en": "A short course for inspectors: which documents an inspection starts with.",
    },
    "module": {"ru": "Документы водителя", "kk": "Жүргізушінің құжаттары", "en": "The driver's documents"},
    "lesson": {"ru": "Паспорт и удостоверение", "kk": "Төлқұжат және куәлік", "en": "Passport and licence"},
    "body": {
        "ru": "Инспектор сначала проверяет **паспорт**, затем водительское удостоверение.\n\n"
              "- Сверьте фотографию с лицом водителя.\n- Проверьте срок действия удостоверения.\n",
        "kk": "Инспектор алдымен **төлқұжатты**, содан кейін жүргізуші куәлігін тексереді.\n\n"
              "- Суретті жүргізушінің бет-әлпетімен салыстырыңыз.\n- Куәліктің жарамдылық мерзімін тексеріңіз.\n",
        "en": "The inspector checks the **passport** first, then the driving licence.\n\n"
              "- Compare the photograph with the driver's face.\n- Check that the licence has not expired.\n",
    },
    "single": {"ru": "Какой документ инспектор проверяет первым?",
               "kk": "Инспектор қай құжатты бірінші тексереді?",
               "en": "Which document does the inspector check first?"},
    "options": [
        {"ru": "Паспорт", "kk": "Төлқұжат", "en": "Passport"},
        {"ru": "Страховой полис", "kk": "Сақтандыру полисі", "en": "Insurance policy"},
        {"ru": "Путевой лист", "kk": "Жол парағы", "en": "Waybill"},
    ],
    "true_false": {"ru": "Просроченное водительское удостоверение можно принять.",
                   "kk": "Мерзімі өткен жүргізуші куәлігін қабылдауға болады.",
                   "en": "An expired driving licence may be accepted."},
}
OTHERS = ("kk", "en")  # the languages the Russian source is translated into


def saved(page: Any) -> None:
    """The last form was accepted: no error message, no problem box; then the page passes axe."""
    errors = page.locator(".flash-error, .problems, .errors")
    assert errors.count() == 0, page.inner_text("main")
    assert_accessible(page)


def test_trainer_authors_publishes_and_assigns_a_course_that_a_trainee_completes(live_server, browser, tmp_path):
    slug = f"checkpoint-{uuid.uuid4().hex[:6]}"
    trainer = live_server.create_user(f"trainer-{uuid.uuid4().hex[:6]}", role="trainer", locale="ru")
    trainee = live_server.create_user(f"aibek-{uuid.uuid4().hex[:6]}", locale="kk")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in(page, live_server, trainer)
    page.goto(live_server.url + "/author/")
    assert page.get_attribute("html", "lang") == "ru"
    assert_accessible(page)

    # A new course: id, source language, title and description in all three languages.
    navigate(page, "a[href$='/author/new']")
    assert_accessible(page)
    page.fill("#f-id", slug)
    page.select_option("#f-source-locale", "ru")
    for loc in ("ru", *OTHERS):
        page.fill(f"#f-title-{loc}", COURSE["title"][loc])
        page.fill(f"#f-description-{loc}", COURSE["description"][loc])
    page.fill("#f-estimated-minutes", "20")
    navigate(page, "form[action$='/author/new'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/author/drafts/[0-9a-f-]{36}$"))
    draft_url = page.url
    assert page.locator("h1").inner_text() == COURSE["title"]["ru"]
    assert_accessible(page)

    # A module, titled in Russian, then translated on the side-by-side page.
    page.fill("#f-module-title", COURSE["module"]["ru"])
    navigate(page, "form[action$='/modules'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/modules/[a-z0-9-]+$"))
    module_url = page.url
    saved(page)
    navigate(page, "#module-settings a[href*='/translate/kk/modules/']")
    for loc in OTHERS:
        navigate(page, f"nav.lang-tabs a[lang={loc}]")
        assert_accessible(page)
        assert COURSE["module"]["ru"] in page.inner_text("td.source-cell")
        page.fill(f"#f-title-{loc}", COURSE["module"][loc])
        navigate(page, "main form[method=post] button[type=submit]")
        saved(page)
        assert page.input_value(f"#f-title-{loc}") == COURSE["module"][loc]

    # A lesson written in Russian ...
    page.goto(module_url)
    page.fill("#f-lesson-title", COURSE["lesson"]["ru"])
    page.fill("#f-lesson-minutes", "5")
    navigate(page, "form[action$='/lessons'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/lessons/[a-z0-9-]+/ru$"))
    assert_accessible(page)
    page.fill("#f-body", COURSE["body"]["ru"])
    navigate(page, "button[name=action][value=save]")
    saved(page)
    lesson_url = page.url.removesuffix("/ru")
    # ... and translated beside the source text into Kazakh and English.
    for loc in OTHERS:
        page.goto(f"{lesson_url}/{loc}")
        assert page.locator(".notice").count() == 1  # not translated yet
        assert "паспорт" in page.inner_text("section.source-column")
        assert page.input_value("#f-minutes") == "5"  # taken from the source
        assert_accessible(page)
        page.fill("#f-title", COURSE["lesson"][loc])
        page.fill("#f-body", COURSE["body"][loc])
        if loc == "kk":
            shot(page, "author-translate-ru", tmp_path)
        navigate(page, "button[name=action][value=save]")
        saved(page)
        assert page.locator(".notice").count() == 0

    # The lesson as a trainee will see it: nothing can be recorded from the preview.
    page.goto(f"{lesson_url}/kk")
    navigate(page, "a[href*='/preview/']")
    assert "/preview/" in page.url
    assert page.locator(".preview-banner").count() == 1
    assert page.locator("article.lesson h1").inner_text() == COURSE["lesson"]["kk"]
    assert page.locator(".lesson-end button").is_disabled()
    assert_accessible(page)

    # Two questions: single choice written in every language in the form ...
    page.goto(module_url)
    page.select_option("#f-new-type", "single")
    navigate(page, "form[action$='/questions/new'] button[type=submit]")
    assert_accessible(page)
    for loc in ("ru", *OTHERS):
        page.fill(f"#f-prompt-{loc}", COURSE["single"][loc])
        for number, option in enumerate(COURSE["options"]):
            page.fill(f"#f-options-{number}-text-{loc}", option[loc])
    page.check("input[name=answer][value='0']")
    navigate(page, "button[name=action][value=save]")
    saved(page)
    # ... and true or false, written in Russian and translated on the side-by-side page.
    page.goto(module_url)
    page.select_option("#f-new-type", "true_false")
    navigate(page, "form[action$='/questions/new'] button[type=submit]")
    page.fill("#f-prompt-ru", COURSE["true_false"]["ru"])
    page.check("input[name=answer][value=false]")
    navigate(page, "button[name=action][value=save]")
    saved(page)
    question_url = page.url
    for loc in OTHERS:
        page.goto(question_url.replace("/modules/", f"/translate/{loc}/modules/", 1))
        assert_accessible(page)
        page.fill(f"#f-prompt-{loc}", COURSE["true_false"][loc])
        navigate(page, "main form[method=post] button[type=submit]")
        saved(page)
    # A question previewed and answered as a trainee would: graded on the page, nothing recorded.
    page.goto(module_url)
    navigate(page, page.locator("a[href*='/preview/'][href*='/questions/']").first)
    assert page.locator(".preview-banner").count() == 1
    assert_accessible(page)
    page.get_by_label(COURSE["options"][0]["ru"], exact=True).check()
    navigate(page, "button[value=check]")
    assert page.locator("section.review.right").count() == 1, page.inner_text("main")
    assert_accessible(page)

    # The module quiz: practice, every question of the module's bank.
    page.goto(module_url)
    navigate(page, "a[href$='/quiz']")
    assert_accessible(page)
    assert page.is_checked("input[name=mode][value=all]")
    page.fill("#f-pass-mark", "100")
    navigate(page, "button[name=action][value=save]")
    saved(page)

    # The draft is complete: no errors, every language at 100 %; publish it with a change log.
    page.goto(draft_url)
    assert page.locator(".ok-card").count() == 1, page.inner_text("main")
    assert page.inner_text("#translation-title + ul").count("100") == 3
    assert_accessible(page)
    page.fill("#f-changelog", "Первая версия.")
    navigate(page, "button[name=action][value=publish]")
    page.wait_for_url(live_server.url + f"/author/courses/{slug}")
    assert page.locator(".flash-success").count() == 1
    assert "Первая версия." in page.inner_text("table")
    assert_accessible(page)
    # The previews recorded nothing: the trainer's own course page shows no progress.
    page.goto(live_server.url + f"/learn/courses/{slug}")
    assert page.locator("#course-progress").get_attribute("value") == "0"
    assert page.locator("ol.lessons .badge").count() == 0
    assert "%" not in page.inner_text(".quiz-link")
    assert_accessible(page)

    # Published courses are open to every trainee; a cohort assigns this one, with a due date, to the class.
    page.goto(live_server.url + "/cohorts/")
    assert_accessible(page)
    navigate(page, "a[href$='/cohorts/new']")
    assert_accessible(page)
    page.fill("#name", "Группа досмотра")
    navigate(page, "form:has(#name) button[type=submit]")
    page.wait_for_url(re.compile(r".*/cohorts/\d+$"))
    cohort_url = page.url
    assert_accessible(page)
    page.select_option("#course", label=COURSE["title"]["ru"])
    page.fill("#due_date", (date.today() + timedelta(days=14)).isoformat())
    navigate(page, "form[action$='/courses'] button[type=submit]")
    page.wait_for_url(cohort_url)
    assert COURSE["title"]["ru"] in page.inner_text("section[aria-labelledby=courses-heading] table")
    navigate(page, "a[href$='/members/add']")
    assert_accessible(page)
    page.fill("#identifiers", trainee)
    navigate(page, "form[action$='/members/paste'] button[type=submit]")
    page.wait_for_url(cohort_url)
    assert trainee in page.inner_text("section[aria-labelledby=members-heading]")
    assert_accessible(page)

    # The trainee, on a Kazakh terminal: the course is assigned, with its due date.
    learner = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
    tab = learner.new_page()
    tab.set_default_timeout(15000)
    sign_in(tab, live_server, trainee)
    tab.wait_for_url(live_server.url + "/")
    card = tab.locator("li.course-card", has=tab.locator(f"a[href='/learn/courses/{slug}']"))
    assert card.locator(".badge-due").count() == 1
    assert card.locator("h3 a").inner_text() == COURSE["title"]["kk"]
    assert_accessible(tab)
    navigate(tab, card.locator("h3 a"))
    assert tab.locator("h1").inner_text() == COURSE["title"]["kk"]
    assert tab.locator("#course-progress").get_attribute("value") == "0"
    assert_accessible(tab)
    navigate(tab, f"a.button.primary[href$='/{slug}/continue']")
    tab.wait_for_url(re.compile(r".*/lessons/\d+$"))
    assert tab.locator("article.lesson h1").inner_text() == COURSE["lesson"]["kk"]
    assert "төлқұжатты" in tab.inner_text("article.lesson")
    assert_accessible(tab)
    navigate(tab, "form[action$='/complete'] button")
    tab.wait_for_url(re.compile(r".*/quiz/\d+$"))
    assert_accessible(tab)
    navigate(tab, "form[action$='/start'] button")
    answered = []
    while True:
        assert_accessible(tab)
        prompt = tab.inner_text(".prompt")
        if COURSE["single"]["kk"] in prompt:
            tab.get_by_label(COURSE["options"][0]["kk"], exact=True).check()
            answered.append("single")
        else:
            assert COURSE["true_false"]["kk"] in prompt
            tab.check("input[name=answer][value=false]")
            answered.append("true_false")
        navigate(tab, "button[value=check]")
        assert tab.locator("section.review.right").count() == 1, tab.inner_text("main")
        if tab.locator("button[value=finish]").count():
            navigate(tab, "button[value=finish]")
            break
        navigate(tab, "button[value=next]")
    assert sorted(answered) == ["single", "true_false"]
    assert_accessible(tab)
    navigate(tab, "form[action$='/submit'] button")
    assert "100" in tab.inner_text(".result .big")
    assert tab.locator(".result.passed").count() == 1
    assert_accessible(tab)
    tab.goto(live_server.url + f"/learn/courses/{slug}")
    assert tab.locator("#course-progress").get_attribute("value") == "100"
    assert tab.locator("p.notice").count() == 1  # "you completed this course on ..."
    assert_accessible(tab)
    tab.goto(live_server.url + "/")
    done = tab.locator("li.course-card", has=tab.locator(f"a[href='/learn/courses/{slug}']"))
    assert done.locator(".badge-done").count() == 1
    assert done.locator("a[href$='.pdf']").count() == 1  # the certificate
    learner.close()

    # Back on the trainer's side: the cohort's progress grid shows the completion.
    page.goto(cohort_url + "/progress")
    assert page.locator("td.state-completed").count() == 1
    assert trainee in page.inner_text("table.grid tbody")
    assert_accessible(page)
    context.close()
