"""Read API of the reports: ``GET /api/v1/report/`` and ``GET /api/v1/report/<id>``.

The same login as the other APIs (a JWT from ``/api/v1/security/login`` or the browser
session); the agency, customers and promoters may call it (see ``register_api``), and
each gets only the rows of :mod:`app.security.visibility`: the agency every report, a
customer the approved reports of the jobs they see, a promoter their own. Nothing can
be written here (POST, PUT and DELETE answer 405).

List parameters (query string): ``page`` (0-based), ``page_size`` (1–500, default 50),
``appointment_id``, ``job_id``, ``status`` (one or several, comma-separated),
``kind`` (``day``/``week``), ``from`` and ``to`` (ISO dates, inclusive; a day
report's appointment date, a weekly report's Monday). A value that cannot be read is
answered with 400 and a message, never with a server error.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, request, url_for
from flask_appbuilder.api import BaseApi, expose, protect
from flask_babel import gettext as _

from app.common.choices import QUESTIONNAIRE_KINDS, REPORT_STATUSES
from app.common.input_guard import MAX_INT
from app.extensions import db
from app.reporting import listing
from app.security.visibility import scope_for

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000
#: The file routes (app.reporting files view): endpoint names and their fallback paths.
FILE_ENDPOINTS = {False: "reporting_files.file", True: "reporting_files.thumbnail"}


class BadParameter(ValueError):
    """A list parameter that cannot be read; the message is for the caller."""


def _integer(name: str, low: int, high: int) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return None
    text = text.strip()
    if not text.isdigit() or len(text) > 19 or not low <= int(text) <= high:
        raise BadParameter(
            _("%(name)s must be a whole number from %(low)s to %(high)s.", name=name, low=low, high=high)
        )
    return int(text)


def _date(name: str) -> dt.date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str):
    raise BadParameter(_("%(name)s must be a date like 2025-03-31.", name=name))


def _statuses() -> tuple[str, ...] | None:
    text = request.args.get("status")
    if not text:
        return None
    statuses = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in statuses if s not in REPORT_STATUSES]
    if unknown or not statuses:
        raise BadParameter(_("status must be one or more of: %(codes)s.", codes=", ".join(REPORT_STATUSES)))
    return statuses


def _kind() -> str | None:
    text = request.args.get("kind")
    if not text:
        return None
    if text not in QUESTIONNAIRE_KINDS:
        raise BadParameter(_("kind must be one of: %(codes)s.", codes=", ".join(QUESTIONNAIRE_KINDS)))
    return text


def _filters() -> listing.ReportFilters:
    date_from, date_to = _date("from"), _date("to")
    if date_from and date_to and date_from > date_to:
        raise BadParameter(_("from must not be after to."))
    return listing.ReportFilters(
        appointment_id=_integer("appointment_id", 0, MAX_INT),
        job_id=_integer("job_id", 0, MAX_INT),
        status=_statuses(),
        kind=_kind(),
        date_from=date_from,
        date_to=date_to,
    )


def file_url(file_id: int, thumbnail: bool) -> str:
    """The URL of a report file (or its thumbnail), served after a visibility check."""
    endpoint = FILE_ENDPOINTS[thumbnail]
    if endpoint in current_app.view_functions:
        return url_for(endpoint, file_id=file_id, _external=True)
    suffix = "/thumbnail" if thumbnail else ""
    return f"{request.host_url.rstrip('/')}/reporting/files/{file_id}{suffix}"


class ReportApi(BaseApi):
    """The reports a user may see, with answers and photo URLs (read only)."""

    resource_name = "report"
    allow_browser_login = True
    openapi_spec_tag = "Reports"
    #: Every endpoint is "can_get" (the customers' and promoters' read permission).
    method_permission_name = {"get_list": "get", "get": "get"}

    @expose("/", methods=["GET"])
    @protect()
    def get_list(self):
        """One page of the visible reports.
        ---
        get:
          parameters:
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: page_size, schema: {type: integer}}
          - {in: query, name: appointment_id, schema: {type: integer}}
          - {in: query, name: job_id, schema: {type: integer}}
          - {in: query, name: status, schema: {type: string}}
          - {in: query, name: kind, schema: {type: string}}
          - {in: query, name: from, schema: {type: string, format: date}}
          - {in: query, name: to, schema: {type: string, format: date}}
          responses:
            200: {description: "count, page, page_size, ids and result"}
            400: {description: "a parameter that cannot be read"}
        """
        try:
            filters = _filters()
            page = _integer("page", 0, MAX_PAGE) or 0
            page_size = _integer("page_size", 1, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        except BadParameter as error:
            return self.response_400(message=str(error))
        scope = scope_for(g.user).resolved(db.session)
        count = listing.count_reports(db.session, scope, filters)
        rows = listing.report_page(db.session, scope, filters, page, page_size)
        result = [listing.for_audience(row, scope.kind, file_url) for row in rows]
        return self.response(
            200,
            count=count,
            page=page,
            page_size=page_size,
            ids=[row["id"] for row in result],
            result=result,
        )

    @expose("/<int:report_id>", methods=["GET"])
    @protect()
    def get(self, report_id: int):
        """One report, if the user may see it (404 otherwise).
        ---
        get:
          parameters:
          - {in: path, name: report_id, schema: {type: integer}}
          responses:
            200: {description: "id and result"}
            404: {description: "no such report, or not visible"}
        """
        scope = scope_for(g.user).resolved(db.session)
        row = listing.report_row(db.session, scope, report_id)
        if row is None:
            return self.response_404()
        return self.response(200, id=report_id, result=listing.for_audience(row, scope.kind, file_url))
