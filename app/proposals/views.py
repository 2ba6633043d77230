"""Agency screen: pending customer proposals and change requests, decided with a confirm step.

Accept and reject are separate forms. Submitting either one shows a confirmation
page first (works without JavaScript); only its "Yes, …" button (``confirmed=1``)
decides. So Enter in the reason field leads to the confirmation of a rejection,
never to a decision.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.common.choices import BOOKING_STATUSES, label
from app.common.input_guard import FIELD_MESSAGE, has_unstorable
from app.extensions import db
from app.proposals import operations, queries, rules

#: The decisions a proposal's forms can send; "accept_request" goes on to request a promoter.
PROPOSAL_DECISIONS = ("accept", "accept_request", "reject")
CHANGE_DECISIONS = ("accept", "reject")


class DecisionForm(FlaskForm):
    """Only the CSRF token; the fields are read from the request."""


def _already() -> str:
    return _("This proposal has already been decided by someone else (or no longer exists).")


def _back():
    return redirect(url_for("ProposalsView.pending"))


def _read_decision(allowed: tuple[str, ...]):
    """(decision, reason) from the posted form, or a redirect with the reason why not."""
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return None, None, _back()
    decision = request.form.get("decision")
    if decision not in allowed:
        flash(_("Please choose accept or reject."), "danger")
        return None, None, _back()
    reason = (request.form.get("reason") or "").strip()
    if has_unstorable(reason):
        flash(f"{_('Reason')}: {FIELD_MESSAGE}", "danger")
        return None, None, _back()
    if decision == "reject" and not reason:
        flash(_("Please give a reason for the rejection."), "danger")
        return None, None, _back()
    return decision, reason, None


class ProposalsView(BaseView):
    route_base = "/proposals"
    default_view = "pending"

    @expose("/")
    @has_access
    def pending(self):
        screen = queries.decision_screen(db.session)
        g.pending_count = screen.count  # the menu shows the same number
        return self.render_template(
            "planning/proposals.html",
            screen=screen,
            form=DecisionForm(),
            booking_label=lambda code: label(BOOKING_STATUSES, code),
        )

    @expose("/<int:appointment_id>/decide", methods=["POST"])
    @has_access
    def decide(self, appointment_id: int):
        decision, reason, refused = _read_decision(PROPOSAL_DECISIONS)
        if refused is not None:
            return refused
        if request.form.get("confirmed") != "1":
            proposal = queries.proposal_by_id(db.session, appointment_id)
            if proposal is None:
                flash(_already(), "warning")
                return _back()
            return self.render_template(
                "planning/proposal_confirm.html",
                form=DecisionForm(),
                proposal=proposal,
                change=None,
                decision=decision,
                reason=reason,
                action=url_for("ProposalsView.decide", appointment_id=appointment_id),
            )
        try:
            appointment = operations.decide(
                db.session, appointment_id, g.user, accept=decision != "reject", reason=reason
            )
        except rules.ProposalError as error:
            flash(str(error), "danger")
        except rules.AlreadyDecided:
            flash(_already(), "warning")
        else:
            if appointment.status == "rejected":
                flash(_("Proposal rejected; the customer is informed."), "success")
            else:
                flash(_("Proposal accepted; the appointment is planned."), "success")
                if decision == "accept_request":
                    return redirect(url_for("RequestPromotersView.choose", ids=appointment.id))
        return _back()

    @expose("/changes/<int:change_id>/decide", methods=["POST"])
    @has_access
    def decide_change(self, change_id: int):
        decision, reason, refused = _read_decision(CHANGE_DECISIONS)
        if refused is not None:
            return refused
        if request.form.get("confirmed") != "1":
            change = queries.change_by_id(db.session, change_id)
            if change is None:
                flash(_("This change request has already been decided by someone else."), "warning")
                return _back()
            return self.render_template(
                "planning/proposal_confirm.html",
                form=DecisionForm(),
                proposal=None,
                change=change,
                decision=decision,
                reason=reason,
                action=url_for("ProposalsView.decide_change", change_id=change_id),
            )
        try:
            change = operations.decide_change(
                db.session,
                change_id,
                g.user,
                accept=decision == "accept",
                changes=current_app.extensions["appointment_changes"],
                reason=reason,
            )
        except rules.ProposalError as error:
            flash(str(error), "danger")
        except rules.AlreadyDecided:
            flash(_("This change request has already been decided by someone else."), "warning")
        else:
            if change.status == "rejected":
                flash(_("Change request rejected; the customer is informed."), "success")
            elif change.kind == "cancel":
                flash(_("Change request accepted; the appointment is cancelled."), "success")
            else:
                flash(_("Change request accepted; the appointment is moved."), "success")
        return _back()
