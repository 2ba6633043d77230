"""REST APIs whose writes are validated exactly like the agency forms."""

from __future__ import annotations

import datetime as dt
import sys

from flask import current_app, request
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.const import API_RESULT_RES_KEY
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from app.common.input_guard import VALUE_ERRORS, rollback_session, value_refused_message


def _as_form_values(value) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, bool):
        return ["y"] if value else []
    if isinstance(value, list | tuple | set):
        return [v for item in value for v in _as_form_values(item)]
    if isinstance(value, dt.time):
        return [value.strftime("%H:%M")]
    if isinstance(value, dt.date):
        return [value.isoformat()]
    if hasattr(value, "id"):
        return [str(value.id)]
    if isinstance(value, str) and len(value) == 8 and value.count(":") == 2:
        return [value[:5]]  # "10:00:00" -> "10:00", as a time input sends it
    return [str(value)]


class FormValidatedApi(ModelRestApi):
    """A FAB REST API that runs the add/edit form of ``form_view`` on every write.

    Bad input gets the same (translated) messages as in the agency screens and
    a 422 — never a database error or a 500.
    """

    form_view: type | None = None

    def _form_class(self, editing: bool):
        for view in current_app.appbuilder.baseviews:
            if self.form_view is not None and isinstance(view, self.form_view):
                return view.edit_form if editing else view.add_form
        return None

    def _form_errors(self, payload: dict, item=None) -> dict | None:
        form_class = self._form_class(editing=item is not None)
        if form_class is None:
            return None
        values = MultiDict()
        if item is not None:
            for name in self.edit_columns:
                for v in _as_form_values(getattr(item, name, None)):
                    values.add(name, v)
        for name, value in payload.items():
            values.setlist(name, _as_form_values(value))
        form = form_class(formdata=values, meta={"csrf": False})
        if item is not None:
            form._id = item.id
        if form.validate():
            return None
        return {name: [str(e) for e in errors] for name, errors in form.errors.items()}

    def response_500(self, message: str | None = None):
        """FAB answers every exception of a list or item request with 500; a value the
        database cannot take or compare (a filter on a number with "abc", a page beyond
        64 bits, a negative page on PostgreSQL) is the client's mistake: 400."""
        error = sys.exc_info()[1]
        # FAB wraps a filter's database error in its ApplyFilterException.
        causes = (error, getattr(error, "exception", None), getattr(error, "__context__", None))
        if any(isinstance(e, VALUE_ERRORS) for e in causes):
            rollback_session()
            return self.response_400(message=value_refused_message())
        return super().response_500(message=message)

    def _database_error(self) -> object:
        self.datamodel.session.rollback()
        return self.response_422(message="The change conflicts with existing data.")

    def _refused(self, error: ValueError) -> object:
        """A workflow's refusal (its message is for the client): 422, nothing changed."""
        self.datamodel.session.rollback()
        as_json = getattr(error, "as_json", None)
        return self.response_422(message=as_json() if as_json else str(error))

    def _write(self, write, *args) -> object:
        try:
            return write(*args)
        except SQLAlchemyError:
            return self._database_error()
        except ValueError as error:  # raised by the pre_* hooks or the operation
            return self._refused(error)

    #: ``create_through_operation(item)`` — a workflow operation that creates the row from
    #: the loaded (unsaved) item and returns it; None: FAB inserts the row itself.
    create_through_operation = None

    def _create(self) -> object:
        try:
            item = self.add_model_schema.load(request.json)
        except ValidationError as err:
            return self.response_422(message=err.messages)
        created = self.create_through_operation(item)
        return self.response(
            201,
            **{API_RESULT_RES_KEY: self.add_model_schema.dump(created, many=False), "id": created.id},
        )

    def post_headless(self):
        if not request.is_json or not isinstance(request.json, dict):
            return self.response_400(message="Request is not a JSON object")
        errors = self._form_errors(request.json)
        if errors:
            return self.response_422(message=errors)
        if self.create_through_operation is not None:
            return self._write(self._create)
        return self._write(super().post_headless)

    def put_headless(self, pk):
        if not request.is_json or not isinstance(request.json, dict):
            return self.response_400(message="Request is not a JSON object")
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        errors = self._form_errors(request.json, item)
        if errors:
            return self.response_422(message=errors)
        return self._write(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._write(super().delete_headless, pk)
