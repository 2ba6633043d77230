"""Agency screens of planning: projects, jobs, appointments."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, TimeField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.common.choices import (
    APPOINTMENT_ORIGINS,
    APPOINTMENT_STATUSES,
    JOB_STATUSES,
)
from app.common.eager_interface import capped_list
from app.common.labels import COLUMN_LABELS
from app.common.quick_filters import QuickFilteredList, QuickFilterSet
from app.common.timezone import local_today
from app.common.validators import After, UniqueTogether
from app.common.views import AgencyModelView, as_list, code_formatter, run_action
from app.common.widgets import BS3TimeWidget
from app.lookups.relation_filters import RelationFilter
from app.lookups.remote_select import RemoteMultiSelectField, remote_select
from app.models.crm import Contact
from app.models.planning import Appointment, Booking, Job, Project
from app.planning import operations, write_paths
from app.planning.appointment_list import ARGUMENTS, read_quick_filter
from app.security.roles import AgencyUsersFilter
from app.staffing import operations as staffing
from app.staffing.views import ApplicationView, BookingView


class StaleEditError(Exception):
    """Someone else saved the row after this form was opened."""


def _confirmed_promoters(bookings) -> str:
    return ", ".join(str(b.promoter) for b in bookings if b.status == "confirmed")


#: The questionnaire selects offer only questionnaires of their kind.
_QUESTIONNAIRE_FILTERS = {
    "day_questionnaire": [["kind", FilterEqual, "day"]],
    "week_questionnaire": [["kind", FilterEqual, "week"]],
}


def _effective_questionnaire(value) -> str:
    """The questionnaire a job or appointment uses and where it comes from."""
    if value is None:
        return _("none")
    questionnaire, source = value
    if source == "project":
        return _("%(name)s (from the project)", name=questionnaire)
    if source == "job":
        return _("%(name)s (from the job)", name=questionnaire)
    return _("%(name)s (own)", name=questionnaire)


class AppointmentView(AgencyModelView):
    # Store, city and promoters of the whole page in a fixed number of statements; the pager
    # counts at most 1,000 rows past the page shown. A day's appointments come by their start
    # (then by id, so that paging is stable), whichever way the date is sorted.
    datamodel = capped_list(
        Appointment,
        selectinload(Appointment.job).selectinload(Job.location),
        selectinload(Appointment.bookings).selectinload(Booking.promoter),
        then_by={"date": ("start_time",)},
    )
    list_title = _l("Appointments")
    show_title = _l("Appointment")
    add_title = _l("Add appointment")
    edit_title = _l("Edit appointment")
    list_template = "planning/appointment_list.html"
    list_columns = [
        "date",
        "start_time",
        "end_time",
        "job.location.name",
        "job.location.city",
        "job",
        "bookings",
        "status",
    ]
    # No job or contact filter in FAB's filter bar (a dropdown of every row): the quick
    # filters above the list choose store and job by searching.
    search_columns = ["date", "status", "origin"]
    label_columns = {
        **COLUMN_LABELS,
        "job.location.name": _l("Store"),
        "job.location.city": _l("City"),
        "bookings": _l("Confirmed promoters"),
        # set when the agency approves the appointment's day report
        "actual_start_time": _l("Actual start"),
        "actual_end_time": _l("Actual end"),
    }
    show_columns = [
        "job",
        "date",
        "start_time",
        "end_time",
        "status",
        "actual_start_time",
        "actual_end_time",
        "origin",
        "proposed_by",
        "note",
        "decided_by",
        "decided_at",
        "decision_reason",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "version",
        "effective_day_questionnaire",
    ]
    # Adding plans (operations.plan_appointment), a new date or time moves
    # (operations.move_appointment); the status changes only through the actions.
    add_columns = ["job", "date", "start_time", "end_time", "note", "day_questionnaire"]
    edit_columns = ["date", "start_time", "end_time", "note", "day_questionnaire", "expected_version"]
    add_form_query_rel_fields = edit_form_query_rel_fields = _QUESTIONNAIRE_FILTERS
    order_columns = ["date", "start_time", "end_time", "status", "origin"]
    base_order = ("date", "asc")
    related_views = [BookingView]
    formatters_columns = {
        "status": code_formatter(APPOINTMENT_STATUSES),
        "origin": code_formatter(APPOINTMENT_ORIGINS),
        "start_time": lambda t: t.strftime("%H:%M"),
        "end_time": lambda t: t.strftime("%H:%M"),
        "actual_start_time": lambda t: t.strftime("%H:%M") if t else "–",
        "actual_end_time": lambda t: t.strftime("%H:%M") if t else "–",
        "bookings": _confirmed_promoters,
        "effective_day_questionnaire": _effective_questionnaire,
    }
    _time_fields = {
        "start_time": TimeField(_l("Start"), widget=BS3TimeWidget(), validators=[DataRequired()]),
        "end_time": TimeField(
            _l("End"),
            widget=BS3TimeWidget(),
            validators=[DataRequired(), After("start_time", _l("The end must be after the start."))],
        ),
        "job": remote_select(_l("Job"), "job"),
    }
    add_form_extra_fields = _time_fields
    edit_form_extra_fields = {**_time_fields, "expected_version": HiddenField()}
    edit_exclude_columns = []

    def prefill_form(self, form, pk) -> None:
        # the row the edit page has just loaded (no second query with the list's loads)
        item = self.datamodel.session.get(Appointment, pk)
        form.expected_version.data = str(item.version)

    def _get_list_widget(self, filters, **kwargs):
        """FAB's list plus the quick filters (on the list page itself, not in related lists)."""
        if request.endpoint == f"{type(self).__name__}.list":
            date_filtered = any(flt.column_name == "date" for flt in filters.filters)
            form, quick = read_quick_filter(request.args, date_filtered)
            g.appointment_quick_filter = form
            g.appointment_fab_args = [
                (key, value)
                for key, value in request.args.items(multi=True)
                if key not in ARGUMENTS and not key.startswith("page_")
            ]
            conditions = quick.conditions(local_today())
            if conditions:
                filters = filters.copy().add_filter("id", QuickFilterSet, conditions)
        return super()._get_list_widget(filters, **kwargs)

    def add_through_operation(self, item: Appointment) -> str:
        write_paths.plan_from(self.datamodel.session, item, g.user)
        return _("The appointment is planned.")

    def pre_delete(self, item: Appointment) -> None:
        write_paths.check_appointment_delete(item)
        super().pre_delete(item)

    @action(
        "request_promoters",
        _l("Request promoters"),
        icon="fa-paper-plane",
        multiple=True,
        single=True,
    )
    def request_promoters(self, items):
        rows = as_list(items)
        if not rows:
            flash(_("Please select at least one row."), "warning")
            self.update_redirect()
            return redirect(self.get_redirect())
        ids = ",".join(str(item.id) for item in rows)
        return redirect(url_for("RequestPromotersView.choose", ids=ids))

    @action(
        "cancel",
        _l("Cancel appointment"),
        _l("Cancel the selected appointments and their open bookings?"),
        "fa-ban",
    )
    def cancel(self, items):
        return run_action(
            self,
            items,
            lambda item: operations.cancel_appointment(self.datamodel.session, item, g.user),
            lambda n: _("%(count)d appointments cancelled.", count=n),
        )

    def pre_update(self, item: Appointment) -> None:
        expected = getattr(item, "expected_version", None)
        if expected and str(item.version) != str(expected):
            raise StaleEditError(
                _l(
                    "This appointment was changed by someone else in the meantime. "
                    "Please open it again and repeat your change."
                )
            )
        self.refuse_with_rollback(
            lambda row: write_paths.update_appointment(self.datamodel.session, row, g.user), item
        )

    @action(
        "complete",
        _l("Mark as done"),
        _l("Mark the selected appointments as done?"),
        "fa-check-square-o",
    )
    def complete(self, items):
        return run_action(
            self,
            items,
            lambda item: operations.complete_appointment(self.datamodel.session, item, g.user),
            lambda n: _("%(count)d appointments marked as done.", count=n),
        )


class JobView(QuickFilteredList, AgencyModelView):
    datamodel = SQLAInterface(Job)
    list_title = _l("Jobs")
    show_title = _l("Job")
    add_title = _l("Add job")
    edit_title = _l("Edit job")
    list_columns = ["title", "project", "location", "status", "planned_days_per_week"]
    # No store or project filter in FAB's filter bar (a dropdown of every store and project):
    # the quick filters above the list choose them by searching.
    search_columns = ["title", "status"]
    quick_filter = RelationFilter(
        ("store", _l("Store"), "location", lambda pk: Job.location_id == pk),
        ("project", _l("Project"), "project", lambda pk: Job.project_id == pk),
    )
    show_columns = [
        "title",
        "project",
        "location",
        "status",
        "planned_days_per_week",
        "description",
        "effective_day_questionnaire",
        "effective_week_questionnaire",
    ]
    # The status changes through the actions (open, close), never in the form.
    add_columns = edit_columns = [
        "title",
        "project",
        "location",
        "planned_days_per_week",
        "description",
        "day_questionnaire",
        "week_questionnaire",
    ]
    add_form_query_rel_fields = edit_form_query_rel_fields = _QUESTIONNAIRE_FILTERS
    order_columns = ["title", "status", "planned_days_per_week"]
    base_order = ("title", "asc")
    related_views = [AppointmentView, ApplicationView]
    formatters_columns = {
        "status": code_formatter(JOB_STATUSES),
        "effective_day_questionnaire": _effective_questionnaire,
        "effective_week_questionnaire": _effective_questionnaire,
    }
    validators_columns = {
        "planned_days_per_week": [
            Optional(),
            NumberRange(1, 7, _l("Between 1 and 7 days a week.")),
        ],
    }
    add_form_extra_fields = edit_form_extra_fields = {
        # chosen by searching, not from a dropdown of every project and store
        "project": remote_select(_l("Project"), "project"),
        "location": remote_select(
            _l("Location"),
            "location",
            validators=[
                UniqueTogether(
                    Job,
                    ["project", "location"],
                    _l("This project already has a job at this location."),
                )
            ],
        ),
    }

    @action("open_job", _l("Open for applications"), icon="fa-bullhorn")
    def open_job(self, items):
        return run_action(
            self,
            items,
            lambda item: staffing.open_job(self.datamodel.session, item),
            lambda n: _("%(count)d jobs are open for applications.", count=n),
        )

    def pre_add(self, item: Job) -> None:
        write_paths.check_job_add(item)

    def pre_update(self, item: Job) -> None:
        self.refuse_with_rollback(write_paths.check_job_update, item)

    @action("close_job", _l("Close job"), _l("Close the selected jobs for applications?"), "fa-lock")
    def close_job(self, items):
        return run_action(
            self,
            items,
            lambda item: staffing.close_job(self.datamodel.session, item),
            lambda n: _("%(count)d jobs closed.", count=n),
        )

    @action("generate", _l("Generate appointments"), icon="fa-calendar-plus-o", multiple=False)
    def generate(self, item):
        rows = as_list(item)
        return redirect(url_for("GenerateAppointmentsView.form", job=rows[0].id if rows else None))

    @action("board", _l("Planning board"), icon="fa-th", multiple=False)
    def board(self, item):
        rows = as_list(item)
        if not rows:
            return redirect(url_for("PlanningBoardView.overview"))
        return redirect(url_for("PlanningBoardView.week", job=rows[0].id))


class ProjectView(QuickFilteredList, AgencyModelView):
    datamodel = SQLAInterface(Project)
    list_title = _l("Projects")
    show_title = _l("Project")
    add_title = _l("Add project")
    edit_title = _l("Edit project")
    list_columns = ["name", "customer", "start_date", "end_date"]
    # The contact is chosen by searching above the list (FAB's filter would be a dropdown of
    # every contact); the manager filter lists agency users only.
    search_columns = ["name", "customer", "start_date", "end_date", "managers"]
    search_form_query_rel_fields = {"managers": [["id", AgencyUsersFilter, None]]}
    quick_filter = RelationFilter(
        ("contact", _l("Contact"), "contact", lambda pk: Project.contacts.any(Contact.id == pk)),
    )
    show_columns = [
        "name",
        "customer",
        "start_date",
        "end_date",
        "description",
        "contacts",
        "managers",
        "day_questionnaire",
        "week_questionnaire",
    ]
    add_columns = edit_columns = show_columns
    add_form_query_rel_fields = edit_form_query_rel_fields = _QUESTIONNAIRE_FILTERS
    # the customer's contacts chosen by searching (not a dropdown of every contact)
    add_form_extra_fields = edit_form_extra_fields = {
        "contacts": RemoteMultiSelectField(COLUMN_LABELS["contacts"], kind="contact"),
    }
    order_columns = ["name", "start_date", "end_date"]
    base_order = ("start_date", "desc")
    related_views = [JobView]
    validators_columns = {
        "end_date": [
            After("start_date", _l("The end date must not lie before the start date."), or_equal=True)
        ]
    }
