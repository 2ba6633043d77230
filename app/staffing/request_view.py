"""Agency screen: request accepted applicants for chosen appointments.

Reached from the appointment list (action "Request promoters") or the planning
board with ``?ids=1,2,3``. Every (appointment, applicant) pair is shown with its
conflicts; the planner ticks pairs or whole promoters and submits. Each
promoter's requests go through ``staffing.request_promoters`` in one call, so
each promoter gets one mail for the batch.
"""

from __future__ import annotations

from collections import defaultdict

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.common.choices import APPOINTMENT_STATUSES, BOOKING_STATUSES, label
from app.common.formatting import current_language
from app.common.forms import TranslatedForm
from app.extensions import db
from app.models.planning import Application, Appointment, Booking, Job
from app.models.promoter import Promoter
from app.staffing import operations as staffing
from app.staffing.conflicts import appointment_warnings, pair_conflicts
from app.staffing.rules import Conflict

#: The most appointments one request page handles.
MAX_APPOINTMENTS = 200


class RequestForm(TranslatedForm):
    """Only the CSRF token; the ticked pairs are read from the request."""


def parse_ids(raw: str | list[str] | None, limit: int = MAX_APPOINTMENTS) -> list[int]:
    """ "1,2,3" (or several values) -> [1, 2, 3]: unique, positive, at most ``limit``."""
    values = raw if isinstance(raw, list) else [raw or ""]
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part.isdigit() and int(part) > 0 and int(part) not in ids:
                ids.append(int(part))
    return ids[:limit]


def load_appointments(ids: list[int]) -> list[Appointment]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(ids))
            .options(
                joinedload(Appointment.job).joinedload(Job.location),
                joinedload(Appointment.job).joinedload(Job.project),
                selectinload(Appointment.bookings).joinedload(Booking.promoter),
            )
            .order_by(Appointment.date, Appointment.start_time, Appointment.id)
        ).unique()
    )


def accepted_applicants(job_ids) -> dict[int, list[Promoter]]:
    """Job id -> its accepted, active applicants (by name)."""
    found: dict[int, list[Promoter]] = defaultdict(list)
    if not job_ids:
        return found
    rows = db.session.execute(
        select(Application.job_id, Promoter)
        .join(Promoter, Promoter.id == Application.promoter_id)
        .where(
            Application.job_id.in_(job_ids),
            Application.status == "accepted",
            Promoter.active.is_(True),
        )
        .order_by(Promoter.last_name, Promoter.first_name, Promoter.id)
    ).all()
    for job_id, promoter in rows:
        found[job_id].append(promoter)
    return found


class RequestPromotersView(BaseView):
    route_base = "/planning/request"
    default_view = "choose"

    @expose("/", methods=["GET"])
    @has_access
    def choose(self):
        ids = parse_ids(request.args.get("ids"))
        appointments = load_appointments(ids)
        applicants = accepted_applicants({a.job_id for a in appointments})
        promoters: dict[int, Promoter] = {}
        for job_promoters in applicants.values():
            for promoter in job_promoters:
                promoters.setdefault(promoter.id, promoter)
        columns = sorted(promoters.values(), key=lambda p: (p.last_name, p.first_name, p.id))
        applicant_ids = {job_id: {p.id for p in ps} for job_id, ps in applicants.items()}
        return self.render_template(
            "planning/request.html",
            form=RequestForm(),
            ids=",".join(str(a.id) for a in appointments),
            appointments=appointments,
            promoters=columns,
            applicant_ids=applicant_ids,
            bookings={(b.appointment_id, b.promoter_id): b for a in appointments for b in a.bookings},
            conflicts=pair_conflicts(db.session, appointments, promoters),
            warnings=appointment_warnings(db.session, appointments, current_language()),
            requested_too_many=len(parse_ids(request.args.get("ids"), limit=10**6)) > MAX_APPOINTMENTS,
            limit=MAX_APPOINTMENTS,
            status_label=lambda code: label(APPOINTMENT_STATUSES, code),
            booking_label=lambda code: label(BOOKING_STATUSES, code),
        )

    @expose("/", methods=["POST"])
    @has_access
    def submit(self):
        form = RequestForm()
        ids = parse_ids(request.form.get("ids"))
        back = url_for("RequestPromotersView.choose", ids=",".join(map(str, ids)) or None)
        if not form.validate_on_submit():
            flash(_("The form has expired. Please try again."), "danger")
            return redirect(back)
        appointments = {a.id: a for a in load_appointments(ids)}
        applicants = accepted_applicants({a.job_id for a in appointments.values()})
        wanted: dict[int, set[int]] = defaultdict(set)  # promoter id -> appointment ids
        for pair in request.form.getlist("pair"):
            appointment_id, _sep, promoter_id = pair.partition(":")
            if appointment_id.isdigit() and promoter_id.isdigit() and int(appointment_id) in appointments:
                wanted[int(promoter_id)].add(int(appointment_id))
        for promoter_id in parse_ids(request.form.getlist("promoter")):
            for appointment in appointments.values():
                if promoter_id in {p.id for p in applicants.get(appointment.job_id, [])}:
                    wanted[promoter_id].add(appointment.id)
        if not wanted:
            flash(_("Please tick at least one promoter."), "warning")
            return redirect(back)
        created: list[Booking] = []
        already, mailed = 0, 0
        refused: list[tuple[Appointment | None, Promoter | None, list[Conflict]]] = []
        for promoter_id in sorted(wanted):
            promoter = db.session.get(Promoter, promoter_id)
            if promoter is None:
                continue
            chosen = [appointments[i] for i in sorted(wanted[promoter_id])]
            result = staffing.request_promoters(db.session, chosen, [promoter], g.user)
            created += result.created
            already += result.already
            mailed += 1 if result.created and promoter.email else 0
            for appointment, who, reasons in result.refused:
                if who is None and any(r[0] is appointment and r[1] is None for r in refused):
                    continue  # an appointment that cannot be staffed: said once, not per promoter
                refused.append((appointment, who, reasons))
        refused.sort(key=lambda r: (r[0].date, r[0].start_time, r[1].last_name if r[1] else ""))
        flash(
            _(
                "%(created)d requests created, %(mails)d promoters notified.",
                created=len(created),
                mails=mailed,
            ),
            "success" if created else "info",
        )
        if refused:
            flash(_("%(count)d requests were refused; see the reasons below.", count=len(refused)), "warning")
        return self.render_template(
            "planning/request_result.html",
            created=len(created),
            bookings=sorted(created, key=lambda b: (b.appointment.date, b.appointment.start_time, b.id)),
            already=already,
            mailed=mailed,
            refused=refused,
            back=back,
        )
