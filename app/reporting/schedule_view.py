"""Agency screen of the monthly campaign reports (Reporting › Monthly reports).

Project and contacts are searchable remote selects (no dropdown of every row); the
checks live in :mod:`app.reporting.schedules` (contacts of the project's customer only).
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from app.common.quick_filters import QuickFilteredList
from app.common.views import AgencyModelView, boolean_field
from app.lookups.relation_filters import RelationFilter
from app.lookups.remote_select import RemoteMultiSelectField, remote_select
from app.models.report_schedules import ReportSchedule
from app.reporting.schedules import check_contacts

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
