"""The customer system: start page, appointments, stores, jobs, projects."""

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
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from app.common import calendar_grid
from app.common.choices import APPOINTMENT_ORIGINS, APPOINTMENT_STATUSES, label
from app.common.feed_link import FeedForm, change_feed_link, feed_response
from app.common.formatting import format_day
from app.common.links import customer_url
from app.common.systems import keep_on_own_host, safe_next
from app.common.timezone import local_today
from app.extensions import db
from app.portal import feed as portal_feed
from app.portal import queries
from app.portal.forms import AppointmentFilterForm, LoginForm, SettingsForm
from app.security.accounts import log_in, login_url, system_name
from app.security.password_pages import register_password_pages
from app.security.sessions import end_session
from app.security.systems import system_of
from app.security.visibility import scope_for

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="../templates")


def _is_customer(user) -> bool:
    return system_of(user) == "customer"


def customer_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not getattr(g.user, "is_authenticated", False):
            return redirect(url_for("portal.login", next=request.full_path.rstrip("?")))
        if not _is_customer(g.user) or not g.user.active:
            abort(403)
        # the visible job ids once per request: every query below filters on them
        g.scope = scope_for(g.user).resolved(db.session)
        g.contact = db.session.scalar(g.scope.contact())
        return view(*args, **kwargs)

    return wrapper


def _safe_next(target: str | None) -> str:
    return safe_next(target, "/portal/", "portal.start")


keep_on_own_host(bp, "CUSTOMER_HOST")


@bp.app_context_processor
def _portal_helpers():
    # Translated once per page, not once per row (a head of sales' week has hundreds of rows).
    labels: dict[str | None, str] = {}

    def status_label(code: str | None) -> str:
        if code not in labels:
            labels[code] = label(APPOINTMENT_STATUSES, code)
        return labels[code]

    return {
        "status_label": status_label,
        "origin_label": lambda code: label(APPOINTMENT_ORIGINS, code),
        "proposal_state": proposal_state,
    }


def proposal_state(appointment) -> str:
    """A proposal's state in the customer's words."""
    return {
        "proposed": _("Awaiting the agency's decision"),
        "planned": _("Accepted"),
        "done": _("Accepted"),
        "rejected": _("Rejected"),
        "cancelled": _("Cancelled"),
    }.get(appointment.status, appointment.status)


@bp.after_request
def _no_store(response):
    if request.endpoint == "portal.login":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    if _is_customer(g.user):
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    elsewhere = None
    if form.validate_on_submit():
        result = log_in("customer", form.username.data, form.password.data)
        if result.elsewhere:
            elsewhere = {"name": system_name(result.elsewhere), "url": login_url(result.elsewhere)}
        elif result.user is None:
            flash(_("Unknown user name or wrong password."), "danger")
            return render_template("portal/login.html", form=form), 200
        else:
            login_user(result.user, remember=False)
            contact = db.session.scalar(scope_for(result.user).contact())
            if contact is not None:
                session["locale"] = contact.language
            return redirect(_safe_next(request.args.get("next")))
    return render_template("portal/login.html", form=form, elsewhere=elsewhere)


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the session on the server too: a copy of the cookie no longer works."""
    if getattr(g.user, "is_authenticated", False):
        end_session(db.session, g.user)
    logout_user()
    return redirect(url_for("portal.login"))


@bp.route("/lang/<locale>")
def language(locale: str):
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
    return redirect(_safe_next(request.referrer and urlsplit(request.referrer).path))


@bp.route("/")
@customer_required
def start():
    data = queries.start_page(db.session, g.scope)
    return render_template("portal/start.html", **data)


def _appointment_filter() -> tuple[AppointmentFilterForm, queries.AppointmentFilter | None]:
    """The list's filter form from the query string; no filter if it is invalid."""
    form = AppointmentFilterForm(request.args)
    stores = queries.visible_stores(db.session, g.scope)
    jobs = queries.visible_jobs(db.session, g.scope)
    form.store.choices = [("", _("All stores"))] + [(s.id, f"{s.name}, {s.city}") for s in stores]
    form.job.choices = [("", _("All jobs"))] + [(j.id, j.title) for j in jobs]
    if request.args and not form.validate():
        return form, None
    flt = queries.AppointmentFilter(
        store=form.store.data,
        job=form.job.data,
        status=form.status.data or None,
        range=form.range.data or "this_week",
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        sort=form.sort.data or "date",
    )
    return form, flt


def _choice_label(field, value) -> str | None:
    return next((str(text) for key, text in field.choices if key == value and value not in (None, "")), None)


def filter_summary(form: AppointmentFilterForm, flt: queries.AppointmentFilter, period: bool = True) -> str:
    """What a list or calendar shows, in words: "Showing 01.12.2026–07.12.2026, store X"."""
    parts = []
    if period:
        start, end = flt.period(local_today())
        if start and end:
            parts.append(format_day(start) if start == end else f"{format_day(start)}–{format_day(end)}")
        elif start:
            parts.append(_("from %(date)s", date=format_day(start)))
        elif end:
            parts.append(_("until %(date)s", date=format_day(end)))
        else:
            parts.append(_("all dates"))
    if store := _choice_label(form.store, flt.store):
        parts.append(_("store %(name)s", name=store))
    if job := _choice_label(form.job, flt.job):
        parts.append(_("job %(name)s", name=job))
    if flt.status:
        parts.append(_("status %(name)s", name=label(APPOINTMENT_STATUSES, flt.status)))
    if not parts:
        return _("Showing all stores, jobs and states")
    return _("Showing %(what)s", what=", ".join(parts))


@bp.route("/appointments")
@customer_required
def appointments():
    form, flt = _appointment_filter()
    if flt is None:
        return render_template("portal/appointments.html", form=form, page=None), 400
    try:
        page_number = int(request.args.get("page", 1))
    except ValueError:
        page_number = 1
    page = queries.page_of(db.session, g.scope, queries.filtered_appointments(g.scope, flt), page_number)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "portal/appointments.html", form=form, page=page, args=args, summary=filter_summary(form, flt)
    )


@bp.route("/calendar")
@customer_required
def calendar():
    """Month or week calendar of the visible appointments, with the list's filters."""
    form, flt = _appointment_filter()
    if flt is None:
        return render_template("portal/calendar.html", form=form, grid=None), 400
    today = local_today()
    view = request.args.get("view", "month")
    anchor = calendar_grid.parse_anchor(request.args.get("date"), today)
    first, last = calendar_grid.period(view if view in calendar_grid.VIEWS else "month", anchor)
    shown = queries.AppointmentFilter(
        store=flt.store, job=flt.job, status=flt.status, date_from=first, date_to=last, sort="date"
    )
    rows = queries.with_promoters(
        db.session, g.scope, list(db.session.scalars(queries.filtered_appointments(g.scope, shown)).unique())
    )
    grid = calendar_grid.build(view, anchor, today, rows, lambda row: row.appointment.date)
    args = {k: v for k, v in request.args.items() if k in ("store", "job", "status") and v}
    return render_template(
        "portal/calendar.html",
        form=form,
        grid=grid,
        args=args,
        summary=filter_summary(form, flt, period=False),
    )


@bp.route("/appointments/export.csv")
@customer_required
def appointments_export_csv():
    return _appointments_export("csv")


@bp.route("/appointments/export.xlsx")
@customer_required
def appointments_export_xlsx():
    return _appointments_export("xlsx")


def _appointments_export(fmt: str):
    """The filtered list, all pages, as CSV or Excel (same rows and promoter names as the list)."""
    from app.portal.exports import customer_appointments
    from app.transfer.tables import CONTENT_TYPES, iter_csv, iter_xlsx

    _form, flt = _appointment_filter()
    if flt is None:
        abort(400)
    header, rows = customer_appointments(db.session, g.scope, flt)
    # Streamed: any size in constant memory (the rows come from one SELECT in batches).
    pieces = iter_xlsx(header, rows, _("Appointments")) if fmt == "xlsx" else iter_csv(header, rows)
    response = current_app.response_class(stream_with_context(pieces))
    response.headers["Content-Type"] = CONTENT_TYPES[fmt]
    base = _("appointments")
    name = f"{base}-{local_today().isoformat()}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/stores")
@customer_required
def stores():
    return render_template("portal/stores.html", stores=queries.visible_stores(db.session, g.scope))


@bp.route("/jobs")
@customer_required
def jobs():
    return render_template("portal/jobs.html", jobs=queries.visible_jobs(db.session, g.scope))


@bp.route("/projects")
@customer_required
def projects():
    return render_template("portal/projects.html", projects=queries.visible_projects(db.session, g.scope))


@bp.route("/projects/<int:project_id>")
@customer_required
def project(project_id: int):
    item = queries.visible_project(db.session, g.scope, project_id)
    if item is None:
        abort(404)
    jobs = queries.visible_jobs(db.session, g.scope, project_id=project_id)
    return render_template("portal/project.html", project=item, jobs=jobs)


@bp.route("/settings", methods=["GET", "POST"])
@customer_required
def settings():
    """The contact's own choices: the weekly mail, change mails, and the private calendar link."""
    if g.contact is None:
        abort(404)
    # A post without a change-mail choice keeps the current one.
    form = SettingsForm(change_mail=g.contact.change_mail)
    if request.method == "POST" and request.form.get("action"):
        return _feed_action()
    if form.validate_on_submit():
        g.contact.digest_opt_out = not form.weekly_mail.data
        g.contact.change_mail = form.change_mail.data
        db.session.commit()
        flash(_("Your settings have been saved."), "success")
        return redirect(url_for("portal.settings"))
    if request.method != "POST":
        form.weekly_mail.data = not g.contact.digest_opt_out
    link = None
    if g.contact.feed_token:
        link = customer_url(url_for("portal.feed", token=g.contact.feed_token))
    return render_template("portal/settings.html", form=form, link=link)


register_password_pages(bp, "portal/base.html", customer_required)


def _feed_action():
    """Create, renew or revoke the contact's calendar link."""
    form = FeedForm()
    if not form.validate_on_submit():
        abort(400)
    message = change_feed_link(g.contact, form.action.data)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("portal.settings"))


@bp.route("/feed/<token>.ics", endpoint="feed")
def feed_ics(token: str):
    found = portal_feed.scope_for_token(db.session, token)
    if found is None:
        abort(404)
    contact, scope = found
    return feed_response(portal_feed.calendar(db.session, scope, contact))
