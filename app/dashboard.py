"""Start page of the agency system; other users are sent to their own system."""

from __future__ import annotations

from flask import g
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from app.security.roles import ADMIN, AGENCY


def _is_agency_user(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(
        role.name in (ADMIN, AGENCY) for role in user.roles
    )


class DashboardIndexView(IndexView):
    index_template = "dashboard.html"

    @expose("/")
    def index(self):
        from app.common.timezone import local_today
        from app.planning.models import Appointment, Job, Project

        self.update_redirect()
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
