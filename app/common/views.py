"""Base class and helpers for the generated agency screens."""

from __future__ import annotations

import datetime as dt
import logging

from flask import flash, g, has_app_context, redirect, request
from flask_appbuilder import ModelView
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import get_filter_args
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired, Optional

from app.common.choices import CODED_COLUMNS, label
from app.common.dates import localise_date_fields
from app.common.formatting import format_clock, format_day, format_utc_moment
from app.common.labels import COLUMN_LABELS, TABLE_LABELS
from app.common.refusals import flash_message


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
    """How FAB lists and show pages render plain values (no "None", "True", "[A, B]", ISO
    dates or UTC timestamps with microseconds): dates as "15.12.2026" (German) or
    "12/15/2026" (English), stored (UTC) timestamps in local time, times as "09:05"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _l("Yes") if value else _l("No")
    if isinstance(value, dt.datetime):
        return format_utc_moment(value)
    if isinstance(value, dt.date):
        return format_day(value)
    if isinstance(value, dt.time):
        return format_clock(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def code_formatter(values: dict):
    return lambda code: label(values, code)


def label_empty_choices(form_class) -> None:
    """FAB's related-record selects show their empty choice as "__None"; show "–" instead."""
    if form_class is None:
        return
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        field_class = getattr(unbound, "field_class", None)
        is_select = isinstance(field_class, type) and issubclass(field_class, QuerySelectField)
        if is_select and not unbound.kwargs.get("blank_text"):
            unbound.kwargs["blank_text"] = "–"


def boolean_field(text) -> BooleanField:
    """A checkbox FAB would otherwise make required (NOT NULL), so unchecked could not be saved."""
    return BooleanField(text, default=False)


class _FreshValidatorLists(dict):
    """FAB appends its own validators (Length, Unique, …) to the list it gets from
    ``validators_columns``; hand out a copy so add and edit forms don't share them."""

    def get(self, key, default=None):
        value = super().get(key, default)
        return list(value) if isinstance(value, list) else value


class StripWhitespace:
    """Trim text input before the other validators see it (and before it is stored)."""

    field_flags = {}

    def __call__(self, _form, field) -> None:
        if isinstance(field.data, str):
            field.data = field.data.strip()


log = logging.getLogger(__name__)


class NotSaved(Exception):
    """A write the database refused; ``str()`` is the short message FAB flashes."""


def related_list() -> dict:
    """While a show or edit page queries one of its related lists: ``{"back": name}``, the
    relation of the listed rows that points to the shown row; otherwise empty."""
    return g.get("related_list", {}) if has_app_context() else {}


def _first_relation(option) -> str | None:
    """The first relation of a loader option's path (``job`` of ``selectinload(Appointment.job)
    .selectinload(Job.location)``)."""
    try:
        return option.path[1].key
    except (AttributeError, IndexError, TypeError):
        return None


class FriendlyErrorsInterface(SQLAInterface):
    """FAB's data interface whose database errors say what happened in the user's
    language. FAB flashes ``str(error)``, which on PostgreSQL is the SQL statement with
    its parameters; the detail goes to the log instead.

    It also loads the related rows a list shows with the page (``list_loads``, set by
    ``AgencyModelView`` from its list columns): FAB's list and the related lists on show
    and edit pages query without them, so each row's store, project … came one by one."""

    #: loader options for the list columns that are relations (see ``list_loader_options``)
    list_loads: tuple = ()
    #: joined loads of the one row a show or edit page shows (its store, project …)
    item_loads: tuple = ()

    def apply_all(
        self,
        query,
        filters=None,
        order_column: str = "",
        order_direction: str = "",
        page: int | None = None,
        page_size: int | None = None,
        select_columns=None,
        outer_default_load: bool = False,
    ):
        query = super().apply_all(
            query, filters, order_column, order_direction, page, page_size, select_columns, outer_default_load
        )
        if page_size is None:  # one row (show and edit pages); a select's options have none
            return query.options(*self.item_loads) if self.item_loads else query
        options = self.list_options()
        back = related_list().get("back")
        if back:
            # A related list's rows all point to the shown row (and its store …), which the
            # session holds already: loading it again would be a statement for nothing.
            options = tuple(option for option in options if _first_relation(option) != back)
        return query.options(*options)

    def list_options(self) -> tuple:
        """Loader options of a list page."""
        return self.list_loads

    def query(
        self,
        filters=None,
        order_column: str = "",
        order_direction: str = "",
        page: int | None = None,
        page_size: int | None = None,
        select_columns=None,
        outer_default_load: bool = False,
    ):
        """FAB's query; without a page (the options of a form's select) the rows are all
        there is, so they are not counted first in a statement of their own. A related list
        on a show or edit page counts its rows in its page's statement (``count(*) OVER ()``):
        its rows are those of one project, company … (a list page of a large table keeps
        FAB's count, which need not read past the page's rows in their order)."""
        if page is not None or page_size is not None:
            if related_list():
                rows = (
                    self.apply_all(
                        self.session.query(self.obj),
                        filters,
                        order_column,
                        order_direction,
                        page,
                        page_size,
                        select_columns,
                        outer_default_load,
                    )
                    .add_columns(func.count().over())
                    .all()
                )
                if rows or not page:
                    return (rows[0][1] if rows else 0), [row[0] for row in rows]
            return super().query(
                filters, order_column, order_direction, page, page_size, select_columns, outer_default_load
            )
        rows = self.apply_all(
            self.session.query(self.obj),
            filters,
            order_column,
            order_direction,
            select_columns=select_columns,
            outer_default_load=outer_default_load,
        ).all()
        return len(rows), rows

    def get_related_interface(self, col_name: str) -> SQLAInterface:
        """The interface of a related table (form selects, filters): one of these, so that
        its options are not counted either (FAB makes one of this class, whose list
        options would not fit)."""
        return FriendlyErrorsInterface(self.get_related_model(col_name), self._session)

    def _guarded(self, write, *args, **kwargs) -> None:
        try:
            write(*args, **kwargs)
        except (SQLAlchemyError, DatabaseException) as error:
            log.warning(
                "%s of %s refused by the database: %r",
                write.__name__,
                self.obj.__name__,
                error.__cause__ or error,
            )
            self.session.rollback()
            raise NotSaved(
                str(_l("The change could not be saved because it conflicts with existing data."))
            ) from None

    def add(self, item, commit: bool = True) -> None:
        self._guarded(super().add, item, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._guarded(super().edit, item, commit)

    def delete(self, item, commit: bool = True) -> None:
        self._guarded(super().delete, item, commit)

    def delete_all(self, items) -> None:
        self._guarded(super().delete_all, items)


def list_loader_options(datamodel: SQLAInterface, columns) -> tuple:
    """Eager loads for the relations a list shows: a joined load for a row's one store,
    project … (``location``, ``job.location.name``), a second statement for a collection
    (``bookings``). Without them every row loads its related rows on its own."""
    options = {}
    for column in columns:
        path = column.split(".")
        if len(path) > 1:
            path = path[:-1]  # "job.location.name": load job and its location
        model, load, key = datamodel.obj, None, ""
        for name in path:
            relation = inspect(model).relationships.get(name)
            if relation is None:
                break
            attribute = getattr(model, name)
            if relation.uselist:
                load = load.selectinload(attribute) if load is not None else selectinload(attribute)
            else:
                load = load.joinedload(attribute) if load is not None else joinedload(attribute)
            key = f"{key}.{name}"
            options[key] = load
            model = relation.mapper.class_
    # the longest paths carry their prefixes
    return tuple(
        option for key, option in options.items() if not any(k.startswith(f"{key}.") for k in options)
    )


def item_loader_options(datamodel: SQLAInterface, columns) -> tuple:
    """Joined loads of the many-to-one relations a show or edit page shows (in the row's own
    statement, not one more each); collections stay lazy (one statement each either way)."""
    relations = inspect(datamodel.obj).relationships
    return tuple(
        joinedload(getattr(datamodel.obj, name))
        for name in dict.fromkeys(columns)
        if name in relations and not relations[name].uselist
    )


class AgencyModelView(ModelView):
    """A generated CRUD screen of the agency system."""

    label_columns = COLUMN_LABELS
    page_size = 25
    #: What FAB flashes when an edit fails in the database (its own text is "Database Error").
    database_error_message = _l("The change could not be saved because it conflicts with existing data.")
    #: False: rows are never edited in a form (their states change through actions only).
    editable = True

    def __init__(self, **kwargs):
        if type(self.datamodel) is SQLAInterface:
            self.datamodel = FriendlyErrorsInterface(self.datamodel.obj, self.datamodel._session)
        self.validators_columns = _FreshValidatorLists(self.validators_columns or {})
        self._require_text_in_required_strings()
        super().__init__(**kwargs)
        if isinstance(self.datamodel, FriendlyErrorsInterface) and not getattr(
            self.datamodel, "loader_options", ()
        ):
            self.datamodel.list_loads = list_loader_options(self.datamodel, self.list_columns)
        if isinstance(self.datamodel, FriendlyErrorsInterface):
            self.datamodel.item_loads = item_loader_options(
                self.datamodel, [*self.show_columns, *self.edit_columns]
            )
        if not self.editable:
            self.base_permissions = [p for p in self.base_permissions if p != "can_edit"]
        columns = {*self.list_columns, *self.show_columns}
        self.formatters_columns = {
            **dict.fromkeys(columns, display),
            **self._code_formatters(columns),
            **self.formatters_columns,
        }

    def _get_related_view_widget(self, item, related_view, *args, **kwargs):
        """A related list of a show or edit page: its rows and their count in one statement
        (see ``FriendlyErrorsInterface.query``)."""
        g.related_list = {"back": related_view.datamodel.get_related_fk(self.datamodel.obj)}
        # FAB renders the page after its own reference to the row is gone and the session
        # holds rows weakly: the related rows' pointers to it would load it again, one of them.
        g.shown_row = item
        try:
            return super()._get_related_view_widget(item, related_view, *args, **kwargs)
        finally:
            g.related_list = {}

    def _code_formatters(self, columns) -> dict:
        """Labels instead of codes ("pending" → "Wartet auf Versand") for the coded columns."""
        table = getattr(self.datamodel.obj, "__tablename__", None)
        return {
            column: code_formatter(CODED_COLUMNS[table, column])
            for column in columns
            if (table, column) in CODED_COLUMNS
        }

    def _init_forms(self) -> None:
        """FAB's forms, with date fields that read and show the user's format (dd.mm.yyyy)."""
        super()._init_forms()
        localise_date_fields(self.add_form)
        localise_date_fields(self.edit_form)
        for form_class in (self.add_form, self.edit_form, self.search_form):
            label_empty_choices(form_class)

    def _require_text_in_required_strings(self) -> None:
        """FAB's InputRequired accepts "   " for a NOT NULL text column; these must hold text."""
        for column in self.datamodel.get_columns_list():
            if self.datamodel.is_string(column) and not self.datamodel.is_nullable(column):
                chain = list(self.validators_columns.get(column, []))
                self.validators_columns[column] = [StripWhitespace(), DataRequired(), *chain]

    #: A workflow operation that creates the row from the add form's unsaved item and
    #: returns the message to show; None: FAB inserts the row itself.
    add_through_operation = None

    def _add(self):
        """FAB's add, except that a workflow operation creates the row (``add_through_operation``).

        A refusal (any ValueError) is shown with the filled form again; nothing is saved.
        """
        if self.add_through_operation is None:
            return super()._add()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method != "POST":
            self.update_redirect()
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self._fill_form_exclude_cols(exclude_cols, form)
        if not form.validate():
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self.process_form(form, True)
        item = self.datamodel.obj()
        session = self.datamodel.session
        with session.no_autoflush:
            form.populate_obj(item)
        try:
            message = self.add_through_operation(item)
        except ValueError as error:
            session.rollback()
            field = getattr(error, "field", None)
            if field is not None and field in form:
                form[field].errors = [*form[field].errors, str(error)]
            else:
                flash(flash_message(error), "warning")
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        flash(message, "success")
        return None

    def refuse_with_rollback(self, check, item) -> None:
        """Run ``check(item)`` in a ``pre_*`` hook; on a refusal undo what the form filled in."""
        try:
            check(item)
        except ValueError:
            self.datamodel.session.rollback()
            raise

    def pre_delete(self, item) -> None:
        """Refuse, with a reason, to delete a row that other rows still point to."""
        blockers = referencing_rows(self.datamodel.session, item)
        if blockers:
            raise DeleteRefused(
                _l(
                    "This entry cannot be deleted while it still has: %(what)s. Delete or move those first.",
                    what=", ".join(blockers),
                )
            )


def referencing_rows(session, item) -> list[str]:
    """Labels of the tables whose rows still point to ``item`` through a
    foreign key that neither cascades nor nulls (the ones that block a delete)."""
    table = inspect(type(item)).local_table
    found = []
    for other in table.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or (fk.ondelete or "").upper() in ("CASCADE", "SET NULL"):
                continue
            count = session.scalar(
                select(func.count()).select_from(other).where(fk.parent == getattr(item, fk.column.key))
            )
            if count:
                found.append(f"{TABLE_LABELS.get(other.name, other.name)} ({count})")
    return found


class DeleteRefused(Exception):
    """A delete the user must resolve first; the message is shown."""


def as_list(items) -> list:
    """FAB passes one row to a single action, a list to a multiple one; None for unknown keys."""
    return [item for item in (items if isinstance(items, list) else [items]) if item is not None]


def run_action(view, items, change, done_message) -> object:
    """Run ``change(item)`` on each row; flash how many succeeded and why others were refused."""
    done = 0
    for item in as_list(items):
        try:
            change(item)
        except ValueError as error:  # a workflow's refusal (its message is for the user)
            view.datamodel.session.rollback()
            flash(Markup("{}: {}").format(item, flash_message(error)), "warning")
        else:
            done += 1
    if done:
        flash(done_message(done), "success")
    elif not as_list(items):
        flash(_("Please select at least one row."), "warning")
    view.update_redirect()  # back to the page the action was chosen on (list or show page)
    return redirect(view.get_redirect())
