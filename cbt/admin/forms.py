"""Administration forms. Choices that come from the database are filled by the view before validation."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from cbt.org.models import AGENCY_KINDS, SITE_KINDS
from cbt.web import ROLE_LABELS

AGENCY_KIND_LABELS = {
    "border": _l("Border service"), "customs": _l("Customs"), "drug_control": _l("Drug control"),
    "police": _l("Police"), "other": _l("Other"),
}
SITE_KIND_LABELS = {
    "bcp": _l("Border crossing point"), "academy": _l("Academy"), "classroom": _l("Classroom"), "other": _l("Other"),
}


def choices(pairs: Any) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


def optional_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "", "None", "0") else None
    except (TypeError, ValueError):
        return None


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(message=_l("Enter a username.")), Length(max=80),
        Regexp(r"^\S+$", message=_l("A username cannot contain spaces.")),
    ])
    full_name = StringField(_l("Full name"), validators=[DataRequired(message=_l("Enter the full name.")),
                                                         Length(max=200)])
    service_number = StringField(_l("Service number"), validators=[Optional(), Length(max=40)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    agency = SelectField(_l("Agency"), coerce=optional_int, validate_choice=False)
    site = SelectField(_l("Site"), coerce=optional_int, validate_choice=False)
    locale = SelectField(_l("Language"), validate_choice=False)


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=choices([("", _l("All")), *ROLE_LABELS.items()]), validate_choice=False)
    site = SelectField(_l("Site"), coerce=optional_int, validate_choice=False)
    agency = SelectField(_l("Agency"), coerce=optional_int, validate_choice=False)
    active = SelectField(_l("Status"), choices=choices([("", _l("All")), ("1", _l("Active")),
                                                       ("0", _l("Deactivated"))]), validate_choice=False)


class NamesMixin:
    name_kk = StringField(_l("Name in Kazakh"), validators=[Optional(), Length(max=200)])
    name_ru = StringField(_l("Name in Russian"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[misc]
        if not self.names():
            self.name_en.errors = [*self.name_en.errors, _l("Enter the name in at least one language.")]  # type: ignore[attr-defined]
            return False
        return valid

    def names(self) -> dict[str, str]:
        pairs = (("kk", self.name_kk), ("ru", self.name_ru), ("en", self.name_en))  # type: ignore[attr-defined]
        return {loc: f.data.strip() for loc, f in pairs if f.data and f.data.strip()}

    def fill_names(self, names: dict[str, str]) -> None:
        self.name_kk.data = names.get("kk", "")  # type: ignore[attr-defined]
        self.name_ru.data = names.get("ru", "")  # type: ignore[attr-defined]
        self.name_en.data = names.get("en", "")  # type: ignore[attr-defined]


class CountryForm(NamesMixin, FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(message=_l("Enter a code.")),
        Regexp(r"^[A-Za-z]{2}$", message=_l("Use the two-letter ISO code, for example KZ.")),
    ])


ORG_CODE = Regexp(r"^[a-z0-9][a-z0-9-]{0,39}$",
                  message=_l("Use lower-case Latin letters, digits and hyphens, for example kz-customs."))


class AgencyForm(NamesMixin, FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Enter a code.")), ORG_CODE])
    kind = SelectField(_l("Kind"), choices=choices((k, AGENCY_KIND_LABELS[k]) for k in AGENCY_KINDS))
    country = SelectField(_l("Country"), coerce=optional_int, validate_choice=False,
                          validators=[DataRequired(message=_l("Choose a country."))])


class SiteForm(NamesMixin, FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Enter a code.")), ORG_CODE])
    kind = SelectField(_l("Kind"), choices=choices((k, SITE_KIND_LABELS[k]) for k in SITE_KINDS))
    country = SelectField(_l("Country"), coerce=optional_int, validate_choice=False,
                          validators=[DataRequired(message=_l("Choose a country."))])
    neighbour_country = SelectField(_l("Neighbouring country"), coerce=optional_int, validate_choice=False)

    def validate_neighbour_country(self, field: SelectField) -> None:
        if field.data and field.data == self.country.data:
            raise ValidationError(_l("The neighbouring country must differ from the site's country."))


class ImportForm(FlaskForm):
    file = FileField(_l("File"), validators=[
        FileRequired(message=_l("Choose a file to upload.")),
        FileAllowed(["csv", "xlsx", "txt"], message=_l("Upload a CSV or XLSX file.")),
    ])


class ConfirmImportForm(FlaskForm):
    """Only the CSRF token; the buttons say what to do."""


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason for revoking.")),
                                                    Length(max=500)])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validate_choice=False)
    user = StringField(_l("User"), validators=[Optional(), Length(max=80)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
