"""Audit-trail and proposal-history times are Berlin time, in winter (UTC+1) and in summer
(UTC+2): converted once, not twice."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, select

from tests.helpers import client_for, db_session
from tests.visibility_helpers import Rows, expected_jobs, table_rows

#: Stored UTC time -> what a German and an English reader see (Europe/Berlin).
TIMES = {
    dt.datetime(2026, 1, 15, 10, 0): ("15.01.2026, 11:00", "1/15/2026, 11:00 AM"),  # winter, CET
    dt.datetime(2026, 3, 29, 0, 30): (
        "29.03.2026, 01:30",
        "3/29/2026, 1:30 AM",
    ),  # before the change to summer
    dt.datetime(2026, 3, 29, 1, 30): ("29.03.2026, 03:30", "3/29/2026, 3:30 AM"),  # after it
    dt.datetime(2026, 7, 15, 10, 0): ("15.07.2026, 12:00", "7/15/2026, 12:00 PM"),  # summer, CEST
    dt.datetime(2026, 10, 25, 0, 30): ("25.10.2026, 02:30", "10/25/2026, 2:30 AM"),  # before the change back
    dt.datetime(2026, 10, 25, 1, 30): ("25.10.2026, 02:30", "10/25/2026, 2:30 AM"),  # after it (2:30 again)
}


@pytest.fixture(scope="module")
def proposal(app):
    """A proposal of adm.nord with one audit entry per time of ``TIMES``."""
    from app.audit.models import AuditEntry
    from app.models.crm import Contact
    from app.models.planning import Appointment

    rows = Rows(app)
    with db_session(app) as session:
        user = app.appbuilder.sm.find_user(username="adm.nord")
        user_id = user.id
        contact_id = session.scalar(select(Contact.id).where(Contact.user_id == user_id))
        job_id = expected_jobs(session, "adm.nord")[0].job_id
    pk = rows.add(
        Appointment,
        job_id=job_id,
        date=dt.date(2026, 7, 20),
        start_time=dt.time(10, 0),
        end_time=dt.time(14, 0),
        status="proposed",
        origin="customer",
        proposed_by_id=contact_id,
    )
    # SQLite gives a deleted row's id to the next row: an earlier test's appointment with this
    # id may have left audit entries, which would fill the list page before this test's.
    with db_session(app) as session:
        session.execute(
            delete(AuditEntry).where(AuditEntry.entity == "appointment", AuditEntry.entity_id == pk)
        )
        session.commit()
    entries = {}
    for number, at in enumerate(TIMES):
        entries[at] = rows.add(
            AuditEntry,
            at=at,
            user_id=user_id,
            username="adm.nord",
            action="create" if number == 0 else "update",
            entity="appointment",
            entity_id=pk,
            summary=f"appointment {pk}",
            changes=json.dumps({"start_time": [None if number == 0 else "09:00", f"1{number}:00"]}),
        )
    yield {"pk": pk, "entries": entries}
    rows.cleanup()


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_agency_audit_trail_shows_berlin_time(app, proposal, locale):
    client = client_for(app, "agentur", locale)
    for at, expected in TIMES.items():
        page = client.get(f"/auditview/show/{proposal['entries'][at]}")
        assert page.status_code == 200
        text = " ".join(page.get_data(as_text=True).split())
        shown = expected[0 if locale == "de" else 1]
        assert shown in text, (at, shown)
    listed = client.get(f"/auditview/list/?_flt_0_entity_id={proposal['pk']}&_flt_0_entity=appointment")
    text = " ".join(listed.get_data(as_text=True).split())
    for expected in TIMES.values():
        assert expected[0 if locale == "de" else 1] in text


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_customer_history_shows_berlin_time(app, proposal, locale):
    client = client_for(app, "adm.nord", locale)
    page = client.get(f"/portal/proposals/{proposal['pk']}")
    assert page.status_code == 200
    when = [row[0] for row in table_rows(page.get_data(as_text=True), "proposal-history")]
    expected = [shown[0 if locale == "de" else 1] for shown in TIMES.values()]
    # SQLite may reuse the id of an appointment deleted earlier in the run; the entries about
    # that one (recorded at the time of the run) are in the history, too.
    assert [w for w in when if w in expected] == expected
