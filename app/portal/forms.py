"""Forms of the customer system."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Optional, ValidationError

from app.common.choices import APPOINTMENT_STATUSES, CHANGE_MAIL_MODES
from app.common.forms import TranslatedForm, int_or_none


class LoginForm(TranslatedForm):
    username = StringField(_l("User name"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


RANGE_CHOICES = [
    ("today", _l("Today")),
    ("this_week", _l("This week")),
    ("next_week", _l("Next week")),
    ("custom", _l("Custom")),
    ("all", _l("All dates")),
]
SORT_CHOICES = [
    ("date", _l("Date ↑")),
    ("-date", _l("Date ↓")),
    ("store", _l("Store ↑")),
    ("-store", _l("Store ↓")),
    ("status", _l("Status ↑")),
    ("-status", _l("Status ↓")),
]


class AppointmentFilterForm(TranslatedForm):
    """The filters of the appointment list (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    store = SelectField(_l("Store"), coerce=int_or_none, validators=[Optional()])
    job = SelectField(_l("Job"), coerce=int_or_none, validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=[("", _l("All")), *APPOINTMENT_STATUSES.items()],
        validators=[Optional()],
    )
    range = SelectField(_l("Period"), choices=RANGE_CHOICES, default="this_week")
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=SORT_CHOICES, default="date")

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(str(_l("The end of the period lies before its start.")))


class SettingsForm(TranslatedForm):
    weekly_mail = BooleanField(_l("Send me next week's appointments every Friday"))
    change_mail = RadioField(
        _l("Tell me when an appointment in my territory is cancelled, moved or newly planned"),
        choices=list(CHANGE_MAIL_MODES.items()),
        default="immediate",
        validators=[DataRequired()],
    )

    def validate_change_mail(self, field) -> None:
        if field.data == "weekly" and not self.weekly_mail.data:
            raise ValidationError(
                str(
                    _l(
                        "Changes only in the weekly mail need the weekly mail: switch it on "
                        "or choose another option."
                    )
                )
            )
