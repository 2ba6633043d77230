"""Forms of the proposal wizard (customer system)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from app.common.forms import TranslatedForm, int_or_none


class ProposalStoreForm(TranslatedForm):
    """Wizard step 1: project and store."""

    project = SelectField(_l("Project"), coerce=int_or_none, validators=[DataRequired()])
    location = SelectField(_l("Store"), coerce=int_or_none, validators=[DataRequired()])


class ProposalSlotForm(TranslatedForm):
    """Wizard step 2: date, time and a note."""

    date = DateField(_l("Date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start"), validators=[DataRequired()])
    end_time = TimeField(_l("End"), validators=[DataRequired()])
    note = TextAreaField(_l("Note for the agency"), validators=[Optional(), Length(max=1000)])


class ProposalSubmitForm(TranslatedForm):
    """Wizard step 3: only the CSRF token; the data is in the wizard's state."""


class ChangeRequestForm(TranslatedForm):
    """A contact asks for an appointment to be cancelled or moved."""

    kind = RadioField(
        _l("What should happen?"),
        choices=[("cancel", _l("Cancel the appointment")), ("move", _l("Move it to another date or time"))],
        validators=[DataRequired(_l("Please choose whether to cancel or move the appointment."))],
    )
    date = DateField(_l("New date"), validators=[Optional()])
    start_time = TimeField(_l("New start"), validators=[Optional()])
    end_time = TimeField(_l("New end"), validators=[Optional()])
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(_l("Please give a reason.")), Length(max=1000)]
    )


class WithdrawForm(TranslatedForm):
    """Only the CSRF token: the proposal is in the address."""
