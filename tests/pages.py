"""Every page of the customer and promoter systems, and the agency screens checked for accessibility.

The layout checks (tests/test_browser_layout.py), the accessibility checks (tests/test_a11y.py)
and ``make screenshots`` walk these lists. A new page is one more line: its path, who sees it,
and the selector of its main action. Paths may hold ``{placeholders}`` that ``demo_places``
fills with ids from the Supertoy demo (a project, a proposal, wizard drafts).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

#: Who logs in for a role (German by default; the checks switch the language in the page).
LOGINS = {"customer": "adm.nord", "promoter": "promoter01", "agency": "agentur"}

#: Where each role logs in.
LOGIN_PATHS = {"customer": "/portal/login", "promoter": "/promoter/login", "agency": "/login/"}

#: Where each system switches its language (``{lang}`` is de or en).
LANGUAGE_PATHS = {
    "customer": "/portal/lang/{lang}",
    "promoter": "/promoter/lang/{lang}",
    "agency": "/lang/{lang}",
}


@dataclass(frozen=True)
class Page:
    #: file name of the screenshot and the name in failure reports
    name: str
    #: the address; ``{placeholders}`` come from ``demo_places``
    path: str
    #: "customer", "promoter" or "agency"; the role whose login sees the page
    role: str
    #: False: the page is seen logged out (the login forms)
    logged_in: bool = True
    #: CSS selector of the page's main action (the first match counts); None if it has none
    primary: str | None = None
    #: the page is reached through a redirect that shows a flash message
    flash: bool = False
    #: clicking the main action is harmless (saves unchanged data) and answers with a flash message
    primary_flashes: bool = False
    #: also shown in the README (docs/screenshots/)
    readme: bool = False


CUSTOMER_PAGES = (
    Page(
        "portal-login",
        "/portal/login",
        "customer",
        logged_in=False,
        primary="#login-form button[type=submit]",
    ),
    Page("portal-start", "/portal/", "customer", primary="#propose-date", readme=True),
    Page("portal-appointments", "/portal/appointments", "customer", primary="#filters button[type=submit]"),
    Page("portal-stores", "/portal/stores", "customer", primary="#stores tbody a"),
    Page("portal-jobs", "/portal/jobs", "customer", primary="#jobs tbody a"),
    Page("portal-projects", "/portal/projects", "customer", primary="#projects a"),
    Page("portal-project", "/portal/projects/{project_id}", "customer", primary="#jobs tbody a"),
    Page("portal-proposals", "/portal/proposals/", "customer", primary="#new-proposal"),
    Page("portal-proposal", "/portal/proposals/{proposal_id}", "customer", primary="#withdraw-proposal"),
    Page(
        "portal-proposal-withdraw",
        "/portal/proposals/{proposal_id}/withdraw",
        "customer",
        primary="#confirm-withdraw",
    ),
    Page(
        "portal-change-request",
        "/portal/appointments/{appointment_id}/change",
        "customer",
        primary="#send-change",
    ),
    Page(
        "portal-wizard-store", "/portal/proposals/new", "customer", primary="#wizard-form button[type=submit]"
    ),
    Page(
        "portal-wizard-restart",
        "/portal/proposals/new/{unknown_token}/when",
        "customer",
        primary="#wizard-form button[type=submit]",
        flash=True,
    ),
    Page(
        "portal-wizard-slot",
        "/portal/proposals/new/{slot_token}/when",
        "customer",
        primary="#next-step",
        readme=True,
    ),
    Page(
        "portal-wizard-review",
        "/portal/proposals/new/{review_token}/review",
        "customer",
        primary="#submit-proposal",
    ),
    Page(
        "portal-reporting",
        "/portal/reporting/",
        "customer",
        primary="#filters button[type=submit]",
        readme=True,
    ),
    Page(
        "portal-reporting-stores",
        "/portal/reporting/stores",
        "customer",
        primary="#filters button[type=submit]",
    ),
    Page(
        "portal-reporting-photos",
        "/portal/reporting/photos",
        "customer",
        primary="#filters button[type=submit]",
    ),
    Page(
        "portal-settings",
        "/portal/settings",
        "customer",
        primary="#settings-form button[type=submit]",
        primary_flashes=True,
    ),
    Page(
        "portal-calendar", "/portal/calendar", "customer", primary="#filters button[type=submit]", readme=True
    ),
    Page(
        "portal-calendar-week",
        "/portal/calendar?view=week",
        "customer",
        primary="#filters button[type=submit]",
    ),
    Page(
        "portal-password",
        "/portal/password",
        "customer",
        primary="#change-password-form button[type=submit]",
    ),
    Page(
        "portal-forgot-password",
        "/portal/password/forgot",
        "customer",
        logged_in=False,
        primary="#forgot-password-form button[type=submit]",
    ),
)

PROMOTER_PAGES = (
    Page(
        "promoter-login",
        "/promoter/login",
        "promoter",
        logged_in=False,
        primary="#login-form button[type=submit]",
    ),
    Page("promoter-start", "/promoter/", "promoter", primary="#requests .btn-success", readme=True),
    Page("promoter-requests", "/promoter/requests", "promoter", primary="#requests .btn-success"),
    Page("promoter-schedule", "/promoter/schedule", "promoter"),
    Page("promoter-schedule-past", "/promoter/schedule?period=past", "promoter"),
    Page("promoter-reports", "/promoter/reports", "promoter"),
    Page("promoter-jobs", "/promoter/jobs", "promoter", primary="#open-jobs button"),
    Page(
        "promoter-unavailability",
        "/promoter/unavailability",
        "promoter",
        primary="#unavailability-form button[type=submit]",
    ),
    Page(
        "promoter-profile",
        "/promoter/profile",
        "promoter",
        primary="#profile-form button[type=submit]",
        primary_flashes=True,
    ),
    Page("promoter-calendar", "/promoter/calendar", "promoter", primary="#feed-create, #feed-renew"),
    Page("promoter-schedule-calendar", "/promoter/schedule/calendar", "promoter", readme=True),
    Page("promoter-decline", "/promoter/requests/{request_id}/decline", "promoter", primary="#batch-do"),
    Page(
        "promoter-password",
        "/promoter/password",
        "promoter",
        primary="#change-password-form button[type=submit]",
    ),
    Page(
        "promoter-forgot-password",
        "/promoter/password/forgot",
        "promoter",
        logged_in=False,
        primary="#forgot-password-form button[type=submit]",
    ),
)

#: The agency screens keep FAB's look; they are checked for accessibility only.
AGENCY_PAGES = (
    Page("agency-start", "/", "agency"),
    Page("agency-proposals", "/proposals/", "agency", primary="button[value=accept]"),
    Page("agency-board", "/planning/board/", "agency"),
    Page("agency-appointments", "/appointmentview/list/", "agency"),
    Page("agency-questionnaires", "/questionnaires/", "agency", primary="#create-questionnaire"),
    Page("agency-reporting-dashboard", "/reporting/dashboard/", "agency", readme=True),
)

SYSTEM_PAGES = CUSTOMER_PAGES + PROMOTER_PAGES


def demo_places(app: Flask) -> dict[str, object]:
    """Ids for the pages' placeholders: the demo project, a fresh proposal and two wizard drafts.

    Everything created here is made through the app's own code paths (the wizard, the
    proposal service); the caller removes it again with tests.test_wizard.remove_since.
    """
    from tests.test_wizard import Wizard, demo, find_day, portal_client, propose_directly

    info = demo(app)
    store, day = find_day(app, info, "free")
    other_store, other_day = find_day(app, info, "free", stores=[s for s in info.north if s != store])
    client = portal_client(app, LOGINS["customer"])
    slot = Wizard(client)
    answer = slot.store(info.project_id, store.location_id)
    assert answer.status_code == 302, "step 1 of the wizard refused the demo store"
    review = Wizard(client)
    review.to_review(info.project_id, other_store.location_id, other_day, note="Screenshot")
    return {
        "project_id": info.project_id,
        "proposal_id": propose_directly(app, store, day, note="Bitte mit Aufsteller"),
        "slot_token": slot.token,
        "review_token": review.token,
        "unknown_token": "0" * 32,
        "request_id": _open_request(app, LOGINS["promoter"]),
        "appointment_id": _planned_appointment(app, store.job_id),
    }


def _planned_appointment(app: Flask, job_id: int) -> int:
    """A planned appointment from today on of a store the demo customer sees (for a change request)."""
    from sqlalchemy import select

    from app.common.timezone import local_today
    from app.extensions import db
    from app.models.planning import Appointment

    with app.app_context():
        return db.session.scalar(
            select(Appointment.id)
            .where(
                Appointment.job_id == job_id,
                Appointment.status == "planned",
                Appointment.date >= local_today(),
            )
            .order_by(Appointment.date, Appointment.id)
            .limit(1)
        )


def _open_request(app: Flask, username: str) -> int:
    """A request (booking asked of the promoter, not yet answered) of the demo promoter."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.planning import Booking
    from app.models.promoter import Promoter

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        return db.session.scalar(
            select(Booking.id)
            .join(Promoter, Promoter.id == Booking.promoter_id)
            .where(Promoter.user_id == user.id, Booking.status == "requested")
            .order_by(Booking.id)
            .limit(1)
        )
