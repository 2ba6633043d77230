"""The promoter system: requests, schedule, jobs, unavailability, profile, calendar feed.

Served on PROMOTER_HOST when it is set (see :mod:`app.portal.hosts`), otherwise
under /promoter/. Only users whose visibility scope is "promoter" (role
Promoter, no agency or customer role) get in; every page reads through that
scope (:mod:`app.security.visibility`) and every write goes through
:mod:`app.staffing.operations` or touches only the promoter's own rows.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
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

from app.common import calendar_grid
from app.common.choices import APPLICATION_STATUSES, APPOINTMENT_STATUSES, BOOKING_STATUSES, label
from app.common.feed_link import FeedForm, change_feed_link, feed_response
from app.common.formatting import format_day
from app.common.links import promoter_url
from app.common.systems import keep_on_own_host, safe_next
from app.common.timezone import local_now, local_today
from app.extensions import db
from app.models.promoter import Promoter, Unavailability
from app.promoter import feed, geo, queries
from app.promoter.forms import (
    ConfirmForm,
    DeclineForm,
    JobFilterForm,
    LoginForm,
    ProfileForm,
    UnavailabilityForm,
)
from app.security.accounts import log_in, login_url, system_name
from app.security.password_pages import register_password_pages
from app.security.sessions import end_session
from app.security.systems import system_of
from app.security.visibility import scope_for
from app.staffing import operations as staffing
from app.staffing.operations import StaffingError

bp = Blueprint("promoter", __name__, url_prefix="/promoter", template_folder="../templates")

PREFIX = "/promoter/"


def _may_enter(user) -> bool:
    """A promoter login (no agency or customer role, see :mod:`app.security.systems`)."""
    return system_of(user) == "promoter"


def promoter_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not getattr(g.user, "is_authenticated", False):
            return redirect(url_for("promoter.login", next=request.full_path.rstrip("?")))
        if not _may_enter(g.user) or not g.user.active:
            abort(403)
        g.scope, g.promoter = scope_for(g.user).with_own_promoter(db.session)
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
        "period_text": period_text,
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
    now = local_now()
    today = now.date()
    upcoming = queries.upcoming(db.session, g.scope, today)
    return render_template(
        "promoter/start.html",
        requests=queries.open_requests(db.session, g.scope, today),
        upcoming=upcoming,
        report_links=queries.report_links(db.session, g.scope, now, [b.appointment_id for b in upcoming]),
        today=today,
    )


@bp.route("/requests")
@promoter_required
def requests():
    return render_template(
        "promoter/requests.html", requests=queries.open_requests(db.session, g.scope, local_today())
    )


def _back(default: str) -> str:
    return _safe_next(request.form.get("next") or request.args.get("next"), default)


def _when(booking) -> dict:
    appointment = booking.appointment
    return {
        "store": appointment.job.location.name,
        "date": format_day(appointment.date),
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


@bp.route("/requests/<int:booking_id>/decline", methods=["GET", "POST"])
@promoter_required
def decline(booking_id: int):
    """Decline one request, or ask the agency to cancel a confirmed booking: a confirmation
    page asks for the reason first."""
    booking = queries.visible_booking(db.session, g.scope, booking_id)
    if booking is None:
        abort(404)
    cancelling = booking.status == "confirmed"
    if booking.status != "requested" and not cancelling:
        flash(_("This request is no longer open."), "danger")
        return redirect(_back("promoter.requests"))
    if booking.cancel_pending:
        flash(_("You have already asked the agency to cancel this booking."), "warning")
        return redirect(_back("promoter.schedule"))
    form = DeclineForm()
    if request.method == "POST" and form.validate_on_submit():
        details = _when(booking)
        try:
            staffing.decline(db.session, booking_id, g.promoter.id, form.reason.data)
        except StaffingError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            if cancelling:
                flash(
                    _(
                        "The agency has been asked to cancel %(store)s on %(date)s, %(start)s–%(end)s."
                        " The booking stays confirmed until the agency answers.",
                        **details,
                    ),
                    "success",
                )
            else:
                flash(_("Declined: %(store)s on %(date)s, %(start)s–%(end)s.", **details), "success")
        return redirect(_back("promoter.schedule" if cancelling else "promoter.requests"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "promoter/requests_batch.html",
        action="cancel" if cancelling else "decline",
        bookings=[booking],
        form=form,
        single=True,
        next=_back("promoter.schedule" if cancelling else "promoter.requests"),
    ), status


BATCH_ACTIONS = ("confirm", "decline")


def _selected_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("booking"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return sorted(set(ids))[:200]


@bp.route("/requests/batch", methods=["POST"])
@promoter_required
def batch():
    """Confirm or decline several requests: first a confirmation page, then each one through
    the staffing service (with its conflict checks), and a report of what happened to each."""
    action = request.form.get("action")
    if action not in BATCH_ACTIONS:
        abort(400)
    bookings = queries.open_requests_by_id(db.session, g.scope, _selected_ids())
    if not bookings:
        flash(_("Please choose at least one request."), "warning")
        return redirect(url_for("promoter.requests"))
    form_class = DeclineForm if action == "decline" else ConfirmForm
    asked = request.form.get("step") == "do"
    form = form_class() if asked else form_class(formdata=None)
    if not asked or not form.validate_on_submit():
        return render_template(
            "promoter/requests_batch.html", action=action, bookings=bookings, form=form, single=False
        ), (400 if asked else 200)
    results = []
    promoter_id = g.promoter.id
    for booking in bookings:
        details = _when(booking)
        booking_id = booking.id
        try:
            if action == "confirm":
                staffing.confirm(db.session, booking_id, promoter_id)
            else:
                staffing.decline(db.session, booking_id, promoter_id, form.reason.data)  # type: ignore[union-attr]
        except StaffingError as error:
            db.session.rollback()
            results.append((details, False, str(error)))
        else:
            done = _("Confirmed") if action == "confirm" else _("Declined")
            results.append((details, True, done))
    succeeded = sum(1 for _details, ok, _message in results if ok)
    if action == "confirm":
        summary = ngettext(
            "%(done)d of %(num)d request confirmed.",
            "%(done)d of %(num)d requests confirmed.",
            len(results),  # the plural follows the number of requests ("1 of 2 requests")
            done=succeeded,
        )
    else:
        summary = ngettext(
            "%(done)d of %(num)d request declined.",
            "%(done)d of %(num)d requests declined.",
            len(results),  # the plural follows the number of requests ("1 of 2 requests")
            done=succeeded,
        )
    flash(summary, "success" if succeeded == len(results) else "warning")
    return render_template("promoter/requests_result.html", results=results, action=action)


@bp.route("/schedule")
@promoter_required
def schedule():
    past = request.args.get("period") == "past"
    try:
        page_number = int(request.args.get("page", 1))
    except ValueError:
        page_number = 1
    today = local_today()
    page = queries.schedule_page(db.session, g.scope, today, past, page_number)
    report_links = queries.report_links(
        db.session, g.scope, local_now(), [b.appointment_id for b in page.rows]
    )
    return render_template(
        "promoter/schedule.html", page=page, past=past, today=today, report_links=report_links
    )


@bp.route("/schedule/calendar")
@promoter_required
def schedule_calendar():
    """Month or week calendar of the promoter's confirmed appointments."""
    today = local_today()
    view = request.args.get("view", "month")
    view = view if view in calendar_grid.VIEWS else "month"
    anchor = calendar_grid.parse_anchor(request.args.get("date"), today)
    first, last = calendar_grid.period(view, anchor)
    bookings = queries.confirmed_in(db.session, g.scope, first, last)
    grid = calendar_grid.build(view, anchor, today, bookings, lambda b: b.appointment.date)
    return render_template("promoter/schedule_calendar.html", grid=grid)


#: Open jobs per page (an agency has thousands open at once).
JOBS_PER_PAGE = 30


@bp.route("/jobs")
@promoter_required
def jobs():
    """Open jobs, by city or within a distance of a postcode (the promoter's own by default)."""
    form = JobFilterForm(request.args)
    form.city.choices = [("", _("All cities"))] + [
        (city, city) for city in queries.open_job_cities(db.session, g.scope)
    ]
    if not request.args.get("postcode") and g.promoter.postcode and "postcode" not in request.args:
        form.postcode.data = g.promoter.postcode
    status = 200
    city = postcodes = None
    origin = None
    if request.args and not form.validate():
        status = 400
    else:
        city = form.city.data or None
        if form.distance.data and form.postcode.data:
            postcodes = geo.postcodes_within(form.postcode.data, int(form.distance.data))
            if postcodes is None:
                form.postcode.errors.append(_("This postcode is unknown."))
                status = 400
            else:
                origin = geo.centroid(form.postcode.data)
        elif form.distance.data:
            form.postcode.errors.append(_("Please enter a postcode to search by distance."))
            status = 400
    page_number = request.args.get("page", "1")
    page_number = int(page_number) if page_number.isdigit() and len(page_number) < 6 else 1
    distances = {}
    if status == 400:
        page = queries.Page([], 0, 1, JOBS_PER_PAGE)
    elif origin is None:
        page = queries.open_jobs_page(db.session, g.scope, page_number, JOBS_PER_PAGE, city=city)
    else:
        # The stores within the distance (a few hundred at most), nearest first, then one page.
        rows = queries.open_jobs(db.session, g.scope, city=city, postcodes=postcodes)
        for job, _application in rows:
            point = geo.centroid(job.location.postcode)
            if point is not None:
                distances[job.id] = round(geo.distance_km(origin, point))
        rows = sorted(rows, key=lambda row: distances.get(row[0].id, float("inf")))
        page_number = max(1, min(page_number, -(-len(rows) // JOBS_PER_PAGE) or 1))
        start = (page_number - 1) * JOBS_PER_PAGE
        page = queries.Page(rows[start : start + JOBS_PER_PAGE], len(rows), page_number, JOBS_PER_PAGE)
    return render_template(
        "promoter/jobs.html",
        form=form,
        jobs=page.rows,
        page=page,
        page_args={key: value for key, value in request.args.items() if key != "page"},
        distances=distances,
        summary=_job_summary(form, city, postcodes is not None),
        applications=queries.applications(db.session, g.scope),
    ), status


def _job_summary(form: JobFilterForm, city: str | None, by_distance: bool) -> str:
    if by_distance:
        where = _("within %(km)s km of %(postcode)s", km=form.distance.data, postcode=form.postcode.data)
        return _("Showing open jobs %(where)s", where=where + (f", {city}" if city else ""))
    if city:
        return _("Showing open jobs in %(city)s", city=city)
    return _("Showing all open jobs")


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
        if period.start_date == period.end_date:
            day = format_day(period.start_date)
            flash(_("You are marked as unavailable on %(date)s.", date=day), "success")
        else:
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
    return {"start": format_day(period.start_date), "end": format_day(period.end_date)}


def period_text(period: Unavailability) -> str:
    """ "am 12.12.2026" for one day, "vom 12.12.2026 bis 14.12.2026" for several."""
    if period.start_date == period.end_date:
        return _("on %(date)s", date=format_day(period.start_date))
    return _("from %(start)s to %(end)s", **_period(period))


@bp.route("/unavailability/<int:unavailability_id>/delete", methods=["POST"])
@promoter_required
def delete_unavailability(unavailability_id: int):
    period = queries.visible_unavailability(db.session, g.scope, unavailability_id)
    if period is None:
        abort(404)
    single = period.start_date == period.end_date
    details = _period(period)
    db.session.delete(period)
    db.session.commit()
    if single:
        flash(_("The day %(date)s has been removed.", date=details["start"]), "success")
    else:
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
            promoter.postcode = form.postcode.data
            promoter.city = form.city.data
            if "language" in request.form:  # an older form without the field keeps the language
                promoter.language = form.language.data
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
        message = change_feed_link(promoter, form.action.data)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for("promoter.calendar"))
    link = None
    if promoter.feed_token:
        link = promoter_url(url_for("promoter.feed", token=promoter.feed_token))
    return render_template("promoter/calendar.html", link=link)


@bp.route("/feed/<token>.ics", endpoint="feed")
def feed_ics(token: str):
    found = feed.scope_for_token(db.session, token)
    if found is None:
        abort(404)
    promoter, scope = found
    return feed_response(feed.calendar(db.session, scope, promoter))


from app.promoter import reports as _reports  # noqa: E402, F401  (the report pages, on this blueprint)
