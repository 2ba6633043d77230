"""Agency screen: pending customer proposals, accept or reject with a reason."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.common.input_guard import FIELD_MESSAGE, has_unstorable
from app.extensions import db
from app.proposals import operations, queries, rules


class DecisionForm(FlaskForm):
    """Only the CSRF token; the fields are read from the request."""


class ProposalsView(BaseView):
    route_base = "/proposals"
    default_view = "pending"

    @expose("/")
    @has_access
    def pending(self):
        return self.render_template(
            "planning/proposals.html",
            proposals=queries.pending_proposals(db.session),
            form=DecisionForm(),
        )

    @expose("/<int:appointment_id>/decide", methods=["POST"])
    @has_access
    def decide(self, appointment_id: int):
        form = DecisionForm()
        if not form.validate_on_submit():
            flash(_("The form has expired. Please try again."), "danger")
            return redirect(url_for("ProposalsView.pending"))
        decision = request.form.get("decision")
        if decision not in ("accept", "reject"):
            flash(_("Please choose accept or reject."), "danger")
            return redirect(url_for("ProposalsView.pending"))
        if has_unstorable(request.form.get("reason")):
            flash(f"{_('Reason')}: {FIELD_MESSAGE}", "danger")
            return redirect(url_for("ProposalsView.pending"))
        try:
            appointment = operations.decide(
                db.session,
                appointment_id,
                g.user,
                accept=decision == "accept",
                reason=request.form.get("reason"),
            )
        except rules.ProposalError as error:
            flash(str(error), "danger")
        except rules.AlreadyDecided:
            flash(
                _("This proposal has already been decided by someone else (or no longer exists)."), "warning"
            )
        else:
            if appointment.status == "planned":
                flash(_("Proposal accepted; the appointment is planned."), "success")
            else:
                flash(_("Proposal rejected; the customer is informed."), "success")
        return redirect(url_for("ProposalsView.pending"))
