"""Start page of the agency system; customers and promoters are sent to their own system."""

from __future__ import annotations

from flask import current_app, g, redirect, request, url_for
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from app.security.systems import system_of


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
        from app.models.planning import Appointment, Job, Project

        self.update_redirect()
        system = system_of(g.user)
        if system == "customer":
            return redirect(customer_system_url())
        if system == "promoter":
            return redirect(promoter_system_url())
        figures = None
        if system == "agency":
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
