"""The chosen import file is kept after a refused form: the user corrects the choice and
checks the same file again without choosing it again."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import delete, func, select

from tests.helpers import Rows, client_for, db_session
from tests.test_import import TAG, csv_bytes, upload, xlsx_bytes

NOTE = f"kept {uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def rows(app):
    from app.models.planning import Appointment

    made = Rows(app)
    yield made
    with db_session(app) as session:
        session.execute(delete(Appointment).where(Appointment.note.like(f"%{NOTE}%")))
        session.commit()
    made.cleanup()


@pytest.fixture(scope="module")
def campaign(rows):
    return rows.campaign()


def _kept(html: str) -> str:
    found = re.search(r'name="kept"[^>]*value="([0-9a-f]{32})"|value="([0-9a-f]{32})"[^>]*name="kept"', html)
    assert found, "the form does not keep the file"
    return found.group(1) or found.group(2)


FILE = xlsx_bytes(["Datum", "Beginn", "Ende", "Notiz"], [["02.03.2026", "10:00", "18:00", f"{NOTE} {TAG}"]])


@pytest.mark.parametrize(
    ("lang", "kept_note", "no_job"),
    [
        ("de", "Vorher gewählt: termine.xlsx", "Bitte wählen Sie den Job"),
        ("en", "Chosen before: termine.xlsx", "Please choose the job the appointments belong to."),
    ],
)
def test_no_job_chosen_keeps_the_file_for_the_next_try(app, campaign, lang, kept_note, no_job):
    from app.models.planning import Appointment

    client = client_for(app, "agentur", lang)
    refused = upload(client, "appointments", "termine.xlsx", FILE)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert no_job in html
    assert kept_note in html
    token = _kept(html)
    # Second try: only the job is chosen, no file.
    checked = client.post(
        "/transfer/import",
        data={"kind": "appointments", "job": str(campaign["job"]), "kept": token},
        content_type="multipart/form-data",
    )
    preview = checked.get_data(as_text=True)
    assert checked.status_code == 200, preview[:2000]
    assert 'id="confirm-import"' in preview
    run = re.search(r'action="(/transfer/import/[0-9a-f]{32})"', preview).group(1)
    done = client.post(run, follow_redirects=True)
    assert done.status_code == 200
    with db_session(app) as session:
        imported = session.scalar(
            select(func.count()).where(
                Appointment.note == f"{NOTE} {TAG}", Appointment.job_id == campaign["job"]
            )
        )
        assert imported == 1
        from app.transfer.models import ImportJob

        # the kept file is gone once it was checked successfully
        assert session.scalar(select(ImportJob).where(ImportJob.token == token)) is None
    with db_session(app) as session:
        session.execute(delete(Appointment).where(Appointment.note == f"{NOTE} {TAG}"))
        session.commit()


def test_a_kept_file_cannot_be_run_without_a_check(app):
    """The kept file is a pending import job without checked rows: confirming it is refused."""
    client = client_for(app, "agentur", "en")
    token = _kept(upload(client, "appointments", "termine.xlsx", FILE).get_data(as_text=True))
    response = client.post(f"/transfer/import/{token}", follow_redirects=True)
    assert "This import has already been run or has expired" in response.get_data(as_text=True)


def test_a_kept_file_of_someone_else_or_expired_is_not_used(app, campaign):
    from app.transfer.models import ImportJob

    client = client_for(app, "agentur", "en")
    token = _kept(upload(client, "appointments", "termine.xlsx", FILE).get_data(as_text=True))
    with db_session(app) as session:
        job = session.scalar(select(ImportJob).where(ImportJob.token == token))
        job.user_id = None
        session.commit()
    response = client.post(
        "/transfer/import",
        data={"kind": "appointments", "job": str(campaign["job"]), "kept": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The file chosen before has expired. Please choose it again." in response.get_data(as_text=True)


def test_preview_with_errors_offers_a_check_with_another_choice(app, campaign):
    """Rows with errors (e.g. the wrong job chosen): the file is kept; the link opens the form with it."""
    client = client_for(app, "agentur", "en")
    bad = csv_bytes(["Datum", "Beginn", "Ende"], [["02.03.2026", "18:00", "10:00"]])
    html = upload(client, "appointments", "termine.csv", bad, campaign["job"])
    page = html.get_data(as_text=True)
    assert 'id="import-errors"' in page
    link = re.search(r'id="check-again" href="([^"]+)"', page)
    assert link, page[:3000]
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Chosen before: termine.csv" in form
    assert _kept(form) in link.group(1)
    # the wrong kind of file: refused before any row is checked, the file is kept too
    wrong = upload(client, "locations", "termine.csv", bad)
    assert wrong.status_code == 400
    assert "Chosen before: termine.csv" in wrong.get_data(as_text=True)
