from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(message=_l("Enter your username.")), Length(max=80)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password.")), Length(max=200)]
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(message=_l("Enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(message=_l("Enter a new password.")), Length(max=200)]
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=_l("Repeat the new password.")),
            EqualTo("new_password", message=_l("The two new passwords are not the same.")),
        ],
    )


class CodeForm(FlaskForm):
    """The second step of signing in: an authenticator code or a recovery code."""

    code = StringField(
        _l("Code"), validators=[DataRequired(message=_l("Enter the code.")), Length(max=40)]
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
