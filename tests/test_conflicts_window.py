"""The conflicts page shows a window of weeks with links to the earlier and later ones,
and at most ROW_CAP rows per kind while its heading counts them all."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.helpers import Rows, client_for
from tests.planning_helpers import make_campaign, next_monday

TEN, SIX = dt.time(10), dt.time(18)


@pytest.fixture()
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


def _duplicates_table(html: str) -> list[tuple[int, int]]:
    table = html.split('id="conflicts-duplicate"', 1)[1].split("</table>", 1)[0]
    found = re.findall(r'<tr data-appointment="(\d+)" data-other="(\d+)">', table)
    return [(int(a), int(b)) for a, b in found]


def _heading_count(html: str) -> int:
    part = html.split('id="conflicts-duplicate"', 1)[0]
    return int(re.findall(r"<h3>[^<]*<small>(\d+)</small></h3>", part)[-1])


def test_rows_are_capped_and_the_window_moves(app, rows, monkeypatch):
    from app.models.planning import Appointment
    from app.staffing import conflicts_view

    monday = next_monday(app, weeks=1)
    ids = make_campaign(rows, ("HH",), monday, monday + dt.timedelta(days=60), planned_days=None)
    tue = monday + dt.timedelta(days=1)
    made = [
        rows.add(
            Appointment,
            job_id=ids["jobs"]["HH"],
            date=tue,
            start_time=TEN,
            end_time=SIX,
            status="planned",
            origin="agency",
            version=1,
        )
        for _ in range(3)
    ]
    pairs = [(made[0], made[1]), (made[0], made[2]), (made[1], made[2])]
    client = client_for(app, "agentur", locale="en")
    url = f"/planning/conflicts/?project={ids['project']}&weeks=2"

    html = client.get(url).get_data(as_text=True)
    assert _duplicates_table(html) == pairs and _heading_count(html) == 3
    assert 'id="capped-duplicate"' not in html

    # more crowded days than the duplicates' query names one by one: the same pairs
    from app.staffing import conflicts

    monkeypatch.setattr(conflicts, "CROWDED_DAYS", 0)
    html = client.get(url).get_data(as_text=True)
    assert _duplicates_table(html) == pairs and _heading_count(html) == 3

    monkeypatch.setattr(conflicts_view, "ROW_CAP", 1)
    html = client.get(url).get_data(as_text=True)
    assert _duplicates_table(html) == pairs[:1]
    assert _heading_count(html) == 3
    assert "The first 1 of 3 are shown" in html

    # the later window (two weeks on) has none; its "earlier" link leads back to this one
    later = re.search(r'href="([^"]+)" id="next-window"', html).group(1).replace("&amp;", "&")
    html = client.get(later).get_data(as_text=True)
    assert _duplicates_table(html) == [] and _heading_count(html) == 0
    today = dt.date.fromisoformat(re.search(r"start=([0-9-]+)", later).group(1)) - dt.timedelta(weeks=2)
    earlier = re.search(r'href="([^"]+)" id="previous-window"', html).group(1)
    assert f"start={today.isoformat()}" in earlier

    # a broken start date is today's window, not an error
    assert client.get(url + "&start=31.02.2026").status_code == 200


def test_holidays_are_counted_in_sql_and_capped(app, rows, monkeypatch):
    """Appointments on public holidays: the heading counts all, the table shows ROW_CAP; the
    project is chosen by searching (the page lists no projects)."""
    from app.common.timezone import local_today
    from app.models.planning import Appointment
    from app.staffing import conflicts_view

    with app.app_context():
        today = local_today()
    christmas = dt.date(today.year if today < dt.date(today.year, 12, 25) else today.year + 1, 12, 25)
    ids = make_campaign(rows, ("HH",), christmas - dt.timedelta(days=7), christmas + dt.timedelta(days=7))
    made = [
        rows.add(
            Appointment,
            job_id=ids["jobs"]["HH"],
            date=day,
            start_time=dt.time(9 + n),
            end_time=dt.time(10 + n),
            status="planned",
            origin="agency",
            version=1,
        )
        for n, day in enumerate((christmas, christmas, christmas + dt.timedelta(days=1)))
    ]
    monkeypatch.setattr(conflicts_view, "ROW_CAP", 2)
    client = client_for(app, "agentur", locale="de")
    start = christmas - dt.timedelta(days=christmas.weekday())
    html = client.get(f"/planning/conflicts/?project={ids['project']}&weeks=1&start={start}").get_data(
        as_text=True
    )
    table = html.split('id="conflicts-holiday"', 1)[1].split("</table>", 1)[0]
    assert [int(a) for a in re.findall(r'<tr data-appointment="(\d+)">', table)] == made[:2]
    assert "Feiertag in HH: Erster Weihnachtstag" in table
    part = html.split('id="conflicts-holiday"', 1)[0]
    assert int(re.findall(r"<h3>[^<]*<small>(\d+)</small></h3>", part)[-1]) == 3
    assert 'id="capped-holiday"' in html
    select = html.split('id="project"', 1)[1].split("</select>", 1)[0]
    assert "remote-select/project" in html.split('id="project"', 1)[0].rsplit("<select", 1)[1] + select
    assert select.count("<option") == 2  # "all projects" and the chosen one


def test_overlapping_pairs_are_counted_whole_and_shown_in_order(app, rows):
    """Three bookings of one promoter on one day, each overlapping the others: 3 pairs. The
    page's first pairs are the full list's first, and the count is all of them however
    few are shown (none for the cockpit's badge)."""
    from app.models.planning import Appointment, Booking
    from app.models.promoter import Promoter
    from app.staffing.conflicts import overlapping_pairs
    from tests.helpers import db_session

    monday = next_monday(app, weeks=1)
    ids = make_campaign(rows, ("HH",), monday, monday + dt.timedelta(days=6), planned_days=None)
    promoter = rows.add(Promoter, first_name="Ola", last_name="Dreifach", active=True)
    day = monday + dt.timedelta(days=2)
    for hour in (9, 10, 11):  # 09–13, 10–14, 11–15
        appointment = rows.add(
            Appointment,
            job_id=ids["jobs"]["HH"],
            date=day,
            start_time=dt.time(hour),
            end_time=dt.time(hour + 4),
            status="planned",
            origin="agency",
            version=1,
        )
        rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status="confirmed")
    with db_session(app) as session:
        every = overlapping_pairs(session, day, day, ids["project"])
        pairs = [(c.appointment.id, c.other.id) for c in every]
        assert len(pairs) == every.total == 3
        for limit in (0, 1, 2, 5):
            page = overlapping_pairs(session, day, day, ids["project"], limit=limit)
            assert page.total == 3
            assert [(c.appointment.id, c.other.id) for c in page] == pairs[:limit]
