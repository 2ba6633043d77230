"""Agency screen: the queue of submitted reports and the review of one report — approve
(with a confirmation step), return with a comment, correct (audited).

Every change goes through :mod:`app.reporting.operations`; refusals are flashed and
nothing is changed.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.common.choices import APPOINTMENT_STATUSES, QUESTIONNAIRE_KINDS, REPORT_STATUSES, label
from app.common.formatting import current_language, format_day
from app.extensions import db
from app.models.planning import Project
from app.reporting import operations, review_queries
from app.reporting.operations import ReportEdit, ReportEditError, ReportError

#: Largest id accepted from a URL or form (larger ones are no record).
MAX_ID = 2**31 - 1


class ReviewForm(FlaskForm):
    """Only the CSRF token; the fields are read from the request."""


def _int_arg(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 10 or int(value) > MAX_ID:
        return None
    return int(value)


def _time(value: str | None) -> dt.time | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%H:%M").time()
    except ValueError:
        return None


def file_urls(report_file) -> tuple[str | None, str | None]:
    """(thumbnail URL, file URL) of a photo or file, when the file routes exist."""
    views = current_app.view_functions
    full = None
    if "reporting_files.file" in views:
        full = url_for("reporting_files.file", file_id=report_file.id)
    thumb = None
    if report_file.thumbnail_key and "reporting_files.thumbnail" in views:
        thumb = url_for("reporting_files.thumbnail", file_id=report_file.id)
    return thumb, full


def stored_value(question, answer) -> str:
    """A stored answer as the correction form shows it."""
    if question.kind in ("integer", "decimal", "yes_no"):
        if answer.value_number is None:
            return ""
        number = answer.value_number
        return str(int(number)) if number == int(number) else f"{number:g}"
    if question.kind == "date" and answer.value_text:
        try:
            return dt.date.fromisoformat(answer.value_text).strftime("%d.%m.%Y")
        except ValueError:
            return answer.value_text
    return answer.value_text or ""


def _header(report) -> dict:
    return {
        "status_label": label(REPORT_STATUSES, report.status),
        "kind_label": label(QUESTIONNAIRE_KINDS, report.kind),
        "appointment_status": (
            label(APPOINTMENT_STATUSES, report.appointment.status) if report.appointment else ""
        ),
    }


class ReportReviewView(BaseView):
    route_base = "/reports/review"
    default_view = "queue"

    def _report(self, report_id: int):
        report = review_queries.report_for_review(db.session, report_id)
        if report is None:
            abort(404)
        return report

    def _revision(self) -> int | None:
        return _int_arg(request.form.get("revision"))

    def _back(self, report_id: int):
        return redirect(url_for("ReportReviewView.show", report_id=report_id))

    def _form_ok(self) -> bool:
        if ReviewForm().validate_on_submit():
            return True
        flash(_("The form has expired. Please try again."), "danger")
        return False

    @expose("/")
    @has_access
    def queue(self):
        status = request.args.get("status", "submitted")
        if status not in review_queries.QUEUE_STATUSES:
            status = "submitted"
        project_id = _int_arg(request.args.get("project"))
        page = _int_arg(request.args.get("page")) or 1
        # The project is searched (a remote select), not listed: an agency has hundreds.
        project = db.session.get(Project, project_id) if project_id is not None else None
        project_id = project.id if project is not None else None
        result = review_queries.review_queue(db.session, status, project_id, page)
        arguments = {"status": status, **({"project": project_id} if project_id else {})}
        return self.render_template(
            "reporting/review_queue.html",
            result=result,
            status=status,
            statuses=[(code, label(REPORT_STATUSES, code)) for code in review_queries.QUEUE_STATUSES],
            project_id=project_id,
            project=project,
            arguments=arguments,
            kind_label=lambda code: label(QUESTIONNAIRE_KINDS, code),
        )

    @expose("/<int:report_id>")
    @has_access
    def show(self, report_id: int):
        report = self._report(report_id)
        language = current_language()
        pages = review_queries.shown_answers(db.session, report, language, _("Yes"), _("No"), format_day)
        return self.render_template(
            "reporting/review_report.html",
            report=report,
            pages=pages,
            form=ReviewForm(),
            file_urls=file_urls,
            **_header(report),
        )

    @expose("/<int:report_id>/approve", methods=["POST"])
    @has_access
    def approve(self, report_id: int):
        report = self._report(report_id)
        if not self._form_ok():
            return self._back(report_id)
        revision = self._revision()
        if request.form.get("confirmed") != "1":
            return self.render_template(
                "reporting/review_confirm.html",
                report=report,
                form=ReviewForm(),
                revision=revision if revision is not None else report.revision,
            )
        try:
            operations.approve(db.session, report, g.user, revision=revision)
        except ReportError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return self._back(report_id)
        if report.kind == "day":
            flash(_("Report approved; the appointment is marked as done with the actual times."), "success")
        else:
            flash(_("Report approved."), "success")
        return redirect(url_for("ReportReviewView.queue"))

    @expose("/<int:report_id>/return", methods=["POST"])
    @has_access
    def return_report(self, report_id: int):
        report = self._report(report_id)
        if not self._form_ok():
            return self._back(report_id)
        try:
            operations.return_report(
                db.session, report, g.user, request.form.get("comment"), revision=self._revision()
            )
        except ReportError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return self._back(report_id)
        flash(_("Report returned; the promoter is informed by mail."), "success")
        return redirect(url_for("ReportReviewView.queue"))

    @expose("/<int:report_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, report_id: int):
        report = self._report(report_id)
        if report.status not in ("submitted", "approved"):
            flash(_("Only submitted or approved reports can be corrected."), "warning")
            return self._back(report_id)
        language = current_language()
        pages = review_queries.shown_answers(db.session, report, language, _("Yes"), _("No"), format_day)
        errors: dict[str, str] = {}
        entered: dict[str, str] = {}
        if request.method == "POST":
            if not self._form_ok():
                return self._back(report_id)
            entered = {key: value for key, value in request.form.items() if key != "csrf_token"}
            values, errors = self._read_edit(report)
            if not errors:
                try:
                    operations.edit_report(db.session, report, g.user, values, revision=self._revision())
                except ReportEditError as error:
                    db.session.rollback()
                    errors = error.errors
                except ReportError as error:
                    db.session.rollback()
                    flash(str(error), "danger")
                    return self._back(report_id)
                else:
                    flash(_("Report corrected; the changes are in the audit trail."), "success")
                    return self._back(report_id)
            flash(_("Please correct the marked fields."), "danger")
        return self.render_template(
            "reporting/review_edit.html",
            report=report,
            pages=pages,
            form=ReviewForm(),
            errors=errors,
            entered=entered,
            revision=(self._revision() if request.method == "POST" else None) or report.revision,
            stored_value=stored_value,
            choice_list=lambda q: list(review_queries.choices(q, language).items()),
            q_label=lambda q: review_queries.question_label(q, language),
            **_header(report),
        )

    def _read_edit(self, report) -> tuple[ReportEdit, dict[str, str]]:
        errors: dict[str, str] = {}
        values = ReportEdit()
        for name in ("actual_start", "actual_end"):
            raw = request.form.get(name, "")
            value = _time(raw)
            if raw.strip() and value is None:
                errors[name] = _("Please enter a time as HH:MM.")
            setattr(values, name, value)
        raw_break = (request.form.get("break_minutes") or "").strip()
        if raw_break:
            if raw_break.isdigit() and len(raw_break) <= 5:
                values.break_minutes = int(raw_break)
            else:
                errors["break_minutes"] = _("Between 0 and 1440 minutes.")
        for key, raw in request.form.items():
            if key.startswith("answer-"):
                answer_id = _int_arg(key[len("answer-") :])
                if answer_id is None:
                    errors[key] = _("This answer does not belong to the report.")
                    continue
                values.answers[answer_id] = raw
        return values, errors
