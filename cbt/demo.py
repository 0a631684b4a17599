"""Demo data for a first look and for training the trainers: idempotent, safe to run twice."""

from __future__ import annotations

from sqlalchemy import select

from cbt.auth import services
from cbt.auth.models import User
from cbt.db import session
from cbt.org.models import Agency, Country, Site

COUNTRIES = {
    "KZ": {"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"},
    "KG": {"en": "Kyrgyzstan", "ru": "Кыргызстан", "kk": "Қырғызстан"},
    "UZ": {"en": "Uzbekistan", "ru": "Узбекистан", "kk": "Өзбекстан"},
    "TJ": {"en": "Tajikistan", "ru": "Таджикистан", "kk": "Тәжікстан"},
    "TM": {"en": "Turkmenistan", "ru": "Туркменистан", "kk": "Түрікменстан"},
}

AGENCIES = [
    ("kz-border", "border", "KZ", {"en": "Border Service", "ru": "Пограничная служба", "kk": "Шекара қызметі"}),
    ("kz-customs", "customs", "KZ", {"en": "Customs", "ru": "Таможенная служба", "kk": "Кеден қызметі"}),
    ("kz-drug-control", "drug_control", "KZ",
     {"en": "Anti-drug police", "ru": "Антинаркотическая полиция", "kk": "Есірткіге қарсы полиция"}),
    ("kg-customs", "customs", "KG", {"en": "Customs Service", "ru": "Таможенная служба", "kk": "Кеден қызметі"}),
]

SITES = [
    ("kordai", "bcp", "KZ", "KG", {"en": "Kordai BCP", "ru": "ПП «Кордай»", "kk": "«Қордай» ӨП"}),
    ("zhibek-zholy", "bcp", "KZ", "UZ",
     {"en": "Zhibek Zholy BCP (Saryagash)", "ru": "ПП «Жибек Жолы» (Сарыагаш)", "kk": "«Жібек жолы» ӨП (Сарыағаш)"}),
    ("border-academy", "academy", "KZ", None,
     {"en": "Border Academy", "ru": "Пограничная академия", "kk": "Шекара академиясы"}),
]

#: username, password, role, full name, site, agency, service number
USERS = [
    ("trainee", "Kordai-BCP-2026", "trainee", "Асель Нұрланқызы", "kordai", "kz-customs", "KZ-10452"),
    ("trainer", "Academy-Almaty-26", "trainer", "Ерлан Сейітқали", "border-academy", "kz-border", "KZ-00317"),
    ("admin", "Central-Office-2026", "admin", "Dana Akhmetova", "border-academy", "kz-border", "KZ-00001"),
]


def load_demo() -> list[tuple[str, str, str]]:
    """Create what is missing and return the demo credentials (username, password, role)."""
    countries = {}
    for code, names in COUNTRIES.items():
        country = session.scalar(select(Country).where(Country.code == code))
        if country is None:
            country = Country(code=code, names=names)
            session.add(country)
        countries[code] = country
    session.flush()
    agencies = {}
    for code, kind, country_code, names in AGENCIES:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            agency = Agency(code=code, kind=kind, names=names, country_id=countries[country_code].id)
            session.add(agency)
        agencies[code] = agency
    sites = {}
    for code, kind, country_code, neighbour, names in SITES:
        site = session.scalar(select(Site).where(Site.code == code))
        if site is None:
            site = Site(
                code=code, kind=kind, names=names, country_id=countries[country_code].id,
                neighbour_country_id=countries[neighbour].id if neighbour else None,
            )
            session.add(site)
        sites[code] = site
    session.flush()
    credentials = []
    for username, password, role, full_name, site_code, agency_code, number in USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            services.create_user(
                username, password, role=role, full_name=full_name, service_number=number,
                site_id=sites[site_code].id, agency_id=agencies[agency_code].id,
            )
        credentials.append((username, password, role))
    session.flush()
    _import_shipped_courses()
    return credentials


def _import_shipped_courses() -> None:
    from cbt.courses.importer import import_shipped_courses

    import_shipped_courses()
