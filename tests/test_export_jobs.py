"""Every export is streamed; large ones are written in the background by the scheduler
and downloaded by the user who asked (nobody else), for a day."""

from __future__ import annotations

import datetime as dt
import inspect
import io
import re
from pathlib import Path

import pytest
from flask import request_finished
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import visible_text
from tests.helpers import Rows, client_for, db_session, expected_text
from tests.planning_helpers import make_campaign
from tests.test_export import read_export

APPOINTMENT_HEADER = ["Datum", "Beginn", "Ende", "Projekt", "Job", "Markt", "Ort", "Status", "Promoter"]


@pytest.fixture(scope="module")
def rows(app):
    made = Rows(app)
    yield made
    made.cleanup()


@pytest.fixture()
def background(app, monkeypatch, tmp_path):
    """Exports of more than 3 rows are background jobs; their files go to ``tmp_path``."""
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_ROWS", 3)
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(tmp_path))
    return tmp_path


def _scheduled_exports(app):
    """The function the scheduler process runs every few seconds for exports."""
    from app.scheduler import build_scheduler

    job = build_scheduler(app).get_job("exports")
    assert job.trigger.interval.total_seconds() <= 10
    return job.func


def _token(response) -> str:
    assert response.status_code == 302, response.status_code
    found = re.search(r"/transfer/export/([0-9a-f]{32})$", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def _start(client, what: str, fmt: str) -> str:
    """A large export is offered on GET and started by the page's POST button."""
    page = client.get(f"/transfer/export?what={what}&format={fmt}")
    assert page.status_code == 200, page.status_code
    assert 'id="export-start"' in page.get_data(as_text=True)
    return _token(client.post("/transfer/export", data={"what": what, "format": fmt}))


def _export_jobs(app) -> int:
    from app.transfer.models import ExportJob

    with db_session(app) as session:
        return session.scalar(select(func.count(ExportJob.id)))


def _appointment_count(app) -> int:
    from app.models.planning import Appointment

    with db_session(app) as session:
        return session.scalar(select(func.count(Appointment.id)))


def test_a_large_export_runs_in_the_background_and_only_its_owner_downloads_it(app, background):
    from app.transfer import export_jobs

    client = client_for(app, "agentur", "de")
    token = _start(client, "appointments", "xlsx")
    page = client.get(f"/transfer/export/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert expected_text("The export is waiting to be started …", "de") in html
    assert f"/transfer/export/{token}/download" in html  # shown once the file is ready
    assert client.get(f"/transfer/export/{token}/status").get_json()["state"] == "queued"
    assert client.get(f"/transfer/export/{token}/download").status_code == 404, "not ready yet"
    assert _start(client, "appointments", "xlsx") == token, (
        "a second click shows the same job instead of writing the file twice"
    )

    _scheduled_exports(app)()

    status = client.get(f"/transfer/export/{token}/status").get_json()
    total = _appointment_count(app)
    assert status["state"] == "done" and status["done"] == status["total"] == total
    # the row count grouped as the user reads numbers: "2.597 Zeilen", "2,597 rows"
    assert total >= 1000, "the demo data has thousands of appointments"
    german = expected_text("The export is ready: %(count)s rows.", "de") % {
        "count": f"{total:,}".replace(",", ".")
    }
    assert german.endswith(" Zeilen.")
    assert german in visible_text(client.get(f"/transfer/export/{token}").get_data(as_text=True))
    assert f"The export is ready: {total:,} rows." in visible_text(
        client_for(app, "agentur", "en").get(f"/transfer/export/{token}").get_data(as_text=True)
    )
    assert status["message"] == german, "the progress the page polls for, too"
    stored = background / f"{token}.xlsx"
    assert stored.is_file(), "the file is kept in the export folder"
    assert "static" not in Path(stored).parts

    download = client.get(f"/transfer/export/{token}/download")
    assert download.status_code == 200
    assert "spreadsheetml" in download.headers["Content-Type"]
    assert download.headers["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(download.get_data()), read_only=True).worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == APPOINTMENT_HEADER
    assert len(lines) - 1 == total
    assert all(isinstance(line[0], dt.datetime) and isinstance(line[1], dt.time) for line in lines[1:])

    stranger = client_for(app, "admin", "de")  # another agency user, even an administrator
    for path in ("", "/status", "/download"):
        assert stranger.get(f"/transfer/export/{token}{path}").status_code == 404, path
    customer = client_for(app, "adm.nord", "de")
    assert customer.get(f"/transfer/export/{token}/download").status_code == 403

    orphan = background / ("0" * 32 + ".csv")  # its row went with its user
    orphan.write_text("x")
    other = background / "notes.txt"
    other.write_text("not an export")
    with app.app_context():
        from app.extensions import db

        removed = export_jobs.remove_stale(db.session, dt.datetime.utcnow() + dt.timedelta(hours=25))
    assert removed >= 1
    assert not stored.exists(), "removed after a day"
    assert not orphan.exists() and other.exists(), "only export files are removed"
    assert client.get(f"/transfer/export/{token}/download").status_code == 404


def test_a_background_export_is_resumed_when_its_runner_died(app, background):
    from app.extensions import db
    from app.transfer import export_jobs

    client = client_for(app, "agentur", "en")
    token = _start(client, "locations", "csv")
    with app.app_context():
        job_id = export_jobs.find(db.session, token, _user_id(app, "agentur")).id
        assert export_jobs.claim(db.session, job_id, "dead runner")
        assert export_jobs.run_pending(db.session) == 0, "its lease still holds"
        later = dt.datetime.utcnow() + dt.timedelta(minutes=10)
        assert export_jobs.run_pending(db.session, later) == 1
    assert client.get(f"/transfer/export/{token}/status").get_json()["state"] == "done"
    table = read_export(client.get(f"/transfer/export/{token}/download"))
    assert table[0][:3] == ["Name", "Retail chain", "Street"], "in the language of who asked"
    from app.models.crm import Location

    with db_session(app) as session:
        assert len(table) - 1 == session.scalar(select(func.count(Location.id)))


def _user_id(app, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    with db_session(app) as session:
        return session.scalar(select(User.id).where(User.username == username))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("agentur", "/transfer/export?what=locations&format={fmt}"),
        ("agentur", "/transfer/export?what=contacts&format={fmt}"),
        ("agentur", "/transfer/export?what=projects&format={fmt}"),
        ("agentur", "/transfer/export?what=appointments&format={fmt}"),
        ("adm.nord", "/portal/appointments/export.{fmt}?range=all"),
    ],
)
def test_small_exports_are_streamed_not_built_in_memory(app, username, url, fmt):
    sent = []

    def record(_sender, response, **_extra) -> None:
        sent.append(response)

    with request_finished.connected_to(record, app):
        response = client_for(app, username, "de").get(url.format(fmt=fmt))
    assert response.status_code == 200
    made = sent[-1]  # the view's response, before the test client wraps it
    assert made.is_streamed and inspect.isgenerator(made.response), "a generator response, no body"
    assert read_export(response)[0], "a header"


def test_a_csv_export_arrives_in_pieces(app):
    """The appointment CSV (2,600 demo rows) is sent in pieces of 1,000 rows: the body is
    never one string in memory."""
    response = client_for(app, "agentur", "de").get("/transfer/export?what=appointments&format=csv")
    pieces = [piece for piece in response.response if piece]
    total = sum(len(piece) for piece in pieces)
    assert _appointment_count(app) > 2000
    assert len(pieces) >= 3 and max(len(piece) for piece in pieces) < total / 2


def test_xlsx_keeps_numbers_as_numbers_and_dates_as_dates(app, rows):
    from app.models.planning import Job

    start = dt.date(2031, 3, 3)
    campaign = make_campaign(rows, ("BY", "NW", "HE"), start, start + dt.timedelta(days=30))
    name = f"Projekt {campaign['tag']}"
    response = client_for(app, "agentur", "de").get("/transfer/export?what=projects&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    lines = list(sheet.iter_rows())
    assert [cell.value for cell in lines[0]] == ["Projekt", "Kunde", "Beginn", "Ende", "Jobs", "Beschreibung"]
    (line,) = [line for line in lines[1:] if line[0].value == name]
    assert line[1].value == f"Kunde {campaign['tag']}"
    assert line[2].value == dt.datetime(2031, 3, 3) and line[2].number_format == "DD.MM.YYYY"
    assert line[3].value == dt.datetime(2031, 4, 2)
    with db_session(app) as session:
        jobs = session.scalar(select(func.count(Job.id)).where(Job.project_id == campaign["project"]))
    assert line[4].value == jobs == 3 and isinstance(line[4].value, int)


def test_a_link_to_a_large_export_starts_nothing(app, background):
    """Only the confirming POST starts a background export: a GET (a link, a prefetch, another
    site's image tag) shows the button and creates no job."""
    client = client_for(app, "agentur", "de")
    before = _export_jobs(app)
    page = client.get("/transfer/export?what=appointments&format=csv")
    assert page.status_code == 200
    assert "Export vorbereiten" in page.get_data(as_text=True)
    assert _export_jobs(app) == before


def test_a_user_who_left_the_progress_page_finds_the_export_on_the_import_export_page(app, background):
    """ "You may leave this page": the Import / Export page leads back to the user's own large
    exports of the last day — to the progress while it runs, then to the download."""
    client = client_for(app, "agentur", "de")
    token = _start(client, "locations", "csv")
    page = client.get("/transfer/").get_data(as_text=True)
    assert expected_text("Your large exports of the last day", "de") in page
    assert f'href="/transfer/export/{token}"' in page
    assert f"/transfer/export/{token}/download" not in page, "not ready yet"
    assert token not in client_for(app, "admin", "de").get("/transfer/").get_data(as_text=True)

    _scheduled_exports(app)()

    page = client.get("/transfer/").get_data(as_text=True)
    link = re.search(rf'href="(/transfer/export/{token}/download)"', page)
    assert link, "the finished export is offered for download"
    assert client.get(link.group(1)).status_code == 200


@pytest.mark.parametrize(
    ("language", "running", "done"),
    [
        ("de", "2.597 von 10.000 Zeilen geschrieben …", "Der Export ist fertig: 10.000 Zeilen."),
        ("en", "2,597 of 10,000 rows written …", "The export is ready: 10,000 rows."),
    ],
)
def test_export_progress_counts_rows_in_the_users_number_format(app, language, running, done):
    from flask_babel import force_locale

    from app.transfer.models import ExportJob
    from app.transfer.views import _export_message

    with app.test_request_context(), force_locale(language):
        assert _export_message(ExportJob(state="running", done=2597, total=10000)) == running
        assert _export_message(ExportJob(state="done", done=10000, total=10000)) == done
