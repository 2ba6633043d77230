"""The customer's three-step proposal wizard and their list of proposals.

The wizard's state lives in the database (``wizard_draft``) under a random
token; the token goes into the appointment's unique ``request_token`` on
submit, so a double click, the back button or a replayed POST yields exactly
one proposal.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.common.models import utcnow
from app.common.timezone import local_today
from app.extensions import db
from app.models.crm import Location
from app.models.planning import Appointment, Job, Project
from app.portal import queries
from app.portal.models import WizardDraft
from app.proposals import change_pages, operations, rules
from app.proposals.forms import ProposalSlotForm, ProposalStoreForm, ProposalSubmitForm
from app.proposals.history import proposal_history

#: Unfinished wizards older than this are removed when a new one starts.
DRAFT_LIFETIME = dt.timedelta(days=7)


#: A wizard token is ``uuid4().hex``; anything else is a forged or broken link.
TOKEN_SHAPE = re.compile(r"[0-9a-f]{32}")


def _checked(token: str) -> str:
    """The token, or 400 for one no wizard can have (e.g. longer than its column)."""
    if not TOKEN_SHAPE.fullmatch(token):
        abort(400)
    return token


def _state(token: str) -> dict | None:
    draft = db.session.get(WizardDraft, token)
    if draft is None or draft.user_id != g.user.id:
        return None
    return json.loads(draft.data)


def _save(token: str, state: dict) -> None:
    data = json.dumps(state)
    user_id = g.user.id
    draft = db.session.get(WizardDraft, token)
    if draft is None:
        db.session.execute(delete(WizardDraft).where(WizardDraft.updated_at < utcnow() - DRAFT_LIFETIME))
        db.session.add(WizardDraft(token=token, user_id=user_id, data=data, updated_at=utcnow()))
        try:
            db.session.commit()
            return
        except IntegrityError:  # a double click: the other request created this draft a moment ago
            db.session.rollback()
            draft = db.session.get(WizardDraft, token)
    if draft is None or draft.user_id != user_id:
        abort(404)
    draft.data = data
    draft.updated_at = utcnow()
    db.session.commit()


def _forget(token: str) -> None:
    db.session.execute(delete(WizardDraft).where(WizardDraft.token == token))
    db.session.commit()


def _draft(state: dict) -> rules.ProposalDraft:
    return rules.ProposalDraft(
        project_id=state["project"],
        location_id=state["location"],
        date=dt.date.fromisoformat(state["date"]),
        start_time=dt.time.fromisoformat(state["start_time"]),
        end_time=dt.time.fromisoformat(state["end_time"]),
        note=state.get("note") or None,
    )


def _store_choices(form: ProposalStoreForm) -> None:
    projects = queries.visible_projects(db.session, g.scope)
    stores = queries.visible_stores(db.session, g.scope)
    form.project.choices = [("", _("Choose a project"))] + [(p.id, p.name) for p in projects]
    form.location.choices = [("", _("Choose a store"))] + [(s.id, f"{s.name}, {s.city}") for s in stores]


def _already_submitted(token: str):
    """A finished wizard's token: show its proposal instead of creating another."""
    done = db.session.scalar(
        select(Appointment).where(Appointment.request_token == token).where(g.scope.condition(Appointment))
    )
    if done is not None:
        flash(_("This proposal has already been submitted."), "info")
        return redirect(url_for("portal.proposal", appointment_id=done.id))
    return None


def wizard_store():
    token = _checked(request.args.get("token") or uuid.uuid4().hex)
    if (done := _already_submitted(token)) is not None:
        return done
    state = _state(token) or {}
    form = ProposalStoreForm(data={"project": state.get("project"), "location": state.get("location")})
    if request.method == "POST":
        form = ProposalStoreForm()
    _store_choices(form)
    if request.method == "GET":
        # With a single project (or store) there is nothing to choose.
        for field in (form.project, form.location):
            if not field.data and len(field.choices) == 2:
                field.data = field.choices[1][0]
    if form.validate_on_submit():
        try:
            rules.check_store(db.session, g.scope, form.project.data, form.location.data)
        except rules.ProposalError as error:
            getattr(form, error.field or "location").errors.append(str(error))
        else:
            _save(token, {**state, "project": form.project.data, "location": form.location.data})
            return redirect(url_for("portal.wizard_slot", token=token))
    return render_template("portal/wizard_store.html", form=form, token=token, step=1)


def _job_or_restart(token: str, state: dict | None):
    if not state or "project" not in state:
        flash(_("Please start with step 1."), "info")
        return None, redirect(url_for("portal.wizard_store", token=token))
    try:
        job = rules.check_store(db.session, g.scope, state["project"], state["location"])
    except rules.ProposalError as error:
        flash(str(error), "danger")
        return None, redirect(url_for("portal.wizard_store", token=token))
    return job, None


def _open_wizard(token: str):
    """The wizard's state and job, or the response that sends the user where they belong."""
    _checked(token)
    done = _already_submitted(token)
    if done is not None:
        return None, None, done
    state = _state(token)
    job, restart = _job_or_restart(token, state)
    return state, job, restart


_REGISTERED: dict[str, set[str]] = {}


#: How many days before and after the chosen date step 2 shows the store's appointments.
AROUND = dt.timedelta(days=7)


def _around(job, day: dt.date) -> list[queries.AppointmentRow]:
    """The store's visible appointments in the two weeks around ``day`` (step 2)."""
    flt = queries.AppointmentFilter(job=job.id, date_from=day - AROUND, date_to=day + AROUND)
    rows = list(db.session.scalars(queries.filtered_appointments(g.scope, flt).limit(40)).unique())
    return queries.with_promoters(db.session, g.scope, rows)


def _slot_form(state: dict, job) -> ProposalSlotForm:
    """Step 2's form from the wizard's state; times from the job's usual hours if none yet."""
    start = dt.time.fromisoformat(state["start_time"]) if state.get("start_time") else None
    end = dt.time.fromisoformat(state["end_time"]) if state.get("end_time") else None
    if start is None and end is None and (usual := rules.usual_hours(db.session, job)):
        start, end = usual
    return ProposalSlotForm(
        data={
            "date": dt.date.fromisoformat(state["date"]) if state.get("date") else None,
            "start_time": start,
            "end_time": end,
            "note": state.get("note", ""),
        }
    )


def wizard_slot(token: str):
    state, job, response = _open_wizard(token)
    if response is not None:
        return response
    form = ProposalSlotForm() if request.method == "POST" else _slot_form(state, job)
    checking = request.method == "POST" and "check" in request.form
    if checking:
        form.validate_on_submit()  # the field errors are shown; nothing is saved
    elif form.validate_on_submit():
        try:
            rules.check_slot(job, form.date.data, form.start_time.data, form.end_time.data)
        except rules.ProposalError as error:
            getattr(form, error.field or "date").errors.append(str(error))
        else:
            _save(
                token,
                {
                    **state,
                    "date": form.date.data.isoformat(),
                    "start_time": form.start_time.data.strftime("%H:%M"),
                    "end_time": form.end_time.data.strftime("%H:%M"),
                    "note": (form.note.data or "").strip(),
                },
            )
            return redirect(url_for("portal.wizard_review", token=token))
    day = form.date.data if not form.date.errors else None
    return render_template(
        "portal/wizard_slot.html",
        form=form,
        token=token,
        job=job,
        step=2,
        day=day,
        around=_around(job, day) if day else [],
        around_days=AROUND,
        today=local_today(),
        warnings=rules.warnings_for(db.session, job, day) if day else [],
    )


def wizard_review(token: str):
    state, job, response = _open_wizard(token)
    if response is not None:
        return response
    if "date" not in state:
        flash(_("Please choose the date and time first."), "info")
        return redirect(url_for("portal.wizard_slot", token=token))
    draft = _draft(state)
    try:
        rules.check_slot(job, draft.date, draft.start_time, draft.end_time)
    except rules.ProposalError as error:
        flash(str(error), "danger")
        return redirect(url_for("portal.wizard_slot", token=token))
    form = ProposalSubmitForm()
    if form.validate_on_submit():
        appointment, created = operations.propose(db.session, g.scope, g.contact, g.user, draft, token)
        _forget(token)
        if created:
            flash(_("Your proposal has been sent to the agency."), "success")
        else:
            flash(_("This proposal has already been submitted."), "info")
        return redirect(url_for("portal.proposal", appointment_id=appointment.id))
    return render_template(
        "portal/wizard_review.html",
        form=form,
        token=token,
        job=job,
        draft=draft,
        warnings=rules.warnings_for(db.session, job, draft.date),
        step=3,
    )


def _own_proposals():
    return (
        g.scope.appointments()
        .where(Appointment.origin == "customer", Appointment.proposed_by_id == g.contact.id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Project, Project.id == Job.project_id)
    )


def proposals():
    rows = []
    if g.contact is not None:
        rows = db.session.scalars(
            _own_proposals().order_by(Appointment.created_at.desc(), Appointment.id.desc())
        ).all()
    changes = change_pages.own_change_requests() if g.contact is not None else []
    return render_template(
        "portal/proposals.html", proposals=rows, changes=changes, change_state=change_pages.change_state
    )


def proposal(appointment_id: int):
    if g.contact is None:
        abort(404)
    item = db.session.scalar(_own_proposals().where(Appointment.id == appointment_id))
    if item is None:
        abort(404)
    history = proposal_history(db.session, item.id, g.user.id)
    return render_template("portal/proposal.html", proposal=item, history=history)


def register_wizard(bp: Blueprint, login_required) -> None:
    """Add the wizard's and the proposal list's routes to the customer system's blueprint.

    Once per blueprint: its rules are replayed for every app it is registered on.
    """
    if "wizard_store" in _REGISTERED.setdefault(bp.name, set()):
        return
    _REGISTERED[bp.name].add("wizard_store")
    for rule, view, methods in (
        ("/proposals/new", wizard_store, ["GET", "POST"]),
        ("/proposals/new/<token>/when", wizard_slot, ["GET", "POST"]),
        ("/proposals/new/<token>/review", wizard_review, ["GET", "POST"]),
        ("/proposals/", proposals, None),
        ("/proposals/<int:appointment_id>", proposal, None),
        ("/proposals/<int:appointment_id>/withdraw", change_pages.withdraw_proposal, ["GET", "POST"]),
        ("/appointments/<int:appointment_id>/change", change_pages.change_request, ["GET", "POST"]),
    ):
        bp.add_url_rule(rule, view_func=login_required(view), methods=methods)
