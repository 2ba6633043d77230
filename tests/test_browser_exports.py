"""A large export in a real browser: the progress page fills its bar and offers the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_browser import _login

pytestmark = pytest.mark.browser


def test_planner_waits_for_a_large_export_and_downloads_it(page, live_server, app, monkeypatch, tmp_path):
    from app.extensions import db
    from app.transfer import export_jobs

    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_ROWS", 3)
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(tmp_path))
    _login(page, live_server, "/login/", "agentur")
    page.goto(live_server + "/transfer/")
    page.locator("#exports a", has_text="CSV").first.click()  # locations
    page.locator("#export-start").click()  # a large export starts only from this button (POST)
    page.wait_for_url("**/transfer/export/*")
    status = page.locator("#export-status")
    assert "wartet" in status.inner_text()
    assert not page.locator("#export-download").is_visible()

    with app.app_context():
        assert export_jobs.run_pending(db.session) == 1
        db.session.remove()

    page.locator("#export-download").wait_for(state="visible", timeout=10_000)
    assert "fertig" in status.inner_text()
    assert page.locator("#export-bar").get_attribute("style").replace(" ", "") == "width:100%;"
    with page.expect_download() as info:
        page.locator("#export-download").click()
    download = info.value
    name = download.suggested_filename
    assert name.startswith("locations-") and name.endswith(".csv")
    first_line = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert first_line.startswith("Name;Handelskette;Straße;PLZ;Ort")
