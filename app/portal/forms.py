"""Forms of the customer system."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.common.choices import APPOINTMENT_STATUSES
from app.common.forms import TranslatedForm


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


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class AppointmentFilterForm(TranslatedForm):
    """The filters of the appointment list (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    store = SelectField(_l("Store"), coerce=_int_or_none, validators=[Optional()])
    job = SelectField(_l("Job"), coerce=_int_or_none, validators=[Optional()])
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


class ProposalStoreForm(TranslatedForm):
    """Wizard step 1: project and store."""

    project = SelectField(_l("Project"), coerce=_int_or_none, validators=[DataRequired()])
    location = SelectField(_l("Store"), coerce=_int_or_none, validators=[DataRequired()])


class ProposalSlotForm(TranslatedForm):
    """Wizard step 2: date, time and a note."""

    date = DateField(_l("Date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start"), validators=[DataRequired()])
    end_time = TimeField(_l("End"), validators=[DataRequired()])
    note = TextAreaField(_l("Note for the agency"), validators=[Optional(), Length(max=1000)])


class ProposalSubmitForm(TranslatedForm):
    """Wizard step 3: only the CSRF token; the data is in the wizard's state."""


class SettingsForm(TranslatedForm):
    weekly_mail = BooleanField(_l("Send me next week's appointments every Friday"))
