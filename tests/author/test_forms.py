"""Every authoring form refuses invalid input with a clear message and saves nothing.

"Nothing saved" is checked on disk (every file of the draft byte for byte) and in the database (the draft's
revision did not move), so a form that wrote half a change would fail here.
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from cbt.author.models import Draft
from tests.author.conftest import folder_of, snapshot
from tests.author.kit import SVG


def revision(db, draft_url: str) -> int:
    db.rollback()
    return db.scalar(select(Draft.revision).where(Draft.uuid == __import__("uuid").UUID(draft_url.rsplit("/", 1)[1])))


def refused(browser, app, db, draft, url, data, message, *, form_page=None, status=200):
    """Post ``data``; the page must say ``message`` and the draft must be exactly as before."""
    folder = folder_of(app, draft)
    before, before_revision = snapshot(folder), revision(db, draft)
    response = browser.post(url, data, form_page=form_page, follow=status == 302 or form_page is not None)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert message in page, page[page.find('class="problems'):][:2000] if 'class="problems' in page else page[-3000:]
    assert snapshot(folder) == before
    assert revision(db, draft) == before_revision
    return page


# -- new course ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "message"), [
    ({"id": "Border Basics"}, "invalid id Border Basics: use lowercase letters, digits and hyphens"),
    ({"title.en": "", "title.ru": "Основы"}, "missing the source locale en"),
    ({"estimated_minutes": "half an hour"}, "must be a whole number, not text"),
    ({"source_locale": "de"}, "must be one of kk, ru, en, not de"),
])  # fmt: skip
def test_new_course_form_refuses_invalid_input(browser, trainer, db, fields, message):
    data = {"id": "border-basics", "source_locale": "en", "title.en": "Border basics",
            "description.en": "A course.", "estimated_minutes": "30", **fields}
    response = browser.post("/author/new", data)
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.scalar(select(func.count(Draft.id))) == 0


def test_new_course_refuses_an_id_already_taken(browser, trainer, published, db):
    published("tiny-course")
    response = browser.post("/author/new", {"id": "tiny-course", "source_locale": "en", "title.en": "T",
                                            "description.en": "D", "estimated_minutes": "5"})  # fmt: skip
    assert "a course with the id tiny-course already exists" in response.get_data(as_text=True)
    assert db.scalar(select(func.count(Draft.id))) == 0


# -- course settings, modules, lessons ------------------------------------------------------------------------


SETTINGS = {"source_locale": "en", "title.en": "Border basics", "description.en": "A course.",
            "estimated_minutes": "30", "completion.lessons": "all", "completion.quizzes": "passed",
            "completion.exam": "none"}  # fmt: skip


@pytest.mark.parametrize(("fields", "message"), [
    ({"estimated_minutes": "0"}, "must be at least 1"),
    ({"completion.exam": "passed"}, 'completion.exam is "passed" but the course has no exam.yaml'),
    ({"description.en": ""}, "missing required field description"),
])  # fmt: skip
def test_settings_form_refuses_invalid_input(app, browser, trainer, db, course_with_module, fields, message):
    draft = course_with_module
    refused(browser, app, db, draft, f"{draft}/settings", {**SETTINGS, **fields}, message)


def test_module_form_refuses_a_missing_source_title(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    refused(browser, app, db, draft, f"{draft}/modules/01-documents",
            {"title.en": "", "title.ru": "Документы"}, "missing the source locale en")  # fmt: skip


def test_add_module_refuses_a_bad_folder_name(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    refused(browser, app, db, draft, f"{draft}/modules", {"title.en": "Seals", "id": "Seals and locks"},
            "Choose another id for the module", form_page=draft)  # fmt: skip


def test_add_lesson_refuses_a_name_already_used(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    module = f"{draft}/modules/01-documents"
    refused(browser, app, db, draft, f"{module}/lessons", {"title": "Again", "id": "01-introduction"},
            "Choose another id for the lesson", form_page=module)  # fmt: skip


@pytest.mark.parametrize(("fields", "message"), [
    ({"minutes": "ten"}, "must be a whole number, not text"),
    ({"title": ""}, "missing required field title"),
    ({"body": "Look:\n\n![seal](../media/seal.png)\n"}, "line 7: media file media/seal.png does not exist"),
    ({"body": "[click](javascript:alert(1))"}, "link javascript:alert(1) is not allowed"),
])  # fmt: skip
def test_lesson_form_refuses_invalid_input(app, browser, trainer, db, course_with_module, fields, message):
    draft = course_with_module
    url = f"{draft}/modules/01-documents/lessons/01-introduction/en"
    page = refused(browser, app, db, draft, url,
                   {"title": "Introduction", "minutes": "5", "body": "Text.", "action": "save", **fields}, message)
    # What the trainer typed comes back, so nothing is lost.
    for value in fields.values():
        assert html.escape(value, quote=False) in page or value in html.unescape(page)


def test_lesson_preview_renders_without_saving(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    url = f"{draft}/modules/01-documents/lessons/01-introduction/en"
    folder = folder_of(app, draft)
    before = snapshot(folder)
    response = browser.post(url, {"title": "Introduction", "minutes": "5", "action": "preview",
                                  "body": "A **bold** claim.\n\n<script>alert(1)</script>"})  # fmt: skip
    page = response.get_data(as_text=True)
    assert "Preview (not saved)" in page and "<strong>bold</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert snapshot(folder) == before


def test_a_form_opened_before_another_change_saves_nothing(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    url = f"{draft}/modules/01-documents/lessons/01-introduction/en"
    stale = browser.hidden(url)
    assert browser.post(url, {"title": "Introduction", "minutes": "5", "body": "First.", "action": "save"}
                        ).status_code == 302  # fmt: skip
    folder = folder_of(app, draft)
    before = snapshot(folder)
    response = browser.client.post(url, data={**stale, "title": "Introduction", "minutes": "5",
                                              "body": "Second.", "action": "save"})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "after you opened this page, so nothing was saved" in html.unescape(page)
    assert "Second." in page  # the trainer's text is not lost
    assert snapshot(folder) == before


# -- questions ----------------------------------------------------------------------------------------------

INVALID_QUESTIONS = {
    "single": ({"options[0].text.en": "TIR carnet", "options[1].text.en": "Ticket"},
               "missing required field answer"),
    "multiple": ({"options[0].text.en": "Seal", "options[1].text.en": "Stamp"}, "needs at least 1 items"),
    "true_false": ({}, "missing required field answer"),
    "short_text": ({"answer.ru": ""}, "missing required field answer"),
    "numeric": ({"answer": "forty"}, "must be a number, not text"),
    "matching": ({"pairs[0].left.en": "CMR", "pairs[0].right.en": "Road"}, "needs at least 2 items"),
    "ordering": ({"items[0].text.en": "Stop", "items[1].text.en": "Check"}, "needs at least 3 items"),
    "hotspot": ({"image": "../media/truck.svg", "alt.en": "A truck", "regions[0].label.en": "Tank",
                 "regions[0].coords": "350, 150, 100, 100", "regions[0].correct": "1",
                 "regions[1].label.en": "Cab", "regions[1].coords": "0, 0, 50, 50"},
                "region r1 lies outside the image (400 x 200)"),
    "scenario": ({"start": "s1", "steps[0].id": "s1", "steps[0].text.en": "A lorry arrives.",
                  "steps[0].choices[0].text.en": "Release it", "steps[0].choices[0].points": "1",
                  "steps[1].id": "s2", "steps[1].text.en": "Never reached.",
                  "steps[1].choices[0].text.en": "End"}, "step s2 cannot be reached from start s1"),
}


@pytest.mark.parametrize("qtype", list(INVALID_QUESTIONS))
def test_question_form_of_every_type_refuses_invalid_input(app, browser, trainer, db, course_with_module, qtype):
    draft = course_with_module
    if qtype == "hotspot":
        response = browser.post(f"{draft}/media", {"file": (__import__("io").BytesIO(SVG), "truck.svg")},
                                content_type="multipart/form-data")  # fmt: skip
        assert response.status_code == 302
    fields, message = INVALID_QUESTIONS[qtype]
    url = f"{draft}/modules/01-documents/questions/new?type={qtype}"
    page = refused(browser, app, db, draft, url, {"id": "q-1", "prompt.en": "Question?", "action": "save", **fields},
                   message)  # fmt: skip
    assert 'class="errors"' in page


def test_a_question_error_is_shown_next_to_its_field(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    url = f"{draft}/modules/01-documents/questions/new?type=numeric"
    page = refused(browser, app, db, draft, url, {"prompt.en": "Litres?", "answer": "40", "tolerance": "-1",
                                                  "action": "save"}, "must be at least 0")  # fmt: skip
    field = page.split('id="f-tolerance"', 1)[1].split("</div>", 1)[0]
    assert "must be at least 0" in field
    assert 'value="-1"' in page.split('id="f-tolerance"', 1)[0][-200:] + page.split('id="f-tolerance"', 1)[1][:100]


def test_a_question_error_is_in_the_trainers_language(app, browser, trainer, db, course_with_module, client):
    from tests.conftest import csrf_token

    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "ru", "next": "/"})
    draft = course_with_module
    url = f"{draft}/modules/01-documents/questions/new?type=numeric"
    page = refused(browser, app, db, draft, url, {"prompt.en": "Litres?", "answer": "forty", "action": "save"},
                   "Ничего не сохранено")  # fmt: skip
    assert "must be a number" not in page


def test_adding_rows_re_renders_the_form_without_saving(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    url = f"{draft}/modules/01-documents/questions/new?type=single"
    folder = folder_of(app, draft)
    before = snapshot(folder)
    page = browser.post(url, {"prompt.en": "Which?", "options[0].text.en": "Kept", "_blanks.options": "4",
                              "action": "add:options"}).get_data(as_text=True)  # fmt: skip
    assert 'value="Kept"' in page
    assert 'name="options[5].text.en"' in page  # one filled row, then 4 + 1 empty ones
    assert snapshot(folder) == before


def test_editing_a_question_replaces_it_in_place(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    base = f"{draft}/modules/01-documents/questions"
    for qid, text in (("q-a", "First?"), ("q-b", "Second?")):
        response = browser.post(f"{base}/new?type=true_false", {"id": qid, "prompt.en": text, "answer": "true",
                                                                "action": "save"})  # fmt: skip
        assert response.status_code == 302
    response = browser.post(f"{base}/q-a", {"prompt.en": "First, edited?", "answer": "false", "action": "save"})
    assert response.status_code == 302
    bank = (folder_of(app, draft) / "01-documents" / "questions.yaml").read_text(encoding="utf-8")
    assert bank.index("First, edited?") < bank.index("Second?")
    assert "answer: false" in bank and "First?" not in bank


# -- quizzes and translation ---------------------------------------------------------------------------------


def add_question(browser, draft, qid="q-1"):
    response = browser.post(f"{draft}/modules/01-documents/questions/new?type=true_false",
                            {"id": qid, "prompt.en": "Sealed?", "answer": "true", "action": "save"})  # fmt: skip
    assert response.status_code == 302


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "exam", "pass_mark": "70"}, "missing required field time_limit_minutes"),
    ({"mode": "draw", "draw[0].module": "01-documents", "draw[0].count": "5"}, "asks for 5 questions but only 1 match"),
    ({"pass_mark": "120"}, "must be at most 100"),
    ({"mode": "pick"}, "needs at least 1 items"),
])  # fmt: skip
def test_quiz_builder_refuses_invalid_input(app, browser, trainer, db, course_with_module, fields, message):
    draft = course_with_module
    add_question(browser, draft)
    data = {"kind": "practice", "mode": "all", "shuffle_questions": "1", "action": "save", **fields}
    refused(browser, app, db, draft, f"{draft}/modules/01-documents/quiz", data, message)


def test_removing_a_question_a_quiz_needs_is_refused(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    add_question(browser, draft)
    assert browser.post(f"{draft}/modules/01-documents/quiz", {"kind": "practice", "mode": "all",
                                                                "action": "save"}).status_code == 302  # fmt: skip
    module = f"{draft}/modules/01-documents"
    refused(browser, app, db, draft, f"{module}/questions/q-1/remove", {"confirm": "1"},
            "the quiz has no questions: the question bank is empty", form_page=module)  # fmt: skip


def test_final_exam_builder_refuses_invalid_input(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    add_question(browser, draft)
    refused(browser, app, db, draft, f"{draft}/exam", {"kind": "exam", "mode": "all", "time_limit_minutes": "30",
                                                       "action": "save"}, "missing required field pass_mark")


def test_translation_form_refuses_to_empty_the_source_text(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    refused(browser, app, db, draft, f"{draft}/translate/en/modules/01-documents", {"title.en": ""},
            "missing the source locale en")  # fmt: skip


def test_removing_the_only_module_keeps_the_course_but_publishing_waits(app, browser, trainer, db,
                                                                          course_with_module):  # fmt: skip
    draft = course_with_module
    module = f"{draft}/modules/01-documents"
    page = refused(browser, app, db, draft, f"{module}/remove", {}, "Tick the box to confirm", form_page=module)
    assert "Remove the module" in page
    response = browser.post(f"{module}/remove", {"confirm": "1"}, form_page=module)
    assert response.status_code == 302
    assert not (folder_of(app, draft) / "01-documents").exists()
    assert "The course has no module yet" in browser.page(draft)


def test_removing_a_lesson_or_question_needs_confirmation(app, browser, trainer, db, course_with_module):
    draft = course_with_module
    add_question(browser, draft)
    module = f"{draft}/modules/01-documents"
    refused(browser, app, db, draft, f"{module}/lessons/01-introduction/remove", {},
            "Tick “confirm” beside the button to remove the lesson", form_page=module)  # fmt: skip
    refused(browser, app, db, draft, f"{module}/questions/q-1/remove", {},
            "Tick “confirm” beside the button to remove the question", form_page=module)  # fmt: skip
