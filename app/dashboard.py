"""Start page of the agency system; customers and promoters are sent to their own system."""

from __future__ import annotations

from flask import current_app, g, redirect, request, url_for
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from app.security.roles import ADMIN, AGENCY, CUSTOMER, PROMOTER


def _is_agency_user(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(
        role.name in (ADMIN, AGENCY) for role in user.roles
    )


def _has_role(user, name: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(r.name == name for r in user.roles)


def customer_system_url() -> str:
    """The customer system's start page, on its own host when configured."""
    path = url_for("portal.start")
    host = current_app.config.get("CUSTOMER_HOST")
    if host and host != request.host:
        return f"{request.scheme}://{host}/"
    return path


def promoter_system_url() -> str:
    """The promoter system's start page, on its own host when configured."""
    path = url_for("promoter.start")
    host = current_app.config.get("PROMOTER_HOST")
    if host and host != request.host:
        return f"{request.scheme}://{host}/"
    return path


class DashboardIndexView(IndexView):
    index_template = "dashboard.html"

    @expose("/")
    def index(self):
        from app.common.timezone import local_today
        from app.planning.models import Appointment, Job, Project

        self.update_redirect()
        if _has_role(g.user, CUSTOMER):
            return redirect(customer_system_url())
        if _has_role(g.user, PROMOTER) and not _is_agency_user(g.user):
            return redirect(promoter_system_url())
        figures = None
        if _is_agency_user(g.user):
            session = self.appbuilder.session
            today = local_today()
            figures = {
                "projects": session.scalar(select(func.count(Project.id))),
                "jobs": session.scalar(select(func.count(Job.id))),
                "today": session.scalar(select(func.count(Appointment.id)).where(Appointment.date == today)),
                "proposed": session.scalar(
                    select(func.count(Appointment.id)).where(Appointment.status == "proposed")
                ),
            }
        return self.render_template(self.index_template, appbuilder=self.appbuilder, figures=figures)
