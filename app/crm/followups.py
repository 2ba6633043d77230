"""The agency user's own follow-ups: open tasks assigned to them, by due date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from wtforms import DateField
from wtforms.validators import DataRequired

from app.common.choices import TASK_KINDS, label
from app.common.timezone import local_today
from app.extensions import db
from app.models.crm import Task
from app.rules.calendar import week_of


class DoneForm(FlaskForm):
    """Only the CSRF token."""


class RescheduleForm(FlaskForm):
    due_date = DateField(_l("New due date"), validators=[DataRequired()])


@dataclass
class FollowUps:
    today: dt.date
    overdue: list[Task] = field(default_factory=list)
    due_today: list[Task] = field(default_factory=list)
    this_week: list[Task] = field(default_factory=list)
    later: list[Task] = field(default_factory=list)

    @property
    def groups(self) -> list[tuple[str, str, list[Task]]]:
        return [
            ("overdue", _("Overdue"), self.overdue),
            ("today", _("Today"), self.due_today),
            ("week", _("This week"), self.this_week),
            ("later", _("Later"), self.later),
        ]


def open_tasks(session: Session, user_id: int) -> list[Task]:
    return list(
        session.scalars(
            select(Task)
            .where(Task.assignee_id == user_id, Task.done.is_(False))
            .options(selectinload(Task.contact), selectinload(Task.company))
            .order_by(Task.due_date, Task.id)
        )
    )


def follow_ups(session: Session, user_id: int, today: dt.date | None = None) -> FollowUps:
    """The user's open tasks: overdue, due today, due later this week, later."""
    today = today or local_today()
    _monday, sunday = week_of(today)
    result = FollowUps(today=today)
    for task in open_tasks(session, user_id):
        if task.due_date < today:
            result.overdue.append(task)
        elif task.due_date == today:
            result.due_today.append(task)
        elif task.due_date <= sunday:
            result.this_week.append(task)
        else:
            result.later.append(task)
    return result


def tasks_due(session: Session, day: dt.date) -> list[Task]:
    """Open tasks due on ``day`` that have an assignee (for the daily digest)."""
    return list(
        session.scalars(
            select(Task)
            .where(Task.due_date == day, Task.done.is_(False), Task.assignee_id.is_not(None))
            .options(selectinload(Task.contact), selectinload(Task.company), selectinload(Task.assignee))
            .order_by(Task.id)
        )
    )


class FollowUpsView(BaseView):
    """ "My follow-ups" (Wiedervorlage) of the logged-in agency user."""

    route_base = "/crm/follow-ups"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template(
            "crm/follow_ups.html",
            followups=follow_ups(db.session, g.user.id),
            done_form=DoneForm(),
            reschedule_form=RescheduleForm(),
            task_kind_label=lambda code: label(TASK_KINDS, code),
        )

    def _own_open_task(self, task_id: int) -> Task:
        task = db.session.get(Task, task_id)
        if task is None or task.assignee_id != g.user.id:
            abort(404)
        return task

    @expose("/<int:task_id>/done", methods=["POST"])
    @has_access
    def done(self, task_id: int):
        form = DoneForm()
        if not form.validate_on_submit():
            flash(_("The form has expired. Please try again."), "danger")
            return redirect(url_for("FollowUpsView.index"))
        task = self._own_open_task(task_id)
        task.done = True
        db.session.commit()
        flash(_("Task \u201c%(title)s\u201d is done.", title=task.title), "success")
        return redirect(url_for("FollowUpsView.index"))

    @expose("/<int:task_id>/reschedule", methods=["POST"])
    @has_access
    def reschedule(self, task_id: int):
        form = RescheduleForm()
        task = self._own_open_task(task_id)
        if not form.validate_on_submit():
            flash(_("Please enter a valid new due date."), "danger")
            return redirect(url_for("FollowUpsView.index"))
        if form.due_date.data < local_today():
            flash(_("The new due date must not lie in the past."), "danger")
            return redirect(url_for("FollowUpsView.index"))
        task.due_date = form.due_date.data
        db.session.commit()
        flash(
            _(
                "Task \u201c%(title)s\u201d moved to %(date)s.",
                title=task.title,
                date=task.due_date.isoformat(),
            ),
            "success",
        )
        return redirect(url_for("FollowUpsView.index"))
