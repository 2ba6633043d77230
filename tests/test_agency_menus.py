"""The agency's menus by task, the pending proposals in the navbar, task assignees."""

from __future__ import annotations

import re

import pytest

from tests.helpers import client_for

EXPECTED = {
    "de": {
        "Planung": ["Planungsübersicht", "Termine", "Terminvorschläge", "Konflikte", "Jobs", "Projekte"],
        "Kunden und CRM": ["Firmen", "Kontakte", "Standorte", "Gebiete", "Notizen", "Aufgaben"],
        "Promoter": ["Promoter", "Bewerbungen", "Buchungen"],
        "Berichte": ["Fragebögen", "Berichte prüfen"],
        "Verwaltung": ["Postausgang", "Änderungsprotokoll", "Import / Export", "Sichtbarkeitsprüfung"],
    },
    "en": {
        "Planning": ["Planning board", "Appointments", "Proposals", "Conflicts", "Jobs", "Projects"],
        "Customers and CRM": ["Companies", "Contacts", "Locations", "Territories", "Notes", "Tasks"],
        "Promoters": ["Promoters", "Applications", "Bookings"],
        "Reporting": ["Questionnaires", "Review reports"],
        "Administration": ["Outbox", "Audit trail", "Import / Export", "Visibility check"],
    },
}


def _menus(html: str) -> dict[str, list[str]]:
    """Each dropdown's title and its entries' texts."""
    found = {}
    for title, body in re.findall(
        r'<a class="dropdown-toggle"[^>]*>(.*?)<b class="caret"></b></a>\s*'
        r'<ul class="dropdown-menu">(.*?)</ul>',
        html,
        flags=re.S,
    ):
        name = re.sub(r"<[^>]+>|&nbsp;|\s+", " ", title).strip()
        entries = [
            re.sub(r"<[^>]+>|&nbsp;|\s+", " ", e).strip()
            for e in re.findall(r"<a [^>]*>(.*?)</a>", body, re.S)
        ]
        found[name] = entries
    return found


@pytest.mark.parametrize("locale", ["de", "en"])
def test_menus_by_task(app, locale):
    html = client_for(app, "agentur", locale).get("/").get_data(as_text=True)
    menus = _menus(html)
    for title, entries in EXPECTED[locale].items():
        assert title in menus, (title, list(menus))
        for entry in entries:
            assert any(e == entry or e.startswith(entry + " (") for e in menus[title]), (
                title,
                entry,
                menus[title],
            )
    assert list(menus)[: len(EXPECTED[locale])] == list(EXPECTED[locale])  # by task, administration last
    # The audit trail is administration, not a territory.
    territories = "Gebiete" if locale == "de" else "Territories"
    assert territories not in menus
    # The reports waiting for review are counted in the menu.
    reporting, review = ("Berichte", "Berichte prüfen") if locale == "de" else ("Reporting", "Review reports")
    assert any(re.fullmatch(re.escape(review) + r" \(\d+\)", e) for e in menus[reporting]), menus[reporting]


def test_pending_proposals_in_the_navbar(app):
    from app.extensions import db
    from app.proposals.queries import pending_count

    with app.app_context():
        pending = pending_count(db.session)
    for locale, label in (("de", "Terminvorschläge"), ("en", "Proposals")):
        html = client_for(app, "agentur", locale).get("/appointmentview/list/").get_data(as_text=True)
        header = html.split('class="navbar-header"', 1)[1].split('class="navbar-collapse', 1)[0]
        badge = re.search(
            r'id="pending-proposals" href="([^"]+)".*?<span class="badge[^"]*">(\d+)</span>', header, re.S
        )
        assert badge, header
        assert badge.group(1).startswith("/proposals")
        assert int(badge.group(2)) == pending
        assert label in header


def test_task_assignees_are_agency_users_and_default_to_me(app):
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.extensions import db

    html = client_for(app, "agentur", "de").get("/taskview/add").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="assignee".*?</select>', html, re.S).group(0)
    options = dict(re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>', select_html))
    selected = re.findall(
        r'<option selected[^>]*value="(\d+)"|<option[^>]*value="(\d+)"[^>]*selected', select_html
    )
    with app.app_context():
        users = {str(u.id): u for u in db.session.scalars(select(User))}
        me = next(pk for pk, u in users.items() if u.username == "agentur")
        roles = {pk: {r.name for r in u.roles} for pk, u in users.items() if pk in options}
    assert options and all(r & {"Agency", "Admin"} for r in roles.values()), roles
    assert any(u.username.startswith("promoter") for u in users.values())  # there are others to leave out
    assert not any(users[pk].username.startswith("promoter") for pk in options)
    assert [a or b for a, b in selected] == [me]
