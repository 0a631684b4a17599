"""Publishing: validation blocks it, versions are numbered automatically, published versions never change."""

from __future__ import annotations

import html
import uuid
from pathlib import Path

from sqlalchemy import func, select

from cbt.audit.models import AuditEvent
from cbt.author.models import Draft
from cbt.content import load_course
from cbt.courses.models import Course, CourseVersion, QuestionVersion, Quiz
from tests.author.conftest import folder_of
from tests.author.kit import Browser, draft_url
from tests.conftest import Auth, csrf_token


def start_draft(browser: Browser, slug: str, version: int = 1) -> str:
    response = browser.post(f"/author/courses/{slug}/draft", {"version": str(version)},
                            form_page=f"/author/courses/{slug}")  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    return draft_url(response)


def test_publishing_is_blocked_by_errors_which_are_listed(app, browser, trainer, new_course, db):
    draft = new_course("no-modules-yet")
    response = browser.post(f"{draft}/publish", {"changelog": "Try.", "action": "publish"}, form_page=draft,
                            follow=True)  # fmt: skip
    page = html.unescape(response.get_data(as_text=True))
    assert "The course was not published. Fix these problems first:" in page
    assert "modules: needs at least 1 items" in page
    assert db.scalar(select(func.count(CourseVersion.id))) == 0
    assert db.scalar(select(Draft.changelog)) == "Try."  # kept for the next try


def test_publishing_an_imported_draft_with_errors_lists_every_error(app, browser, trainer, new_course, db):
    draft = new_course("broken-course")
    folder = folder_of(app, draft)
    # A draft can hold errors the forms would refuse (an imported zip, a file edited elsewhere).
    (folder / "01-m").mkdir()
    (folder / "01-m" / "module.yaml").write_text("title: {en: M}\nlessons: [01-missing]\n", encoding="utf-8")
    text = (folder / "course.yaml").read_text(encoding="utf-8").replace("modules: []", "modules: [01-m]")
    (folder / "course.yaml").write_text(text + "estimated_hours: 3\n", encoding="utf-8")
    overview = html.unescape(browser.page(draft))  # validates afresh, whatever the draft's row remembered
    assert "2 problems to fix before publishing" in overview and "unknown field estimated_hours" in overview
    assert db.scalar(select(Draft.error_count)) == 2
    response = browser.post(f"{draft}/publish", {"action": "publish"}, form_page=draft, follow=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "unknown field estimated_hours" in page
    assert "lesson 01-missing has no file in the source locale: 01-missing.en.md" in page
    assert db.scalar(select(func.count(CourseVersion.id))) == 0


def test_publishing_creates_the_next_version_and_closes_the_draft(app, client, auth, browser, published, db):
    published()
    admin = auth.login_as("admin")
    draft = start_draft(browser, "tiny-course")
    assert "Draft of version 2, started from version 1." in browser.page(draft)
    lesson = f"{draft}/modules/01-intro/lessons/01-welcome/en"
    assert browser.post(lesson, {"title": "Welcome", "minutes": "6", "body": "The border is a line we guard.",
                                 "action": "save"}).status_code == 302  # fmt: skip
    response = browser.post(f"{draft}/publish", {"changelog": "Longer welcome.", "action": "publish"},
                            form_page=draft)  # fmt: skip
    assert response.status_code == 302
    versions = db.scalars(select(CourseVersion).order_by(CourseVersion.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].changelog == "Longer welcome." and versions[1].created_by_id == admin.id
    assert db.scalar(select(func.count(Draft.id))) == 0
    assert not (Path(app.instance_path) / "drafts" / draft.rsplit("/", 1)[1]).exists()
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)))
    assert {"draft.create", "draft.change", "course.publish", "course.import"} <= actions
    assert "Longer welcome." in browser.page("/author/courses/tiny-course")


def test_a_draft_is_numbered_above_every_version_even_when_started_from_an_old_one(app, auth, browser,
                                                                                    published, db):  # fmt: skip
    published()
    auth.login_as("admin")
    first = start_draft(browser, "tiny-course")
    browser.post(f"{first}/modules/01-intro/lessons/01-welcome/en",
                 {"title": "Welcome", "minutes": "5", "body": "Version two.", "action": "save"})  # fmt: skip
    browser.post(f"{first}/publish", {"action": "publish"}, form_page=first)
    second = start_draft(browser, "tiny-course", version=1)
    course, problems = load_course(folder_of(app, second))
    assert course is not None and course.version == 3, problems
    browser.post(f"{second}/modules/01-intro/lessons/01-welcome/en",
                 {"title": "Welcome", "minutes": "5", "body": "Back to basics.", "action": "save"})  # fmt: skip
    assert browser.post(f"{second}/publish", {"action": "publish"}, form_page=second).status_code == 302
    assert db.scalars(select(CourseVersion.version).order_by(CourseVersion.version)).all() == [1, 2, 3]


def test_publishing_an_unchanged_draft_is_refused(app, auth, browser, published, db):
    published()
    auth.login_as("admin")
    draft = start_draft(browser, "tiny-course")
    response = browser.post(f"{draft}/publish", {"action": "publish"}, form_page=draft, follow=True)
    assert "nothing has changed since version 1" in response.get_data(as_text=True)
    assert db.scalar(select(func.count(CourseVersion.id))) == 1


def test_only_one_draft_per_course(app, auth, browser, published, db):
    published()
    auth.login_as("admin")
    draft = start_draft(browser, "tiny-course")
    response = browser.post("/author/courses/tiny-course/draft", {"version": "1"},
                            form_page="/author/courses/tiny-course")  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == draft
    assert db.scalar(select(func.count(Draft.id))) == 1


def test_an_attempt_on_version_1_keeps_its_questions_after_version_2(app, client, auth, published, db):
    """Version immutability: the trainee's running attempt shows v1's question after v2 is published."""
    published()
    auth.login_as("trainee")
    quiz_id = db.scalar(select(Quiz.id))
    token = csrf_token(client, f"/quiz/{quiz_id}")
    attempt = client.post(f"/quiz/{quiz_id}/start", data={"csrf_token": token}).headers["Location"]
    assert "Which document?" in client.get(attempt).get_data(as_text=True)

    author_client = app.test_client()
    Auth(author_client, auth.create_user).login_as("admin")
    writer = Browser(author_client)
    draft = start_draft(writer, "tiny-course")
    response = writer.post(f"{draft}/modules/01-intro/questions/t-q1", {
        "prompt.en": "Which paper proves identity?", "prompt.ru": "Какая бумага?", "prompt.kk": "Қай қағаз?",
        "options[0].id": "a", "options[0].text.en": "Passport", "options[1].id": "b",
        "options[1].text.en": "Ticket", "answer": "0", "action": "save",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert writer.post(f"{draft}/publish", {"action": "publish"}, form_page=draft).status_code == 302

    page = client.get(attempt).get_data(as_text=True)
    assert "Which document?" in page and "Which paper proves identity?" not in page
    db.rollback()
    rows = db.execute(select(CourseVersion.version, QuestionVersion.prompt)
                      .join(QuestionVersion, QuestionVersion.course_version_id == CourseVersion.id)).all()
    prompts = {number: prompt for number, prompt in rows}
    assert prompts[1]["en"] == "Which document?" and prompts[2]["en"] == "Which paper proves identity?"


def test_discarding_a_draft_deletes_its_files(app, auth, browser, published, db):
    published()
    auth.login_as("admin")
    draft = start_draft(browser, "tiny-course")
    folder = folder_of(app, draft)
    response = browser.post(f"{draft}/discard", {}, form_page=draft, follow=True)
    assert "Tick the box to confirm" in response.get_data(as_text=True) and folder.exists()
    response = browser.post(f"{draft}/discard", {"confirm": "1"}, form_page=draft)
    assert response.status_code == 302 and response.headers["Location"] == "/author/courses/tiny-course"
    assert not folder.exists()
    assert db.scalar(select(func.count(Draft.id))) == 0
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.action == "draft.discard")) == "draft.discard"
    assert db.scalar(select(func.count(Course.id))) == 1


def test_the_change_log_is_saved_with_the_draft(auth, browser, published, db):
    published()
    auth.login_as("admin")
    draft = start_draft(browser, "tiny-course")
    browser.post(f"{draft}/publish", {"changelog": "Fixed typos.", "action": "save"}, form_page=draft)
    assert db.scalar(select(Draft.changelog).where(Draft.uuid == uuid.UUID(draft.rsplit("/", 1)[1]))) == \
        "Fixed typos."
    assert "Fixed typos." in browser.page(draft)
