"""Read API for customers and full CRUD for the agency (FAB REST APIs).

Customers get only the rows of their territory (``VISIBLE_ONLY``) and only the
``get``/``info`` permissions (see app.security.roles); agency users get CRUD.
"""

from __future__ import annotations

from flask import g
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.common.api import FormValidatedApi
from app.crm.models import Location
from app.crm.views import LocationView
from app.planning.models import Appointment, Job, Project
from app.planning.views import AppointmentView, JobView, ProjectView
from app.security.filters import VISIBLE_ONLY


class VisibleApi(FormValidatedApi):
    base_filters = VISIBLE_ONLY
    allow_browser_login = True
    page_size = 50
    max_page_size = 500


class ProjectApi(VisibleApi):
    resource_name = "project"
    datamodel = SQLAInterface(Project)
    list_columns = ["id", "name", "start_date", "end_date", "customer.id", "customer.name"]
    show_columns = [*list_columns, "description"]
    add_columns = edit_columns = ["name", "customer", "start_date", "end_date", "description"]
    order_columns = ["name", "start_date", "end_date"]
    search_columns = ["name", "start_date", "end_date"]
    form_view = ProjectView


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

    def pre_add(self, item: Appointment) -> None:
        item.created_by = item.updated_by = g.user

    def pre_update(self, item: Appointment) -> None:
        item.updated_by = g.user


#: The read API of the customer system (and the agency's CRUD API).
CUSTOMER_READ_APIS = (ProjectApi, LocationApi, JobApi, AppointmentApi)
