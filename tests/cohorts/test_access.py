"""Object-level access: a trainer sees and changes only their own cohorts and their members' attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
from tests.cohorts.kit import TODAY, add_attempt, make_cohort, questions_by_slug
from tests.conftest import Auth, csrf_token


@pytest.fixture
def two_trainers(app, client, auth, db, create_user, course):
    """Trainer A runs a cohort with a trainee who has a finished attempt; trainer B is signed in."""
    trainer_a = create_user("trainer", full_name="Trainer A")
    trainee = create_user("trainee", full_name="Member Of A")
    outsider = create_user("trainee", full_name="Nobody's Member")
    questions = questions_by_slug(db, course.version_id)
    single = questions["m1-single"]
    attempt_id = add_attempt(db, user_id=trainee.id, quiz_id=course.quizzes[0], version_id=course.version_id,
                             percent=100, answers={single: ({"choice": "b"}, 1.0)})
    outsider_attempt = add_attempt(db, user_id=outsider.id, quiz_id=course.quizzes[0],
                                   version_id=course.version_id, percent=0, answers={single: ({"choice": "a"}, 0.0)})
    cohort_a = make_cohort(db, trainer_a.id, name="Cohort of A", members=[trainee.id],
                           courses=[(course.course_id, TODAY + timedelta(days=3))])
    trainer_b = auth.login_as("trainer")
    cohort_b = make_cohort(db, trainer_b.id, name="Cohort of B")
    return {"a": trainer_a, "b": trainer_b, "cohort_a": cohort_a, "cohort_b": cohort_b, "trainee": trainee,
            "attempt": attempt_id, "outsider": outsider, "outsider_attempt": outsider_attempt, "course": course}


def test_another_trainers_cohort_pages_are_not_found(client, two_trainers):
    w = two_trainers
    a = w["cohort_a"]
    for url in (f"/cohorts/{a}", f"/cohorts/{a}/edit", f"/cohorts/{a}/members/add", f"/cohorts/{a}/progress",
                f"/cohorts/{a}/members/{w['trainee'].id}", f"/cohorts/{a}/attempts/{w['attempt']}",
                f"/cohorts/statistics?cohort={a}",
                f"/cohorts/statistics/quizzes/{w['course'].quizzes[0]}?cohort={a}",
                f"/cohorts/statistics/quizzes/{w['course'].quizzes[0]}/export.csv?cohort={a}"):
        assert client.get(url).status_code == 404, url
    listing = client.get("/cohorts/").get_data(as_text=True)
    assert "Cohort of B" in listing and "Cohort of A" not in listing


def test_another_trainers_cohort_cannot_be_changed(client, db, two_trainers, create_user):
    w = two_trainers
    a = w["cohort_a"]
    newcomer = create_user("trainee")
    token = csrf_token(client, "/cohorts/")
    posts = {
        f"/cohorts/{a}/edit": {"name": "Taken over", "site": "0"},
        f"/cohorts/{a}/members/add": {"user": str(newcomer.id)},
        f"/cohorts/{a}/members/paste": {"identifiers": newcomer.username},
        f"/cohorts/{a}/members/{w['trainee'].id}/remove": {},
        f"/cohorts/{a}/courses": {"course": str(w["course"].course_id), "due_date": ""},
        f"/cohorts/{a}/courses/{w['course'].course_id}/remove": {},
    }
    for url, data in posts.items():
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    db.rollback()
    assert db.get(Cohort, a).name == "Cohort of A"
    assert db.scalar(select(func.count()).select_from(CohortMember).where(CohortMember.cohort_id == a)) == 1
    assert db.scalar(select(CohortCourse.due_date).where(CohortCourse.cohort_id == a)) == TODAY + timedelta(days=3)
    db.commit()


def test_a_trainer_sees_only_the_attempts_of_their_own_members(app, db, two_trainers, create_user):
    """Trainer A may open the member's attempt, but not an outsider's attempt through their own cohort."""
    w = two_trainers
    a = w["cohort_a"]
    client_a = app.test_client()
    Auth(client_a, create_user).login(w["a"].username)
    assert client_a.get(f"/cohorts/{a}/members/{w['trainee'].id}").status_code == 200
    page = client_a.get(f"/cohorts/{a}/attempts/{w['attempt']}")
    assert page.status_code == 200 and "Member Of A" in page.get_data(as_text=True)
    assert client_a.get(f"/cohorts/{a}/members/{w['outsider'].id}").status_code == 404
    assert client_a.get(f"/cohorts/{a}/attempts/{w['outsider_attempt']}").status_code == 404
    assert client_a.get(f"/cohorts/{a}/attempts/999999").status_code == 404
    # The same attempt through a cohort the member is not in (B's, owned by someone else) is not found either.
    assert client_a.get(f"/cohorts/{w['cohort_b']}/attempts/{w['attempt']}").status_code == 404


def test_statistics_of_a_trainer_cover_only_members_of_their_cohorts(app, client, db, two_trainers, create_user):
    w = two_trainers
    quiz = w["course"].quizzes[0]
    # B's cohorts have no members: nothing to show, even though two attempts exist.
    assert "No finished attempts yet." in client.get(f"/cohorts/statistics/quizzes/{quiz}").get_data(as_text=True)
    client_a = app.test_client()
    Auth(client_a, create_user).login(w["a"].username)
    page = client_a.get(f"/cohorts/statistics/quizzes/{quiz}").get_data(as_text=True)
    assert "1 finished attempt" in page  # the member's; not the outsider's
    admin = app.test_client()
    Auth(admin, create_user).login(create_user("admin").username)
    assert "2 finished attempts" in admin.get(f"/cohorts/statistics/quizzes/{quiz}").get_data(as_text=True)


def test_an_admin_sees_and_manages_every_cohort(app, db, two_trainers, create_user):
    w = two_trainers
    admin = app.test_client()
    Auth(admin, create_user).login(create_user("admin").username)
    listing = admin.get("/cohorts/").get_data(as_text=True)
    assert "Cohort of A" in listing and "Cohort of B" in listing
    for url in (f"/cohorts/{w['cohort_a']}", f"/cohorts/{w['cohort_a']}/progress",
                f"/cohorts/{w['cohort_a']}/attempts/{w['attempt']}"):
        assert admin.get(url).status_code == 200, url


def test_trainees_cannot_open_cohort_pages(client, auth, db, two_trainers):
    w = two_trainers
    auth.logout()
    auth.login(w["trainee"].username)
    assert client.get("/cohorts/").status_code == 403
    assert client.get(f"/cohorts/{w['cohort_a']}").status_code == 403
    assert "Cohorts" not in client.get("/").get_data(as_text=True).split("<main", 1)[0]


def test_trainers_and_admins_find_cohorts_in_the_menu_and_on_the_trainer_home(client, auth):
    auth.login_as("trainer")
    page = client.get("/").get_data(as_text=True)
    nav, main = page.split('<main', 1)
    assert 'href="/cohorts/"' in nav and ">Cohorts</a>" in nav
    assert 'href="/cohorts/"' in main and 'href="/cohorts/statistics"' in main
    auth.logout()
    auth.login_as("admin")
    nav = client.get("/").get_data(as_text=True).split("<main", 1)[0]
    assert 'href="/cohorts/"' in nav
