"""Helpers of the planning tests (generator, staffing screens, planning board).

Every module builds a little campaign of its own (customer, stores in chosen
federal states, a project, a job per store) so that the Supertoy demo stays
untouched; ``Rows.cleanup`` removes it again, including the rows the app made
(appointments, bookings, mails), which the tests adopt.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.conftest import visible_text
from tests.helpers import Rows, client_for, db_session, ids_where, translation

AGENCY_USERS = ("admin", "agentur")
INTRUDERS = ("adm.nord", "promoter01")
LOCALES = ("de", "en")


def t(msgid: str, locale: str, **values) -> str:
    """The app's text ``msgid`` as a user reading ``locale`` sees it."""
    text = translation(msgid, locale)
    assert text is not None, f"no {locale} text for {msgid!r}"
    return text % values if values else text


def user_id(app: Flask, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    with db_session(app) as session:
        return session.scalar(select(User.id).where(User.username == username))


def make_campaign(
    rows: Rows,
    states: tuple[str, ...],
    start: dt.date,
    end: dt.date,
    planned_days: int | None = 3,
    status: str = "open",
) -> dict[str, Any]:
    """A customer, a project from ``start`` to ``end`` and one store + job per federal state."""
    from app.models.crm import Company, Location, Territory
    from app.models.planning import Job, Project

    tag = uuid.uuid4().hex[:8]
    ids: dict[str, Any] = {"tag": tag, "jobs": {}, "locations": {}}
    ids["territory"] = rows.add(Territory, name=f"Gebiet {tag}")
    ids["customer"] = rows.add(Company, name=f"Kunde {tag}", kind="customer")
    ids["chain"] = rows.add(Company, name=f"Kette {tag}", kind="retail_chain")
    ids["project"] = rows.add(
        Project, name=f"Projekt {tag}", customer_id=ids["customer"], start_date=start, end_date=end
    )
    for state in states:
        location = rows.add(
            Location,
            name=f"Markt {state} {tag}",
            retail_chain_id=ids["chain"],
            street=f"Teststraße {tag}",
            city=f"Stadt {state}",
            postcode="10115",
            federal_state=state,
            territory_id=ids["territory"],
        )
        ids["locations"][state] = location
        ids["jobs"][state] = rows.add(
            Job,
            project_id=ids["project"],
            location_id=location,
            title=f"Job {state} {tag}",
            status=status,
            planned_days_per_week=planned_days,
        )
    return ids


def add_promoter(rows: Rows, tag: str, name: str, email: bool = True) -> int:
    from app.models.promoter import Promoter

    return rows.add(
        Promoter,
        first_name=name,
        last_name=f"Test {tag}",
        email=f"{name.lower()}-{tag}@example.com" if email else None,
        active=True,
    )


def adopt_appointments(app: Flask, rows: Rows, job_id: int) -> list[int]:
    """The job's appointments (made by the app) are removed with the module's rows."""
    from app.models.planning import Appointment, Booking

    ids = ids_where(app, Appointment, Appointment.job_id == job_id, order_by=Appointment.id)
    for pk in ids:
        for booking in ids_where(app, Booking, Booking.appointment_id == pk):
            rows.adopt(Booking, booking)
        rows.adopt(Appointment, pk)
    return ids


def next_monday(app: Flask, weeks: int = 1) -> dt.date:
    from app.common.timezone import local_today

    with app.app_context():
        today = local_today()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)


def page(client, url: str, status: int = 200, **kwargs) -> str:
    """The page's HTML (GET, or ``method="POST", data=...``); asserts the status."""
    response = client.open(url, **kwargs)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def text(html: str) -> str:
    return " ".join(visible_text(html.split("</header>", 1)[-1]).split())


def data_attr(html: str, element: str, attribute: str) -> list[str]:
    """The values of ``attribute`` on every ``element`` tag."""
    return re.findall(rf"<{element}\b[^>]*\b{attribute}=\"([^\"]*)\"", html)


__all__ = [
    "AGENCY_USERS",
    "INTRUDERS",
    "LOCALES",
    "adopt_appointments",
    "add_promoter",
    "client_for",
    "data_attr",
    "make_campaign",
    "next_monday",
    "page",
    "t",
    "text",
    "user_id",
]
