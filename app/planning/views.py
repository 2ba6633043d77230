"""Agency screens of planning: projects, jobs, appointments."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TimeField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.common.choices import (
    APPOINTMENT_ORIGINS,
    APPOINTMENT_STATUSES,
    JOB_STATUSES,
)
from app.common.validators import After, UniqueTogether
from app.common.views import AgencyModelView, as_list, choice_field, code_formatter, run_action
from app.common.widgets import BS3TimeWidget
from app.lookups.remote_select import remote_select
from app.models.planning import Appointment, Job, Project
from app.planning import operations
from app.staffing import operations as staffing
from app.staffing.views import ApplicationView, BookingView


class StaleEditError(Exception):
    """Someone else saved the row after this form was opened."""


class AppointmentView(AgencyModelView):
    datamodel = SQLAInterface(Appointment)
    list_title = _l("Appointments")
    show_title = _l("Appointment")
    add_title = _l("Add appointment")
    edit_title = _l("Edit appointment")
    list_columns = ["date", "start_time", "end_time", "job", "status", "origin"]
    search_columns = ["date", "job", "status", "origin", "proposed_by"]
    show_columns = [
        "job",
        "date",
        "start_time",
        "end_time",
        "status",
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
    ]
    add_columns = ["job", "date", "start_time", "end_time", "status", "note"]
    edit_columns = [*add_columns, "expected_version"]
    order_columns = ["date", "start_time", "end_time", "status", "origin"]
    base_order = ("date", "asc")
    related_views = [BookingView]
    formatters_columns = {
        "status": code_formatter(APPOINTMENT_STATUSES),
        "origin": code_formatter(APPOINTMENT_ORIGINS),
        "start_time": lambda t: t.strftime("%H:%M"),
        "end_time": lambda t: t.strftime("%H:%M"),
    }
    _time_fields = {
        "start_time": TimeField(_l("Start"), widget=BS3TimeWidget(), validators=[DataRequired()]),
        "end_time": TimeField(
            _l("End"),
            widget=BS3TimeWidget(),
            validators=[DataRequired(), After("start_time", _l("The end must be after the start."))],
        ),
        "status": choice_field(_l("Status"), APPOINTMENT_STATUSES, default="planned"),
        "job": remote_select(_l("Job"), "job"),
    }
    add_form_extra_fields = _time_fields
    edit_form_extra_fields = {**_time_fields, "expected_version": HiddenField()}
    edit_exclude_columns = []

    def prefill_form(self, form, pk) -> None:
        item = self.datamodel.get(pk)
        form.expected_version.data = str(item.version)

    def pre_add(self, item: Appointment) -> None:
        item.created_by = item.updated_by = g.user

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
        item.updated_by = g.user


class JobView(AgencyModelView):
    datamodel = SQLAInterface(Job)
    list_title = _l("Jobs")
    show_title = _l("Job")
    add_title = _l("Add job")
    edit_title = _l("Edit job")
    list_columns = ["title", "project", "location", "status", "planned_days_per_week"]
    search_columns = ["title", "project", "location", "status"]
    show_columns = ["title", "project", "location", "status", "planned_days_per_week", "description"]
    add_columns = edit_columns = show_columns
    order_columns = ["title", "status", "planned_days_per_week"]
    base_order = ("title", "asc")
    related_views = [AppointmentView, ApplicationView]
    formatters_columns = {"status": code_formatter(JOB_STATUSES)}
    validators_columns = {
        "planned_days_per_week": [
            Optional(),
            NumberRange(1, 7, _l("Between 1 and 7 days a week.")),
        ],
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "status": choice_field(_l("Status"), JOB_STATUSES, default="draft"),
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


class ProjectView(AgencyModelView):
    datamodel = SQLAInterface(Project)
    list_title = _l("Projects")
    show_title = _l("Project")
    add_title = _l("Add project")
    edit_title = _l("Edit project")
    list_columns = ["name", "customer", "start_date", "end_date"]
    search_columns = ["name", "customer", "start_date", "end_date", "managers", "contacts"]
    show_columns = ["name", "customer", "start_date", "end_date", "description", "contacts", "managers"]
    add_columns = edit_columns = show_columns
    order_columns = ["name", "start_date", "end_date"]
    base_order = ("start_date", "desc")
    related_views = [JobView]
    validators_columns = {
        "end_date": [
            After("start_date", _l("The end date must not lie before the start date."), or_equal=True)
        ]
    }
