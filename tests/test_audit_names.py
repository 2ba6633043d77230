"""What the agency reads in the audit trail about bookings and applications: the promoter's
name and the appointment's date and store (in the user's format), not record numbers; and no
line for a field that did not change (an empty note saved as "" where there was none)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest

from tests.conftest import visible_text
from tests.helpers import Rows, client_for, list_pks, list_rows, view_by_name
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
    recorded = entries(app, since)
    for entry in recorded:
        rows.adopt(AuditEntry, entry["id"])
    # The entry recording each row's creation: the test's own, whatever else the trail holds
    # for the same record number (SQLite gives a deleted row's number to the next row).
    created = {
        kind: next(
            e["id"]
            for e in recorded
            if e["action"] == "create"
            and e["entity"] == {"day": "report", "week": "report"}.get(kind, kind)
            and e["entity_id"] == pk
        )
        for kind, pk in pks.items()
    }
    return {**pks, "tag": tag, "appointment": appointment, "entry": created}


def _listed(app, locale: str, entity: str, pk: int, entry: int) -> str:
    """The summary the audit list shows for the entry ``entry`` (the list filtered to the
    record, as a planner looks up one booking's history)."""
    query = urlencode({"_flt_0_entity": entity, "_flt_0_entity_id": pk})
    page = client_for(app, "agentur", locale).get(f"/auditview/list/?{query}")
    assert page.status_code == 200
    view = view_by_name(app, "AuditView")
    html = page.get_data(as_text=True)
    shown = dict(zip(list_pks(html, view), list_rows(html, view), strict=True))
    assert str(entry) in shown, f"entry {entry} not listed for {entity} {pk}: {visible_text(html)}"
    return shown[str(entry)][view.list_columns.index("summary")]


def _shown(app, locale: str, entry: int) -> str:
    page = client_for(app, "agentur", locale).get(f"/auditview/show/{entry}")
    assert page.status_code == 200
    return visible_text(page.get_data(as_text=True))


@pytest.mark.parametrize(("locale", "day"), [("de", "15.12.2026"), ("en", "12/15/2026")])
def test_a_booking_reads_with_the_promoters_name_and_the_appointments_day_and_store(
    app, recorded, locale, day
):
    tag = recorded["tag"]
    expected = f"Anna Muster {tag} · {day} Media Markt {tag} Köln"
    listed = _listed(app, locale, "booking", recorded["booking"], recorded["entry"]["booking"])
    assert listed == expected
    assert expected in _shown(app, locale, recorded["entry"]["booking"])


@pytest.mark.parametrize("locale", ["de", "en"])
def test_an_application_reads_with_the_promoters_name_and_the_job(app, recorded, locale):
    tag = recorded["tag"]
    entry = recorded["entry"]["application"]
    listed = _listed(app, locale, "application", recorded["application"], entry)
    assert listed == f"Anna Muster {tag} · Aktion {tag}"
    assert f"Anna Muster {tag} · Aktion {tag}" in _shown(app, locale, entry)


@pytest.mark.parametrize(
    ("locale", "day", "week"),
    [
        ("de", "Tagesbericht 15.12.2026", "Wochenbericht Aktion {tag}, Woche ab 14.12.2026"),
        ("en", "Day report 12/15/2026", "Weekly report Aktion {tag}, Week of 12/14/2026"),
    ],
)
def test_a_report_reads_with_the_promoters_name_and_its_day_or_week(app, recorded, locale, day, week):
    tag = recorded["tag"]
    listed = _listed(app, locale, "report", recorded["day"], recorded["entry"]["day"])
    assert listed == f"Anna Muster {tag} · {day} Media Markt {tag} Köln"
    listed = _listed(app, locale, "report", recorded["week"], recorded["entry"]["week"])
    assert listed == f"Anna Muster {tag} · {week.format(tag=tag)}"


def test_entries_of_one_record_number_each_read_with_their_own_names(app, rows, recorded):
    """SQLite gives the number of a deleted booking to the next one: the trail then holds
    entries of different bookings under one number, and each reads with its own promoter and
    appointment (or, where those are gone, as recorded) — never with another entry's names."""
    from app.audit.models import AuditEntry
    from app.models.planning import Appointment
    from app.models.promoter import Promoter

    tag = recorded["tag"]
    campaign = rows.campaign()
    other = rows.add(Promoter, first_name="Berta", last_name=f"Früher {tag}")
    earlier = rows.add(
        Appointment,
        job_id=campaign["job"],
        date=dt.date(2026, 11, 3),
        start_time=dt.time(9),
        end_time=dt.time(17),
    )
    booking, day = recorded["booking"], recorded["day"]
    stale = {
        "earlier": (
            "booking",
            booking,
            f"booking {booking}: promoter {other} @ appointment {earlier}",
        ),
        "gone": ("booking", booking, f"booking {booking}: promoter 987654321 @ appointment {earlier}"),
        "report": ("report", day, f"report {day}: day report, appointment {earlier}"),
    }
    made = {
        key: rows.add(
            AuditEntry,
            at=dt.datetime(2026, 11, 1, 12),
            action="create",
            entity=entity,
            entity_id=pk,
            summary=summary,
        )
        for key, (entity, pk, summary) in stale.items()
    }
    earlier_text = _listed(app, "de", "booking", booking, made["earlier"])
    assert earlier_text.startswith(f"Berta Früher {tag} · 03.11.2026 Markt "), earlier_text
    assert _listed(app, "de", "booking", booking, made["gone"]) == (
        f"promoter 987654321 @ appointment {earlier}"
    )
    assert _listed(app, "de", "booking", booking, recorded["entry"]["booking"]) == (
        f"Anna Muster {tag} · 15.12.2026 Media Markt {tag} Köln"
    )
    assert _listed(app, "de", "report", day, made["report"]) == f"day report, appointment {earlier}"
    assert _listed(app, "de", "report", day, recorded["entry"]["day"]).startswith(f"Anna Muster {tag} · ")


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
                ("report", f"day report, appointment {recorded['appointment']}"),
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
