"""Who may author what: creators and granted trainers, administrators everywhere, trainees nowhere."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cbt.audit.models import AuditEvent
from cbt.author.models import CourseGrant
from tests.author.conftest import folder_of, snapshot
from tests.author.kit import Browser
from tests.conftest import Auth, csrf_token


def second_user(app, auth, role: str, **fields):
    client = app.test_client()
    user = Auth(client, auth.create_user).login_as(role, **fields)
    return user, Browser(client)


def test_a_trainer_cannot_open_or_change_another_trainers_course(app, auth, browser, trainer,
                                                                  course_with_module):  # fmt: skip
    draft = course_with_module
    folder = folder_of(app, draft)
    before = snapshot(folder)
    _other, intruder = second_user(app, auth, "trainer")
    assert "border-basics" not in intruder.page("/author/")
    module = f"{draft}/modules/01-documents"
    for url in (draft, f"{draft}/settings", module, f"{module}/lessons/01-introduction/en", f"{draft}/media",
                f"{draft}/gaps/kk", f"{draft}/export", f"{draft}/preview/01-documents/01-introduction",
                f"{draft}/translate/kk/course", "/author/courses/border-basics"):  # fmt: skip
        assert intruder.client.get(url).status_code == 404, url
    token = csrf_token(intruder.client, "/author/")
    for url, data in ((f"{draft}/settings", {"estimated_minutes": "1"}),
                      (f"{module}/lessons/01-introduction/en", {"title": "Mine", "minutes": "1", "body": "x"}),
                      (f"{draft}/publish", {"action": "publish"}), (f"{draft}/discard", {"confirm": "1"}),
                      (f"{draft}/modules", {"title.en": "Extra"})):  # fmt: skip
        response = intruder.client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 404, url
    assert snapshot(folder) == before


def test_a_trainee_gets_403_everywhere_in_the_workspace(app, auth, browser, trainer, course_with_module, client):
    draft = course_with_module
    values = {"draft_uuid": draft.rsplit("/", 1)[1], "module_id": "01-documents", "lesson_id": "01-introduction",
              "locale": "kk", "slug": "border-basics", "question_id": "q-1", "name": "x.png", "number": "1"}
    _trainee, visitor = second_user(app, auth, "trainee")
    token = csrf_token(visitor.client, "/")
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/author"):
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = visitor.client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 403, (method, url)
            checked += 1
    assert checked >= 40


def test_administrators_grant_and_revoke_authoring(app, auth, browser, trainer, course_with_module, db):
    draft = course_with_module
    colleague, other = second_user(app, auth, "trainer", full_name="Марат Оспанов")
    admin, admin_browser = second_user(app, auth, "admin")
    assert admin_browser.client.get(draft).status_code == 200  # administrators author every course
    access = "/author/courses/border-basics/access"
    page = admin_browser.page(access)
    assert "Асқар Бекұлы" in page and "Марат Оспанов" in page  # the creator has access; the colleague may get it
    assert admin_browser.post(access, {"action": "grant", "user": str(colleague.id)}).status_code == 302
    assert other.client.get(draft).status_code == 200
    assert "border-basics" in other.page("/author/")
    grant_id = db.scalar(select(CourseGrant.id).where(CourseGrant.user_id == colleague.id))
    assert admin_browser.post(access, {"action": "revoke", "grant": str(grant_id)}).status_code == 302
    assert other.client.get(draft).status_code == 404
    db.rollback()
    events = db.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.details)
                        .where(AuditEvent.actor_id == admin.id, AuditEvent.action.like("course.%"))
                        .order_by(AuditEvent.id)).all()
    assert [(a, t) for a, t, _d in events] == [("course.grant", "course:border-basics"),
                                               ("course.revoke", "course:border-basics")]
    assert events[0][2] == {"user_id": colleague.id}


def test_trainers_do_not_manage_access(browser, trainer, course_with_module):
    assert browser.client.get("/author/courses/border-basics/access").status_code == 403


def test_every_change_is_recorded_in_the_audit_log(app, browser, trainer, course_with_module, db):
    draft = course_with_module
    url = f"{draft}/modules/01-documents/lessons/01-introduction/ru"
    assert browser.post(url, {"title": "Введение", "minutes": "5", "body": "Текст.", "action": "save"}
                        ).status_code == 302  # fmt: skip
    db.rollback()
    events = db.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.details)
                        .where(AuditEvent.actor_id == trainer.id, AuditEvent.action != "auth.sign_in")
                        .order_by(AuditEvent.id)).all()
    assert [e[0] for e in events] == ["course.grant", "course.create", "draft.change", "draft.change",
                                      "draft.change", "draft.change"]
    action, target, details = events[-1]
    assert target == "course:border-basics"
    assert details["change"] == "lesson.edit" and details["locale"] == "ru" and details["lesson"] == "01-introduction"


@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_the_menu_shows_courses_to_authors_only(client, auth, role):
    auth.login_as(role)
    assert '<a href="/author/"' in client.get("/learn/").get_data(as_text=True)
    auth.logout()
    auth.login_as("trainee")
    assert 'href="/author/"' not in client.get("/learn/").get_data(as_text=True)


def test_discarding_a_course_never_published_frees_its_id_without_old_access(app, auth, browser, trainer,
                                                                            new_course, db):  # fmt: skip
    draft = new_course("risk-101")
    browser.post(f"{draft}/discard", {"confirm": "1"}, form_page=draft)
    assert "risk-101" not in browser.page("/author/")
    db.rollback()
    assert db.scalar(select(CourseGrant.id).where(CourseGrant.course_slug == "risk-101")) is None
    _other, colleague = second_user(app, auth, "trainer")
    response = colleague.post("/author/new", {"id": "risk-101", "source_locale": "en", "title.en": "Risk",
                                              "description.en": "New.", "estimated_minutes": "10"})  # fmt: skip
    assert response.status_code == 302
    # The first trainer's old access does not reach the colleague's new course.
    assert browser.client.get(response.headers["Location"]).status_code == 404
