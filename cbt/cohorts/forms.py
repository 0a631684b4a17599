"""Cohort forms. Choices that depend on the database (sites, trainers, courses) are filled in by the view."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import DateInput

#: Dates outside this range are typing mistakes, not classes.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class DayField(Field):
    """An optional calendar date typed as YYYY-MM-DD (what ``<input type=date>`` sends).

    WTForms' own DateField reports a parse error in English words of its own; this one says what to type,
    in the reader's language.
    """

    widget = DateInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = (valuelist[0] if valuelist else "") or ""
        raw = raw.strip()
        self.data = None
        if not raw:
            return
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            raise ValueError(_l("Enter the date as year-month-day, for example 2026-12-31.")) from None
        if not EARLIEST <= value <= LATEST:
            raise ValueError(_l("Enter a date between %(first)s and %(last)s.", first=EARLIEST.isoformat(),
                                last=LATEST.isoformat()))
        self.data = value


def as_id(value: Any) -> int:
    """Coerce a posted id; anything that is not a number becomes -1, which no choice has."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class CohortForm(FlaskForm):
    name = StringField(_l("Cohort name"), validators=[
        DataRequired(message=_l("Enter a name for the cohort.")),
        Length(max=120, message=_l("The name can have at most %(max)d characters.")),
    ])
    #: 0 = no site; choices filled by the view.
    site = SelectField(_l("Site"), coerce=as_id, validate_choice=False)
    #: Only shown to administrators, who may give a cohort to any trainer.
    trainer = SelectField(_l("Trainer"), coerce=as_id, validate_choice=False)
    start_date = DayField(_l("Start date"))
    end_date = DayField(_l("End date"))
    is_archived = BooleanField(_l("Archived (the class has finished)"))

    def validate_site(self, field: SelectField) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a site from the list."))

    def validate_trainer(self, field: SelectField) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a trainer from the list."))

    def validate_end_date(self, field: DayField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date cannot be before the start date."))


class AssignCourseForm(FlaskForm):
    course = SelectField(_l("Course"), coerce=as_id, validate_choice=False)
    due_date = DayField(_l("Due date"))

    def __init__(self, *args: Any, today: date, course_ids: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._today = today
        self._course_ids = course_ids

    def validate_course(self, field: SelectField) -> None:
        if field.data not in self._course_ids:
            raise ValidationError(_l("Choose one of the published courses."))

    def validate_due_date(self, field: DayField) -> None:
        if field.data and field.data < self._today:
            raise ValidationError(_l("The due date cannot be in the past."))


class PasteMembersForm(FlaskForm):
    identifiers = TextAreaField(_l("Usernames or service numbers"), validators=[
        DataRequired(message=_l("Paste at least one username or service number.")),
        Length(max=20000, message=_l("The list is too long: at most %(max)d characters.")),
    ])


class ActionForm(FlaskForm):
    """Only a CSRF token: buttons that add picked trainees, remove a member or a course."""
