"""Agency screens: the reporting dashboard over all projects (the customer's figures, charts,
progress per store, photos, Excel and PDF for any customer and period) and the report
punctuality per promoter.

The numbers come from :mod:`app.reporting.analytics` with the agency's scope (approved
reports only, the same numbers the customer sees). The project is searched (a remote
select that also finds a customer company's projects), not listed: an agency has hundreds.
"""

from __future__ import annotations

from flask import current_app, g, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from app.common.formatting import current_language
from app.common.timezone import local_today
from app.extensions import db
from app.lookups.remote_select import SOURCES
from app.models.crm import Location
from app.models.planning import Project
from app.reporting import analytics, dashboard_data
from app.reporting.dashboard_data import Choices, FilterState
from app.reporting.file_views import file_url
from app.security.visibility import scope_for


def _chosen(model, name: str, kind: str) -> list[tuple[int, str]]:
    """The record a remote select names in the query string, as the only choice (or none)."""
    value = dashboard_data.parse_id(request.args.get(name))
    if not value:
        return []
    row = db.session.get(model, value)
    return [(row.id, SOURCES[kind][2](row))] if row is not None else []


def _choices(photos: bool = False) -> Choices:
    scope = scope_for(g.user)
    return Choices(
        projects=_chosen(Project, "project", "project"),
        territories=list(analytics.territory_choices(db.session, scope)),
        stores=_chosen(Location, "store", "location"),
        questions=dashboard_data.photo_questions(db.session, scope, current_language()) if photos else [],
    )


def _remote() -> dict[str, str]:
    return {
        "project": url_for("RemoteSelectApi.options", kind="project"),
        "store": url_for("RemoteSelectApi.options", kind="location"),
    }


class ReportDashboardView(BaseView):
    route_base = "/reporting/dashboard"
    default_view = "overview"

    def _state(self, choices: Choices, with_page: bool = False) -> FilterState:
        return dashboard_data.read_filter(request.args, local_today(), choices, with_page=with_page)

    def _common(self, state: FilterState, choices: Choices) -> dict:
        plain = state.args("page", "question")
        download = state.args("page", "question", "figure")
        return {
            "state": state,
            "choices": choices,
            "ranges": dashboard_data.range_labels(),
            "remote": _remote(),
            "language": current_language(),
            "links": {
                "overview": url_for("ReportDashboardView.overview", **plain),
                "stores": url_for("ReportDashboardView.stores", **plain),
                "photos": url_for("ReportDashboardView.photos", **state.args("page")),
                "xlsx": url_for("ReportDashboardView.export_xlsx", **download),
                "pdf": url_for("ReportDashboardView.report_pdf", **download),
                "punctuality": url_for("PunctualityView.punctuality", **download),
            },
        }

    @expose("/")
    @has_access
    def overview(self):
        choices = _choices()
        state = self._state(choices)
        language = current_language()
        limit = None if state.flt.project_id else dashboard_data.AGENCY_MAX_REPORTS
        data = dashboard_data.overview(db.session, scope_for(g.user), state, language, max_reports=limit)
        return self.render_template(
            "reporting/dashboard.html",
            data=data,
            breakdowns=dashboard_data.breakdown_labels(),
            form_action=url_for("ReportDashboardView.overview"),
            **self._common(state, choices),
        )

    @expose("/stores")
    @has_access
    def stores(self):
        choices = _choices()
        state = self._state(choices)
        scope = scope_for(g.user)
        return self.render_template(
            "reporting/dashboard_stores.html",
            stores=dashboard_data.store_progress(db.session, scope, state),
            weeks=analytics.progress_by_week(db.session, scope, state.flt),
            store_link=lambda location_id: url_for(
                "ReportDashboardView.stores", **state.args("store", "page", "question", store=location_id)
            ),
            form_action=url_for("ReportDashboardView.stores"),
            **self._common(state, choices),
        )

    @expose("/photos")
    @has_access
    def photos(self):
        choices = _choices(photos=True)
        state = self._state(choices, with_page=True)
        result = analytics.photos(db.session, scope_for(g.user), state.flt, page=state.page)
        if state.page > 1 and not result.items:
            state.messages.append(_("There are no photos on this page."))
        return self.render_template(
            "reporting/dashboard_photos.html",
            result=result,
            file_url=file_url,
            report_link=lambda report_id: url_for("ReportReviewView.show", report_id=report_id),
            page_url=lambda number: url_for("ReportDashboardView.photos", **state.args("page", page=number)),
            form_action=url_for("ReportDashboardView.photos"),
            **self._common(state, choices),
        )

    @expose("/export.xlsx")
    @has_access
    def export_xlsx(self):
        state = self._state(_choices())
        return dashboard_data.xlsx_download(db.session, scope_for(g.user), state, current_language())

    @expose("/report.pdf")
    @has_access
    def report_pdf(self):
        choices = _choices()
        state = self._state(choices)
        customer = ""
        if state.flt.project_id is not None:
            project = db.session.get(Project, state.flt.project_id)
            customer = project.customer.name if project is not None and project.customer else ""
        return dashboard_data.pdf_download(
            db.session, scope_for(g.user), state, choices, current_language(), customer=customer
        )


class PunctualityView(BaseView):
    """Per promoter: day reports due in the period, submitted on time, late, missing."""

    route_base = "/reporting/punctuality"
    default_view = "punctuality"

    @expose("/")
    @has_access
    def punctuality(self):
        choices = _choices()
        state = dashboard_data.read_filter(request.args, local_today(), choices)
        rows = analytics.punctuality(db.session, state.flt, scope=scope_for(g.user))
        return self.render_template(
            "reporting/dashboard_punctuality.html",
            rows=rows,
            reminder_hours=int(current_app.config.get("REPORT_REMINDER_HOURS", 24)),
            state=state,
            choices=choices,
            ranges=dashboard_data.range_labels(),
            remote=_remote(),
            form_action=url_for("PunctualityView.punctuality"),
            links={"overview": url_for("ReportDashboardView.overview", **state.args("page", "question"))},
        )
