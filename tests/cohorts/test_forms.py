"""Every cohort form over HTTP: valid input is saved, invalid input says why (translated) and saves nothing."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cbt.audit.models import AuditEvent
from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
from cbt.org.models import Agency, Country, Site
from tests.cohorts.kit import TODAY, make_cohort, post_form
from tests.conftest import csrf_token


def count(db, model, *where) -> int:
    db.rollback()
    value = db.scalar(select(func.count()).select_from(model).where(*where))
    db.commit()
    return value


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def switch_language(client, locale: str) -> None:
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": locale, "next": "/"})


# --- create / edit ---------------------------------------------------------------------------------------

def test_a_trainer_creates_a_cohort_of_their_own(client, auth, db):
    trainer = auth.login_as("trainer")
    response = post_form(client, "/cohorts/new", "/cohorts/new", {
        "name": "  Kordai March  ", "site": "0", "start_date": "2026-03-01", "end_date": "2026-03-31",
        "trainer": "999999",  # ignored: only administrators choose the trainer
    })
    assert response.status_code == 302
    db.rollback()
    cohort = db.scalars(select(Cohort)).one()
    assert (cohort.name, cohort.trainer_id, cohort.site_id) == ("Kordai March", trainer.id, None)
    assert (cohort.start_date, cohort.end_date, cohort.is_archived) == (date(2026, 3, 1), date(2026, 3, 31), False)
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.target == f"cohort:{cohort.id}")) == "cohort.create"
    db.commit()
    assert "Kordai March" in client.get("/cohorts/").get_data(as_text=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": ""}, "Enter a name for the cohort."),
    ({"name": "   "}, "Enter a name for the cohort."),
    ({"name": "x" * 121}, "The name can have at most 120 characters."),
    ({"start_date": "2026-04-10", "end_date": "2026-04-01"}, "The end date cannot be before the start date."),
    ({"start_date": "31.12.2026"}, "Enter the date as year-month-day, for example 2026-12-31."),
    ({"end_date": "1900-01-01"}, "Enter a date between 2000-01-01 and 2100-12-31."),
    ({"site": "424242"}, "Choose a site from the list."),
    ({"site": "abc"}, "Choose a site from the list."),
])
def test_invalid_cohort_forms_say_why_and_save_nothing(client, auth, db, fields, message):
    auth.login_as("trainer")
    data = {"name": "Saryagash", "site": "0", "start_date": "", "end_date": "", **fields}
    response = post_form(client, "/cohorts/new", "/cohorts/new", data)
    assert response.status_code == 200
    page = text_of(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert count(db, Cohort) == 0


def test_form_errors_are_translated(client, auth, db):
    auth.login_as("trainer")
    switch_language(client, "ru")
    response = post_form(client, "/cohorts/new", "/cohorts/new",
                         {"name": "", "site": "0", "start_date": "2026-02-30"})
    page = text_of(response)
    assert "Enter a name" not in page and "Введите название группы." in page
    assert "Введите дату в виде год-месяц-день, например 2026-12-31." in page
    assert count(db, Cohort) == 0


def test_an_admin_gives_a_cohort_to_a_trainer_but_not_to_a_trainee(client, auth, db, create_user):
    trainer = create_user("trainer", full_name="Trainer Two")
    trainee = create_user("trainee")
    auth.login_as("admin")
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert "Trainer Two" in page and f'value="{trainee.id}"' not in page
    refused = post_form(client, "/cohorts/new", "/cohorts/new", {"name": "A", "site": "0", "trainer": str(trainee.id)})
    assert "Choose a trainer from the list." in text_of(refused)
    assert count(db, Cohort) == 0
    post_form(client, "/cohorts/new", "/cohorts/new", {"name": "A", "site": "0", "trainer": str(trainer.id)})
    assert count(db, Cohort, Cohort.trainer_id == trainer.id) == 1


def test_a_cohort_with_a_site(client, auth, db):
    db.add(Country(code="KZ", names={"en": "Kazakhstan"}))
    db.flush()
    site = Site(code="kordai", kind="bcp", names={"en": "Kordai BCP", "ru": "ПП Кордай"},
                country_id=db.scalar(select(Country.id)))
    db.add(site)
    db.commit()
    auth.login_as("trainer")
    assert "Kordai BCP" in client.get("/cohorts/new").get_data(as_text=True)
    post_form(client, "/cohorts/new", "/cohorts/new", {"name": "With site", "site": str(site.id)})
    assert count(db, Cohort, Cohort.site_id == site.id) == 1


def test_editing_saves_valid_changes_and_keeps_the_old_values_on_error(client, auth, db):
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id, name="Old name")
    url = f"/cohorts/{cohort_id}/edit"
    assert 'value="Old name"' in client.get(url).get_data(as_text=True)
    bad = post_form(client, url, url, {"name": "Renamed class", "site": "0", "start_date": "2026-05-02",
                                       "end_date": "2026-05-01"})
    assert "The end date cannot be before the start date." in text_of(bad)
    db.rollback()
    assert db.get(Cohort, cohort_id).name == "Old name"
    db.commit()
    good = post_form(client, url, url, {"name": "Renamed class", "site": "0", "start_date": "2026-05-01",
                                        "end_date": "", "is_archived": "y"})
    assert good.status_code == 302
    db.rollback()
    cohort = db.get(Cohort, cohort_id, populate_existing=True)
    assert (cohort.name, cohort.start_date, cohort.end_date, cohort.is_archived) == (
        "Renamed class", date(2026, 5, 1), None, True)
    db.commit()
    # Archived cohorts leave the list unless asked for.
    assert "Renamed class" not in client.get("/cohorts/").get_data(as_text=True)
    assert "Renamed class" in client.get("/cohorts/?archived=1").get_data(as_text=True)


# --- courses ---------------------------------------------------------------------------------------------

def test_assigning_a_course_with_a_due_date_and_changing_it(client, auth, db, course):
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id)
    page = f"/cohorts/{cohort_id}"
    due = TODAY + timedelta(days=10)
    response = post_form(client, page, f"{page}/courses",
                         {"course": str(course.course_id), "due_date": due.isoformat()})
    assert response.status_code == 302
    assert "was assigned to the cohort" in client.get(page).get_data(as_text=True)
    assert count(db, CohortCourse, CohortCourse.due_date == due) == 1
    later = due + timedelta(days=5)
    post_form(client, page, f"{page}/courses", {"course": str(course.course_id), "due_date": later.isoformat()})
    assert "The due date of" in client.get(page).get_data(as_text=True)
    assert count(db, CohortCourse) == 1 and count(db, CohortCourse, CohortCourse.due_date == later) == 1
    post_form(client, page, f"{page}/courses", {"course": str(course.course_id), "due_date": ""})
    assert count(db, CohortCourse, CohortCourse.due_date.is_(None)) == 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"course": "0"}, "Choose one of the published courses."),
    ({"course": "abc"}, "Choose one of the published courses."),
    ({"course": "987654"}, "Choose one of the published courses."),
    ({"due_date": (TODAY - timedelta(days=1)).isoformat()}, "The due date cannot be in the past."),
    ({"due_date": "next week"}, "Enter the date as year-month-day, for example 2026-12-31."),
])
def test_invalid_assignments_say_why_and_save_nothing(client, auth, db, course, fields, message):
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id)
    page = f"/cohorts/{cohort_id}"
    data = {"course": str(course.course_id), "due_date": "", **fields}
    response = post_form(client, page, f"{page}/courses", data)
    assert response.status_code == 200
    body = text_of(response)
    assert message in body and "The course was not assigned." in body
    assert count(db, CohortCourse) == 0


def test_unassigning_a_course(client, auth, db, course):
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id, courses=[(course.course_id, None)])
    page = f"/cohorts/{cohort_id}"
    response = post_form(client, page, f"{page}/courses/{course.course_id}/remove", {})
    assert response.status_code == 302
    assert count(db, CohortCourse) == 0
    assert post_form(client, page, f"{page}/courses/{course.course_id}/remove", {}).status_code == 404


# --- members -----------------------------------------------------------------------------------------------

def test_pasting_usernames_and_service_numbers_adds_the_known_and_lists_the_unknown(client, auth, db,
                                                                                 create_user):
    trainer = auth.login_as("trainer")
    alpha = create_user("trainee", username="alpha")
    beta = create_user("trainee", username="beta", service_number="KZ-0042")
    gamma = create_user("trainee", username="gamma")
    create_user("trainer", username="coach")
    create_user("trainee", username="shared1", service_number="DUP-1")
    create_user("trainee", username="shared2", service_number="DUP-1")
    inactive = create_user("trainee", username="gone")
    db.rollback()
    db.get(type(inactive), inactive.id).is_active = False
    db.commit()
    cohort_id = make_cohort(db, trainer.id, members=[gamma.id])
    page = f"/cohorts/{cohort_id}/members/add"
    pasted = "ALPHA\nkz-0042, nobody-here\n\n gamma ;ghost-007\ncoach\nDUP-1\ngone\nalpha"
    response = post_form(client, page, f"/cohorts/{cohort_id}/members/paste", {"identifiers": pasted})
    assert response.status_code == 200
    body = text_of(response)
    assert "2 trainees were added." in body
    assert "1 trainee was already in the cohort." in body
    assert "Not found, nothing added for them: nobody-here, ghost-007" in body
    assert "use the username instead: DUP-1" in body
    assert "Not active trainee accounts, not added: coach, gone" in body
    # The problem entries stay in the box to be corrected; the added ones do not.
    box = body.split("<textarea", 1)[1].split("</textarea>", 1)[0]
    assert "nobody-here" in box and "ghost-007" in box and "alpha" not in box.lower()
    db.rollback()
    members = set(db.scalars(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id)))
    db.commit()
    assert members == {alpha.id, beta.id, gamma.id}


def test_a_paste_of_only_known_trainees_goes_back_to_the_cohort(client, auth, db, create_user):
    trainer = auth.login_as("trainer")
    one, two = create_user("trainee"), create_user("trainee")
    cohort_id = make_cohort(db, trainer.id)
    response = post_form(client, f"/cohorts/{cohort_id}/members/add", f"/cohorts/{cohort_id}/members/paste",
                         {"identifiers": f"{one.username},{two.username}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/cohorts/{cohort_id}"
    assert count(db, CohortMember, CohortMember.cohort_id == cohort_id) == 2


@pytest.mark.parametrize(("pasted", "message"), [
    ("", "Paste at least one username or service number."),
    (" ,\n ; ", "Paste at least one username or service number."),
    ("\n".join(f"user{n}" for n in range(501)), "At most 500 entries can be added at once."),
    ("x" * 20001, "The list is too long: at most 20000 characters."),
])
def test_invalid_pastes_say_why_and_add_nobody(client, auth, db, create_user, pasted, message):
    trainer = auth.login_as("trainer")
    create_user("trainee", username="user1")
    cohort_id = make_cohort(db, trainer.id)
    response = post_form(client, f"/cohorts/{cohort_id}/members/add", f"/cohorts/{cohort_id}/members/paste",
                         {"identifiers": pasted})
    assert response.status_code == 200
    assert message in text_of(response)
    assert count(db, CohortMember) == 0


def test_unknown_entries_are_reported_in_the_readers_language(client, auth, db):
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id)
    switch_language(client, "kk")
    response = post_form(client, f"/cohorts/{cohort_id}/members/add", f"/cohorts/{cohort_id}/members/paste",
                         {"identifiers": "nobody"})
    body = text_of(response)
    assert "Not found" not in body
    assert "Табылмады, ол үшін ештеңе қосылмады: nobody" in body


def test_picking_trainees_filtered_by_site_agency_and_name(client, auth, db, create_user):
    db.add(Country(code="KZ", names={"en": "Kazakhstan"}))
    db.flush()
    country_id = db.scalar(select(Country.id))
    kordai = Site(code="kordai", kind="bcp", names={"en": "Kordai"}, country_id=country_id)
    other_site = Site(code="saryagash", kind="bcp", names={"en": "Saryagash"}, country_id=country_id)
    customs = Agency(code="kgd", kind="customs", names={"en": "Customs"}, country_id=country_id)
    db.add_all([kordai, other_site, customs])
    db.commit()
    trainer = auth.login_as("trainer")
    aigerim = create_user("trainee", full_name="Айгерім Сапарова", site_id=kordai.id, agency_id=customs.id)
    bolat = create_user("trainee", full_name="Болат Ержанов", site_id=kordai.id)
    create_user("trainee", full_name="Сәуле Нұрланқызы", site_id=other_site.id)
    create_user("trainer", full_name="Айгерім Тренер", site_id=kordai.id)
    cohort_id = make_cohort(db, trainer.id)
    base = f"/cohorts/{cohort_id}/members/add"

    page = client.get(f"{base}?site={kordai.id}").get_data(as_text=True)
    assert "Айгерім Сапарова" in page and "Болат Ержанов" in page
    assert "Сәуле" not in page and "Айгерім Тренер" not in page  # other site; not a trainee
    page = client.get(f"{base}?agency={customs.id}").get_data(as_text=True)
    assert "Айгерім Сапарова" in page and "Болат" not in page
    page = client.get(f"{base}?q=айгерім").get_data(as_text=True)  # lower case finds the capitalised name
    assert "Айгерім Сапарова" in page and "Болат" not in page and "Айгерім Тренер" not in page

    response = post_form(client, base, base, {"user": [str(aigerim.id), str(bolat.id), str(trainer.id)]})
    assert response.status_code == 302
    db.rollback()
    members = set(db.scalars(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id)))
    db.commit()
    assert members == {aigerim.id, bolat.id}  # the trainer's id, posted by hand, is not a trainee
    # Members are no longer offered.
    assert "Айгерім Сапарова" not in client.get(f"{base}?site={kordai.id}").get_data(as_text=True)


def test_picking_nobody_is_refused(client, auth, db):
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id)
    base = f"/cohorts/{cohort_id}/members/add"
    response = post_form(client, base, base, {})
    assert response.status_code == 302
    assert "Select at least one trainee to add." in client.get(base).get_data(as_text=True)
    assert count(db, CohortMember) == 0


def test_removing_a_member(client, auth, db, create_user):
    trainer = auth.login_as("trainer")
    trainee = create_user("trainee", full_name="Removed Person")
    cohort_id = make_cohort(db, trainer.id, members=[trainee.id])
    page = f"/cohorts/{cohort_id}"
    response = post_form(client, page, f"{page}/members/{trainee.id}/remove", {})
    assert response.status_code == 302
    assert "Removed Person was removed from the cohort." in client.get(page).get_data(as_text=True)
    assert count(db, CohortMember) == 0
    assert post_form(client, page, f"{page}/members/{trainee.id}/remove", {}).status_code == 404
