"""The customer's reporting area below /portal/reporting/: overview with figures and charts,
progress per store, the photo gallery, one approved report, and the Excel and PDF downloads.

Everything a contact sees comes through :mod:`app.reporting.analytics` and
:mod:`app.reporting.dashboard_data`, which restrict every query by the contact's
visibility scope (approved reports of the visible jobs only). The application factory
adds the routes to the customer system's blueprint (:func:`register_customer_reporting`,
like the proposal wizard), so they follow it onto CUSTOMER_HOST; ``customer_required``
has set ``g.scope`` and ``g.contact`` before any of them runs.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _

from app.common.formatting import current_language, format_day
from app.common.timezone import local_today
from app.extensions import db
from app.portal import queries
from app.reporting import analytics, dashboard_data
from app.reporting.dashboard_data import Choices, FilterState
from app.reporting.file_views import file_url
from app.reporting.review_queries import shown_answers


def _choices(photos: bool = False) -> Choices:
    language = current_language()
    return Choices(
        projects=[(p.id, p.name) for p in queries.visible_projects(db.session, g.scope)],
        territories=list(analytics.territory_choices(db.session, g.scope)),
        stores=[(s.id, f"{s.name}, {s.city}") for s in queries.visible_stores(db.session, g.scope)],
        questions=dashboard_data.photo_questions(db.session, g.scope, language) if photos else [],
    )


def _state(choices: Choices, with_page: bool = False) -> FilterState:
    return dashboard_data.read_filter(request.args, local_today(), choices, with_page=with_page)


def _common(state: FilterState, choices: Choices) -> dict:
    """What every page of the area gives its template: the filter bar and the links."""
    return {
        "state": state,
        "choices": choices,
        "ranges": dashboard_data.range_labels(),
        "links": {
            "overview": url_for("portal.reporting_overview", **state.args("page", "question")),
            "stores": url_for("portal.reporting_stores", **state.args("page", "question")),
            "photos": url_for("portal.reporting_photos", **state.args("page")),
            "xlsx": url_for("portal.reporting_export", **state.args("page", "question", "figure")),
            "pdf": url_for("portal.reporting_pdf", **state.args("page", "question", "figure")),
        },
    }


def reporting_overview():
    choices = _choices()
    state = _state(choices)
    language = current_language()
    data = dashboard_data.overview(db.session, g.scope, state, language)
    return render_template(
        "portal/reporting/overview.html",
        data=data,
        language=language,
        breakdowns=dashboard_data.breakdown_labels(),
        form_action=url_for("portal.reporting_overview"),
        **_common(state, choices),
    )


def reporting_stores():
    choices = _choices()
    state = _state(choices)
    stores = dashboard_data.store_progress(db.session, g.scope, state)
    weeks = analytics.progress_by_week(db.session, g.scope, state.flt)
    return render_template(
        "portal/reporting/stores.html",
        stores=stores,
        weeks=weeks,
        store_link=lambda location_id: url_for(
            "portal.reporting_stores", **state.args("store", "page", "question", store=location_id)
        ),
        form_action=url_for("portal.reporting_stores"),
        **_common(state, choices),
    )


def reporting_photos():
    choices = _choices(photos=True)
    state = _state(choices, with_page=True)
    result = analytics.photos(db.session, g.scope, state.flt, page=state.page)
    if state.page > 1 and not result.items:
        state.messages.append(_("There are no photos on this page."))
    return render_template(
        "portal/reporting/photos.html",
        result=result,
        file_url=file_url,
        language=current_language(),
        report_link=lambda report_id: url_for("portal.reporting_report", report_id=report_id),
        page_url=lambda number: url_for("portal.reporting_photos", **state.args("page", page=number)),
        form_action=url_for("portal.reporting_photos"),
        **_common(state, choices),
    )


def reporting_report(report_id: int):
    report = dashboard_data.visible_report(db.session, g.scope, report_id)
    if report is None:
        abort(404)
    pages = shown_answers(db.session, report, current_language(), _("Yes"), _("No"), format_day)
    return render_template(
        "portal/reporting/report.html",
        report=report,
        pages=pages,
        file_url=file_url,
        back=url_for("portal.reporting_photos"),
    )


def reporting_export():
    state = _state(_choices())
    return dashboard_data.xlsx_download(db.session, g.scope, state, current_language())


def reporting_pdf():
    choices = _choices()
    state = _state(choices)
    company = g.contact.company.name if g.contact is not None and g.contact.company is not None else ""
    return dashboard_data.pdf_download(
        db.session, g.scope, state, choices, current_language(), customer=company
    )


#: (rule, view) of the area, below the customer system's prefix.
ROUTES = (
    ("/reporting/", reporting_overview),
    ("/reporting/stores", reporting_stores),
    ("/reporting/photos", reporting_photos),
    ("/reporting/reports/<int:report_id>", reporting_report),
    ("/reporting/export.xlsx", reporting_export),
    ("/reporting/report.pdf", reporting_pdf),
)
_REGISTERED: set[str] = set()


def register_customer_reporting(bp: Blueprint, login_required) -> None:
    """Add the area's routes to the customer system's blueprint (once per blueprint: its
    rules are replayed for every app it is registered on)."""
    if bp.name in _REGISTERED:
        return
    _REGISTERED.add(bp.name)
    for rule, view in ROUTES:
        bp.add_url_rule(rule, view_func=login_required(view))
