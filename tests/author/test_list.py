"""The trainer's course list: own and granted courses, state, latest version, translation, last change."""

from __future__ import annotations

import html
import re

from tests.author.test_publish import start_draft


def row(page: str, slug: str) -> str:
    """The table row of one course, as text."""
    pattern = rf'<tr>\s*<th scope="row">(?:(?!</tr>).)*<code class="muted">{slug}</code>(?:(?!</tr>).)*</tr>'
    match = re.search(pattern, page, re.S)
    assert match, slug
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(0))).split())


def test_a_trainer_lists_own_and_granted_courses_with_their_state(app, auth, browser, trainer, new_course,
                                                                  published, db):  # fmt: skip
    from cbt.author import services
    from cbt.db import session, writing

    published("tiny-course")
    published("other-course")
    new_course("border-basics")
    with app.app_context(), writing():
        services.add_grant("tiny-course", trainer.id, None)
        session.commit()
    page = browser.page("/author/")
    assert "other-course" not in page
    mine = row(page, "border-basics")
    assert "Draft" in mine and "Published" not in mine and "1 error" in mine
    # Title in three languages, description in English only: half of it translated.
    assert "Қазақша : 50%" in mine and "Русский : 50%" in mine and "English : 100%" in mine
    granted = row(page, "tiny-course")
    assert "Published" in granted and "Draft" not in granted
    # 9 localized fields, the Kazakh one lesson file missing: 8 of 9 (rounded down).
    assert "Қазақша : 88%" in granted and "Русский : 100%" in granted

    start_draft(browser, "tiny-course")
    assert "Draft" in row(browser.page("/author/"), "tiny-course")


def test_administrators_list_every_course(auth, browser, published, new_course):
    published("tiny-course")
    auth.login_as("admin")
    new_course("admin-course")
    page = browser.page("/author/")
    assert "tiny-course" in page and "admin-course" in page


def test_the_course_list_runs_a_constant_number_of_queries(app, auth, browser, published, count_queries):
    published("course-a")
    auth.login_as("admin")
    browser.page("/author/")
    count_queries().clear()
    browser.page("/author/")
    few = len(count_queries())
    for name in ("course-b", "course-c", "course-d"):
        published(name)
    start_draft(browser, "course-b")
    start_draft(browser, "course-c")
    count_queries().clear()
    page = browser.page("/author/")
    assert page.count('<th scope="row">') == 4
    assert len(count_queries()) == few
