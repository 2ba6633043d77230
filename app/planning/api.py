"""Read API for customers and full CRUD for the agency (FAB REST APIs).

Customers get only the rows of their territory (``VISIBLE_ONLY``) and only the
``get``/``info`` permissions (see app.security.roles); agency users get CRUD.
Customers also get only the fields the customer system shows
(``customer_columns``): no notes, no origin, no internal fields — and they can
neither filter nor sort by a field they do not see.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.common.api import FormValidatedApi
from app.crm.views import LocationView
from app.models.crm import Location
from app.models.planning import Appointment, Job, Project
from app.planning import write_paths
from app.planning.views import AppointmentView, JobView, ProjectView
from app.security.filters import VISIBLE_ONLY
from app.security.visibility import scope_for


class VisibleApi(FormValidatedApi):
    base_filters = VISIBLE_ONLY
    allow_browser_login = True
    page_size = 50
    max_page_size = 500
    #: The fields a customer sees (those of the customer system's pages); agency users see all.
    customer_columns: tuple[str, ...] = ()

    def _customer_args(self, kwargs: dict[str, Any], columns: list[str]) -> dict[str, Any]:
        """For anybody but the agency: answer with, filter and sort by ``customer_columns`` only.

        ``columns`` are the endpoint's own (list or show); the answer never falls back to them.
        """
        if scope_for(g.user).kind == "agency":
            return kwargs
        allowed = [c for c in self.customer_columns if c in columns]
        roots = {column.split(".")[0] for column in self.customer_columns}
        args = dict(kwargs.get("rison") or {})
        asked = args.pop("select_columns", None) or args.get("columns") or []
        args["columns"] = [c for c in asked if c in allowed] or allowed
        args["filters"] = [
            f for f in args.get("filters") or [] if str(f.get("col", "")).split(".")[0] in roots
        ]
        if args.get("order_column") and str(args["order_column"]).split(".")[0] not in roots:
            args.pop("order_column")
            args.pop("order_direction", None)
        return {**kwargs, "rison": args}

    def get_headless(self, pk, **kwargs: Any):
        return super().get_headless(pk, **self._customer_args(kwargs, self.show_columns))

    def get_list_headless(self, **kwargs: Any):
        return super().get_list_headless(**self._customer_args(kwargs, self.list_columns))


class ProjectApi(VisibleApi):
    resource_name = "project"
    datamodel = SQLAInterface(Project)
    list_columns = ["id", "name", "start_date", "end_date", "customer.id", "customer.name"]
    show_columns = [*list_columns, "description"]
    add_columns = edit_columns = ["name", "customer", "start_date", "end_date", "description"]
    order_columns = ["name", "start_date", "end_date"]
    search_columns = ["name", "start_date", "end_date"]
    form_view = ProjectView
    # The customer system's project list and project page.
    customer_columns = ("id", "name", "start_date", "end_date", "description")


class LocationApi(VisibleApi):
    resource_name = "location"
    datamodel = SQLAInterface(Location)
    list_columns = [
        "id",
        "name",
        "street",
        "postcode",
        "city",
        "federal_state",
        "territory.id",
        "territory.name",
    ]
    show_columns = list_columns
    add_columns = edit_columns = [
        "name",
        "retail_chain",
        "street",
        "postcode",
        "city",
        "federal_state",
        "territory",
    ]
    order_columns = ["name", "postcode", "city", "federal_state"]
    search_columns = ["name", "postcode", "city", "federal_state"]
    form_view = LocationView
    # The customer system's store list.
    customer_columns = ("id", "name", "street", "postcode", "city", "territory.name")


class JobApi(VisibleApi):
    resource_name = "job"
    datamodel = SQLAInterface(Job)
    list_columns = [
        "id",
        "title",
        "status",
        "project.id",
        "project.name",
        "location.id",
        "location.name",
        "location.city",
    ]
    show_columns = [*list_columns, "description", "planned_days_per_week"]
    add_columns = edit_columns = [
        "project",
        "location",
        "title",
        "description",
        "status",
        "planned_days_per_week",
    ]
    order_columns = ["title", "status"]
    search_columns = ["title", "status", "project", "location"]
    form_view = JobView

    # The status: "draft" (or absent) in a POST, unchanged in a PUT; the actions change it.
    def pre_add(self, item: Job) -> None:
        write_paths.check_job_add(item)

    def pre_update(self, item: Job) -> None:
        write_paths.check_job_update(item)

    # The customer system's job list.
    customer_columns = (
        "id",
        "title",
        "project.id",
        "project.name",
        "location.id",
        "location.name",
        "location.city",
    )


class AppointmentApi(VisibleApi):
    resource_name = "appointment"
    datamodel = SQLAInterface(Appointment)
    list_columns = [
        "id",
        "date",
        "start_time",
        "end_time",
        "status",
        "origin",
        "job.id",
        "job.title",
        "location_id",
        "location_name",
    ]
    show_columns = [*list_columns, "note"]
    add_columns = edit_columns = ["job", "date", "start_time", "end_time", "status", "note"]
    order_columns = ["date", "start_time", "status"]
    search_columns = ["date", "status", "job"]
    form_view = AppointmentView
    # The customer system's appointment list (never the note or the origin).
    customer_columns = (
        "id",
        "date",
        "start_time",
        "end_time",
        "status",
        "job.id",
        "job.title",
        "location_id",
        "location_name",
    )

    # POST plans (planning.operations.plan_appointment; "status" absent or "planned"), a new
    # date or time in a PUT moves (move_appointment); a PUT that changes "status" or "job"
    # is refused with 422 naming the path (a proposal: the Proposals screen), and so is
    # the DELETE of a proposal or of an appointment with bookings.
    def create_through_operation(self, item: Appointment) -> Appointment:
        return write_paths.plan_from(self.datamodel.session, item, g.user)

    def pre_update(self, item: Appointment) -> None:
        write_paths.update_appointment(self.datamodel.session, item, g.user)

    def pre_delete(self, item: Appointment) -> None:
        write_paths.check_appointment_delete(item)


#: The read API of the customer system (and the agency's CRUD API).
CUSTOMER_READ_APIS = (ProjectApi, LocationApi, JobApi, AppointmentApi)
