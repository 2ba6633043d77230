"""Input that the database cannot hold is refused where it enters, in the user's language.

- Query strings, URL arguments and JSON bodies with a NUL byte or a lone surrogate
  (PostgreSQL cannot store either) are answered with 400 before any view runs.
- Record ids in the URL that no row can have (not a number, negative, beyond 64 bits)
  are answered with 404.
- Form fields get a field error instead (every WTForms form: the agency screens, the
  customer and promoter systems, the three logins), and a date or time that cannot be
  read keeps its own message ("Not a valid date value.") instead of "This field is
  required.".
- FAB's list arguments it would crash on (a filter index the column lacks, a yes/no or
  related-record filter with a value of the wrong kind, a page number that is no number,
  a value longer than SQLite's LIKE accepts) are answered with 400.
- Last line: a statement whose parameters still hold such a value, or an integer beyond
  64 bits, is not sent to the database (``InputNotStorable`` → 400); a value the database
  refuses (DataError, 400) or a constraint it enforces (IntegrityError, 409) is logged and
  answered with a short message, never with SQL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from wtforms.fields.core import Field

log = logging.getLogger(__name__)

#: NUL and the UTF-16 surrogates: no PostgreSQL text column can hold them.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: The range of a 64-bit integer column (every id of the schema is one).
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
#: URL arguments that name a record: ``pk`` and ``<x>_id``.
_ID_ARGUMENT = re.compile(r"(pk|.*_id)")
_ID_VALUE = re.compile(r"\d{1,19}")
#: FAB's list filters: ``_flt_<index>_<column>``.
_FILTER_ARGUMENT = re.compile(r"_flt_(\d)_(.*)")
_PAGE_VALUE = re.compile(r"\d{1,9}")
#: Longest query-string value: far above any real filter, below what SQLite's LIKE accepts
#: (50,000 bytes, and a character takes up to four).
MAX_QUERY_VALUE = 10_000

FIELD_MESSAGE = _l(
    "This field contains characters that cannot be stored (such as a NUL byte). Please remove them."
)


class InputNotStorable(ValueError):
    """A value reached a statement that the database cannot store or compare."""


def has_unstorable(value: Any) -> bool:
    """True if ``value`` (a string, or a list/dict of them, however nested) holds an unstorable character."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, Mapping):
        return any(has_unstorable(k) or has_unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_unstorable(v) for v in value)
    return False


def _multidict_unstorable(values) -> bool:
    return any(has_unstorable(key) or has_unstorable(value) for key, value in values.items(multi=True))


def _out_of_range_id(name: str, value: Any) -> bool:
    if not _ID_ARGUMENT.fullmatch(name):
        return False
    if isinstance(value, int):
        return not 0 <= value <= MAX_INT
    if isinstance(value, str):
        return not (_ID_VALUE.fullmatch(value) and int(value) <= MAX_INT)
    return False


def _refuse(message: str, status: int = 400):
    if request.path.startswith("/api/"):
        return jsonify(message=message), status
    return render_template("error.html", title=_("Invalid input"), message=message), status


#: Errors that mean "the request held a value the database cannot take or compare".
VALUE_ERRORS = (InputNotStorable, DataError, OverflowError)


def value_refused_message() -> str:
    return _("The request contains a value that cannot be stored or looked up. Please check your input.")


def _unstorable_message() -> str:
    return _(
        "The request contains characters that cannot be stored (such as a NUL byte). Please remove them."
    )


def check_request():
    """``before_request``: refuse query strings, URL arguments and JSON the database cannot hold."""
    if (request.endpoint or "").endswith(".download"):
        abort(404)  # FAB's file-column downloads: no promoplan record has files
    for name, value in (request.view_args or {}).items():
        if _out_of_range_id(name, value):
            abort(404)
    if not _chart_group_exists():
        abort(404)
    if has_unstorable(request.path) or _multidict_unstorable(request.args):
        return _refuse(_unstorable_message())
    if any(len(value) > MAX_QUERY_VALUE for _key, value in request.args.items(multi=True)):
        return _refuse(_("A search value is too long."))
    if (problem := _filter_problem()) is not None:
        return _refuse(problem)
    if not _page_arguments_valid():
        return _refuse(_("A page number or page size is not valid."))
    if request.is_json:
        body = request.get_json(silent=True)
        if body is None and request.get_data():
            return _refuse(_("The request body is not valid JSON."))
        if has_unstorable(body):
            return _refuse(_unstorable_message())
    return None


def _view():
    """The FAB view serving this request (None for the customer and promoter systems)."""
    blueprint = (request.endpoint or "").split(".", 1)[0]
    return next(
        (v for v in current_app.appbuilder.baseviews if getattr(v, "endpoint", None) == blueprint), None
    )


def _filter_problem() -> str | None:
    """What is wrong with FAB list filters (``_flt_<index>_<column>``) FAB itself would
    crash on: an index the column does not have (IndexError), a yes/no filter whose
    value is not FAB's "y" (compared as text with a boolean column on PostgreSQL), or a
    related record's filter whose value is no id (a database error FAB flashes by name)."""
    wanted = [
        (m.groups(), value)
        for key, value in request.args.items(multi=True)
        if (m := _FILTER_ARGUMENT.fullmatch(key))
    ]
    if not wanted:
        return None
    view = _view()
    filters = getattr(getattr(view, "_filters", None), "_all_filters", None)
    if filters is None:
        return None
    for (index, column), value in wanted:
        if column not in filters:
            continue
        if int(index) >= len(filters[column]):
            return _("This filter is not available.")
        if view.datamodel.is_boolean(column) and value != "y":
            return _("This filter value is not valid.")
        if view.datamodel.is_relation(column) and value and not value.isdigit():
            return _("This filter value is not valid.")  # a related record's id
    return None


def _page_arguments_valid() -> bool:
    """FAB reads ``page_<view>`` and ``psize_<view>`` (any key containing them) with
    ``int()``: "abc" would be a ValueError (a 500)."""
    paging = [value for key, value in request.args.items(multi=True) if "page_" in key or "psize_" in key]
    if not paging or _view() is None:
        return True
    return all(_PAGE_VALUE.fullmatch(value) for value in paging)


def _chart_group_exists() -> bool:
    """FAB's chart views take ``<group_by>`` as an index into their definitions."""
    group_by = (request.view_args or {}).get("group_by")
    if group_by is None:
        return True
    definitions = getattr(_view(), "definitions", None) or []
    return str(group_by).isdigit() and int(group_by) < len(definitions)


# ---------------------------------------------------------------- forms


def _raw_strings(field: Field) -> list[str]:
    return [v for v in (getattr(field, "raw_data", None) or []) if isinstance(v, str)]


_original_validate = Field.validate


def _validate_field(self: Field, form, extra_validators=()) -> bool:
    """``Field.validate`` that refuses unstorable characters first (before a Unique
    validator takes the value to the database) and keeps a parse error's message."""
    raw = _raw_strings(self)
    if has_unstorable(raw):
        self.errors = [str(FIELD_MESSAGE)]
        return False
    valid = _original_validate(self, form, extra_validators)
    if self.process_errors and any(v.strip() for v in raw):
        # DataRequired clears the errors and says "This field is required." for a date
        # that was typed but cannot be read ("30.02.2026"); the parse error says why.
        # (Other validators only saw the missing value, so their messages add nothing.)
        self.errors = [str(e) for e in self.process_errors]
        valid = False
    return valid


def install_form_checks() -> None:
    """Install the field check on every WTForms field (once per process)."""
    if Field.validate is not _validate_field:
        Field.validate = _validate_field


# ---------------------------------------------------------------- the database


def _parameter_values(parameters) -> Iterable[Any]:
    if isinstance(parameters, Mapping):
        yield from parameters.values()
    elif isinstance(parameters, list | tuple):
        for item in parameters:
            if isinstance(item, Mapping | list | tuple):
                yield from _parameter_values(item)
            else:
                yield item


def _check_parameters(_conn, _cursor, statement, parameters, _context, _executemany):
    for value in _parameter_values(parameters):
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                raise InputNotStorable("unstorable character in a statement parameter")
        elif isinstance(value, int) and not isinstance(value, bool) and not MIN_INT <= value <= MAX_INT:
            raise InputNotStorable("integer beyond 64 bits in a statement parameter")
    return statement, parameters


def install_statement_check() -> None:
    if not event.contains(Engine, "before_cursor_execute", _check_parameters):
        event.listen(Engine, "before_cursor_execute", _check_parameters, retval=True)


# ---------------------------------------------------------------- error pages


def rollback_session() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection itself may be gone; the page must still render
        log.exception("rollback after a database error failed")


def init_input_guard(app: Flask) -> None:
    install_form_checks()
    install_statement_check()
    app.before_request(check_request)

    @app.errorhandler(InputNotStorable)
    def not_storable(error):
        rollback_session()
        log.info("refused input: %s (%s %s)", error, request.method, request.path)
        return _refuse(value_refused_message())

    @app.errorhandler(DataError)
    def data_error(error):
        rollback_session()
        log.warning("database refused a value: %s", error)
        return _refuse(value_refused_message())

    @app.errorhandler(IntegrityError)
    def integrity_error(error):
        rollback_session()
        log.warning("database constraint: %s", error)
        return _refuse(_("The change conflicts with existing data and was not saved."), 409)

    @app.errorhandler(OverflowError)
    def overflow(error):
        rollback_session()
        log.info("number out of range: %s (%s %s)", error, request.method, request.path)
        return _refuse(value_refused_message())
