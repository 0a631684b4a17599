"""Organisation models.

Names are stored per locale (``{"kk": ..., "ru": ..., "en": ...}``) because ministries read reports in their
own language and the same agency is shown to trainees of three languages.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db import Base, UUIDMixin

AGENCY_KINDS = ("border", "customs", "drug_control", "police", "other")
SITE_KINDS = ("bcp", "academy", "classroom", "other")


def localized_name(names: dict[str, Any], locale: str, order: tuple[str, ...] = ("kk", "ru", "en")) -> str:
    """Pick a name in ``locale``, else the first present in ``order``, else any."""
    for candidate in (locale, *order):
        value = names.get(candidate)
        if value:
            return str(value)
    return next((str(v) for v in names.values() if v), "")


class Country(Base):
    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ISO 3166-1 alpha-2 code, upper case.
    code: Mapped[str] = mapped_column(String(2), unique=True)
    names: Mapped[dict[str, Any]]

    def name(self, locale: str) -> str:
        return localized_name(self.names, locale)


class Agency(UUIDMixin, Base):
    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint(f"kind IN {AGENCY_KINDS!r}", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    names: Mapped[dict[str, Any]]
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), index=True)

    country: Mapped[Country] = relationship(lazy="joined")

    def name(self, locale: str) -> str:
        return localized_name(self.names, locale)


class Site(UUIDMixin, Base):
    """A place where training happens: a border crossing point, an academy or a classroom."""

    __tablename__ = "sites"
    __table_args__ = (CheckConstraint(f"kind IN {SITE_KINDS!r}", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    names: Mapped[dict[str, Any]]
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), index=True)
    #: For a border post, the country on the other side of the border.
    neighbour_country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id"))

    country: Mapped[Country] = relationship(foreign_keys=[country_id], lazy="joined")
    neighbour_country: Mapped[Country | None] = relationship(foreign_keys=[neighbour_country_id])

    def name(self, locale: str) -> str:
        return localized_name(self.names, locale)
