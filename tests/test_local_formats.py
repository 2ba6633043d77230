"""German formats in the agency screens: dates typed as dd.mm.yyyy, shown in the user's format."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import visible_text
from tests.helpers import Rows, client_for, field_errors, fresh_row, ids_where, unique


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(rows):
    return rows.campaign()


@pytest.fixture(scope="module")
def clients(app):
    cache = {}

    def get(locale: str):
        if locale not in cache:
            cache[locale] = client_for(app, "agentur", None if locale == "de" else locale)
        return cache[locale]

    return get


def _add_project(app, client, rows, campaign, start: str, end: str):
    from app.models.planning import Project

    name = unique("Formate")
    response = client.post(
        "/projectview/add",
        data=MultiDict(
            [
                ("name", name),
                ("customer", str(campaign["customer"])),
                ("start_date", start),
                ("end_date", end),
            ]
        ),
    )
    found = ids_where(app, Project, Project.name == name)
    for pk in found:
        rows.adopt(Project, pk)
    return response, found


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_german_date_typed_into_an_agency_form_is_saved(app, clients, rows, campaign, locale):
    from app.models.planning import Project

    response, found = _add_project(app, clients(locale), rows, campaign, "15.12.2026", "2027-01-31")
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    stored = fresh_row(app, Project, found[0])
    assert (stored["start_date"], stored["end_date"]) == (dt.date(2026, 12, 15), dt.date(2027, 1, 31))


def test_the_english_short_format_is_read_in_english(app, clients, rows, campaign):
    from app.models.planning import Project

    response, found = _add_project(app, clients("en"), rows, campaign, "12/15/2026", "1/31/2027")
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert fresh_row(app, Project, found[0])["start_date"] == dt.date(2026, 12, 15)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", "Kein gültiges Datum. Bitte das Datum wie 15.12.2026 eingeben."),
        ("en", "Not a valid date value. Please enter the date like 12/15/2026."),
    ],
)
def test_an_impossible_date_is_refused_with_a_hint(app, clients, rows, campaign, locale, expected):
    response, found = _add_project(app, clients(locale), rows, campaign, "30.02.2026", "31.01.2027")
    assert response.status_code == 200 and not found
    html = response.get_data(as_text=True)
    assert field_errors(html)["start_date"] == expected
    assert 'value="30.02.2026"' in html  # what was typed stays to be corrected


@pytest.mark.parametrize(("locale", "shown"), [("de", "15.12.2026"), ("en", "12/15/2026")])
def test_the_edit_form_shows_the_date_in_the_users_format(app, clients, rows, campaign, locale, shown):
    from app.models.planning import Project

    client = clients(locale)
    response, found = _add_project(app, client, rows, campaign, "2026-12-15", "2027-01-31")
    assert response.status_code == 302
    form = client.get(f"/projectview/edit/{found[0]}").get_data(as_text=True)
    assert f'value="{shown}"' in form
    week_start = 'data-date-week-start="1"'
    assert week_start in form and f'data-date-language="{locale}"' in form
    # Saved again unchanged, the date stays the same.
    response = client.post(
        f"/projectview/edit/{found[0]}",
        data={
            "name": unique("Formate"),
            "customer": str(campaign["customer"]),
            "start_date": shown,
            "end_date": "31.01.2027",
        },
    )
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert fresh_row(app, Project, found[0])["start_date"] == dt.date(2026, 12, 15)


@pytest.mark.parametrize(("locale", "shown"), [("de", "15.12.2026"), ("en", "12/15/2026")])
def test_lists_and_detail_pages_show_dates_in_the_users_format(app, clients, rows, campaign, locale, shown):
    client = clients(locale)
    name = unique("Formate")
    response = client.post(
        "/projectview/add",
        data={
            "name": name,
            "customer": str(campaign["customer"]),
            "start_date": "15.12.2026",
            "end_date": "31.01.2027",
        },
    )
    assert response.status_code == 302
    from app.models.planning import Project

    (pk,) = ids_where(app, Project, Project.name == name)
    rows.adopt(Project, pk)
    listed = visible_text(
        client.get("/projectview/list/?" + urlencode({"_flt_0_name": name})).get_data(as_text=True)
    )
    assert name in listed and shown in listed and "2026-12-15" not in listed
    detail = visible_text(client.get(f"/projectview/show/{pk}").get_data(as_text=True))
    assert shown in detail and "2026-12-15" not in detail


@pytest.mark.parametrize(("locale", "shown"), [("de", "01.07.2026, 12:30"), ("en", "7/1/2026, 12:30 PM")])
def test_a_stored_timestamp_is_shown_in_berlin_time_without_seconds(app, clients, campaign, locale, shown):
    from sqlalchemy import update

    from app.extensions import db
    from app.models.crm import Note

    with app.app_context():
        db.session.execute(
            update(Note)
            .where(Note.id == campaign["note"])
            .values(created_at=dt.datetime(2026, 7, 1, 10, 30, 15, 123456))
        )
        db.session.commit()
    client = clients(locale)
    detail = visible_text(client.get(f"/noteview/show/{campaign['note']}").get_data(as_text=True))
    assert shown in detail
    assert "10:30" not in detail and "2026-07-01" not in detail and "123456" not in detail


@pytest.fixture(scope="module")
def sent_mail(app, rows):
    from app.extensions import db
    from app.outbox.enqueue import enqueue
    from app.outbox.models import OutboxMessage

    with app.test_request_context():
        mail = enqueue(db.session, "digest_pending", "formats@example.com", "de", proposals=[], link="x")
        mail.status = "sent"
        db.session.commit()
        rows.adopt(OutboxMessage, mail.id)
        return mail.id


@pytest.mark.parametrize(
    ("locale", "status", "kind"),
    [
        ("de", "Gesendet", "Terminvorschläge zur Entscheidung"),
        ("en", "Sent", "Proposals awaiting a decision"),
    ],
)
def test_the_outbox_shows_status_and_kind_in_words(app, clients, sent_mail, locale, status, kind):
    client = clients(locale)
    detail = visible_text(client.get(f"/outboxview/show/{sent_mail}").get_data(as_text=True))
    assert status in detail and kind in detail
    assert "digest_pending" not in detail and " sent " not in f" {detail} "
    listed = visible_text(client.get("/outboxview/list/").get_data(as_text=True))
    assert status in listed


def test_every_outbox_state_has_a_label():
    from app.common.choices import OUTBOX_STATUSES
    from app.outbox.models import OUTBOX_STATES

    assert set(OUTBOX_STATUSES) == set(OUTBOX_STATES)


def test_every_mail_template_has_a_kind_label():
    from pathlib import Path

    from app.common.choices import MAIL_KINDS

    folder = Path(__file__).parent.parent / "app" / "templates" / "notify"
    kinds = {path.name.split(".")[0] for path in folder.iterdir() if not path.name.startswith("_")}
    assert kinds == set(MAIL_KINDS)


def test_no_select_shows_none_as_a_choice(app, clients, campaign):
    """FAB's empty choice of a related-record select reads "–", in forms and in the list filters."""
    from app.common.views import AgencyModelView

    client = clients("de")
    pages = []
    for view in app.appbuilder.baseviews:
        if isinstance(view, AgencyModelView) and "can_add" in (view.base_permissions or ["can_add"]):
            pages += [f"{view.route_base}/add", f"{view.route_base}/list/"]
    checked = 0
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        checked += 1
        assert "__None" not in visible_text(response.get_data(as_text=True)), url
        assert ">__None<" not in response.get_data(as_text=True), url
    assert checked >= 10


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "de",
            [
                "Status Vorgeschlagen → Geplant",
                "Entschieden von – → Agentur",
                "Datum 15.12.2026 → 17.12.2026",
                "Entschieden am – → 01.07.2026, 12:30",
            ],
        ),
        (
            "en",
            [
                "Status Proposed → Planned",
                "Decided by – → Agentur",
                "Date 12/15/2026 → 12/17/2026",
                "Decided at – → 7/1/2026, 12:30 PM",
            ],
        ),
    ],
)
def test_an_audit_entry_reads_in_words(app, clients, rows, locale, expected):
    import json

    from app.audit.models import AuditEntry
    from app.extensions import db

    with app.app_context():
        user = app.appbuilder.sm.find_user(username="agentur")
        changes = {
            "status": ["proposed", "planned"],
            "decided_by_id": [None, user.id],
            "date": ["2026-12-15", "2026-12-17"],
            "decided_at": [None, "2026-07-01 10:30:15"],
        }
        entry = AuditEntry(action="update", entity="appointment", entity_id=1, changes=json.dumps(changes))
        db.session.add(entry)
        db.session.commit()
        rows.adopt(AuditEntry, entry.id)
        entry_id, user_name = entry.id, str(user)
    detail = visible_text(clients(locale).get(f"/auditview/show/{entry_id}").get_data(as_text=True))
    for line in expected:
        assert line.replace("Agentur", user_name) in detail
    assert "proposed" not in detail and "decided_by_id" not in detail.lower()


@pytest.mark.parametrize(("locale", "typed"), [("de", "03.04.2026"), ("en", "4/3/2026")])
def test_a_list_filter_reads_the_date_in_the_users_format(app, clients, rows, campaign, locale, typed):
    """dateutil alone would read "03.04.2026" as 4 March."""
    from app.models.planning import Project

    client = clients(locale)
    names = {}
    for day in ("2026-04-03", "2026-03-04"):
        names[day] = unique("Filter")
        response = client.post(
            "/projectview/add",
            data={
                "name": names[day],
                "customer": str(campaign["customer"]),
                "start_date": day,
                "end_date": day,
            },
        )
        assert response.status_code == 302
        rows.adopt(Project, ids_where(app, Project, Project.name == names[day])[0])
    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "ProjectView")
    kinds = [type(f).__name__ for f in view._filters._search_filters["start_date"]]
    index = kinds.index("FilterEqual")
    listed = visible_text(
        client.get("/projectview/list/?" + urlencode({f"_flt_{index}_start_date": typed})).get_data(
            as_text=True
        )
    )
    assert names["2026-04-03"] in listed and names["2026-03-04"] not in listed


def test_the_booking_list_is_headed_in_the_users_language(app, clients, campaign):
    """The booking list (and the bookings on an appointment's detail page) kept FAB's English
    headers "Appointment", "Appointment Job" in German."""
    import re

    html = clients("de").get("/bookingview/list/?period=all").get_data(as_text=True)
    headers = [visible_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)]
    assert "Termin" in headers and "Job" in headers, headers
    assert not any("Appointment" in h for h in headers), headers


def test_every_list_and_detail_column_has_a_translated_label(app):
    """A label FAB made up from the column name stays English in German."""
    from flask_babel import LazyString

    from tests.helpers import agency_views

    untranslated = [
        f"{type(view).__name__}.{column}"
        for view in agency_views(app)
        for column in (*view.list_columns, *view.show_columns)
        if not isinstance(view.label_columns.get(column), LazyString)
    ]
    assert not untranslated


@pytest.mark.parametrize(
    ("locale", "login", "change"),
    [
        ("de", "agentur von 10.1.2.3", "15.12.2026 10:00–18:00"),
        ("en", "agentur from 10.1.2.3", "15.12.2026 10:00–18:00"),
    ],
)
def test_the_audit_list_summarises_in_the_users_language(app, clients, rows, locale, login, change):
    """The summary column repeated the table name and number ("appointment 705: …") and
    showed a login in English ("Login: agentur from …") in German."""
    from app.audit.models import AuditEntry
    from app.extensions import db

    tag = unique("Audit")
    with app.app_context():
        for entry in (
            AuditEntry(
                action="login",
                entity="ab_user",
                entity_id=2,
                username=tag,
                summary="Login: agentur from 10.1.2.3",
            ),
            AuditEntry(
                action="update",
                entity="appointment",
                entity_id=705,
                username=tag,
                summary=f"appointment 705: {change}",
            ),
        ):
            db.session.add(entry)
            db.session.commit()
            rows.adopt(AuditEntry, entry.id)
    listed = visible_text(
        clients(locale).get("/auditview/list/?" + urlencode({"_flt_0_username": tag})).get_data(as_text=True)
    )
    assert login in listed and change in listed
    assert "Login:" not in listed and "appointment 705" not in listed
