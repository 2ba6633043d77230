"""Import of locations, contacts and appointments: preview with row errors, all or nothing.

Every file is built here; every row an import makes carries the module's tag and is
removed again at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, or_, select, update

from tests.conftest import visible_text
from tests.helpers import (
    DATABASE_ERROR_WORDS,
    Rows,
    client_for,
    db_session,
    expected_text,
    flashes,
    is_login_redirect,
    text_of,
)
from tests.test_wizard import Wizard, demo, high_water, portal_client, proposal_id, remove_since

TAG = f"imp{uuid.uuid4().hex[:8]}"
LOCATION_HEADER = ["Name", "Handelskette", "Straße", "PLZ", "Ort", "Bundesland", "Gebiet"]
CONTACT_HEADER = [
    "Firma",
    "Anrede",
    "Vorname",
    "Nachname",
    "E-Mail",
    "Telefon",
    "Position",
    "Sprache",
    "Gebiete",
]


# ---------------------------------------------------------------- fixtures and helpers


def _remove_imported(app) -> None:
    from app.extensions import db
    from app.models.crm import Contact, Location
    from app.models.planning import Appointment

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(Appointment).where(Appointment.note.like(f"%{TAG}%")))
        conn.execute(delete(Location).where(Location.name.like(f"%{TAG}%")))
        conn.execute(
            delete(Contact).where(or_(Contact.email.like(f"%{TAG}%"), Contact.last_name.like(f"%{TAG}%")))
        )


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    _remove_imported(app)
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(rows):
    return rows.campaign()


@pytest.fixture(scope="module")
def names(app, campaign):
    """Names of the campaign's rows as an import file spells them."""
    from app.models.crm import Company, Territory

    with db_session(app) as session:
        return {
            "territory": session.get(Territory, campaign["territory"]).name,
            "chain": session.get(Company, campaign["chain"]).name,
            "customer": session.get(Company, campaign["customer"]).name,
        }


@pytest.fixture()
def agentur(app):
    return client_for(app, "agentur")


def csv_bytes(header, body, delimiter=";", bom=True, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(header, body) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in body:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, kind: str, filename: str, data: bytes, job: int | None = None):
    return client.post(
        "/transfer/import",
        data={"kind": kind, "job": str(job or ""), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def preview_errors(html: str) -> list[tuple[int, str, str]]:
    """(row, column, message) of the preview's error table."""
    match = re.search(r'<table[^>]*id="import-errors".*?<tbody>(.*?)</tbody>', html, re.S)
    if not match:
        return []
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S):
        cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        found.append((int(cells[0]), cells[1], cells[2]))
    return found


def token_of(html: str) -> str | None:
    match = re.search(r'action="/transfer/import/([0-9a-f]{32})"', html)
    return match.group(1) if match else None


def import_ok(client, kind: str, filename: str, data: bytes, job: int | None = None) -> str:
    """Upload, expect a clean preview, confirm; answers the page the user ends on."""
    response = upload(client, kind, filename, data, job)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert preview_errors(html) == [], preview_errors(html)
    token = token_of(html)
    assert token, "no import button on a clean preview"
    done = client.post(f"/transfer/import/{token}")
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    return client.get(done.headers["Location"]).get_data(as_text=True)


def tagged_locations(app) -> list:
    from app.models.crm import Location

    with db_session(app) as session:
        return [
            {
                "name": loc.name,
                "chain": loc.retail_chain.name if loc.retail_chain else None,
                "street": loc.street,
                "postcode": loc.postcode,
                "city": loc.city,
                "state": loc.federal_state,
                "territory": loc.territory.name if loc.territory else None,
            }
            for loc in session.scalars(
                select(Location).where(Location.name.like(f"%{TAG}%")).order_by(Location.name)
            )
        ]


def tagged_count(app, model, column) -> int:
    with db_session(app) as session:
        return len(session.scalars(select(model.id).where(column.like(f"%{TAG}%"))).all())


def msg(text: str, locale: str, **params) -> str:
    found = expected_text(text, locale)
    assert found is not None
    return found % params if params else found


def unknown_state(value: str, locale: str) -> str:
    """The error for an unknown federal state: it lists every allowed name and abbreviation."""
    from app.common.choices import FEDERAL_STATES

    allowed = ", ".join(f"{name} ({code})" for code, name in FEDERAL_STATES.items())
    text = (
        "Unknown federal state “%(value)s”. Allowed are the name or its abbreviation: "
        "%(allowed)s; also NRW, DE-BY and the English names."
    )
    return msg(text, locale, value=value, allowed=allowed)


# ---------------------------------------------------------------- row errors, nothing written


@pytest.mark.parametrize("locale", ["de", "en"])
def test_bad_rows_write_nothing_and_each_is_named(app, names, locale):
    from app.models.crm import Location

    client = client_for(app, "agentur", None if locale == "de" else locale)
    t = f"{TAG}-{locale}"
    body = [
        [f"Markt A {t}", names["chain"], "Weg 1", "20095", "Hamburg", "HH", names["territory"]],
        [f"Markt B {t}", names["chain"], "Weg 2", "209", "Hamburg", "HH", names["territory"]],
        [f"Markt C {t}", names["chain"], "Weg 3", "20095", "Hamburg", "HH", "Kein Gebiet"],
        ["", "", "", "", "", "", ""],  # an empty line: skipped, the numbering stays the file's
        [f"Markt D {t}", "", "Weg 4", "80331", "München", "Bayernland", ""],
        [f"Markt E {t}", "Keine Kette", "Weg 5", "80331", "", "BY", ""],
        [f"Markt F {t}", "", "Weg 6", "01067", "Dresden", "Sachsen", ""],
    ]
    response = upload(client, "locations", "standorte.csv", csv_bytes(LOCATION_HEADER, body))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    errors = preview_errors(html)
    expected = [
        (3, "PLZ", msg("A postcode has five digits, e.g. 01067 or 80331.", locale)),
        (4, "Gebiet", msg("Unknown territory “%(name)s”.", locale, name="Kein Gebiet")),
        (6, "Bundesland", unknown_state("Bayernland", locale)),
        (7, "Ort", msg("A value is required.", locale)),
        (7, "Handelskette", msg("Unknown retail chain “%(name)s”.", locale, name="Keine Kette")),
    ]
    assert sorted(errors) == sorted(expected)
    assert token_of(html) is None, "an import with errors must not be offered"
    assert 'id="import-blocked"' in html
    assert tagged_count(app, Location, Location.name) == 0


def test_a_file_without_the_required_columns_or_in_an_old_format_is_refused(app, agentur):
    from app.models.crm import Location

    response = upload(agentur, "locations", "kurz.csv", csv_bytes(["Name", "Ort"], [[f"X {TAG}", "Y"]]))
    assert response.status_code == 400
    missing = ", ".join(msg(label, "de") for label in ("Street", "Postcode", "Federal state"))
    assert msg("Columns missing: %(columns)s.", "de", columns=missing) in visible_text(
        response.get_data(as_text=True)
    )
    response = upload(agentur, "locations", "alt.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert response.status_code == 400
    assert msg(
        "Old Excel files (.xls) cannot be read; please save the file as .xlsx or CSV.", "de"
    ) in visible_text(response.get_data(as_text=True))
    assert tagged_count(app, Location, Location.name) == 0


def test_the_rows_are_checked_again_when_the_import_is_confirmed(app, agentur, rows, names):
    from app.models.crm import Location

    name = f"Markt Später {TAG}"
    data = csv_bytes(LOCATION_HEADER, [[name, names["chain"], "Weg 1", "20095", "Hamburg", "HH", ""]])
    token = token_of(upload(agentur, "locations", "spaet.csv", data).get_data(as_text=True))
    assert token
    # Meanwhile somebody else creates the same location.
    rows.add(
        Location,
        name=f"Markt Später {TAG}",
        street="Weg 1",
        postcode="20095",
        city="Hamburg",
        federal_state="HH",
    )
    response = agentur.post(f"/transfer/import/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert [(row, column) for row, column, _m in preview_errors(html)] == [(2, msg("Name", "de"))]
    assert token_of(html) is None
    assert tagged_count(app, Location, Location.name) == 1
    _remove_imported(app)


# ---------------------------------------------------------------- the "Done when"


def _demo_store_rows(app) -> list[list]:
    from app.demo.data import STORES
    from app.models.crm import Location

    with db_session(app) as session:
        stores = session.scalars(select(Location).where(Location.name.in_([s.name for s in STORES]))).all()
        body = []
        for number, store in enumerate(sorted(stores, key=lambda s: s.name)):
            postcode = int(store.postcode) if number % 3 == 0 else store.postcode  # Excel numbers too
            state = (
                store.federal_state
                if number % 2
                else {"BY": "Bayern"}.get(store.federal_state, store.federal_state)
            )
            body.append(
                [
                    f"{store.name} {TAG}",
                    "Media Markt",
                    store.street,
                    postcode,
                    store.city,
                    state,
                    store.territory.name,
                ]
            )
    return body


def test_agency_imports_the_30_demo_stores_from_excel_and_sees_a_bad_postcode_first(app, agentur):
    from app.models.crm import Location, Territory

    body = _demo_store_rows(app)
    assert len(body) == 30
    bad = [
        f"Media Markt Irgendwo {TAG}",
        "Media Markt",
        "Hauptstraße 1",
        "123",
        "Irgendwo",
        "BY",
        body[0][6],
    ]
    data = xlsx_bytes(LOCATION_HEADER, [*body, bad])

    response = upload(agentur, "locations", "maerkte.xlsx", data)
    html = response.get_data(as_text=True)
    assert preview_errors(html) == [
        (32, "PLZ", msg("A postcode has five digits, e.g. 01067 or 80331.", "de"))
    ]
    assert token_of(html) is None
    assert tagged_count(app, Location, Location.name) == 0, "something was written before the import"

    page = import_ok(agentur, "locations", "maerkte.xlsx", xlsx_bytes(LOCATION_HEADER, body))
    assert "30" in visible_text(page)
    stored = tagged_locations(app)
    assert len(stored) == 30
    with db_session(app) as session:
        north = session.scalar(select(Territory.name).where(Territory.name == "ADM Nord / Supertoy"))
    assert sum(1 for s in stored if s["territory"] == north) == 12
    assert all(re.fullmatch(r"\d{5}", s["postcode"]) for s in stored)
    by_name = {row[0]: row for row in body}
    for s in stored:
        row = by_name[s["name"]]
        assert (s["street"], s["city"], s["territory"], s["chain"]) == (row[2], row[4], row[6], "Media Markt")
        assert s["postcode"] == str(row[3]).zfill(5)
    _remove_imported(app)


# ---------------------------------------------------------------- CSV dialects


def test_csv_with_bom_and_semicolons_and_with_commas_parse_alike(app, names):
    from app.transfer.importers import CONTACTS, records
    from app.transfer.tables import read_table

    body = [
        [
            names["customer"],
            "Frau",
            "Jürgen",
            f"Ölmann {TAG}",
            f"jo-{TAG}@example.com",
            "+49 40 1",
            "Einkauf, Nord",
            "de",
            names["territory"],
        ],
        [names["customer"], "Herr", "Max", f"Groß {TAG}", "", "", "", "en", ""],
    ]
    variants = {
        "bom-semicolon": csv_bytes(CONTACT_HEADER, body, ";", bom=True),
        "comma": csv_bytes(CONTACT_HEADER, body, ",", bom=False),
        "excel-cp1252": csv_bytes(CONTACT_HEADER, body, ";", bom=False, encoding="cp1252"),
        "english-headers": csv_bytes(
            [
                "company",
                "SALUTATION",
                " First name ",
                "Last Name",
                "Email",
                "Phone",
                "Position",
                "Language",
                "Territories",
            ],
            body,
            ",",
        ),
    }
    parsed = {}
    for name, data in variants.items():
        found, ignored = records(CONTACTS, read_table("kontakte.csv", data))
        assert ignored == [], name
        parsed[name] = found
    first = parsed["bom-semicolon"]
    assert [n for n, _r in first] == [2, 3]
    assert first[0][1]["first_name"] == "Jürgen" and first[0][1]["position"] == "Einkauf, Nord"
    for name, found in parsed.items():
        assert found == first, name


def test_contacts_import_with_comma_csv(app, agentur, names):
    from app.models.crm import Contact

    body = [
        [
            names["customer"],
            "Frau",
            "Erika",
            f"Kontakt {TAG}",
            f"Erika-{TAG}@Example.com",
            "+49 221 1",
            "Einkauf",
            "en",
            names["territory"],
        ],
        [names["customer"], "", "Max", f"Kontakt2 {TAG}", "", "", "", "", ""],
    ]
    # A duplicate address within the file and a bad one are named first.
    bad = [
        *body,
        [names["customer"], "Herr", "Otto", f"Kontakt3 {TAG}", f"erika-{TAG}@example.com", "", "", "de", ""],
    ]
    bad.append([names["customer"], "Herrn", "Paul", f"Kontakt4 {TAG}", "kein-at-zeichen", "", "", "fr", ""])
    data = csv_bytes(CONTACT_HEADER, bad, ",", bom=False)
    html = upload(agentur, "contacts", "kontakte.csv", data).get_data(as_text=True)
    twice = "The file lists this email address twice (also row %(row)d)."
    assert sorted(preview_errors(html)) == sorted(
        [
            (4, "E-Mail", msg(twice, "de", row=2)),
            (
                5,
                "Anrede",
                msg("Unknown salutation “%(value)s” (Mr, Ms or Mx).", "de", value="Herrn"),
            ),
            (5, "E-Mail", msg("Not a valid email address.", "de")),
            (5, "Sprache", msg("Unknown language “%(value)s” (de or en).", "de", value="fr")),
        ]
    )
    assert tagged_count(app, Contact, Contact.last_name) == 0

    import_ok(agentur, "contacts", "kontakte.csv", csv_bytes(CONTACT_HEADER, body, ",", bom=False))
    with db_session(app) as session:
        stored = session.scalars(
            select(Contact).where(Contact.last_name.like(f"%{TAG}%")).order_by(Contact.last_name)
        ).all()
        assert [c.last_name for c in stored] == [f"Kontakt {TAG}", f"Kontakt2 {TAG}"]
        erika = stored[0]
        assert (erika.salutation, erika.email, erika.language, erika.phone) == (
            "ms",
            f"erika-{TAG}@example.com",
            "en",
            "+49 221 1",
        )
        assert [t.name for t in erika.territories] == [names["territory"]]
        assert erika.company.name == names["customer"]
        assert (stored[1].salutation, stored[1].email, stored[1].language, stored[1].territories) == (
            None,
            None,
            "de",
            [],
        )
    # The same file again: the addresses are taken now.
    html = upload(agentur, "contacts", "kontakte.csv", csv_bytes(CONTACT_HEADER, body[:1])).get_data(
        as_text=True
    )
    assert preview_errors(html) == [
        (2, "E-Mail", msg("A contact with this email address already exists.", "de"))
    ]
    _remove_imported(app)


# ---------------------------------------------------------------- appointments


def test_appointments_for_a_job_from_excel(app, agentur, campaign):
    from app.models.planning import Appointment

    header = ["Datum", "Beginn", "Ende", "Notiz"]
    good = [
        ["02.03.2026", "10:00", "18:00", f"a {TAG}"],
        ["2026-03-03", "09:30", "17:15", f"b {TAG}"],
        [dt.datetime(2026, 3, 4), dt.time(11, 0), dt.time(19, 0), f"c {TAG}"],
    ]
    bad = [
        *good,
        ["05.03.2026", "18:00", "10:00", f"d {TAG}"],
        ["01.01.2027", "10:00", "18:00", f"e {TAG}"],
        ["32.03.2026", "10", "kurz", f"f {TAG}"],
    ]
    html = upload(agentur, "appointments", "termine.xlsx", xlsx_bytes(header, bad), campaign["job"]).get_data(
        as_text=True
    )
    errors = preview_errors(html)
    assert [(row, column) for row, column, _m in errors] == [
        (5, "Ende"),
        (6, "Datum"),
        (7, "Datum"),
        (7, "Ende"),
    ]
    assert errors[0][2] == msg("The end must be after the start.", "de")
    assert "01.01.2026" in errors[1][2] and "30.06.2026" in errors[1][2]
    assert tagged_count(app, Appointment, Appointment.note) == 0

    # Without a job the file is refused.
    response = upload(agentur, "appointments", "termine.xlsx", xlsx_bytes(header, good))
    assert response.status_code == 400

    import_ok(agentur, "appointments", "termine.xlsx", xlsx_bytes(header, good), campaign["job"])
    with db_session(app) as session:
        stored = session.scalars(
            select(Appointment).where(Appointment.note.like(f"%{TAG}%")).order_by(Appointment.date)
        ).all()
        assert [(a.date, a.start_time, a.end_time, a.job_id, a.status, a.origin) for a in stored] == [
            (dt.date(2026, 3, 2), dt.time(10), dt.time(18), campaign["job"], "planned", "agency"),
            (dt.date(2026, 3, 3), dt.time(9, 30), dt.time(17, 15), campaign["job"], "planned", "agency"),
            (dt.date(2026, 3, 4), dt.time(11), dt.time(19), campaign["job"], "planned", "agency"),
        ]
        assert {a.created_by.username for a in stored} == {"agentur"}
    _remove_imported(app)


# ---------------------------------------------------------------- sample files


def _renamed_sample(kind: str, fmt: str, data: bytes) -> bytes:
    """The sample with names and addresses of the module's own."""
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        text = text.replace("Beispielmarkt", f"Beispielmarkt {TAG}").replace(
            "@example.com", f"-{TAG}@example.com"
        )
        text = text.replace(";Beispieltermin", f";Beispieltermin {TAG}")
        lines = text.splitlines()
        if kind == "appointments":
            lines[2] = lines[2] + f"{TAG}"  # the second row's empty note
        return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.value = cell.value.replace("Beispielmarkt", f"Beispielmarkt {TAG}").replace(
                    "@example.com", f"-{TAG}@example.com"
                )
        if kind == "appointments":
            row[3].value = f"{row[3].value or ''} {TAG}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["locations", "contacts", "appointments"])
def test_sample_files_download_and_import_cleanly(app, agentur, rows, kind, fmt):
    from app.common.timezone import local_today
    from app.models.crm import Company, Contact, Location
    from app.models.planning import Appointment, Job, Project

    response = agentur.get(f"/transfer/sample?kind={kind}&format={fmt}")
    assert response.status_code == 200
    assert f"sample-{kind}.{fmt}" in response.headers["Content-Disposition"]
    data = response.get_data()
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")
        header = data.decode("utf-8-sig").splitlines()[0]
        assert ";" in header and "," not in header
        assert len(data.decode("utf-8-sig").strip().splitlines()) == 3, "a header and two example rows"
        if kind == "locations":
            assert header == ";".join(LOCATION_HEADER)
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet.max_row == 3
        if kind == "locations":
            assert [c.value for c in sheet[1]] == LOCATION_HEADER

    job = None
    if kind == "appointments":
        with app.app_context():
            today = local_today()
        customer = rows.add(Company, name=f"K {TAG}", kind="customer")
        project = rows.add(
            Project,
            name=f"P {TAG}",
            customer_id=customer,
            start_date=today,
            end_date=today + dt.timedelta(days=60),
        )
        location = rows.add(
            Location,
            name=f"L {uuid.uuid4().hex[:8]}",
            street="Weg 1",
            postcode="10115",
            city="Berlin",
            federal_state="BE",
        )
        job = rows.add(Job, project_id=project, location_id=location, title=f"J {TAG}")
    import_ok(agentur, kind, f"beispiel.{fmt}", _renamed_sample(kind, fmt, data), job)
    model, column = {
        "locations": (Location, Location.name),
        "contacts": (Contact, Contact.email),
        "appointments": (Appointment, Appointment.note),
    }[kind]
    assert tagged_count(app, model, column) == 2
    _remove_imported(app)


# ---------------------------------------------------------------- all or nothing


def _eight_locations(names, label: str) -> bytes:
    body = [
        [f"Markt {i} {TAG}-{label}", names["chain"], f"Weg {i}", "20095", "Hamburg", "HH", names["territory"]]
        for i in range(1, 9)
    ]
    return csv_bytes(LOCATION_HEADER, body)


def _fail_on_fifth_row(monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.transfer import services

    real = services.build_location
    calls = {"n": 0}

    def failing(row, ctx):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OperationalError("INSERT INTO location", {}, Exception("disk I/O error"))
        return real(row, ctx)

    monkeypatch.setattr(services, "build_location", failing)
    return calls


def test_a_database_failure_in_the_middle_leaves_nothing_written(app, agentur, names, monkeypatch):
    from app.models.crm import Location

    calls = _fail_on_fifth_row(monkeypatch)
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 2)  # rows 1-4 are flushed before the failure
    response = upload(agentur, "locations", "acht.csv", _eight_locations(names, "fail"))
    token = token_of(response.get_data(as_text=True))
    assert token
    done = agentur.post(f"/transfer/import/{token}")
    assert done.status_code == 302
    page = agentur.get(done.headers["Location"]).get_data(as_text=True)
    assert calls["n"] == 5
    assert tagged_count(app, Location, Location.name) == 0
    shown = " ".join(flashes(page))
    assert (
        msg(
            "The import failed at row %(row)d and nothing was saved. Please check that row and try again.",
            "de",
            row=6,
        )
        in shown
    )
    assert not any(word in page for word in DATABASE_ERROR_WORDS)
    # The confirmation cannot be sent twice.
    again = agentur.post(f"/transfer/import/{token}")
    assert again.status_code == 302
    assert tagged_count(app, Location, Location.name) == 0


# ---------------------------------------------------------------- large imports: jobs run by the scheduler


@pytest.fixture(scope="module")
def second_host(app):
    """A second web host: an app of its own (own engine and connections) on the same database."""
    from app import create_app
    from app.extensions import db
    from tests.conftest import FreshContextClient

    keys = (
        "TESTING",
        "SQLALCHEMY_DATABASE_URI",
        "WTF_CSRF_ENABLED",
        "RATELIMIT_ENABLED",
        "AUTH_RATE_LIMITED",
        "FAB_PASSWORD_HASH_METHOD",
        "SERVER_NAME",
    )
    other = create_app({key: app.config[key] for key in keys})
    other.test_client_class = FreshContextClient
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def small_background(app, monkeypatch):
    """Imports of more than 20 rows run as jobs, written 20 rows per transaction."""
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", 20)
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 20)


def _many_locations(names, label: str, count: int) -> bytes:
    body = [
        [
            f"Großmarkt {i:03d} {TAG}-{label}",
            names["chain"],
            f"Straße {i}",
            f"{10000 + i:05d}",
            "Berlin",
            "BE",
            "",
        ]
        for i in range(count)
    ]
    return csv_bytes(LOCATION_HEADER, body)


def _queue(client, data: bytes, kind: str = "locations", job: int | None = None) -> str:
    """Upload and confirm a large import; answers its token (the job waits for a runner)."""
    html = upload(client, kind, "gross.csv", data, job).get_data(as_text=True)
    token = token_of(html)
    assert token, preview_errors(html)[:5]
    assert msg("A large file: the import runs in the background and shows its progress.", "de") in html
    response = client.post(f"/transfer/import/{token}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/transfer/import/{token}/progress")
    return token


def _status(client, token: str) -> dict:
    response = client.get(f"/transfer/import/{token}/status")
    assert response.status_code == 200
    return response.get_json()


def _scheduled_imports(app):
    """The function the scheduler process runs every few seconds for imports."""
    from app.scheduler import build_scheduler

    job = build_scheduler(app).get_job("imports")
    assert job.trigger.interval.total_seconds() <= 10
    return job.func


def _run_imports_command(app) -> str:
    result = app.test_cli_runner().invoke(args=["imports", "run"])
    assert result.exit_code == 0, result.output
    return result.output


def _job_row(app, token: str) -> dict:
    from app.transfer.models import ImportJob

    with db_session(app) as session:
        job = session.scalar(select(ImportJob).where(ImportJob.token == token))
        return {c: getattr(job, c) for c in ("state", "done", "total", "attempts", "claimed_by", "rows")}


def test_the_scheduler_runs_a_large_import_and_another_web_host_shows_its_progress(
    app, agentur, names, second_host, small_background, monkeypatch
):
    import threading

    from app.models.crm import Location
    from app.transfer import services

    total = 60
    token = _queue(agentur, _many_locations(names, "sched", total))
    elsewhere = client_for(second_host, "agentur")
    waiting = _status(elsewhere, token)
    assert (waiting["state"], waiting["done"], waiting["total"]) == ("queued", 0, total)
    assert waiting["message"] == msg("The import is waiting to be started …", "de")
    assert tagged_count(app, Location, Location.name) == 0

    # The runner stops at the first row of its second chunk until the test has looked.
    real, calls = services.build_location, {"n": 0}
    paused, go_on = threading.Event(), threading.Event()

    def build(row, ctx):
        calls["n"] += 1
        if calls["n"] == 21:
            paused.set()
            go_on.wait(30)
        return real(row, ctx)

    monkeypatch.setattr(services, "build_location", build)
    runner = threading.Thread(target=_scheduled_imports(app))
    runner.start()
    try:
        assert paused.wait(60), "the scheduled job did not start the import"
        halfway = _status(elsewhere, token)
        assert (halfway["state"], halfway["done"], halfway["total"]) == ("running", 20, total)
        assert halfway["message"] == msg("%(done)s of %(total)s rows written …", "de", done=20, total=total)
        page = elsewhere.get(f"/transfer/import/{token}/progress").get_data(as_text=True)
        assert msg("%(done)s of %(total)s rows written …", "de", done=20, total=total) in visible_text(page)
    finally:
        go_on.set()
        runner.join(60)
    finished = _status(elsewhere, token)
    assert (finished["state"], finished["done"]) == ("done", total)
    assert finished["message"] == msg("%(count)s rows imported.", "de", count=total)
    assert tagged_count(app, Location, Location.name) == total
    assert _job_row(app, token)["rows"] is None, "the rows are not kept after the import"
    # Another user cannot follow it, on either host.
    assert client_for(second_host, "admin").get(f"/transfer/import/{token}/status").status_code == 404
    assert client_for(app, "admin").get(f"/transfer/import/{token}/progress").status_code == 404
    # The confirmation cannot be sent twice.
    assert agentur.post(f"/transfer/import/{token}").status_code == 302
    assert "imports run: 0" in _run_imports_command(app)
    assert tagged_count(app, Location, Location.name) == total
    _remove_imported(app)


class _Died(BaseException):
    """The runner's process ends here (nothing in the runner catches it)."""


def test_an_import_whose_runner_died_is_taken_over_and_resumed(
    app, agentur, names, small_background, monkeypatch
):
    from app.extensions import db
    from app.models.crm import Location
    from app.transfer import jobs, services

    total = 60
    monkeypatch.setitem(app.config, "IMPORT_LEASE_SECONDS", 1)
    token = _queue(agentur, _many_locations(names, "died", total))
    real, calls = services.build_location, {"n": 0}

    def dying(row, ctx):
        calls["n"] += 1
        if calls["n"] == 41:
            raise _Died()
        return real(row, ctx)

    monkeypatch.setattr(services, "build_location", dying)
    with app.app_context():
        with pytest.raises(_Died):
            jobs.run_pending(db.session)
        db.session.rollback()  # what the end of the process does to its open transaction
        db.session.remove()
    monkeypatch.setattr(services, "build_location", real)
    died = _job_row(app, token)
    assert (died["state"], died["done"], died["attempts"]) == ("running", 40, 1)
    assert tagged_count(app, Location, Location.name) == 40
    status = _status(agentur, token)
    assert (status["state"], status["done"]) == ("running", 40)

    time.sleep(1.2)  # the dead runner's lease runs out
    assert "imports run: 1" in _run_imports_command(app)
    after = _job_row(app, token)
    assert (after["state"], after["done"], after["attempts"]) == ("done", total, 2)
    assert after["claimed_by"] != died["claimed_by"]
    with db_session(app) as session:
        stored = session.scalars(select(Location.name).where(Location.name.like(f"%{TAG}-died%"))).all()
    assert sorted(stored) == sorted(f"Großmarkt {i:03d} {TAG}-died" for i in range(total)), "no row twice"
    assert _status(agentur, token)["message"] == msg("%(count)s rows imported.", "de", count=total)

    # Had the first runner only stalled, it could not write another row when it wakes up.
    with app.app_context():
        assert jobs.run_claimed(db.session, _job_id(app, token), died["claimed_by"]) == "lost"
    assert tagged_count(app, Location, Location.name) == total
    _remove_imported(app)


def test_an_import_whose_runners_keep_dying_is_given_up_and_removed(app, agentur, names, small_background):
    from app.extensions import db
    from app.models.crm import Location
    from app.transfer import jobs
    from app.transfer.models import ImportJob

    token = _queue(agentur, _many_locations(names, "gaveup", 30))
    with app.app_context():  # three runners died, the last after writing the first chunk
        job_id = _job_id(app, token)
        assert jobs.claim(db.session, job_id, "dead:1")
        jobs._write(db.session, job_id, "dead:1", "locations", _stored_rows(app, token)[:20], None, None, 0)
        db.session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(attempts=jobs.MAX_ATTEMPTS, lease_until=dt.datetime(2000, 1, 1))
        )
        db.session.commit()
    assert tagged_count(app, Location, Location.name) == 20
    assert "imports run: 1" in _run_imports_command(app)
    status = _status(agentur, token)
    assert status["state"] == "failed"
    assert status["message"] == msg("The import failed and nothing was saved. Please try again.", "de")
    assert tagged_count(app, Location, Location.name) == 0


def _stored_rows(app, token: str) -> list[dict]:
    import json

    return json.loads(_job_row(app, token)["rows"])


def _job_id(app, token: str) -> int:
    from app.transfer.models import ImportJob

    with db_session(app) as session:
        return session.scalar(select(ImportJob.id).where(ImportJob.token == token))


def test_a_failing_background_import_removes_what_it_wrote(
    app, agentur, names, small_background, monkeypatch
):
    from app.models.crm import Location

    calls = _fail_on_fifth_row(monkeypatch)
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", 3)
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 2)
    token = _queue(agentur, _eight_locations(names, "bg"))
    assert "imports run: 1" in _run_imports_command(app)
    assert calls["n"] == 5
    status = _status(agentur, token)
    assert status["state"] == "failed"
    assert status["message"] == msg(
        "The import failed at row %(row)d and nothing was saved. Please check that row and try again.",
        "de",
        row=6,
    )
    assert tagged_count(app, Location, Location.name) == 0


def test_a_background_import_checks_the_rows_again_and_shows_what_changed(
    app, agentur, rows, names, small_background
):
    from app.models.crm import Location

    token = _queue(agentur, _many_locations(names, "changed", 25))
    rows.add(
        Location,
        name=f"Großmarkt 007 {TAG}-changed",
        street="Weg 1",
        postcode="10007",
        city="Berlin",
        federal_state="BE",
    )
    _run_imports_command(app)
    status = _status(agentur, token)
    assert status["state"] == "failed"
    assert status["message"] == msg("Something changed since the preview; nothing was imported.", "de")
    page = agentur.get(f"/transfer/import/{token}/progress").get_data(as_text=True)
    assert [(row, column) for row, column, _m in preview_errors(page)] == [(9, msg("Name", "de"))]
    assert tagged_count(app, Location, Location.name) == 1
    _remove_imported(app)


# ---------------------------------------------------------------- duplicates, characters nobody can store


def preview_warnings(html: str) -> list[tuple[int, str, str]]:
    match = re.search(r'<table[^>]*id="import-warnings".*?<tbody>(.*?)</tbody>', html, re.S)
    if not match:
        return []
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S):
        cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        found.append((int(cells[0]), cells[1], cells[2]))
    return found


@pytest.mark.parametrize("locale", ["de", "en"])
def test_duplicate_appointments_are_flagged_in_the_preview(app, campaign, locale):
    from app.models.planning import Appointment

    client = client_for(app, "agentur", None if locale == "de" else locale)
    header = ["Datum", "Beginn", "Ende", "Notiz"]
    body = [
        ["10.03.2026", "10:00", "18:00", f"a {TAG}"],
        ["2026-03-10", "10:00", "18:00", f"b {TAG}"],  # the same slot, written differently
        ["10.03.2026", "10:00", "18:00", f"c {TAG}"],
        ["10.03.2026", "10:00", "17:00", f"d {TAG}"],  # another end: no duplicate
        ["02.03.2026", "10:00", "18:00", f"e {TAG}"],  # the campaign's appointment on that day
    ]
    html = upload(client, "appointments", "termine.csv", csv_bytes(header, body), campaign["job"]).get_data(
        as_text=True
    )
    twice = "The file lists this appointment twice (also row %(row)d)."
    date = "Datum"  # errors and warnings name the column as the file does
    assert preview_warnings(html) == [
        (3, date, msg(twice, locale, row=2)),
        (4, date, msg(twice, locale, row=2)),
        (6, date, msg("The job already has an appointment on this day at these times.", locale)),
    ]
    assert preview_errors(html) == []
    assert token_of(html), "duplicates are a warning, the import stays possible"
    assert tagged_count(app, Appointment, Appointment.note) == 0


@pytest.mark.parametrize("locale", ["de", "en"])
def test_control_characters_in_a_cell_are_refused_with_row_and_column(app, names, locale):
    from app.models.crm import Contact, Location

    client = client_for(app, "agentur", None if locale == "de" else locale)
    body = [
        [f"Markt N1 {TAG}", names["chain"], "Weg\x001", "20095", "Hamburg", "HH", ""],
        [f"Markt N2 {TAG}\x00", names["chain"], "Weg 2", "20095", "Hamburg", "HH", ""],
        [f"Markt N3 {TAG}", names["chain"], "Weg 3", "20095", "Ham\x0bburg", "HH", ""],
        [f"Markt N4 {TAG}", names["chain"], "Weg 4", "20095", "Hamburg", "HH", ""],
    ]
    response = upload(client, "locations", "nul.csv", csv_bytes(LOCATION_HEADER, body))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    refused = (
        "Contains the control character %(char)s, which cannot be stored. Please remove it from the file."
    )
    assert preview_errors(html) == [
        (2, "Straße", msg(refused, locale, char="U+0000")),
        (3, "Name", msg(refused, locale, char="U+0000")),
        (4, "Ort", msg(refused, locale, char="U+000B")),
    ]
    assert token_of(html) is None
    # In a column that is looked up in the database, too.
    contact = [names["customer"], "", "Nul", f"Byte {TAG}", f"nul\x00-{TAG}@example.com", "", "", "", ""]
    html = upload(client, "contacts", "nul.csv", csv_bytes(CONTACT_HEADER, [contact])).get_data(as_text=True)
    assert preview_errors(html) == [(2, "E-Mail", msg(refused, locale, char="U+0000"))]
    # A file name with a NUL byte: the pending import keeps it without.
    clean = csv_bytes(LOCATION_HEADER, [body[3]])
    response = upload(client, "locations", "nul\x00name.csv", clean)
    assert response.status_code == 200 and token_of(response.get_data(as_text=True))
    assert tagged_count(app, Location, Location.name) == 0
    assert tagged_count(app, Contact, Contact.last_name) == 0


def test_an_excel_export_works_with_characters_excel_cannot_hold_in_the_database(
    app, agentur, rows, database_url
):
    """Data stored before such characters were refused (NUL only where the database holds it)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from app.common.input_guard import _check_parameters
    from app.models.crm import Location

    bad = "\x00" if database_url.startswith("sqlite") else ""
    # Written as an older release would have: past today's check on statement parameters.
    event.remove(Engine, "before_cursor_execute", _check_parameters)
    try:
        rows.add(
            Location,
            name=f"Markt{bad}\x01 Steuer\x0b{TAG}",
            street="Weg\x1f 1",
            postcode="20095",
            city="Hamburg",
            federal_state="HH",
        )
    finally:
        event.listen(Engine, "before_cursor_execute", _check_parameters, retval=True)
    response = agentur.get("/transfer/export?what=locations&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    found = [[c.value for c in row] for row in sheet.iter_rows() if TAG in str(row[0].value)]
    assert [(row[0], row[2]) for row in found] == [(f"Markt Steuer{TAG}", "Weg 1")]
    assert agentur.get("/transfer/export?what=locations&format=csv").status_code == 200


# ---------------------------------------------------------------- who may


AGENCY_URLS = [
    ("GET", "/transfer/"),
    ("POST", "/transfer/import"),
    ("POST", "/transfer/import/0123456789abcdef0123456789abcdef"),
    ("GET", "/transfer/import/0123456789abcdef0123456789abcdef/progress"),
    ("GET", "/transfer/import/0123456789abcdef0123456789abcdef/status"),
    ("GET", "/transfer/sample?kind=locations&format=csv"),
    ("GET", "/transfer/export?what=contacts&format=csv"),
    ("GET", "/transfer/export?what=locations&format=xlsx"),
]


@pytest.mark.parametrize("method,url", AGENCY_URLS)
@pytest.mark.parametrize("user", ["adm.nord", "promoter01", None], ids=lambda u: u or "anonymous")
def test_customers_and_promoters_are_refused_and_visitors_sent_to_login(app, user, method, url):
    client = client_for(app, user)
    response = client.open(url, method=method)
    if user is None:
        assert is_login_redirect(response), (response.status_code, response.headers.get("Location"))
    else:
        assert response.status_code == 403, response.status_code
    assert "@example.com" not in response.get_data(as_text=True)


def test_the_agency_reaches_the_page_in_german_and_english(app):
    for locale, title in (("de", msg("Import / Export", "de")), ("en", "Import / Export")):
        client = client_for(app, "agentur", None if locale == "de" else locale)
        response = client.get("/transfer/")
        assert response.status_code == 200
        text = visible_text(response.get_data(as_text=True))
        assert title in text
        assert msg("Sample files", locale) in text


# ---------------------------------------------------------------- others keep writing during a large import

#: Enough for the writing to outlast the proposals many times over, and to keep the test near
#: half a minute; IMPORT_STRESS_ROWS=100000 runs the figure of the report (a few minutes).
STRESS_ROWS = int(os.environ.get("IMPORT_STRESS_ROWS", "20000"))
PARALLEL = 20


def _appointment_rows(count: int) -> list[list]:
    """``count`` different appointments within the campaign's project (Jan to June 2026)."""
    first = dt.date(2026, 1, 1)
    body = []
    for i in range(count):
        minute = i // 180
        start = dt.time(minute // 60, minute % 60)
        end = dt.time(minute // 60 + 1, minute % 60)
        day = first + dt.timedelta(days=i % 180)
        body.append([day.strftime("%d.%m.%Y"), start.strftime("%H:%M"), end.strftime("%H:%M"), f"s{i} {TAG}"])
    return body


def _runner_process(database_url: str, instance: str) -> subprocess.Popen:
    """``flask --app app imports run`` as the scheduler process would run it: a process of its own."""
    env = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": instance}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "imports", "run"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _propose(client, info, index: int) -> int:
    store = info.north[index % len(info.north)]
    wizard = Wizard(client)
    wizard.to_review(info.project_id, store.location_id, info.today + dt.timedelta(days=1 + index))
    return proposal_id(wizard.submit())


@pytest.mark.slow
def test_twenty_proposals_during_a_large_import_all_succeed(app, agentur, campaign, database_url, tmp_path):
    """The import runs in its own process, as in the scheduler; on SQLite it must commit in short
    chunks, or the customers' writes wait for the lock beyond the busy timeout and fail."""
    import threading

    from app.models.planning import Appointment

    info = demo(app)
    marks = high_water(app)
    clients = [portal_client(app) for _ in range(PARALLEL)]  # logged in before the import starts
    runner = None
    started = time.monotonic()
    try:
        data = csv_bytes(["Datum", "Beginn", "Ende", "Notiz"], _appointment_rows(STRESS_ROWS))
        token = _queue(agentur, data, "appointments", campaign["job"])
        runner = _runner_process(database_url, str(tmp_path))
        deadline = time.monotonic() + 180
        while _job_row(app, token)["done"] == 0:
            assert runner.poll() is None, runner.stdout.read()
            assert time.monotonic() < deadline, "the import does not start writing"
            time.sleep(0.2)

        barrier = threading.Barrier(PARALLEL)
        outcomes: list[object] = [None] * PARALLEL

        def propose(index: int) -> None:
            try:
                barrier.wait(30)
                outcomes[index] = _propose(clients[index], info, index)
            except Exception as error:  # noqa: BLE001 - reported below
                outcomes[index] = f"{time.monotonic() - t0:.1f}s: {str(error)[:300]}"

        t0 = time.monotonic()
        threads = [threading.Thread(target=propose, args=(i,)) for i in range(PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        during = _job_row(app, token)
        assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
        assert len(set(outcomes)) == PARALLEL
        assert during["state"] == "running" and during["done"] < STRESS_ROWS, (
            f"the import ended before the proposals did; the test proves nothing (rows: {STRESS_ROWS})"
        )
        output, _ = runner.communicate(timeout=600)
        assert runner.returncode == 0, output
        assert "imports run: 1" in output
        assert _job_row(app, token)["state"] == "done"
        with db_session(app) as session:
            imported = session.scalar(
                select(func.count(Appointment.id)).where(
                    Appointment.job_id == campaign["job"], Appointment.note.like(f"%{TAG}")
                )
            )
            proposed = session.scalar(
                select(func.count(Appointment.id)).where(
                    Appointment.id.in_(outcomes), Appointment.status == "proposed"
                )
            )
        assert (imported, proposed) == (STRESS_ROWS, PARALLEL)
    finally:
        if runner is not None and runner.poll() is None:
            runner.kill()
            runner.wait()
        remove_since(app, marks)
        print(f"\n{STRESS_ROWS} rows imported with {PARALLEL} proposals: {time.monotonic() - started:.0f}s")


# ---------------------------------------------------------------- German reality


def test_german_abbreviations_and_postcodes_without_their_leading_zero_are_imported(app, agentur, names):
    """NRW, BaWü, Thür. and "1139" (Excel's 01139) are what German store lists contain."""

    body = [
        [f"Markt Köln {TAG}", "", "Weg 1", "50667", "Köln", "NRW", ""],
        [f"Markt Stuttgart {TAG}", "", "Weg 2", "70173", "Stuttgart", "BaWü", ""],
        [f"Markt Dresden {TAG}", "", "Weg 3", "1139", "Dresden", "Sachsen", ""],
        [f"Markt Erfurt {TAG}", "", "Weg 4", 99084, "Erfurt", "Thür.", ""],
        [f"Markt Jena {TAG}", "", "Weg 5", 7743, "Jena", "DE-TH", ""],
    ]
    html = upload(agentur, "locations", "maerkte.xlsx", xlsx_bytes(LOCATION_HEADER, body)).get_data(
        as_text=True
    )
    assert preview_errors(html) == []
    note = "Postcode read as %(code)s (the leading zero was missing)."
    assert preview_warnings(html) == [
        (4, "PLZ", msg(note, "de", code="01139")),
        (6, "PLZ", msg(note, "de", code="07743")),
    ]
    import_ok(agentur, "locations", "maerkte.xlsx", xlsx_bytes(LOCATION_HEADER, body))
    mine = {row[0] for row in body}  # other tests' locations may share the tag
    stored = {
        loc["city"]: (loc["postcode"], loc["state"]) for loc in tagged_locations(app) if loc["name"] in mine
    }
    assert stored == {
        "Köln": ("50667", "NW"),
        "Stuttgart": ("70173", "BW"),
        "Dresden": ("01139", "SN"),
        "Erfurt": ("99084", "TH"),
        "Jena": ("07743", "TH"),
    }
    _remove_imported(app)


def test_the_appointment_preview_flags_public_holidays(app, agentur, campaign):
    """A day that is a holiday in the store's federal state can be imported, with a warning."""
    from app.models.planning import Job
    from app.rules.calendar import holiday_calendar

    with db_session(app) as session:
        job = session.get(Job, campaign["job"])
        state, start, end = job.location.federal_state, job.project.start_date, job.project.end_date
    holidays_in_project = sorted(
        (d, n) for d, n in holiday_calendar(state, start, end, "de").items() if start <= d <= end
    )
    assert holidays_in_project, "the demo project has no public holiday to test with"
    day, name = holidays_in_project[0]
    workday = next(
        start + dt.timedelta(days=i)
        for i in range(14)
        if (start + dt.timedelta(days=i)) not in dict(holidays_in_project)
        and (start + dt.timedelta(days=i)).weekday() < 5
    )
    header = ["Datum", "Beginn", "Ende", "Notiz"]
    rows = [
        [day.strftime("%d.%m.%Y"), "10:00", "18:00", f"h {TAG}"],
        [workday.strftime("%d.%m.%Y"), "10:00", "18:00", f"w {TAG}"],
    ]
    html = upload(
        agentur, "appointments", "termine.xlsx", xlsx_bytes(header, rows), campaign["job"]
    ).get_data(as_text=True)
    assert preview_errors(html) == []
    warned = preview_warnings(html)
    assert warned == [
        (2, "Datum", msg("Public holiday in the store's federal state: %(name)s.", "de", name=name))
    ]


def preview_rows(html: str) -> list[list[str]]:
    """The cells of the preview's "rows that would be created" table."""
    match = re.search(r'<table[^>]*id="import-rows".*?<tbody>(.*?)</tbody>', html, re.S)
    assert match, "no rows in the preview"
    return [
        [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    ]


@pytest.mark.parametrize(("locale", "shown"), [("de", "17.03.2026"), ("en", "3/17/2026")])
def test_the_preview_shows_dates_in_the_users_format_and_states_by_name(app, campaign, locale, shown):
    """The preview repeated what it read as ISO dates and state codes ("2026-03-17", "NW")."""
    client = client_for(app, "agentur", locale)
    header = ["Datum", "Beginn", "Ende", "Notiz"]
    html = upload(
        client,
        "appointments",
        "t.xlsx",
        xlsx_bytes(header, [["17.03.2026", "10:00", "18:00", TAG]]),
        campaign["job"],
    ).get_data(as_text=True)
    assert preview_rows(html) == [["2", shown, "10:00", "18:00", TAG]]
    body = [[f"Markt Köln {TAG}", "", "Weg 1", "50667", "Köln", "NRW", ""]]
    html = upload(client, "locations", "m.xlsx", xlsx_bytes(LOCATION_HEADER, body)).get_data(as_text=True)
    assert preview_rows(html)[0][6] == "Nordrhein-Westfalen"
