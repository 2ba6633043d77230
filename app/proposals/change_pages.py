"""Customer system: withdraw an own pending proposal; ask for an appointment in the
contact's territory to be cancelled or moved (and see what became of earlier requests)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.common.choices import CHANGE_REQUEST_STATUSES, label
from app.extensions import db
from app.models.planning import Appointment, ChangeRequest, Job
from app.proposals import operations, rules
from app.proposals.forms import ChangeRequestForm, WithdrawForm


def change_state(code: str) -> str:
    """A change request's state in the customer's words."""
    return label(CHANGE_REQUEST_STATUSES, code)


def _visible_appointment(appointment_id: int) -> Appointment:
    """The appointment if the contact's scope sees it, else 404."""
    if g.contact is None:
        abort(404)
    item = db.session.scalar(
        g.scope.appointments()
        .where(Appointment.id == appointment_id)
        .options(
            joinedload(Appointment.job).joinedload(Job.location),
            joinedload(Appointment.job).joinedload(Job.project),
        )
    )
    if item is None:
        abort(404)
    return item


def own_change_requests(appointment_id: int | None = None) -> list[ChangeRequest]:
    """The contact's change requests of appointments they (still) see, newest first."""
    stmt = (
        select(ChangeRequest)
        .join(Appointment, Appointment.id == ChangeRequest.appointment_id)
        .where(ChangeRequest.requested_by_id == g.contact.id, g.scope.condition(Appointment))
        .options(joinedload(ChangeRequest.appointment).joinedload(Appointment.job).joinedload(Job.location))
        .order_by(ChangeRequest.created_at.desc(), ChangeRequest.id.desc())
    )
    if appointment_id is not None:
        stmt = stmt.where(ChangeRequest.appointment_id == appointment_id)
    return list(db.session.scalars(stmt))


def change_request(appointment_id: int):
    appointment = _visible_appointment(appointment_id)
    form = ChangeRequestForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in ("cancel", "move") else None
    elif form.validate_on_submit():
        draft = rules.ChangeDraft(
            kind=form.kind.data,
            reason=form.reason.data,
            date=form.date.data,
            start_time=form.start_time.data,
            end_time=form.end_time.data,
        )
        if draft.kind == "move" and draft.date is None and not form.date.errors:
            form.date.errors.append(_("Please enter a date."))
        else:
            try:
                operations.request_change(db.session, g.scope, g.contact, g.user, appointment.id, draft)
            except rules.NotVisible:
                abort(404)
            except rules.ProposalError as error:
                field = getattr(form, error.field, None) if error.field else None
                if field is not None:
                    field.errors.append(str(error))
                else:
                    flash(str(error), "danger")
            else:
                flash(_("Your request has been sent to the agency."), "success")
                return redirect(url_for("portal.change_request", appointment_id=appointment.id))
    requests = own_change_requests(appointment.id)
    return render_template(
        "portal/change_request.html",
        appointment=appointment,
        form=form,
        requests=requests,
        pending=any(r.status == "pending" for r in requests),
        open_for_requests=rules.can_request_change(appointment),
        change_state=change_state,
    )


def withdraw_proposal(appointment_id: int):
    """Confirm (GET) and withdraw (POST) an own pending proposal."""
    if g.contact is None:
        abort(404)
    proposal = db.session.scalar(
        g.scope.appointments().where(
            Appointment.id == appointment_id,
            Appointment.origin == "customer",
            Appointment.proposed_by_id == g.contact.id,
        )
    )
    if proposal is None:
        abort(404)
    back = redirect(url_for("portal.proposal", appointment_id=proposal.id))
    if proposal.status != "proposed":
        flash(_("This proposal has already been decided and can no longer be withdrawn."), "warning")
        return back
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            operations.withdraw(db.session, proposal.id, g.contact, g.user)
        except rules.AlreadyDecided:
            flash(_("This proposal has already been decided and can no longer be withdrawn."), "warning")
        else:
            flash(_("Your proposal has been withdrawn; the agency is informed."), "success")
        return back
    return render_template("portal/proposal_withdraw.html", proposal=proposal, form=form)
