"""User administration over HTTP: list, search, filters, pages, create, edit, deactivate, reset password."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cbt.audit.models import AuditEvent
from cbt.auth.models import User
from tests.conftest import csrf_token


@pytest.fixture
def org(app):
    from cbt.db import session, writing
    from cbt.org.models import Agency, Country, Site

    with app.app_context(), writing():
        kz = Country(code="KZ", names={"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"})
        session.add(kz)
        session.flush()
        agency = Agency(code="kz-customs", kind="customs", country_id=kz.id, names={"en": "Customs"})
        site = Site(code="kordai", kind="bcp", country_id=kz.id, names={"en": "Kordai BCP", "kk": "«Қордай» ӨП"})
        other = Site(code="academy", kind="academy", country_id=kz.id, names={"en": "Border Academy"})
        session.add_all([agency, site, other])
        session.commit()
        return {"agency": agency.id, "site": site.id, "other": other.id}


def post(client, url: str, data: dict | None = None, page: str | None = None):
    return client.post(url, data={"csrf_token": csrf_token(client, page or url), **(data or {})})


def events(db, action: str) -> list[AuditEvent]:
    db.rollback()
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_list_searches_filters_and_pages(client, auth, create_user, org):
    auth.login_as("admin")
    for n in range(55):
        create_user("trainee", username=f"officer{n:02d}", full_name=f"Officer {n:02d}", site_id=org["site"])
    create_user("trainer", username="teacher", full_name="Ерлан Сейітқали", site_id=org["other"],
                agency_id=org["agency"], service_number="KZ-00317")
    create_user("trainee", username="gone", full_name="Gone Away", site_id=org["other"])
    page = client.get("/admin/users").get_data(as_text=True)
    assert "58 users found." in page and "Page 1 of 2" in page
    assert page.count('href="/admin/users/') >= 50
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Officer 54" in second and "Page 2 of 2" in second
    assert "1 user found." in client.get("/admin/users?q=KZ-00317").get_data(as_text=True)
    assert "1 user found." in client.get("/admin/users?q=ерлан").get_data(as_text=True)
    assert "1 user found." in client.get("/admin/users?role=trainer").get_data(as_text=True)
    assert "55 users found." in client.get(f"/admin/users?site={org['site']}").get_data(as_text=True)
    assert "1 user found." in client.get(f"/admin/users?agency={org['agency']}").get_data(as_text=True)
    assert "0 users found." in client.get("/admin/users?active=0").get_data(as_text=True)
    # A page number past the end shows the last page rather than failing.
    assert "Page 2 of 2" in client.get("/admin/users?page=99").get_data(as_text=True)


def test_create_shows_a_random_password_once_and_it_works(app, client, auth, org, db):
    admin = auth.login_as("admin")
    response = post(client, "/admin/users/new", {
        "username": "A.Nurlanovna", "full_name": "Асель Нұрланқызы", "service_number": "KZ-10452",
        "role": "trainee", "agency": str(org["agency"]), "site": str(org["site"]), "locale": "kk"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
    user = db.scalar(select(User).where(User.username == "a.nurlanovna"))
    assert (user.full_name, user.site_id, user.agency_id, user.locale) == ("Асель Нұрланқызы", org["site"],
                                                                           org["agency"], "kk")
    assert password not in user.password_hash
    created = events(db, "user.create")
    assert created[-1].actor_id == admin.id and created[-1].target == f"user:{user.id}"
    auth.logout()
    assert auth.login("a.nurlanovna", password).status_code == 302


def test_create_refuses_a_taken_username(client, auth, create_user):
    auth.login_as("admin")
    create_user("trainee", username="taken")
    page = post(client, "/admin/users/new", {"username": "TAKEN", "full_name": "X", "role": "trainee"})
    assert "The username taken is already taken." in page.get_data(as_text=True)


def test_role_change_is_audited_and_applies_at_once(app, client, auth, create_user, db):
    admin = auth.login_as("admin")
    user = create_user("trainee", username="rising", full_name="Rising Star")
    response = post(client, f"/admin/users/{user.id}", {"full_name": "Rising Star", "role": "trainer",
                                                        "service_number": "", "agency": "", "site": "",
                                                        "locale": ""})
    assert response.status_code == 302
    change = events(db, "user.role_change")[-1]
    assert (change.actor_id, change.target, change.details) == (admin.id, f"user:{user.id}",
                                                                 {"old": "trainee", "new": "trainer"})
    assert db.get(User, user.id).role == "trainer"
    # Renaming without a role change is a plain update, not a role change.
    post(client, f"/admin/users/{user.id}", {"full_name": "Rising Star Jr", "role": "trainer"})
    assert len(events(db, "user.role_change")) == 1
    assert events(db, "user.update")[-1].details == {"fields": ["full_name"]}


def test_an_admin_cannot_demote_or_deactivate_themselves(client, auth, db):
    admin = auth.login_as("admin")
    page = post(client, f"/admin/users/{admin.id}", {"full_name": admin.full_name, "role": "trainee"})
    assert "You cannot change your own role." in page.get_data(as_text=True)
    post(client, f"/admin/users/{admin.id}/deactivate", page=f"/admin/users/{admin.id}")
    db.rollback()
    user = db.get(User, admin.id)
    assert user.role == "admin" and user.is_active


def test_deactivation_ends_the_users_sessions_and_reactivation_restores_sign_in(app, client, auth, create_user, db):
    victim = create_user("trainee", username="leaver")
    other = app.test_client()
    from tests.conftest import Auth

    Auth(other, create_user).login("leaver")
    assert other.get("/learn/").status_code == 200
    auth.login_as("admin")
    response = post(client, f"/admin/users/{victim.id}/deactivate", page=f"/admin/users/{victim.id}")
    assert response.status_code == 302
    follow = other.get("/learn/")
    assert follow.status_code == 302 and follow.headers["Location"].startswith("/login")
    assert Auth(app.test_client(), create_user).login("leaver").status_code == 200  # refused: stays on the form
    assert events(db, "user.deactivate")[-1].target == f"user:{victim.id}"
    assert "Deactivated" in client.get("/admin/users?active=0").get_data(as_text=True)
    post(client, f"/admin/users/{victim.id}/reactivate", page=f"/admin/users/{victim.id}")
    assert Auth(app.test_client(), create_user).login("leaver").status_code == 302
    assert events(db, "user.reactivate")


def test_reset_password_shows_a_new_one_once_and_signs_out(app, client, auth, create_user, db):
    from tests.conftest import TEST_PASSWORD, Auth

    user = create_user("trainee", username="forgetful")
    other = app.test_client()
    Auth(other, create_user).login("forgetful")
    auth.login_as("admin")
    page = post(client, f"/admin/users/{user.id}/password", page=f"/admin/users/{user.id}").get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    assert other.get("/learn/").status_code == 302
    fresh = Auth(app.test_client(), create_user)
    assert fresh.login("forgetful", TEST_PASSWORD).status_code == 200
    assert fresh.login("forgetful", password).status_code == 302
    assert events(db, "user.password_reset")[-1].target == f"user:{user.id}"
    # The password is not on the account page afterwards.
    assert password not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)


def test_there_is_no_way_to_delete_a_user(app):
    for rule in app.url_map.iter_rules():
        assert "DELETE" not in rule.methods
        assert "delete" not in rule.rule.lower()


def test_non_admins_cannot_change_accounts(client, auth, create_user, db):
    target = create_user("trainee", username="target")
    auth.login_as("trainer")
    token = csrf_token(client, "/")
    for url in (f"/admin/users/{target.id}/deactivate", f"/admin/users/{target.id}/password",
                f"/admin/users/{target.id}", "/admin/users/new", "/admin/users/import"):
        assert client.post(url, data={"csrf_token": token, "role": "admin"}).status_code == 403, url
    db.rollback()
    assert db.get(User, target.id).is_active


def test_names_are_escaped_in_lists(client, auth, create_user):
    auth.login_as("admin")
    create_user("trainee", username="xss", full_name='<script>alert(1)</script>', service_number='"><img src=x>')
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert '"><img src=x>' not in page
