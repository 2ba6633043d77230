"""The promoter's reports: what is due, the report form (day and weekly reports), read-only
views of submitted ones. Reads go through the promoter's visibility scope; every change
through :mod:`app.reporting.operations`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.common.choices import REPORT_STATUSES, label
from app.common.timezone import local_now
from app.extensions import db
from app.models.reporting import Question, Report, ReportFile
from app.promoter import queries
from app.promoter.portal import bp, promoter_required
from app.reporting import answers
from app.reporting import operations as reporting
from app.reporting.answers import FILE_KINDS, MAX_GROUP_ROWS
from app.reporting.file_views import file_url
from app.reporting.files import request_size_limit
from app.reporting.operations import ReportError, ReportInputError


@bp.app_template_global()
def due_reports() -> int | None:
    """The menu's count of reports due (None outside a promoter page)."""
    scope = getattr(g, "scope", None)
    if getattr(g, "promoter", None) is None or scope is None:
        return None
    if "due_reports" not in g:
        g.due_reports = queries.due_report_count(db.session, scope, local_now())
    return g.due_reports


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if answers.digits(raw) and len(raw) < 7 else 1


@bp.route("/reports")
@promoter_required
def reports():
    now = local_now()
    return render_template(
        "promoter/reports.html",
        day_rows=queries.due_day_reports(db.session, g.scope, now),
        week_rows=queries.due_week_reports(db.session, g.scope, now.date()),
        done=queries.done_reports_page(db.session, g.scope, _page_number()),
        report_state=lambda code: label(REPORT_STATUSES, code),
    )


@bp.route("/reports/day/<int:appointment_id>", methods=["POST"])
@promoter_required
def start_day_report(appointment_id: int):
    appointment = queries.visible_appointment(db.session, g.scope, appointment_id)
    if appointment is None:
        abort(404)
    try:
        report = reporting.start_day_report(db.session, g.promoter, appointment)
    except ReportError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("promoter.reports"))
    return redirect(url_for("promoter.report", report_id=report.id))


@bp.route("/reports/week/<int:job_id>/<week>", methods=["POST"])
@promoter_required
def start_week_report(job_id: int, week: str):
    job = queries.booked_job(db.session, g.scope, job_id)
    week_start = answers.parse_date(week)
    if job is None or week_start is None:
        abort(404)
    try:
        report = reporting.start_week_report(db.session, g.promoter, job, week_start)
    except ReportError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("promoter.reports"))
    return redirect(url_for("promoter.report", report_id=report.id))


# ---------------------------------------------------------------- the form


@dataclass
class Field:
    question: Question
    name: str
    label: str
    files: list[ReportFile] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass
class Group:
    question: Question
    name: str
    label: str
    rows: list[list[Field]]
    can_add: bool

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass
class Section:
    title: str
    items: list[Field | Group]


def _sections(report: Report, values, extra_rows: str | None = None) -> list[Section]:
    """The form's pages with their questions; each group shows its rows plus one empty row."""
    version = report.questionnaire_version
    files: dict[tuple[str, str | None, int], list[ReportFile]] = {}
    for stored in report.files:
        files.setdefault((stored.question_key, stored.group_key, stored.item), []).append(stored)
    sections = []
    for page in version.pages:
        items: list[Field | Group] = []
        for question in answers.top_questions(version):
            if question.page_id != page.id:
                continue
            if question.kind != "group":
                name = answers.field_name(question)
                items.append(
                    Field(
                        question,
                        name,
                        answers.question_label(question),
                        files.get((question.key, None, 0), []),
                    )
                )
                continue
            raw = values.get(answers.rows_field(question)) or "0"
            filled = min(int(raw), MAX_GROUP_ROWS) if answers.digits(raw) and len(raw) < 4 else 0
            filled = max([filled] + [item + 1 for key, group, item in files if group == question.key])
            limit = min(question.max_count or MAX_GROUP_ROWS, MAX_GROUP_ROWS)
            count = filled + (1 if extra_rows == question.key else 0)
            count = min(max(count, 1), limit)
            subs = answers.children(version, question)
            rows = [
                [
                    Field(
                        sub,
                        answers.field_name(sub, question, row),
                        answers.question_label(sub),
                        files.get((sub.key, question.key, row), []),
                    )
                    for sub in subs
                ]
                for row in range(count)
            ]
            items.append(
                Group(question, f"g.{question.key}", answers.question_label(question), rows, count < limit)
            )
        if items:
            sections.append(Section(answers.page_title(page), items))
    return sections


def _stored_values(report: Report):
    return answers.form_values(
        report.questionnaire_version,
        report.answers,
        actual_start=report.actual_start,
        actual_end=report.actual_end,
        break_minutes=report.break_minutes,
        file_items=[(f.question_key, f.group_key, f.item) for f in report.files],
    )


def _uploads(report: Report) -> dict[tuple[str, str | None, int], list]:
    """The chosen files by (question key, group key, row), from the form's file inputs."""
    found: dict[tuple[str, str | None, int], list] = {}
    version = report.questionnaire_version
    by_key = {q.key: q for q in version.questions}
    for name in request.files:
        parts = name.split(".")
        if parts[0] == "q" and len(parts) == 2:
            place = (parts[1], None, 0)
        elif parts[0] == "g" and len(parts) == 4 and answers.digits(parts[2]) and len(parts[2]) < 4:
            place = (parts[3], parts[1], int(parts[2]))
        else:
            continue
        question = by_key.get(place[0])
        if question is None or question.kind not in FILE_KINDS:
            continue
        chosen = [upload for upload in request.files.getlist(name) if upload and upload.filename]
        if chosen:
            found[place] = chosen[:50]
    return found


def _remove_ids() -> list[int]:
    raw = request.form.get("remove_file", "")
    return [int(raw)] if answers.digits(raw) and len(raw) < 19 else []


def _render(report: Report, values, errors: dict[str, str], status: int = 200, extra_rows: str | None = None):
    sections = _sections(report, values, extra_rows)
    labels = {
        "actual_start": _("Actual start"),
        "actual_end": _("Actual end"),
        "break_minutes": _("Break (minutes)"),
    }
    for section in sections:
        for item in section.items:
            labels[item.name] = item.label
            if isinstance(item, Group):
                for row_number, row in enumerate(item.rows, start=1):
                    for cell in row:
                        labels[cell.name] = f"{item.label}, {_('row %(num)d', num=row_number)}: {cell.label}"
    summary = [(name, labels.get(name, name), message) for name, message in errors.items()]
    editable = report.status in reporting.EDITABLE_REPORTS
    return render_template(
        "promoter/report.html",
        report=report,
        sections=sections,
        values=values,
        errors=errors,
        summary=summary,
        editable=editable,
        answers=answers,
        file_url=file_url,
        report_state=label(REPORT_STATUSES, report.status),
        week_end=report.week_start + dt.timedelta(days=6) if report.week_start else None,
    ), status


#: Form fields a report form may send (werkzeug's default, 1,000, is below 50 group rows of a
#: long group); beyond it werkzeug answers 413, see :func:`too_large`.
MAX_FORM_PARTS = 5000


@bp.errorhandler(413)
def too_large(_error):
    """A form or upload too large to read: a message on the form, nothing saved."""
    flash(_("The form was too large to be saved. Please send fewer or smaller photos at a time."), "danger")
    if request.endpoint == "promoter.report":
        return redirect(request.path)
    return redirect(url_for("promoter.reports"))


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@promoter_required
def report(report_id: int):
    request.max_form_parts = MAX_FORM_PARTS
    request.max_content_length = request_size_limit()
    found = queries.visible_report(db.session, g.scope, report_id)
    if found is None:
        abort(404)
    if request.method == "GET" or found.status not in reporting.EDITABLE_REPORTS:
        if request.method == "POST":
            flash(_("This report has been submitted and can no longer be changed."), "danger")
            return redirect(url_for("promoter.report", report_id=found.id))
        return _render(found, _stored_values(found), {})
    action = request.form.get("action", "save")
    add_row = request.form.get("add_row") or None
    remove = _remove_ids()
    submit = action == "submit" and not add_row and not remove
    raw_revision = request.form.get("revision", "")
    revision = int(raw_revision) if answers.digits(raw_revision) and len(raw_revision) < 10 else -1
    try:
        reporting.save_report(
            db.session,
            found,
            g.promoter,
            request.form,
            submit=submit,
            revision=revision,
            uploads=_uploads(found),
            remove_files=remove,
        )
    except ReportInputError as error:
        chosen = bool(_uploads(found))
        db.session.rollback()
        found = queries.visible_report(db.session, g.scope, report_id)
        flash(str(error), "danger")
        if chosen:
            flash(_("Nothing has been saved yet: please choose your photos again."), "warning")
        return _render(found, request.form, error.errors, 400)  # type: ignore[arg-type]
    except ReportError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("promoter.report", report_id=report_id))
    if submit:
        flash(_("Your report has been submitted. Thank you!"), "success")
        return redirect(url_for("promoter.reports"))
    if add_row:
        return _render(found, _stored_values(found), {}, extra_rows=add_row)
    if remove:
        flash(_("The file has been removed."), "success")
    else:
        flash(_("Your draft has been saved."), "success")
    return redirect(url_for("promoter.report", report_id=report_id))
