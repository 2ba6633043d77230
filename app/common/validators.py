"""WTForms validators for the generated agency forms.

Every database constraint has a form-level twin here so that bad input is
answered with a field error in the user's language instead of a database error.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import ValidationError
from wtforms.validators import StopValidation


def _other_value(form, name: str):
    field = form._fields.get(name)
    return field.data if field is not None else None


class After:
    """The field's value must be strictly after (or, ``or_equal``, not before) another."""

    def __init__(self, other: str, message, or_equal: bool = False):
        self.other = other
        self.message = message
        self.or_equal = or_equal

    def __call__(self, form, field) -> None:
        other = _other_value(form, self.other)
        if field.data is None or other is None:
            return
        if field.data < other or (field.data == other and not self.or_equal):
            raise ValidationError(str(self.message))


class Regexp:
    def __init__(self, pattern: str, message):
        self.pattern = re.compile(pattern)
        self.message = message

    def __call__(self, _form, field) -> None:
        if field.data and not self.pattern.fullmatch(str(field.data).strip()):
            # The one message that explains it; FAB's length check would only add noise.
            raise StopValidation(str(self.message))


GERMAN_POSTCODE = Regexp(r"\d{5}", _l("A postcode has five digits."))


class UniqueTogether:
    """No other row may have the same values in ``columns`` (a composite unique).

    Put it on the last of the columns; FAB sets ``form._id`` to the edited row's
    primary key so that the row itself does not count.
    """

    def __init__(self, model, columns: list[str], message):
        self.model = model
        self.columns = columns
        self.message = message

    def __call__(self, form, field) -> None:
        values = {}
        for column in self.columns:
            value = _other_value(form, column)
            if value is None:
                return
            values[column] = getattr(value, "id", value)
        session = current_app.appbuilder.session
        stmt = select(self.model.id)
        for column, value in values.items():
            relationship = getattr(self.model, column).property
            if hasattr(relationship, "local_columns"):
                (local,) = relationship.local_columns
                stmt = stmt.where(local == value)
            else:
                stmt = stmt.where(getattr(self.model, column) == value)
        own_id = getattr(form, "_id", None)
        if own_id is not None:
            stmt = stmt.where(self.model.id != int(own_id))
        if session.execute(stmt.limit(1)).first() is not None:
            raise ValidationError(str(self.message))


class NoTerritoryCycle:
    """A territory's parent must not be the territory itself or one of its children."""

    message = _l("A territory cannot lie below itself.")

    def __call__(self, form, field) -> None:
        parent = field.data
        own_id = getattr(form, "_id", None)
        if parent is None or own_id is None:
            return
        node, seen = parent, set()
        while node is not None and node.id not in seen:
            if node.id == int(own_id):
                raise ValidationError(str(self.message))
            seen.add(node.id)
            node = node.parent


class NormaliseEmail:
    """Strip and lower-case an email before the other validators (Unique) see it,
    the way the model stores it."""

    def __call__(self, _form, field) -> None:
        if isinstance(field.data, str):
            field.data = field.data.strip().lower()
