"""Exports: the agency's lists (CSV for German Excel and XLSX), the export → import round
trip of locations and contacts, and the customer's appointment list (visible rows only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, select

from tests.helpers import Rows, client_for, db_session, is_login_redirect
from tests.test_import import import_ok
from tests.visibility_helpers import (
    NORTH,
    SOUTH,
    confirmed_names,
    element_text,
    expected_appointments,
    first_int,
    local_today,
    table_rows,
)


@pytest.fixture(scope="module", autouse=True)
def import_folder(app, tmp_path_factory):
    """Pending imports of this module go to a folder of its own, not the instance folder."""
    before = app.config.get("IMPORT_FOLDER")
    app.config["IMPORT_FOLDER"] = str(tmp_path_factory.mktemp("imports"))
    yield
    app.config["IMPORT_FOLDER"] = before


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


def read_export(response) -> list[list[str]]:
    """Header and rows of a downloaded CSV or XLSX, every cell as text."""
    data = response.get_data()
    if "spreadsheetml" in response.headers["Content-Type"]:
        sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert data.startswith(b"\xef\xbb\xbf"), "CSV for German Excel starts with a BOM"
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].count(";") >= 3, "semicolons"
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y") if value.time() == dt.time() else value.strftime("%H:%M")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


# ---------------------------------------------------------------- the agency's lists


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "what,expected",
    [
        ("locations", ["Name", "Handelskette", "Straße", "PLZ", "Ort", "Bundesland", "Gebiet"]),
        ("contacts", ["Firma", "Anrede", "Vorname", "Nachname", "E-Mail"]),
        ("appointments", None),
        ("projects", None),
    ],
)
def test_agency_exports_its_lists(app, what, expected, fmt):
    client = client_for(app, "agentur")
    response = client.get(f"/transfer/export?what={what}&format={fmt}")
    assert response.status_code == 200
    assert f".{fmt}" in response.headers["Content-Disposition"]
    table = read_export(response)
    header, body = table[0], table[1:]
    if expected:
        assert header[: len(expected)] == expected
    text = "\n".join(";".join(row) for row in body)
    if what == "locations":
        assert "Media Markt Hamburg-Altona" in text and "Hamburg" in text and "ADM Nord / Supertoy" in text
    elif what == "contacts":
        assert "Supertoy" in text
    elif what == "projects":
        assert "Supertoy Sales Promotion" in text
    else:
        with db_session(app) as session:
            from app.models.planning import Appointment

            total = len(session.scalars(select(Appointment.id)).all())
        assert len(body) == total
        assert len(header) == 9 and all(len(row) == 9 for row in body)
        assert any(row[8] for row in body), "no promoter in the appointment export"


def test_export_page_links_every_export(app):
    html = client_for(app, "agentur").get("/transfer/").get_data(as_text=True)
    for what in ("locations", "contacts", "appointments", "projects"):
        for fmt in ("csv", "xlsx"):
            assert f"/transfer/export?what={what}&amp;format={fmt}" in html


# ---------------------------------------------------------------- round trip


def _snapshot(app, tag: str) -> dict:
    from app.models.crm import Contact, Location

    with db_session(app) as session:
        locations = {
            loc.name: (
                loc.retail_chain.name if loc.retail_chain else None,
                loc.street,
                loc.postcode,
                loc.city,
                loc.federal_state,
                loc.territory.name if loc.territory else None,
            )
            for loc in session.scalars(select(Location).where(Location.name.like(f"%{tag}%")))
        }
        contacts = {
            c.last_name: (
                c.company.name,
                c.salutation,
                c.first_name,
                c.email,
                c.phone,
                c.position,
                c.language,
                sorted(t.name for t in c.territories),
            )
            for c in session.scalars(select(Contact).where(Contact.last_name.like(f"%{tag}%")))
        }
    return {"locations": locations, "contacts": contacts}


def _only_tagged(response, fmt: str, tag: str) -> bytes:
    """The exported file cut down to the header and the module's rows, values untouched."""
    data = response.get_data()
    if fmt == "csv":
        lines = data.decode("utf-8-sig").split("\r\n")
        kept = [lines[0], *[line for line in lines[1:] if tag in line]]
        return ("\ufeff" + "\r\n".join(kept) + "\r\n").encode("utf-8")
    source = load_workbook(io.BytesIO(data)).worksheets[0]
    target = Workbook()
    sheet = target.active
    for number, row in enumerate(source.iter_rows(values_only=True)):
        if number == 0 or any(tag in str(v) for v in row if v is not None):
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # as Excel keeps a text cell, even one starting with "="
    out = io.BytesIO()
    target.save(out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_locations_and_contacts(app, rows, fmt):
    from app.extensions import db
    from app.models.crm import Company, Contact, Location, Territory, contact_territory

    tag = f"rt{uuid.uuid4().hex[:8]}"
    north = rows.add(Territory, name=f"Nord, Küste {tag}")  # a name with a comma
    south = rows.add(Territory, name=f"Süd {tag}")
    chain = rows.add(Company, name=f"Kette {tag}", kind="retail_chain")
    customer = rows.add(Company, name=f"Kunde {tag}", kind="customer")
    originals = [
        rows.add(
            Location,
            name=f"Markt Dresden {tag}",
            retail_chain_id=chain,
            street="Prager Straße 1",
            postcode="01069",
            city="Dresden",
            federal_state="SN",
            territory_id=north,
        ),
        rows.add(
            Location,
            name=f"=Markt Köln {tag}",  # Excel would read this as a formula
            street="Hohe Straße 2",
            postcode="50667",
            city="Köln",
            federal_state="NW",
        ),
        rows.add(
            Location,
            name=f"Markt Würzburg {tag}",
            retail_chain_id=chain,
            street="Juliuspromenade 3",
            postcode="97070",
            city="Würzburg",
            federal_state="BY",
            territory_id=south,
        ),
    ]
    erika = rows.add(
        Contact,
        company_id=customer,
        salutation="ms",
        first_name="Erika",
        last_name=f"Müller {tag}",
        email=f"erika-{tag}@example.com",
        phone="+49 40 123456",
        position="Außendienst, Nord",
        language="en",
    )
    rows.link(contact_territory, contact_id=erika, territory_id=north)
    rows.link(contact_territory, contact_id=erika, territory_id=south)
    rows.add(Contact, company_id=customer, first_name="Max", last_name=f"Groß {tag}", language="de")
    before = _snapshot(app, tag)
    assert len(before["locations"]) == 3 and len(before["contacts"]) == 2

    client = client_for(app, "agentur")
    files = {
        what: _only_tagged(client.get(f"/transfer/export?what={what}&format={fmt}"), fmt, tag)
        for what in ("locations", "contacts")
    }
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(Location).where(Location.id.in_(originals)))
        conn.execute(delete(Contact).where(Contact.last_name.like(f"%{tag}%")))
    assert _snapshot(app, tag) == {"locations": {}, "contacts": {}}

    for what, data in files.items():
        import_ok(client, what, f"export.{fmt}", data)
    with db_session(app) as session:
        for model, column in ((Contact, Contact.last_name), (Location, Location.name)):
            for pk in session.scalars(select(model.id).where(column.like(f"%{tag}%"))):
                rows.adopt(model, pk)
    assert _snapshot(app, tag) == before


# ---------------------------------------------------------------- the customer's list


def _customer_export(client, query: str, fmt: str = "csv"):
    response = client.get(f"/portal/appointments/export.{fmt}?{query}")
    assert response.status_code == 200, response.status_code
    table = read_export(response)
    return table[0], table[1:], response.get_data()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_customer_export_holds_exactly_the_rows_of_the_filtered_list(app, fmt):
    from app.demo.data import STORES
    from app.models.promoter import Promoter

    client = client_for(app, "adm.nord")
    header, body, raw = _customer_export(client, "range=all&sort=date", fmt)
    with db_session(app) as session:
        expected = expected_appointments(session, "adm.nord")
        names = confirmed_names(session, [row.id for row in expected])
        promoters = session.scalars(select(Promoter)).all()
        secrets = [(p.last_name, p.email, p.phone) for p in promoters]
    assert len(body) == len(expected) > 0
    rows_expected = [
        [
            row.date.strftime("%d.%m.%Y"),
            row.start_time.strftime("%H:%M"),
            row.end_time.strftime("%H:%M"),
            row.store,
            row.city,
            ", ".join(names.get(row.id, [])),
        ]
        for row in expected
    ]
    rows_found = [[r[0], r[1], r[2], r[4], r[5], r[7]] for r in body]
    assert sorted(rows_found) == sorted(rows_expected)
    stores = {r[4] for r in body}
    north = {s.name for s in STORES if s.territory == NORTH}
    south = {s.name for s in STORES if s.territory == SOUTH}
    assert stores == north and len(stores) == 12
    text = raw.decode("utf-8-sig") if fmt == "csv" else "\n".join(";".join(r) for r in body)
    assert not [name for name in south if name in text], "a southern store in the northern export"
    shown = {name for r in body for name in r[7].split(", ") if name}
    assert shown, "no promoter names in the export"
    for last_name, email, phone in secrets:
        assert not re.search(rf"\b{re.escape(last_name)}\b", " ".join(r[7] for r in body)), last_name
        if email:
            assert email not in text
        if phone:
            assert phone not in text
    assert "@" not in text

    # The list says the same number.
    html = client.get("/portal/appointments?range=all&sort=date").get_data(as_text=True)
    assert first_int(element_text(html, "result-count")) == len(body)
    assert "/portal/appointments/export.csv?" in html and "range=all" in html


def test_customer_export_of_one_store_next_week_equals_the_list(app):
    client = client_for(app, "adm.nord")
    with db_session(app) as session:
        from app.models.crm import Location
        from app.models.planning import Appointment

        monday = local_today(app) - dt.timedelta(days=local_today(app).weekday()) + dt.timedelta(days=7)
        expected = expected_appointments(
            session, "adm.nord", Appointment.date.between(monday, monday + dt.timedelta(days=6))
        )
        store = session.scalar(select(Location.id).where(Location.name == expected[0].store))
    query = f"store={store}&range=next_week"
    html = client.get(f"/portal/appointments?{query}").get_data(as_text=True)
    listed = table_rows(html, "appointments")
    _header, body, _raw = _customer_export(client, query)
    assert listed and len(listed) == len(body)
    for shown, row in zip(listed, body, strict=True):
        date, span, name, city, status, promoters = shown[:6]  # then the change-request links
        assert date.endswith(row[0]), (date, row[0])  # the list adds the weekday
        assert [f"{row[1]}–{row[2]}", row[4], row[5], row[6], row[7] or "–"] == [
            span,
            name,
            city,
            status,
            promoters,
        ]


def test_customer_export_refuses_a_foreign_store_and_strangers(app):
    with db_session(app) as session:
        from app.models.crm import Location, Territory

        south_store = session.scalar(
            select(Location.id)
            .join(Territory, Territory.id == Location.territory_id)
            .where(Territory.name == SOUTH)
        )
    client = client_for(app, "adm.nord")
    response = client.get(f"/portal/appointments/export.csv?store={south_store}&range=all")
    assert response.status_code == 400
    assert b"Media Markt" not in response.get_data()
    for user in ("promoter01", "agentur"):
        assert client_for(app, user).get("/portal/appointments/export.xlsx?range=all").status_code == 403
    assert is_login_redirect(client_for(app, None).get("/portal/appointments/export.csv?range=all"))
