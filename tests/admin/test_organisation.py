"""Countries, agencies and sites: created and edited with names in kk/ru/en; codes unique; changes audited."""

from __future__ import annotations

from sqlalchemy import select

from cbt.audit.models import AuditEvent
from cbt.org.models import Agency, Country, Site
from tests.conftest import csrf_token


def post(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def test_create_and_edit_country_agency_and_site(client, auth, db):
    admin = auth.login_as("admin")
    assert post(client, "/admin/countries/new", {"code": "kz", "name_kk": "Қазақстан", "name_ru": "Казахстан",
                                                  "name_en": "Kazakhstan"}).status_code == 302
    assert post(client, "/admin/countries/new", {"code": "KG", "name_ru": "Кыргызстан"}).status_code == 302
    kz = db.scalar(select(Country).where(Country.code == "KZ"))
    kg = db.scalar(select(Country).where(Country.code == "KG"))
    assert kz.names == {"kk": "Қазақстан", "ru": "Казахстан", "en": "Kazakhstan"}
    assert post(client, "/admin/agencies/new", {"code": "kz-customs", "kind": "customs", "country": str(kz.id),
                                                 "name_en": "Customs", "name_kk": "Кеден"}).status_code == 302
    response = post(client, "/admin/sites/new", {"code": "kordai", "kind": "bcp", "country": str(kz.id),
                                                  "neighbour_country": str(kg.id), "name_ru": "ПП «Кордай»"})
    assert response.status_code == 302
    db.rollback()
    site = db.scalar(select(Site).where(Site.code == "kordai"))
    assert (site.kind, site.country_id, site.neighbour_country_id) == ("bcp", kz.id, kg.id)
    assert post(client, f"/admin/sites/{site.id}", {"code": "kordai", "kind": "classroom", "country": str(kz.id),
                                                     "neighbour_country": "", "name_ru": "Класс",
                                                     "name_kk": "Сынып"}).status_code == 302
    db.rollback()
    site = db.get(Site, site.id)
    assert (site.kind, site.neighbour_country_id, site.names) == ("classroom", None, {"kk": "Сынып", "ru": "Класс"})
    page = client.get("/admin/organisation").get_data(as_text=True)
    for text in ("Kazakhstan", "kz-customs", "Customs", "kordai", "Classroom"):
        assert text in page
    actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.actor_id == admin.id))]
    assert actions.count("org.country_create") == 2
    assert {"org.agency_create", "org.site_create", "org.site_update"} <= set(actions)


def test_codes_are_unique_and_names_required(client, auth, db):
    auth.login_as("admin")
    post(client, "/admin/countries/new", {"code": "KZ", "name_en": "Kazakhstan"})
    page = post(client, "/admin/countries/new", {"code": "kz", "name_en": "Again"}).get_data(as_text=True)
    assert "The code KZ is already used." in page
    page = post(client, "/admin/countries/new", {"code": "UZ"}).get_data(as_text=True)
    assert "Enter the name in at least one language." in page
    page = post(client, "/admin/countries/new", {"code": "KAZ", "name_en": "x"}).get_data(as_text=True)
    assert "Use the two-letter ISO code" in page
    kz = db.scalar(select(Country).where(Country.code == "KZ"))
    page = post(client, "/admin/sites/new", {"code": "Bad Code", "kind": "bcp", "country": str(kz.id),
                                              "name_en": "x"}).get_data(as_text=True)
    assert "Use lower-case Latin letters" in page
    page = post(client, "/admin/sites/new", {"code": "ok", "kind": "bcp", "country": str(kz.id),
                                              "neighbour_country": str(kz.id), "name_en": "x"}).get_data(as_text=True)
    assert "The neighbouring country must differ" in page
    page = post(client, "/admin/agencies/new", {"code": "a", "kind": "navy", "country": str(kz.id),
                                                 "name_en": "x"}).get_data(as_text=True)
    assert "Not a valid choice" in page
    db.rollback()
    assert db.scalar(select(Agency)) is None
    assert client.get("/admin/sites/999").status_code == 404
