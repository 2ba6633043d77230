"""The promoter system: requests, schedule, jobs, unavailability, profile, calendar feed.

Served on PROMOTER_HOST when it is set (see :mod:`app.portal.hosts`), otherwise
under /promoter/. Only users whose visibility scope is "promoter" (role
Promoter, no agency or customer role) get in; every page reads through that
scope (:mod:`app.security.visibility`) and every write goes through
:mod:`app.planning.staffing` or touches only the promoter's own rows.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.common.choices import APPLICATION_STATUSES, APPOINTMENT_STATUSES, BOOKING_STATUSES, label
from app.common.systems import keep_on_own_host, safe_next
from app.common.timezone import local_today
from app.extensions import db
from app.planning import staffing
from app.planning.staffing import StaffingError
from app.promoter import feed, queries
from app.promoter.forms import FeedForm, LoginForm, ProfileForm, UnavailabilityForm
from app.promoter.models import Promoter, Unavailability
from app.security.accounts import log_in, login_url, system_name
from app.security.password_pages import register_password_pages
from app.security.roles import PROMOTER
from app.security.sessions import end_session
from app.security.visibility import scope_for

bp = Blueprint("promoter", __name__, url_prefix="/promoter", template_folder="../templates")

PREFIX = "/promoter/"


def _has_promoter_role(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(r.name == PROMOTER for r in user.roles)


def _may_enter(user) -> bool:
    """A promoter login: role Promoter and a promoter scope (no agency or customer role)."""
    return _has_promoter_role(user) and scope_for(user).kind == "promoter"


def promoter_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not getattr(g.user, "is_authenticated", False):
            return redirect(url_for("promoter.login", next=request.full_path.rstrip("?")))
        if not _may_enter(g.user) or not g.user.active:
            abort(403)
        g.scope = scope_for(g.user)
        g.promoter = db.session.scalar(g.scope.promoter())
        if g.promoter is None:
            return render_template("promoter/no_profile.html"), 403
        return view(*args, **kwargs)

    return wrapper


def _on_promoter_host() -> bool:
    host = current_app.config.get("PROMOTER_HOST")
    return bool(host) and request.host.lower() == host.lower()


def _safe_next(target: str | None, default: str = "promoter.start") -> str:
    return safe_next(target, PREFIX, default)


keep_on_own_host(bp, "PROMOTER_HOST")
register_password_pages(bp, "promoter/base.html", promoter_required)


@bp.context_processor
def _promoter_helpers():
    return {
        "booking_state": lambda code: label(BOOKING_STATUSES, code),
        "application_state": lambda code: label(APPLICATION_STATUSES, code),
        "appointment_state": lambda code: label(APPOINTMENT_STATUSES, code),
        "format_month": lambda day: format_date(day, "LLLL yyyy"),
    }


# -- login ------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    if _may_enter(g.user) and g.user.active:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    elsewhere = None
    if form.validate_on_submit():
        result = log_in("promoter", form.username.data, form.password.data)
        if result.elsewhere:
            elsewhere = {"name": system_name(result.elsewhere), "url": login_url(result.elsewhere)}
        elif result.user is None:
            flash(_("Unknown user name or wrong password."), "danger")
            return render_template("promoter/login.html", form=form), 200
        else:
            locale = session.get("locale")
            login_user(result.user, remember=False)
            # The language chosen on the login page stays (promoters have no language of their own).
            session["locale"] = locale if locale in current_app.config["LANGUAGES"] else _default_locale()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("promoter/login.html", form=form, elsewhere=elsewhere)


def _default_locale() -> str:
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the session on the server too: a copy of the cookie no longer works."""
    if getattr(g.user, "is_authenticated", False):
        end_session(db.session, g.user)
    logout_user()
    return redirect(url_for("promoter.login"))


@bp.route("/lang/<locale>")
def language(locale: str):
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
    path = request.referrer and urlsplit(request.referrer).path
    if path and _on_promoter_host() and not path.startswith(PREFIX):
        path = PREFIX.rstrip("/") + path  # on its own host the pages are served without the prefix
    return redirect(_safe_next(path))


# -- pages ------------------------------------------------------------------


@bp.route("/")
@promoter_required
def start():
    today = local_today()
    return render_template(
        "promoter/start.html",
        requests=queries.open_requests(db.session, g.scope, today),
        upcoming=queries.upcoming(db.session, g.scope, today),
        today=today,
    )


@bp.route("/requests")
@promoter_required
def requests():
    return render_template(
        "promoter/requests.html", requests=queries.open_requests(db.session, g.scope, local_today())
    )


def _back(default: str) -> str:
    return _safe_next(request.form.get("next"), default)


def _when(booking) -> dict:
    appointment = booking.appointment
    return {
        "store": appointment.job.location.name,
        "date": appointment.date.strftime("%d.%m.%Y"),
        "start": appointment.start_time.strftime("%H:%M"),
        "end": appointment.end_time.strftime("%H:%M"),
    }


@bp.route("/requests/<int:booking_id>/confirm", methods=["POST"])
@promoter_required
def confirm(booking_id: int):
    booking = queries.visible_booking(db.session, g.scope, booking_id)
    if booking is None:
        abort(404)
    promoter_id = g.promoter.id
    try:
        booking = staffing.confirm(db.session, booking_id, promoter_id)
    except StaffingError as error:
        flash(str(error), "danger")
    else:
        flash(_("Confirmed: %(store)s on %(date)s, %(start)s–%(end)s.", **_when(booking)), "success")
    return redirect(_back("promoter.requests"))


@bp.route("/requests/<int:booking_id>/decline", methods=["POST"])
@promoter_required
def decline(booking_id: int):
    booking = queries.visible_booking(db.session, g.scope, booking_id)
    if booking is None:
        abort(404)
    if booking.status != "requested":
        flash(_("This request is no longer open."), "danger")
        return redirect(_back("promoter.requests"))
    details = _when(booking)
    try:
        staffing.decline(db.session, booking_id, g.promoter.id)
    except StaffingError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        flash(_("Declined: %(store)s on %(date)s, %(start)s–%(end)s.", **details), "success")
    return redirect(_back("promoter.requests"))


@bp.route("/schedule")
@promoter_required
def schedule():
    past = request.args.get("period") == "past"
    try:
        page_number = int(request.args.get("page", 1))
    except ValueError:
        page_number = 1
    page = queries.schedule_page(db.session, g.scope, local_today(), past, page_number)
    return render_template("promoter/schedule.html", page=page, past=past)


@bp.route("/jobs")
@promoter_required
def jobs():
    return render_template(
        "promoter/jobs.html",
        jobs=queries.open_jobs(db.session, g.scope),
        applications=queries.applications(db.session, g.scope),
    )


@bp.route("/jobs/<int:job_id>/apply", methods=["POST"])
@promoter_required
def apply(job_id: int):
    job = queries.visible_job(db.session, g.scope, job_id)
    if job is None:
        abort(404)
    title = job.title
    try:
        staffing.apply(db.session, g.promoter, job)
    except StaffingError as error:
        db.session.rollback()
        flash(str(error), "danger")
    except IntegrityError:  # a double click: the other request applied a moment ago
        db.session.rollback()
        flash(_("You have already applied for this job."), "danger")
    else:
        flash(_("You have applied for %(job)s.", job=title), "success")
    return redirect(url_for("promoter.jobs"))


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@promoter_required
def withdraw(application_id: int):
    application = queries.visible_application(db.session, g.scope, application_id)
    if application is None:
        abort(404)
    title = application.job.title
    try:
        staffing.withdraw(db.session, application)
    except StaffingError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        flash(_("You have withdrawn your application for %(job)s.", job=title), "success")
    return redirect(url_for("promoter.jobs"))


@bp.route("/unavailability", methods=["GET", "POST"])
@promoter_required
def unavailability():
    form = UnavailabilityForm()
    if form.validate_on_submit():
        period = Unavailability(
            promoter_id=g.promoter.id,
            start_date=form.start_date.data,
            end_date=form.end_date.data,
            note=(form.note.data or "").strip() or None,
        )
        db.session.add(period)
        db.session.commit()
        flash(_("You are marked as unavailable from %(start)s to %(end)s.", **_period(period)), "success")
        booked = queries.confirmed_between(db.session, g.scope, period.start_date, period.end_date)
        if booked:
            flash(
                ngettext(
                    "You have %(num)d confirmed booking in this period. Please tell the agency"
                    " if you cannot work it.",
                    "You have %(num)d confirmed bookings in this period. Please tell the agency"
                    " if you cannot work them.",
                    booked,
                ),
                "warning",
            )
        return redirect(url_for("promoter.unavailability"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "promoter/unavailability.html",
        form=form,
        periods=queries.unavailabilities(db.session, g.scope),
        today=local_today(),
    ), status


def _period(period: Unavailability) -> dict:
    return {"start": period.start_date.strftime("%d.%m.%Y"), "end": period.end_date.strftime("%d.%m.%Y")}


@bp.route("/unavailability/<int:unavailability_id>/delete", methods=["POST"])
@promoter_required
def delete_unavailability(unavailability_id: int):
    period = queries.visible_unavailability(db.session, g.scope, unavailability_id)
    if period is None:
        abort(404)
    details = _period(period)
    db.session.delete(period)
    db.session.commit()
    flash(_("The period from %(start)s to %(end)s has been removed.", **details), "success")
    return redirect(url_for("promoter.unavailability"))


def _email_taken() -> str:
    return _("This email address is already used by another promoter.")


@bp.route("/profile", methods=["GET", "POST"])
@promoter_required
def profile():
    promoter = g.promoter
    form = ProfileForm(obj=promoter) if request.method == "GET" else ProfileForm()
    if form.validate_on_submit():
        taken = db.session.scalar(
            select(Promoter.id).where(Promoter.email == form.email.data, Promoter.id != promoter.id).limit(1)
        )
        if taken is not None:
            form.email.errors.append(_email_taken())
        else:
            promoter.email = form.email.data
            promoter.phone = form.phone.data
            promoter.city = form.city.data
            try:
                db.session.commit()
            except IntegrityError:  # the address was taken a moment ago
                db.session.rollback()
                form.email.errors.append(_email_taken())
            else:
                flash(_("Your profile has been saved."), "success")
                return redirect(url_for("promoter.profile"))
    status = 400 if request.method == "POST" else 200
    return render_template("promoter/profile.html", form=form, promoter=g.promoter), status


# -- calendar feed ------------------------------------------------------------


@bp.route("/calendar", methods=["GET", "POST"])
@promoter_required
def calendar():
    promoter = g.promoter
    if request.method == "POST":
        form = FeedForm()
        if not form.validate_on_submit():
            abort(400)
        action = form.action.data
        if action == "revoke":
            promoter.feed_token = None
            message = _("The calendar link has been revoked; calendars using it no longer update.")
        elif action == "create" and promoter.feed_token:
            message = _("Your calendar link already exists.")
        else:
            promoter.feed_token = feed.new_token()
            message = (
                _("A new calendar link has been created; the old one no longer works.")
                if action == "renew"
                else _("Your calendar link has been created.")
            )
        db.session.commit()
        flash(message, "success")
        return redirect(url_for("promoter.calendar"))
    link = None
    if promoter.feed_token:
        link = staffing.promoter_url(url_for("promoter.feed", token=promoter.feed_token))
    return render_template("promoter/calendar.html", link=link)


@bp.route("/feed/<token>.ics", endpoint="feed")
def feed_ics(token: str):
    found = feed.scope_for_token(db.session, token)
    if found is None:
        abort(404)
    promoter, scope = found
    body = feed.calendar(db.session, scope, promoter)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="promoplan.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
