"""Agency screen: appointments of a job from a weekly pattern (preview, then create)."""

from __future__ import annotations

import datetime as dt

from babel.dates import get_day_names
from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField, TimeField
from wtforms.validators import DataRequired, InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from app.common.dates import LocalDateField
from app.common.formatting import current_language, format_date_local
from app.common.forms import TranslatedForm
from app.common.timezone import local_today
from app.extensions import db
from app.lookups.remote_select import RemoteSelectField
from app.models.planning import Job
from app.planning import generator


def warning_text(day: dt.date, conflict) -> str:
    if conflict.kind == "week_full":
        return _("Week of %(day)s", day=format_date_local(day)) + f": {conflict}"
    return f"{format_date_local(day)}: {conflict}"


class WeekdaysField(SelectMultipleField):
    """Checkboxes Monday … Sunday (values 0 … 6)."""

    widget = ListWidget(prefix_label=False, html_tag="ul")
    option_widget = CheckboxInput()


class GenerateForm(TranslatedForm):
    job = RemoteSelectField(_l("Job"), kind="job", validators=[InputRequired()])
    start = LocalDateField(_l("First day"), validators=[DataRequired()])
    end = LocalDateField(_l("Last day"), validators=[DataRequired()])
    weekdays = WeekdaysField(_l("Weekdays"), coerce=int)
    start_time = TimeField(_l("Start"), validators=[DataRequired()], default=dt.time(10))
    end_time = TimeField(_l("End"), validators=[DataRequired()], default=dt.time(18))
    skip_holidays = BooleanField(_l("Skip public holidays of the store's federal state"), default=True)


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


class GenerateAppointmentsView(BaseView):
    route_base = "/planning/generate"
    default_view = "form"

    def _form(self) -> GenerateForm:
        form = GenerateForm()
        names = get_day_names("wide", locale=str(get_locale()))
        form.weekdays.choices = [(day, names[day]) for day in generator.WEEKDAYS]
        return form

    @expose("/", methods=["GET", "POST"])
    @has_access
    def form(self):
        form = self._form()
        job = None
        if request.method == "GET":
            job_id = _int_arg("job")
            job = db.session.get(Job, job_id) if job_id else None
            if job is not None:
                form.job.data = job
                form.start.data = max(job.project.start_date, local_today())
                if form.start.data > job.project.end_date:
                    form.start.data = job.project.start_date
                form.end.data = job.project.end_date
            return self._render(form, job)

        job = form.job.data
        if not form.validate_on_submit():
            return self._render(form, job)
        step = request.form.get("step", "preview")
        values = (
            form.start.data,
            form.end.data,
            form.weekdays.data,
            form.start_time.data,
            form.end_time.data,
            form.skip_holidays.data,
        )
        try:
            if step == "create":
                plan = generator.generate_appointments(
                    db.session, job, *values, user=g.user, language=current_language()
                )
            else:
                plan = generator.preview(db.session, job, *values, language=current_language())
        except generator.GeneratorError as error:
            db.session.rollback()
            field = getattr(form, error.field or "", None)
            if field is not None:
                field.errors = [*field.errors, str(error)]
            return self._render(form, job, error=str(error))
        if step != "create":
            return self._render(form, job, plan=plan)
        flash(
            _(
                "Appointments created: %(created)d; days skipped: %(skipped)d.",
                created=plan.created_count,
                skipped=plan.skipped_count,
            ),
            "success",
        )
        if plan.warnings:
            shown = "; ".join(warning_text(day, conflict) for day, conflict in plan.warnings[:5])
            more = len(plan.warnings) - 5
            flash(
                _("Warnings: %(list)s", list=shown)
                + (" " + _("… and %(count)d more.", count=more) if more > 0 else ""),
                "warning",
            )
        first = plan.created[0].date if plan.created else form.start.data
        return redirect(url_for("PlanningBoardView.month", job=job.id, month=first.strftime("%Y-%m")))

    def _render(self, form, job, plan=None, error=None):
        weeks = []
        if plan is not None:
            by_week: dict[dt.date, list[dt.date]] = {}
            for day in plan.dates:
                by_week.setdefault(day - dt.timedelta(days=day.weekday()), []).append(day)
            weeks = sorted(by_week.items())
        return self.render_template(
            "planning/generate.html",
            form=form,
            job=job,
            plan=plan,
            weeks=weeks,
            error=error,
        )
