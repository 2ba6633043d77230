"""Agency screen: the conflicts of the coming weeks, each with its reason."""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from app.common.formatting import current_language
from app.common.timezone import local_today
from app.extensions import db
from app.models.planning import Project
from app.staffing.conflicts import current_conflicts

WEEK_CHOICES = (1, 2, 4, 8, 12, 26)
DEFAULT_WEEKS = 4


class ConflictsView(BaseView):
    route_base = "/planning/conflicts"
    default_view = "conflicts"

    @expose("/")
    @has_access
    def conflicts(self):
        today = local_today()
        weeks = request.args.get("weeks", "")
        weeks = int(weeks) if weeks.isdigit() and int(weeks) in WEEK_CHOICES else DEFAULT_WEEKS
        project_arg = request.args.get("project", "")
        project = db.session.get(Project, int(project_arg)) if project_arg.isdigit() else None
        end = today + dt.timedelta(weeks=weeks, days=-1)
        found = current_conflicts(db.session, today, end, project.id if project else None, current_language())
        return self.render_template(
            "planning/conflicts.html",
            found=found,
            total=sum(len(items) for items in found.values()),
            start=today,
            end=end,
            weeks=weeks,
            week_choices=WEEK_CHOICES,
            project=project,
            projects=db.session.scalars(
                select(Project).order_by(Project.start_date.desc(), Project.name)
            ).all(),
        )
