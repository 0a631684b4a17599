"""The report filter: a GET form, so a filtered report has a URL that can be bookmarked and shared."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from cbt.admin.forms import choices
from cbt.i18n import current_locale, localized
from cbt.reports import aggregate
from cbt.reports.queries import Filters, Lookups


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    course = SelectField(_l("Course"), coerce=_optional_int, validators=[Optional()], validate_choice=False)
    site = SelectField(_l("Site"), coerce=_optional_int, validators=[Optional()], validate_choice=False)
    agency = SelectField(_l("Agency"), coerce=_optional_int, validators=[Optional()], validate_choice=False)
    country = SelectField(_l("Country"), coerce=_optional_int, validators=[Optional()], validate_choice=False)
    cohort = SelectField(_l("Cohort"), coerce=_optional_int, validators=[Optional()], validate_choice=False)
    group = CheckboxesField(_l("Group by"), choices=[], validate_choice=False)

    def fill_choices(self, names: Lookups) -> None:
        locale = current_locale()
        everything = (None, _l("All"))
        self.course.choices = choices([everything, *((cid, localized(title))
                                                     for cid, (_slug, title) in names.courses.items())])
        self.site.choices = choices([everything, *((s.id, s.name(locale)) for s in names.sites.values())])
        self.agency.choices = choices([everything, *((a.id, a.name(locale)) for a in names.agencies.values())])
        self.country.choices = choices([everything, *((c.id, c.name(locale)) for c in names.countries.values())])
        # Two classes may share a name (one per site, say): their ids tell them apart.
        seen = Counter(names.cohorts.values())
        self.cohort.choices = choices([everything, *((cid, name if seen[name] == 1 else f"{name} (#{cid})")
                                                     for cid, name in names.cohorts.items())])
        self.group.choices = choices([("course", _l("Course")), ("site", _l("Site")), ("agency", _l("Agency")),
                                      ("country", _l("Country"))])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period is before its start."))

    def filters(self) -> Filters:
        valid = not self.date_to.errors and not self.date_from.errors
        return Filters(
            period=aggregate.Period(self.date_from.data if valid else None, self.date_to.data if valid else None),
            course_id=self.course.data, site_id=self.site.data, agency_id=self.agency.data,
            country_id=self.country.data, cohort_id=self.cohort.data,
        )

    def dimensions(self) -> tuple[str, ...]:
        chosen = [d for d in aggregate.DIMENSIONS if d in (self.group.data or [])]
        return tuple(chosen) or ("course", "site")
