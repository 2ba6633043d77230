"""Forms of the promoter system."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, Optional, ValidationError

from app.common.forms import TranslatedForm
from app.common.timezone import local_today
from app.common.validators import NormaliseEmail


class LoginForm(TranslatedForm):
    username = StringField(_l("User name"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class UnavailabilityForm(TranslatedForm):
    # InputRequired, not DataRequired: an unreadable date keeps its own message.
    start_date = DateField(_l("From"), validators=[InputRequired()])
    end_date = DateField(_l("To"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def validate_start_date(self, field) -> None:
        if field.data and field.data < local_today():
            raise ValidationError(str(_l("The period cannot start in the past.")))

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(str(_l("The end of the period lies before its start.")))


class ProfileForm(TranslatedForm):
    email = EmailField(
        _l("Email"),
        validators=[NormaliseEmail(), DataRequired(), Length(max=254), Email()],
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])


FEED_ACTIONS = ("create", "renew", "revoke")


class FeedForm(TranslatedForm):
    """Create, renew or revoke the calendar link (the button pressed names the action)."""

    action = HiddenField(validators=[DataRequired(), AnyOf(FEED_ACTIONS)])
