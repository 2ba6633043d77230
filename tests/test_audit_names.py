"""What the agency reads in the audit trail about bookings and applications: the promoter's
name and the appointment's date and store (in the user's format), not record numbers; and no
line for a field that did not change (an empty note saved as "" where there was none)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest

from tests.conftest import visible_text
from tests.helpers import Rows, client_for, view_by_name
from tests.test_agency_screens import _edit
from tests.test_audit import entries, last_id


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def recorded(app, rows):
    """A booking and an application made through the ORM (recorded by the audit trail)."""
    from app.audit.models import AuditEntry
    from app.extensions import db
    from app.models.crm import Location
    from app.models.planning import Application, Appointment, Booking, Job
    from app.models.promoter import Promoter
    from app.models.reporting import Report
    from tests.reporting_helpers import make_questionnaire

    campaign = rows.campaign()
    tag = campaign["tag"]
    store = rows.add(
        Location, name=f"Media Markt {tag}", street="Weg 1", postcode="50667", city="Köln", federal_state="NW"
    )
    job = rows.add(
        Job, project_id=campaign["project"], location_id=store, title=f"Aktion {tag}", status="open"
    )
    appointment = rows.add(
        Appointment, job_id=job, date=dt.date(2026, 12, 15), start_time=dt.time(10), end_time=dt.time(18)
    )
    promoter = rows.add(Promoter, first_name="Anna", last_name=f"Muster {tag}")
    since = last_id(app)
    version = make_questionnaire(rows)["version"]
    with app.app_context():
        booking = Booking(appointment_id=appointment, promoter_id=promoter, status="requested")
        application = Application(job_id=job, promoter_id=promoter)
        day = Report(
            kind="day",
            appointment_id=appointment,
            job_id=job,
            questionnaire_version_id=version,
            promoter_id=promoter,
        )
        week = Report(
            kind="week",
            week_start=dt.date(2026, 12, 14),
            job_id=job,
            questionnaire_version_id=version,
            promoter_id=promoter,
        )
        db.session.add_all([booking, application, day, week])
        db.session.commit()
        pks = {"booking": booking.id, "application": application.id, "day": day.id, "week": week.id}
    for kind, pk in pks.items():
        rows.adopt({"booking": Booking, "application": Application}.get(kind, Report), pk)
    for entry in entries(app, since):
        rows.adopt(AuditEntry, entry["id"])
    return {**pks, "tag": tag}


def _listed(app, locale: str, entity: str, pk: int) -> str:
    query = urlencode({"_flt_0_entity": entity, "_flt_0_entity_id": pk})
    page = client_for(app, "agentur", locale).get(f"/auditview/list/?{query}")
    assert page.status_code == 200
    return visible_text(page.get_data(as_text=True))


@pytest.mark.parametrize(("locale", "day"), [("de", "15.12.2026"), ("en", "12/15/2026")])
def test_a_booking_reads_with_the_promoters_name_and_the_appointments_day_and_store(
    app, recorded, locale, day
):
    tag = recorded["tag"]
    expected = f"Anna Muster {tag} · {day} Media Markt {tag} Köln"
    listed = _listed(app, locale, "booking", recorded["booking"])
    assert expected in listed
    assert "promoter " not in listed and "@ appointment" not in listed
    (entry,) = entries(app, 0, entity="booking", entity_id=recorded["booking"])
    shown = visible_text(
        client_for(app, "agentur", locale).get(f"/auditview/show/{entry['id']}").get_data(as_text=True)
    )
    assert expected in shown


@pytest.mark.parametrize("locale", ["de", "en"])
def test_an_application_reads_with_the_promoters_name_and_the_job(app, recorded, locale):
    tag = recorded["tag"]
    listed = _listed(app, locale, "application", recorded["application"])
    assert f"Anna Muster {tag} · Aktion {tag}" in listed
    assert "@ job" not in listed


@pytest.mark.parametrize(
    ("locale", "day", "week"),
    [
        ("de", "Tagesbericht 15.12.2026", "Wochenbericht Aktion {tag}, Woche ab 14.12.2026"),
        ("en", "Day report 12/15/2026", "Weekly report Aktion {tag}, Week of 12/14/2026"),
    ],
)
def test_a_report_reads_with_the_promoters_name_and_its_day_or_week(app, recorded, locale, day, week):
    tag = recorded["tag"]
    listed = _listed(app, locale, "report", recorded["day"])
    assert f"Anna Muster {tag} · {day} Media Markt {tag} Köln" in listed
    assert "day report, appointment" not in listed
    listed = _listed(app, locale, "report", recorded["week"])
    assert f"Anna Muster {tag} · {week.format(tag=tag)}" in listed
    assert "weekly report, job" not in listed


@pytest.mark.parametrize(("locale", "note"), [("de", "Notiz"), ("en", "Note")])
def test_saving_a_form_with_an_empty_note_records_no_note_change(app, rows, locale, note):
    from app.models.planning import Appointment

    campaign = rows.campaign()
    pk = rows.add(
        Appointment,
        job_id=campaign["job"],
        date=dt.date(2026, 12, 16),
        start_time=dt.time(10),
        end_time=dt.time(18),
        note=None,
    )
    since = last_id(app)
    client = client_for(app, "agentur", locale)
    _edit(app, client, view_by_name(app, "AppointmentView"), pk, {"start_time": "11:15"})
    (entry,) = entries(app, since, entity="appointment", entity_id=pk)
    assert "note" not in entry["changes"]
    shown = visible_text(client.get(f"/auditview/show/{entry['id']}").get_data(as_text=True))
    assert "11:15" in shown and f"{note} – → –" not in shown


@pytest.mark.parametrize(("locale", "note"), [("de", "Notiz"), ("en", "Note")])
def test_an_entry_recorded_with_none_to_empty_shows_no_line_for_it(app, rows, locale, note):
    import json

    from app.audit.models import AuditEntry
    from app.extensions import db

    with app.app_context():
        entry = AuditEntry(
            action="update",
            entity="appointment",
            entity_id=1,
            changes=json.dumps({"note": [None, ""], "start_time": ["10:00", "11:15"]}),
        )
        db.session.add(entry)
        db.session.commit()
        rows.adopt(AuditEntry, entry.id)
        pk = entry.id
    shown = visible_text(
        client_for(app, "agentur", locale).get(f"/auditview/show/{pk}").get_data(as_text=True)
    )
    assert "11:15" in shown and f"{note} – → –" not in shown


def test_the_audit_list_names_a_page_in_a_fixed_number_of_statements(app, rows, recorded):
    """Bookings, applications and reports on one page are named in one go, not per row
    (at most three statements more than the list without them)."""
    from app.audit.models import AuditEntry
    from app.models.planning import Appointment
    from app.models.promoter import Promoter
    from tests.test_sql_per_page import LIMIT, statements_for

    campaign = rows.campaign()
    tag = f"names-{campaign['tag']}"
    client = client_for(app, "agentur", "de")
    url = "/auditview/list/?" + urlencode({"_flt_0_username": tag})

    def add(how_many: int) -> None:
        for n in range(how_many):
            promoter = rows.add(Promoter, first_name="Zoe", last_name=f"{tag} {n}")
            appointment = rows.add(
                Appointment,
                job_id=campaign["job"],
                date=dt.date(2026, 12, 1) + dt.timedelta(days=n),
                start_time=dt.time(10),
                end_time=dt.time(18),
            )
            for entity, text in (
                ("booking", f"promoter {promoter} @ appointment {appointment}"),
                ("application", f"promoter {promoter} @ job {campaign['job']}"),
                ("report", "day report, appointment 1"),
            ):
                rows.add(
                    AuditEntry,
                    at=dt.datetime(2026, 12, 1, 12),
                    username=tag,
                    action="create",
                    entity=entity,
                    entity_id=recorded["day"] if entity == "report" else 900000 + n,
                    summary=f"{entity} {recorded['day'] if entity == 'report' else 900000 + n}: {text}",
                )

    add(1)
    few = statements_for(app, client, url)
    add(5)
    many = statements_for(app, client, url)
    assert many == few and many <= LIMIT, (few, many)
    listed = visible_text(client.get(url).get_data(as_text=True))
    assert f"Zoe {tag} 4 · 05.12.2026 Markt" in listed and f"Zoe {tag} 0 · Job" in listed
    print(f"audit list: {many} statements")
