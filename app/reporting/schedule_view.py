"""Agency screen of the monthly campaign reports (Reporting › Monthly reports).

Project and contacts are searchable remote selects (no dropdown of every row); the
checks live in :mod:`app.reporting.schedules` (contacts of the project's customer only).
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import BooleanField

from app.common.quick_filters import QuickFilteredList
from app.common.views import AgencyModelView, boolean_field
from app.extensions import db
from app.lookups.relation_filters import RelationFilter
from app.lookups.remote_select import RemoteSelectField, RemoteSelectWidget, remote_select
from app.models.report_schedules import ReportSchedule
from app.reporting.schedules import check_contacts


class RemoteMultiSelectWidget(RemoteSelectWidget):
    """The remote select with ``multiple``: the chosen rows as options, more by searching."""

    def __call__(self, field: RemoteMultiSelectField, **kwargs) -> Markup:
        chosen, field.data = field.data, None  # the single widget renders one chosen row
        try:
            html = str(super().__call__(field, **kwargs))
        finally:
            field.data = chosen
        options = "".join(
            f'<option value="{item.id}" selected>{escape(field.option_label(item))}</option>'
            for item in chosen or []
        )
        html = html.replace("<select ", "<select multiple ", 1)
        return Markup(html.replace('<option value=""></option>', options, 1))


class RemoteMultiSelectField(RemoteSelectField):
    """Several rows of one kind chosen by primary key; ``data`` is a list of ORM rows."""

    widget = RemoteMultiSelectWidget()

    def process_data(self, value) -> None:
        self.data = list(value or [])

    def process_formdata(self, valuelist) -> None:
        self.data, self._unknown = [], False
        for raw in valuelist[:200]:
            raw = (raw or "").strip()
            if not raw or raw == "__None":
                continue
            row = db.session.get(self.model, int(raw)) if raw.isdigit() and len(raw) < 19 else None
            if row is None:
                self._unknown = True
            elif row not in self.data:
                self.data.append(row)


#: Short: FAB's form does not wrap the help text on a phone.
RECIPIENTS_HELP = _l("Empty: all the project's contacts")


class ReportScheduleView(QuickFilteredList, AgencyModelView):
    datamodel = SQLAInterface(ReportSchedule)
    list_title = _l("Monthly reports")
    show_title = _l("Monthly report")
    add_title = _l("Add monthly report")
    edit_title = _l("Edit monthly report")
    list_columns = ["project", "active", "recipients", "last_sent_month"]
    show_columns = ["project", "active", "recipients", "last_sent_month", "created_at"]
    add_columns = edit_columns = ["project", "contacts", "active"]
    # The project is chosen by searching above the list (not a dropdown of every project).
    search_columns = ["active", "last_sent_month"]
    quick_filter = RelationFilter(
        ("project", _l("Project"), "project", lambda pk: ReportSchedule.project_id == pk)
    )
    order_columns = ["active", "last_sent_month"]
    base_order = ("id", "desc")
    label_columns = {
        **AgencyModelView.label_columns,
        "recipients": _l("Recipients"),
        "contacts": _l("Recipients"),
        "last_sent_month": _l("Last sent (month)"),
    }
    formatters_columns = {"recipients": lambda value: value}
    _fields = {
        "project": remote_select(_l("Project"), "project"),
        "contacts": RemoteMultiSelectField(_l("Recipients"), kind="contact", description=RECIPIENTS_HELP),
    }
    add_form_extra_fields = {**_fields, "active": BooleanField(_l("Active"), default=True)}
    edit_form_extra_fields = {**_fields, "active": boolean_field(_l("Active"))}

    # A ValueError here is flashed by FAB and nothing is saved.
    def pre_add(self, item: ReportSchedule) -> None:
        check_contacts(item.project, list(item.contacts))

    def pre_update(self, item: ReportSchedule) -> None:
        check_contacts(item.project, list(item.contacts))
