"""promoplan: planning software for sales-promotion agencies.

``create_app`` is the application factory used by ``flask --app app``, by
``run.py`` and by the tests.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from flask_appbuilder import AppBuilder

from config import BASE_DIR, INSTANCE_DIR, Config

# FAB warns once per view about time columns it cannot filter by; that is expected.
logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or INSTANCE_DIR
    app = Flask(__name__, instance_path=str(instance_path))
    app.config.from_object(Config)
    # Each app gets its own role table: FAB keeps a reference to this dict.
    app.config["FAB_ROLES"] = {}
    if config:
        app.config.update(config)
    from app.security.proxies import normalise_host_settings

    normalise_host_settings(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    from app.security.secret_key import configure_secrets

    configure_secrets(app)

    from app import schema  # noqa: F401  (registers every table)
    from app.extensions import csrf, db, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    mail.init_app(app)
    # Before AppBuilder, so that FAB's REST APIs can exempt themselves (JWT, no cookies).
    csrf.init_app(app)

    with app.app_context():
        from app.security.manager import PromoplanSecurityManager

        appbuilder = AppBuilder(
            update_perms=False, indexview=_index_view(), security_manager_class=PromoplanSecurityManager
        )
        appbuilder.init_app(app, db.session)
        _register_views(appbuilder)
        from app.security.roles import install_role_definitions

        install_role_definitions(app)

    from app.common.errors import init_error_pages
    from app.common.formatting import init_formatting
    from app.common.input_guard import init_input_guard
    from app.common.sqlcount import init_sql_count
    from app.planning.operations import cancel_appointment, move_appointment
    from app.portal.hosts import HostPrefixMiddleware
    from app.portal.views import bp as portal_bp
    from app.portal.views import customer_required
    from app.promoter.portal import bp as promoter_bp
    from app.proposals.operations import AppointmentChanges
    from app.proposals.wizard import register_wizard
    from app.security.actions import init_action_guard
    from app.security.headers import init_security_headers
    from app.security.login import init_login_security
    from app.security.proxies import apply_proxy_settings
    from app.security.sessions import init_sessions

    # Accepted change requests are carried out by planning (above proposals).
    app.extensions["appointment_changes"] = AppointmentChanges(
        cancel=cancel_appointment, move=move_appointment
    )
    # "Mark as done" by hand asks reporting whether the appointment needs a day report.
    from app.reporting.definitions import requires_day_report

    app.extensions["report_required"] = requires_day_report
    register_wizard(portal_bp, customer_required)
    from app.reporting.customer_views import register_customer_reporting

    register_customer_reporting(portal_bp, customer_required)
    app.register_blueprint(portal_bp)
    app.register_blueprint(promoter_bp)
    from app.reporting.file_views import bp as reporting_files_bp

    app.register_blueprint(reporting_files_bp)
    init_login_security(app)
    init_sessions(app)
    from app.audit.recorder import init_audit

    init_audit(app)
    init_action_guard(app)
    init_formatting(app)
    init_error_pages(app)
    init_input_guard(app)
    init_sql_count(app)
    init_security_headers(app)
    app.wsgi_app = HostPrefixMiddleware(
        app.wsgi_app,
        {app.config["CUSTOMER_HOST"]: "/portal", app.config["PROMOTER_HOST"]: "/promoter"},
    )
    apply_proxy_settings(app)

    from app.cli import register_commands

    register_commands(app)
    return app


def _index_view():
    from app.dashboard import DashboardIndexView

    return DashboardIndexView


class PendingProposalsLabel:
    """Menu label with the number of pending proposals, counted when the menu is drawn
    (once per request: a page that counted them already leaves the number in ``g``)."""

    def __str__(self) -> str:
        from flask_babel import gettext

        count = self.count
        if count is None:
            return gettext("Proposals")
        return gettext("Proposals (%(count)d)", count=count)

    @property
    def count(self) -> int | None:
        """The pending proposals (None if they cannot be counted); also the navbar's badge."""
        from flask import g

        from app.extensions import db
        from app.proposals.queries import pending_count

        try:
            if g.get("pending_count") is None:
                g.pending_count = pending_count(db.session)
            return g.pending_count
        except Exception:  # the menu must render even if counting fails
            return None

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


class SubmittedReportsLabel:
    """Menu label "Review reports (n)" with the submitted reports waiting for review, counted
    when the menu is drawn (once per request)."""

    def __str__(self) -> str:
        from flask_babel import gettext

        count = self.count
        if count is None:
            return gettext("Review reports")
        return gettext("Review reports (%(count)d)", count=count)

    @property
    def count(self) -> int | None:
        from flask import g

        from app.extensions import db
        from app.reporting.review_queries import submitted_count

        try:
            if g.get("submitted_reports") is None:
                g.submitted_reports = submitted_count(db.session)
            return g.submitted_reports
        except Exception:  # the menu must render even if counting fails
            return None

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


def _register_views(appbuilder: AppBuilder) -> None:
    from flask_babel import lazy_gettext as _l

    from app.audit.views import AuditView
    from app.crm.followups import FollowUpsView
    from app.crm.views import CompanyView, ContactView, LocationView, NoteView, TaskView, TerritoryView
    from app.outbox.views import OutboxView
    from app.planning.board_view import PlanningBoardView
    from app.planning.generator_view import GenerateAppointmentsView
    from app.planning.views import AppointmentView, JobView, ProjectView
    from app.promoter.views import PromoterView
    from app.proposals.views import ProposalsView
    from app.reporting.dashboard_view import PunctualityView, ReportDashboardView
    from app.reporting.questionnaire_views import QuestionnairesView
    from app.reporting.review_view import ReportReviewView
    from app.reporting.schedule_view import ReportScheduleView
    from app.security.roles import register_agency_view
    from app.security.views import AccountView, VisibilityCheckView
    from app.staffing.conflicts_view import ConflictsView
    from app.staffing.request_view import RequestPromotersView
    from app.staffing.views import ApplicationView, BookingView
    from app.transfer.views import TransferView

    # Menus by task. "Security" is FAB's own category (users, roles for admins), shown as
    # Administration with the agency's administrative screens.
    planning = ("Planning", _l("Planning"), "fa-calendar")
    crm = ("CRM", _l("Customers and CRM"), "fa-address-book")
    promoters = ("Promoters", _l("Promoters"), "fa-users")
    reporting = ("Reporting", _l("Reporting"), "fa-clipboard")
    admin = ("Security", _l("Administration"), "fa-cogs")
    screens = [
        (PlanningBoardView, "Planning board", _l("Planning board"), planning, "fa-th"),
        (AppointmentView, "Appointments", _l("Appointments"), planning, "fa-calendar-o"),
        (ProposalsView, "Proposals", PendingProposalsLabel(), planning, "fa-inbox"),
        (ConflictsView, "Conflicts", _l("Conflicts"), planning, "fa-exclamation-triangle"),
        (RequestPromotersView, "Request promoters", _l("Request promoters"), planning, "fa-paper-plane"),
        (GenerateAppointmentsView, "Generate appointments", _l("Generate appointments"), planning, "fa-plus"),
        None,
        (ProjectView, "Projects", _l("Projects"), planning, "fa-folder-open"),
        (JobView, "Jobs", _l("Jobs"), planning, "fa-briefcase"),
        (CompanyView, "Companies", _l("Companies"), crm, "fa-building"),
        (ContactView, "Contacts", _l("Contacts"), crm, "fa-user"),
        (LocationView, "Locations", _l("Locations"), crm, "fa-map-marker"),
        (TerritoryView, "Territories list", _l("Territories"), crm, "fa-map-o"),
        None,
        (NoteView, "Notes", _l("Notes"), crm, "fa-sticky-note"),
        (TaskView, "Tasks", _l("Tasks"), crm, "fa-check-square"),
        (FollowUpsView, "My follow-ups", _l("My follow-ups"), crm, "fa-bell"),
        (PromoterView, "Promoters list", _l("Promoters"), promoters, "fa-user"),
        (ApplicationView, "Applications", _l("Applications"), promoters, "fa-hand-paper-o"),
        (BookingView, "Bookings", _l("Bookings"), promoters, "fa-check"),
        (QuestionnairesView, "Questionnaires", _l("Questionnaires"), reporting, "fa-list-alt"),
        (ReportReviewView, "Review reports", SubmittedReportsLabel(), reporting, "fa-check-circle"),
        (ReportDashboardView, "Reporting dashboard", _l("Dashboard"), reporting, "fa-bar-chart"),
        (PunctualityView, "Report punctuality", _l("Punctuality"), reporting, "fa-clock-o"),
        (ReportScheduleView, "Monthly reports", _l("Monthly reports"), reporting, "fa-envelope-o"),
        (OutboxView, "Outbox", _l("Outbox"), admin, "fa-envelope"),
        (AuditView, "Audit trail", _l("Audit trail"), admin, "fa-history"),
        (TransferView, "Import / Export", _l("Import / Export"), admin, "fa-exchange"),
        (VisibilityCheckView, "Visibility check", _l("Visibility check"), admin, "fa-eye"),
    ]
    last_category = None
    for screen in screens:
        if screen is None:
            appbuilder.add_separator(last_category)
            continue
        view, name, label, (category, category_label, category_icon), icon = screen
        register_agency_view(appbuilder, view, name, label, category, category_label, icon)
        menu = appbuilder.menu.find(category)
        menu.icon, menu.label = category_icon, category_label
        last_category = category
    # FAB made its Security category first; Administration comes last.
    administration = appbuilder.menu.find("Security")
    appbuilder.menu.menu.remove(administration)
    appbuilder.menu.menu.append(administration)

    appbuilder.add_view_no_menu(AccountView)

    from app.planning.api import CUSTOMER_READ_APIS
    from app.security.roles import register_api

    for api in CUSTOMER_READ_APIS:
        register_api(appbuilder, api, customer_read=True)

    from app.lookups.remote_select import RemoteSelectApi

    register_api(appbuilder, RemoteSelectApi)

    from app.reporting.api import ReportApi

    register_api(appbuilder, ReportApi, customer_read=True, promoter_read=True)
