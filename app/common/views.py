"""Base class and helpers for the generated agency screens."""

from __future__ import annotations

from flask_appbuilder import ModelView
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import DataRequired, Optional

from app.common.choices import label
from app.common.labels import COLUMN_LABELS


def choice_field(text, values: dict, required: bool = True, default=None) -> SelectField:
    """A select of coded values whose labels are translated when rendered."""
    choices = list(values.items())
    if not required:
        choices = [("", "–"), *choices]
    return SelectField(
        text,
        choices=choices,
        default=default,
        widget=Select2Widget(),
        validators=[DataRequired()] if required else [Optional()],
    )


def display(value):
    """How FAB lists and show pages render plain values (no "None", "True", "[A, B]")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _l("Yes") if value else _l("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def code_formatter(values: dict):
    return lambda code: label(values, code)


class AgencyModelView(ModelView):
    """A generated CRUD screen of the agency system."""

    label_columns = COLUMN_LABELS
    page_size = 25

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        columns = {*self.list_columns, *self.show_columns}
        self.formatters_columns = {**dict.fromkeys(columns, display), **self.formatters_columns}
