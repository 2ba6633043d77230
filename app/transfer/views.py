"""Agency screen "Import / Export": upload, preview, import; exports and sample files."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from functools import wraps

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from app.common.forms import TranslatedForm
from app.extensions import db
from app.lookups.remote_select import RemoteSelectField
from app.models.planning import Job, Project
from app.transfer import export_jobs, exports, importers, jobs
from app.transfer.models import ExportJob, ImportJob
from app.transfer.tables import (
    CONTENT_TYPES,
    ILLEGAL_CHARACTERS,
    FileProblem,
    iter_csv,
    iter_csv_text,
    iter_xlsx,
    read_table,
    write_file,
)

#: More rows than this are written in the background, with a progress page.
BACKGROUND_ROWS = 2000
PREVIEW_ROWS = 200
FORMATS = ("csv", "xlsx")
TOKEN = re.compile(r"[0-9a-f]{32}")


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def agency_only(method):
    """Logged-in users without the permission (customers, promoters) get 403, not FAB's
    redirect to the login page; visitors still go to the login page (``has_access``)."""

    @wraps(method)
    def wrapper(self, *args, **kwargs):
        if current_user.is_authenticated and not self.appbuilder.sm.has_access(
            "can_" + method.__name__, self.class_permission_name
        ):
            abort(403)
        return method(self, *args, **kwargs)

    return wrapper


class ImportForm(TranslatedForm):
    kind = SelectField(
        _l("What to import"),
        choices=[(key, kind.label) for key, kind in importers.KINDS.items()],
        validators=[DataRequired()],
    )
    # Searched while typing (an agency has thousands of jobs), not a dropdown of every job.
    job = RemoteSelectField(_l("Job (for appointments)"), kind="job")
    file = FileField(_l("File (CSV or Excel .xlsx)"))
    #: The token of the file kept from the last refused attempt (see jobs.keep_upload).
    kept = HiddenField()

    def validate_file(self, field) -> None:
        if not field.data and not self.kept.data:
            FileRequired()(self, field)


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


def _job_label(job: Job) -> str:
    return f"{job.title} · {job.project.name}"


def _list_url(kind: str, job_id: int | None) -> str:
    if kind == "locations":
        return url_for("LocationView.list")
    if kind == "contacts":
        return url_for("ContactView.list")
    if job_id:
        return url_for("AppointmentView.list", job=job_id, period="all")
    return url_for("AppointmentView.list")


def _locale() -> str:
    return "en" if str(get_locale() or "de") == "en" else "de"


def _errors(job: ImportJob) -> list[importers.RowError]:
    """The rows' errors when a job failed its check at the start of the run."""
    return [importers.RowError(*error) for error in json.loads(job.errors or "[]")]


def _failed_message(job: ImportJob) -> str:
    if job.done:
        return _(
            "The import failed at row %(row)d. %(count)d rows written before could not be removed "
            "because they are already in use; please check them.",
            row=job.failed_row or 0,
            count=job.done,
        )
    if job.failed_row:
        return _(
            "The import failed at row %(row)d and nothing was saved. Please check that row and try again.",
            row=job.failed_row,
        )
    if job.errors:
        return _("Something changed since the preview; nothing was imported.")
    return _("The import failed and nothing was saved. Please try again.")


def _status_message(job: ImportJob) -> str:
    if job.state == "done":
        return _("%(count)s rows imported.", count=format_number(job.total))
    if job.state == "failed":
        return _failed_message(job)
    if job.state == "queued":
        return _("The import is waiting to be started …")
    return _written(job)


def _written(job: ImportJob | ExportJob) -> str:
    """Progress in the user's number format ("2.597 von 10.000" in German)."""
    return _(
        "%(done)s of %(total)s rows written …",
        done=format_number(job.done or 0),
        total=format_number(job.total or 0),
    )


def _export_message(job: ExportJob) -> str:
    if job.state == "done":
        return _("The export is ready: %(count)s rows.", count=format_number(job.total or 0))
    if job.state == "failed":
        return _("The export failed. Please try again.")
    if job.state == "queued":
        return _("The export is waiting to be started …")
    return _written(job)


def _download(data: bytes | Iterator[bytes], fmt: str, name: str) -> Response:
    response = Response(data, mimetype=CONTENT_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = CONTENT_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


class TransferView(BaseView):
    route_base = "/transfer"
    default_view = "index"

    def _form(self) -> ImportForm:
        form = ImportForm()
        return form

    def _index(self, form: ImportForm, status: int = 200):
        # Preselected: the newest project; the others are searched as the user types (a remote
        # select: an agency has hundreds of projects over the years).
        newest = db.session.scalar(select(Project).order_by(Project.start_date.desc(), Project.name).limit(1))
        export_names = {
            "locations": _("Locations"),
            "contacts": _("Contacts"),
            "appointments": _("Appointments"),
            "projects": _("Projects"),
        }
        return (
            self.render_template(
                "transfer/index.html",
                form=form,
                kinds=importers.KINDS,
                exports=list(export_names.items()),
                newest_project=newest,
                kept_filename=self._kept_filename(form),
                my_exports=[
                    (job, _export_message(job), export_names.get(job.kind, job.kind))
                    for job in export_jobs.recent(db.session, g.user.id)
                ],
            ),
            status,
        )

    @expose("/")
    @agency_only
    @has_access
    def index(self):
        form = self._form()
        if request.args.get("job") and not form.job.data:
            form.job.data = db.session.get(Job, _int_or_none(request.args.get("job")) or 0)
            form.kind.data = "appointments"
        kept = request.args.get("kept", "")
        if TOKEN.fullmatch(kept) and jobs.kept_upload(db.session, kept, g.user.id):
            form.kept.data = kept
            form.kind.data = request.args.get("kind") or form.kind.data
        return self._index(form)

    def _kept_filename(self, form: ImportForm) -> str | None:
        token = form.kept.data or ""
        kept = jobs.kept_upload(db.session, token, g.user.id) if TOKEN.fullmatch(token) else None
        return kept[0] if kept else None

    def _upload_data(self, form: ImportForm) -> tuple[str, bytes] | None:
        """The new file, or else the kept one; None if the kept one has expired."""
        upload = form.file.data
        if upload:
            if form.kept.data:
                jobs.drop_upload(db.session, form.kept.data, g.user.id)
                form.kept.data = ""
            return ILLEGAL_CHARACTERS.sub("", upload.filename or "")[:255], upload.read()
        token = form.kept.data or ""
        return jobs.kept_upload(db.session, token, g.user.id) if TOKEN.fullmatch(token) else None

    def _refuse(self, form: ImportForm, filename: str, data: bytes, kind: str):
        """The form again with its errors, the file kept so that it need not be chosen again."""
        if not form.kept.data:
            form.kept.data = jobs.keep_upload(db.session, g.user.id, kind, filename, data)
        return self._index(form, 400)

    # ------------------------------------------------------------ import

    @expose("/import", methods=["POST"])
    @agency_only
    @has_access
    def upload(self):
        form = self._form()
        valid = form.validate_on_submit()
        upload = self._upload_data(form) if form.kind.data in importers.KINDS else None
        if upload is None and form.kept.data and not form.file.data:
            form.kept.data = ""
            form.file.errors = [_("The file chosen before has expired. Please choose it again.")]
            return self._index(form, 400)
        if not valid:
            return self._refuse(form, *upload, form.kind.data) if upload else self._index(form, 400)
        filename, data = upload
        kind = form.kind.data
        job = form.job.data
        if kind == "appointments" and job is None:
            form.job.errors.append(_("Please choose the job the appointments belong to."))
            return self._refuse(form, filename, data, kind)
        try:
            checked = importers.check(kind, read_table(filename, data), db.session, job)
        except FileProblem as problem:
            form.file.errors.append(str(problem.message))
            return self._refuse(form, filename, data, kind)
        finally:
            db.session.rollback()
        token = None
        if checked.ok:
            token = jobs.create(db.session, g.user.id, kind, checked.rows, job.id if job else None, filename)
            if form.kept.data:
                jobs.drop_upload(db.session, form.kept.data, g.user.id)
        elif not form.kept.data:
            form.kept.data = jobs.keep_upload(db.session, g.user.id, kind, filename, data)
        return self._preview(checked, filename, job, token, kept=form.kept.data or None)

    def _preview(self, checked, filename: str, job: Job | None, token: str | None, kept: str | None = None):
        kind = importers.KINDS[checked.kind]
        return self.render_template(
            "transfer/preview.html",
            kept=kept,
            checked=checked,
            kind=kind,
            filename=filename,
            job_label=_job_label(job) if job else None,
            token=token,
            shown=checked.rows[:PREVIEW_ROWS],
            shown_value=importers.shown_value,
            warnings=checked.warnings[:PREVIEW_ROWS],
            background=len(checked.rows) > self._background_rows(),
            form=ConfirmForm(),
        )

    @staticmethod
    def _background_rows() -> int:
        return int(current_app.config.get("IMPORT_BACKGROUND_ROWS", BACKGROUND_ROWS))

    def _own_job(self, token: str) -> ImportJob | None:
        return jobs.find(db.session, token, g.user.id) if TOKEN.fullmatch(token or "") else None

    @expose("/import/<string:token>", methods=["POST"])
    @agency_only
    @has_access
    def run(self, token: str):
        if not ConfirmForm().validate_on_submit():
            flash(_("The form has expired. Please try again."), "danger")
            return redirect(url_for("TransferView.index"))
        job = self._own_job(token)
        small = job is not None and job.total <= self._background_rows()
        worker = jobs.worker_name("web:") if small else None
        if job is None or not jobs.confirm(db.session, token, g.user.id, _locale(), worker):
            flash(
                _("This import has already been run or has expired. Please upload the file again."), "warning"
            )
            return redirect(url_for("TransferView.index"))
        if not small:
            return redirect(url_for("TransferView.progress", token=token))
        jobs.run_claimed(db.session, job.id, worker)
        db.session.expire_all()
        job = self._own_job(token)
        if job.state not in ("done", "failed"):  # another runner took it over meanwhile
            return redirect(url_for("TransferView.progress", token=token))
        if job.state == "done":
            flash(_("%(count)s rows imported.", count=format_number(job.total)), "success")
            return redirect(_list_url(job.kind, job.job_id))
        errors = _errors(job)
        if errors:
            flash(_("Something changed since the preview; nothing was imported."), "danger")
            planning_job = db.session.get(Job, job.job_id) if job.job_id else None
            checked = importers.Checked(job.kind, errors=errors)
            return self._preview(checked, job.filename or "", planning_job, None)
        flash(_failed_message(job), "danger")
        return redirect(url_for("TransferView.index"))

    @expose("/import/<string:token>/progress")
    @agency_only
    @has_access
    def progress(self, token: str):
        job = self._own_job(token)
        if job is None or job.state == "pending":
            abort(404)
        return self.render_template(
            "transfer/progress.html",
            token=token,
            job=job,
            errors=_errors(job),
            message=_status_message(job),
            list_url=_list_url(job.kind, job.job_id),
        )

    @expose("/import/<string:token>/status")
    @agency_only
    @has_access
    def status(self, token: str):
        job = self._own_job(token)
        if job is None or job.state == "pending":
            abort(404)
        return jsonify(state=job.state, done=job.done, total=job.total, message=_status_message(job))

    # ------------------------------------------------------------ files

    @expose("/sample")
    @agency_only
    @has_access
    def sample(self):
        kind, fmt = request.args.get("kind", ""), request.args.get("format", "csv")
        if kind not in importers.KINDS or fmt not in FORMATS:
            abort(404)
        header, rows = exports.sample(db.session, kind)
        return _download(
            write_file(fmt, header, rows, str(importers.KINDS[kind].label)), fmt, f"sample-{kind}"
        )

    @expose("/export", methods=["GET", "POST"])
    @agency_only
    @has_access
    def export(self):
        """Small exports are streamed at once; larger ones become a background job, started
        only by the confirming POST (with its CSRF token) — a link or a prefetch starts nothing."""
        values = request.form if request.method == "POST" else request.args
        what, fmt = values.get("what", ""), values.get("format", "csv")
        if what not in exports.EXPORTS or fmt not in FORMATS:
            abort(404)
        project_id = _int_or_none(values.get("project")) if what == "appointments" else None
        if export_jobs.is_large(db.session, what, project_id):
            if request.method != "POST":
                return self.render_template(
                    "transfer/export_start.html", what=what, fmt=fmt, project_id=project_id
                )
            token = export_jobs.create(db.session, g.user.id, what, fmt, project_id, _locale())
            return redirect(url_for("TransferView.export_progress", token=token))
        name = f"{what}-{dt.date.today().isoformat()}"
        # Any size: streamed from one SELECT, never held in memory as a whole.
        if what == "appointments" and fmt == "csv":
            header, rows = exports.appointments_csv(db.session, project_id)
            pieces = iter_csv_text(header, rows)
        else:
            if what == "appointments":
                header, rows = exports.appointments(db.session, project_id)
            else:
                header, rows = exports.EXPORTS[what](db.session)
            pieces = iter_xlsx(header, rows, what) if fmt == "xlsx" else iter_csv(header, rows)
        return _download(stream_with_context(pieces), fmt, name)

    def _own_export(self, token: str) -> ExportJob:
        job = export_jobs.find(db.session, token, g.user.id) if TOKEN.fullmatch(token or "") else None
        if job is None:
            abort(404)
        return job

    @expose("/export/<string:token>")
    @agency_only
    @has_access
    def export_progress(self, token: str):
        job = self._own_export(token)
        return self.render_template(
            "transfer/export_progress.html", token=token, job=job, message=_export_message(job)
        )

    @expose("/export/<string:token>/status")
    @agency_only
    @has_access
    def export_status(self, token: str):
        job = self._own_export(token)
        return jsonify(state=job.state, done=job.done, total=job.total, message=_export_message(job))

    @expose("/export/<string:token>/download")
    @agency_only
    @has_access
    def export_download(self, token: str):
        job = self._own_export(token)
        path = export_jobs.file_of(job)
        if job.state != "done" or not path.is_file():
            abort(404)
        response = send_file(
            path,
            mimetype=CONTENT_TYPES[job.format].split(";")[0],
            as_attachment=True,
            download_name=f"{job.kind}-{job.created_at.date().isoformat()}.{job.format}",
            conditional=False,
            etag=False,
        )
        response.headers["Content-Type"] = CONTENT_TYPES[job.format]
        response.headers["Cache-Control"] = "no-store"
        return response
