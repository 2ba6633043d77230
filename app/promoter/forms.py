"""Forms of the promoter system."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from app.common.choices import LANGUAGES
from app.common.forms import TranslatedForm
from app.common.timezone import local_today
from app.common.validators import GERMAN_POSTCODE, NormaliseEmail, Regexp


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


#: Digits with the usual separators: "+49 171 1234567", "0171/1234567", "(040) 123-45".
PHONE = Regexp(
    r"\+?[0-9 ()/\-]+",
    _l("Please enter a phone number with digits; only spaces, +, /, - and brackets may be added."),
)


def enough_digits(_form, field) -> None:
    if field.data and sum(ch.isdigit() for ch in field.data) < 5:
        raise ValidationError(str(_l("A phone number has at least five digits.")))


class ProfileForm(TranslatedForm):
    email = EmailField(
        _l("Email"),
        validators=[NormaliseEmail(), DataRequired(), Length(max=254), Email()],
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50), PHONE, enough_digits])
    postcode = StringField(
        _l("Postcode"),
        validators=[Optional(), GERMAN_POSTCODE],
        description=_l("Five digits; for open jobs near you."),
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    language = SelectField(
        _l("Language of mails"),
        choices=list(LANGUAGES.items()),
        default="de",
    )


class ConfirmForm(TranslatedForm):
    """Confirming several requests: only the CSRF token; the requests are the checked boxes."""


class DeclineForm(TranslatedForm):
    """Declining one or several requests: the reason goes to the agency."""

    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=500)])

    def validate_reason(self, field) -> None:
        if not (field.data or "").strip():
            raise ValidationError(str(_l("Please give a reason.")))


DISTANCES = (10, 25, 50, 100, 200)


class JobFilterForm(TranslatedForm):
    """Open jobs by city, or within a distance of a postcode (a GET form)."""

    class Meta:
        csrf = False

    city = SelectField(_l("City"), validators=[Optional()])
    postcode = StringField(_l("Postcode"), validators=[Optional(), GERMAN_POSTCODE])
    distance = SelectField(
        _l("Distance"),
        choices=[("", _l("Any distance"))] + [(str(km), f"{km} km") for km in DISTANCES],
        validators=[Optional()],
    )
