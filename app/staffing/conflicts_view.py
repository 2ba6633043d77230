"""Agency screen: the conflicts of the coming weeks, each with its reason."""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_appbuilder import BaseView, expose, has_access

from app.common.formatting import current_language
from app.common.timezone import local_today
from app.extensions import db
from app.models.planning import Project
from app.staffing.conflicts import current_conflicts

WEEK_CHOICES = (1, 2, 4, 8, 12, 26)
DEFAULT_WEEKS = 4
#: Rows shown per kind of conflict; the heading still counts all of them.
ROW_CAP = 50


def _start_date(value: str, today: dt.date) -> dt.date:
    """The window's first day from ``?start=`` (ISO date); today when missing or invalid."""
    try:
        return dt.date.fromisoformat(value) if value else today
    except ValueError:
        return today


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
        start = _start_date(request.args.get("start", ""), today)
        end = start + dt.timedelta(weeks=weeks, days=-1)
        found = current_conflicts(
            db.session, start, end, project.id if project else None, current_language(), limit=ROW_CAP
        )
        counts = {kind: getattr(items, "total", len(items)) for kind, items in found.items()}
        window = {"weeks": weeks, **({"project": project.id} if project else {})}
        return self.render_template(
            "planning/conflicts.html",
            found={kind: items[:ROW_CAP] for kind, items in found.items()},
            counts=counts,
            row_cap=ROW_CAP,
            total=sum(counts.values()),
            start=start,
            end=end,
            previous_window={**window, "start": (start - dt.timedelta(weeks=weeks)).isoformat()},
            next_window={**window, "start": (end + dt.timedelta(days=1)).isoformat()},
            weeks=weeks,
            week_choices=WEEK_CHOICES,
            project=project,
        )
