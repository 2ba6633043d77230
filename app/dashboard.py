"""Start page of the agency system; customers and promoters are sent to their own system."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_appbuilder import IndexView, expose

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
        self.update_redirect()
        system = system_of(g.user)
        if system == "customer":
            return redirect(customer_system_url())
        if system == "promoter":
            return redirect(promoter_system_url())
        cockpit = _cockpit(self.appbuilder.session, g.user.id) if system == "agency" else None
        return self.render_template(self.index_template, appbuilder=self.appbuilder, cockpit=cockpit)

    @expose("/cockpit/week")
    def cockpit_week(self):
        """The cockpit's second half (conflicts, the week per project), fetched by the start page."""
        if system_of(g.user) != "agency":
            abort(403)
        return render_template("cockpit_week.html", week=_cockpit_week(self.appbuilder.session))


def _cockpit(session, user_id: int) -> dict:
    """The planner's cockpit: each section's first rows and its count (see app.cockpit)."""
    from app.cockpit import queries
    from app.common.timezone import local_today

    today = local_today()
    counts = queries.counts(session, user_id, today)
    g.pending_count = counts["proposals"]  # the menu shows the same number
    return {
        "today": today,
        "horizon": today + dt.timedelta(days=queries.UNSTAFFED_DAYS - 1),
        "appointments": queries.today(session, today, counts["today"]),
        "unstaffed": queries.unstaffed(session, today, counts["unstaffed"]),
        "unanswered": queries.unanswered(session, today, counts["unanswered"]),
        "proposals": queries.pending_proposals(session, counts["proposals"]),
        "follow_ups": queries.follow_ups_due(session, user_id, today, counts["follow_ups"]),
        "change_requests": counts["change_requests"],
        "cancel_requests": counts["cancel_requests"],
    }


def _cockpit_week(session) -> dict:
    from app.cockpit import queries
    from app.common.formatting import current_language
    from app.common.timezone import local_today
    from app.staffing.conflicts import conflict_count

    today = local_today()
    horizon = today + dt.timedelta(days=queries.UNSTAFFED_DAYS - 1)
    return {
        "horizon": horizon,
        "conflicts": conflict_count(session, today, horizon, current_language()),
        "progress": queries.week_progress(session, today),
    }
