"""The agency's visibility check and the API documentation."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models.crm import Contact
from tests.conftest import login, visible_text


def _contact_id(app, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(Contact.id).join(User, User.id == Contact.user_id).where(User.username == username)
        )


def test_visibility_check_explains_what_a_contact_sees_and_why(app, agency_client):
    page = agency_client.get(f"/visibility/?contact={_contact_id(app, 'adm.nord')}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'id="visible-stores">12<', html)
    assert re.search(r'id="visible-jobs">12<', html)
    text = visible_text(html)
    assert "Media Markt Hamburg-Altona" in text
    assert "München" not in text
    assert "Sichtbar über" in text or "Visible through" in text


def test_visibility_check_names_the_parent_territory_for_head_of_sales(app, agency_client):
    html = agency_client.get(f"/visibility/?contact={_contact_id(app, 'vertrieb')}").get_data(as_text=True)
    assert re.search(r'id="visible-stores">30<', html)
    rows = re.findall(r"<tr><td>.*?</tr>", html, flags=re.S)
    assert rows and all("Supertoy Deutschland" in row for row in rows)


def test_visibility_check_warns_about_gaps(app, agency_client, session):
    from app.models.crm import Company, Location

    company = session.scalar(select(Company).where(Company.kind == "retail_chain"))
    location = Location(
        name="Warncheck Markt Görlitz",
        retail_chain=company,
        street="Berliner Str. 1",
        postcode="02826",
        city="Görlitz",
        federal_state="SN",
    )
    session.add(location)
    session.commit()
    try:
        text = visible_text(agency_client.get("/visibility/").get_data(as_text=True))
        assert "Warncheck Markt Görlitz" in text
    finally:
        session.delete(location)
        session.commit()


def test_customers_cannot_open_the_visibility_check(client):
    login(client, "adm.nord")
    assert client.get("/visibility/").status_code == 403


def test_the_openapi_spec_is_served_to_the_agency(agency_client):
    spec = agency_client.get("/api/v1/_openapi")
    assert spec.status_code == 200
    assert "/api/v1/appointment/" in spec.get_json()["paths"]
