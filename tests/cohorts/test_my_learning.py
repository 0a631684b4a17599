"""Assigned courses on the trainee's home page: first, with their due date, overdue ones highlighted."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import format_date

from tests.cohorts.conftest import import_mini
from tests.cohorts.kit import TODAY, complete_course, make_cohort
from tests.learn.test_pages import IGNORED


def sections(page: str) -> dict[str, list[str]]:
    """Course titles under each ``<h2>`` of My learning, in order."""
    result: dict[str, list[str]] = {}
    current = ""
    for heading, title in re.findall(r"<h2>([^<]*)</h2>|<h[23]><a href=\"/learn/courses/[^\"]+\">([^<]*)</a>", page):
        if heading:
            current = heading
            result[current] = []
        else:
            result.setdefault(current, []).append(title)
    return result


def card_of(page: str, title: str) -> str:
    match = re.search(r'<li class="([^"]*)">\s*<h[23]><a href="[^"]+">' + re.escape(title) + r"</a>(.*?)</li>",
                      page, re.S)
    assert match, title
    return match.group(1) + " " + match.group(2)


def en_date(app, day) -> str:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        return format_date(day, "medium")


def test_assigned_courses_come_first_with_their_due_dates(app, client, auth, db, tmp_path, create_user):
    courses = {slug: import_mini(app, db, tmp_path / "src", slug) for slug in ("a-open", "b-later", "c-soon")}
    trainee = auth.login_as("trainee")
    trainer = create_user("trainer")
    soon, later = TODAY + timedelta(days=3), TODAY + timedelta(days=40)
    make_cohort(db, trainer.id, members=[trainee.id], courses=[(courses["b-later"].course_id, later)])
    # A second cohort assigns another course sooner, and the same course with an even later date.
    make_cohort(db, trainer.id, name="Second", members=[trainee.id],
                courses=[(courses["c-soon"].course_id, soon),
                         (courses["b-later"].course_id, later + timedelta(days=9))])
    page = client.get("/learn/").get_data(as_text=True)
    found = sections(page)
    assert found["Assigned to you"] == ["Mini course c-soon", "Mini course b-later"]
    assert found["Other courses"] == ["Mini course a-open"]
    assert f"Due {en_date(app, soon)}" in card_of(page, "Mini course c-soon")
    assert f"Due {en_date(app, later)}" in card_of(page, "Mini course b-later")  # the earliest of the two dates
    assert "overdue" not in card_of(page, "Mini course c-soon")
    # The trainee's home page is My learning.
    assert sections(client.get("/").get_data(as_text=True)) == found


def test_an_overdue_course_is_highlighted_and_a_completed_one_is_not(app, client, auth, db, tmp_path, create_user):
    late = import_mini(app, db, tmp_path / "src", "late-course")
    done = import_mini(app, db, tmp_path / "src", "done-course")
    trainee = auth.login_as("trainee")
    yesterday = TODAY - timedelta(days=1)
    make_cohort(db, create_user("trainer").id, members=[trainee.id],
                courses=[(late.course_id, yesterday), (done.course_id, yesterday), ])
    complete_course(db, trainee.id, done.version_id, done.course_id, score=90)
    page = client.get("/learn/").get_data(as_text=True)
    card = card_of(page, "Mini course late-course")
    assert "overdue" in card.split()[0:3] and "badge-overdue" in card and "Overdue" in card
    assert f"Due {en_date(app, yesterday)}" in card
    found = sections(page)
    assert found["Assigned to you"] == ["Mini course late-course"]
    assert found["Completed courses"] == ["Mini course done-course"]
    assert "Overdue" not in page.split("Completed courses", 1)[1]


def test_due_today_is_not_yet_overdue(app, client, auth, db, tmp_path, create_user):
    course = import_mini(app, db, tmp_path / "src")
    trainee = auth.login_as("trainee")
    make_cohort(db, create_user("trainer").id, members=[trainee.id], courses=[(course.course_id, TODAY)])
    card = card_of(client.get("/learn/").get_data(as_text=True), "Mini course mini-course")
    assert "Overdue" not in card and f"Due {en_date(app, TODAY)}" in card


def test_without_assignments_the_page_is_unchanged(app, client, auth, db, tmp_path, create_user):
    """No cohort, a cohort without courses, or an archived cohort: no "Assigned" or "Other" sections."""
    course = import_mini(app, db, tmp_path / "src")
    trainee = auth.login_as("trainee")
    trainer = create_user("trainer")
    make_cohort(db, trainer.id, members=[trainee.id])
    make_cohort(db, trainer.id, members=[trainee.id], courses=[(course.course_id, TODAY)], archived=True)
    page = client.get("/learn/").get_data(as_text=True)
    assert "Assigned to you" not in page and "Other courses" not in page and "Due " not in page
    assert "Mini course mini-course" in page


def test_courses_of_other_cohorts_are_not_shown_as_assigned(app, client, auth, db, tmp_path, create_user):
    course = import_mini(app, db, tmp_path / "src")
    auth.login_as("trainee")
    someone = create_user("trainee")
    make_cohort(db, create_user("trainer").id, members=[someone.id], courses=[(course.course_id, TODAY)])
    assert "Assigned to you" not in client.get("/learn/").get_data(as_text=True)


def test_my_learning_query_count_does_not_depend_on_cohorts(app, client, auth, db, tmp_path, create_user,
                                                                   count_queries):
    courses = [import_mini(app, db, tmp_path / "src", f"course-{n}") for n in range(4)]
    trainee = auth.login_as("trainee")
    trainer = create_user("trainer")

    def statements() -> int:
        client.get("/learn/")
        count_queries().clear()
        assert client.get("/learn/").status_code == 200
        return len([s for s in count_queries() if not IGNORED.match(s)])

    none = statements()
    make_cohort(db, trainer.id, members=[trainee.id], courses=[(courses[0].course_id, TODAY)])
    one = statements()
    for n in range(1, 4):
        make_cohort(db, trainer.id, name=f"c{n}", members=[trainee.id],
                    courses=[(c.course_id, TODAY + timedelta(days=n)) for c in courses[: n + 1]])
    many = statements()
    assert none == one == many
