"""Preview as a trainee: the draft's lesson and questions as trainees will see them, with nothing recorded."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.quiz.models import Attempt, Response
from tests.author.kit import SVG, Browser
from tests.author.test_publish import start_draft

RECORDS = (Enrollment, LessonProgress, CourseCompletion, Attempt, Response)


def counts(db) -> dict[str, int]:
    db.rollback()
    return {model.__name__: db.scalar(select(func.count()).select_from(model)) for model in RECORDS}


@pytest.fixture
def draft(auth, browser, published) -> str:
    published()
    auth.login_as("admin")
    return start_draft(browser, "tiny-course")


def test_lesson_preview_looks_like_the_lesson_page_and_records_nothing(browser, draft, db):
    before = counts(db)
    page = browser.page(f"{draft}/preview/01-intro/01-welcome?locale=ru")
    assert "Preview as a trainee: nothing you do here is recorded." in page
    assert '<article class="lesson card" lang="ru">' in page and "Граница — это линия." in page
    assert "Lesson 1 of 2" in page
    fallback = browser.page(f"{draft}/preview/01-intro/02-only-russian?locale=kk")
    assert "This lesson is not yet available in Қазақша; it is shown in Русский." in html.unescape(fallback)
    assert counts(db) == before == dict.fromkeys(before, 0)


def test_question_preview_uses_the_quiz_inputs_and_grades_without_an_attempt(browser, draft, db):
    before = counts(db)
    url = f"{draft}/preview/01-intro/questions/t-q1"
    page = browser.page(url)
    assert "Which document?" in page
    assert page.count('type="radio" name="answer"') == 2  # the quiz's own answer inputs
    seed = re.search(r'name="seed" value="(\d+)"', page).group(1)
    labels = re.findall(r'value="(\d)"\s*>\s*<span>(\w+)</span>', page)
    passport = next(value for value, label in labels if label == "Passport")
    response = browser.post(url, {"seed": seed, "answer": passport, "action": "check"}, form_page=url)
    result = response.get_data(as_text=True)
    assert "Correct" in result and "(1 of 1 points)" in result and "The passport." in result
    assert counts(db) == before == dict.fromkeys(before, 0)


def test_scenario_preview_walks_the_steps(browser, draft, db):
    module = f"{draft}/modules/01-intro"
    response = browser.post(f"{module}/questions/new?type=scenario", {
        "id": "t-case", "prompt.en": "A lorry at night.", "start": "s1",
        "steps[0].id": "s1", "steps[0].text.en": "Papers look fine.",
        "steps[0].choices[0].text.en": "Look closer", "steps[0].choices[0].next": "s2",
        "steps[0].choices[0].points": "1",
        "steps[1].id": "s2", "steps[1].text.en": "A fresh weld.",
        "steps[1].choices[0].text.en": "Call the dog", "steps[1].choices[0].points": "2", "action": "save",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    url = f"{draft}/preview/01-intro/questions/t-case"
    page = browser.page(url)
    seed = re.search(r'name="seed" value="(\d+)"', page).group(1)
    step = browser.post(url, {"seed": seed, "path": "", "answer": "0", "action": "step"}, form_page=url)
    page = step.get_data(as_text=True)
    assert "A fresh weld." in page and 'name="path" value="c1"' in page
    done = browser.post(url, {"seed": seed, "path": "c1", "answer": "0", "action": "step"}, form_page=url)
    assert "(3 of 3 points)" in done.get_data(as_text=True)
    assert counts(db)["Attempt"] == 0


def test_hotspot_preview_shows_the_draft_image(app, browser, draft, db):
    response = browser.post(f"{draft}/media", {"file": (__import__("io").BytesIO(SVG), "yard.svg")},
                            content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302
    module = f"{draft}/modules/01-intro"
    response = browser.post(f"{module}/questions/new?type=hotspot", {
        "id": "t-spot", "prompt.en": "Where?", "image": "../media/yard.svg", "alt.en": "A yard",
        "regions[0].label.en": "Gate", "regions[0].coords": "10, 10, 50, 50", "regions[0].correct": "1",
        "regions[1].label.en": "Fence", "regions[1].shape": "circle", "regions[1].coords": "300, 100, 40",
        "action": "save",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    editor = browser.page(response.headers["Location"])
    assert '<rect x="10" y="10" width="50" height="50" class="correct"/>' in editor
    assert '<circle cx="300" cy="100" r="40" class="wrong"/>' in editor
    page = browser.page(f"{draft}/preview/01-intro/questions/t-spot")
    image = re.search(r'<img src="([^"]+)" alt="A yard"', page).group(1)
    assert image.endswith("/media/yard.svg") and 'data-box="0.0,0.0,400.0,200.0"' in page
    with browser.client.get(image) as served:
        assert served.status_code == 200 and served.mimetype == "image/svg+xml"
        assert "sandbox" in served.headers["Content-Security-Policy"]


def test_a_question_with_errors_cannot_be_previewed_and_says_why(app, browser, draft, db):
    from tests.author.conftest import folder_of

    folder = folder_of(app, draft)
    bank = folder / "01-intro" / "questions.yaml"
    bank.write_text(bank.read_text(encoding="utf-8").replace("answer: a", "answer: z"), encoding="utf-8")
    page = html.unescape(Browser(browser.client).page(f"{draft}/preview/01-intro/questions/t-q1"))
    assert "This question cannot be shown yet" in page
    assert "answer z is not one of the options (a, b)" in page
