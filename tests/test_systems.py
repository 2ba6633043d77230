"""One answer to "which system does this login belong to", used by every system."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.security.systems import system_of
from tests.conftest import DEMO_PASSWORD, login


def _user(*roles: str, active: bool = True, authenticated: bool = True):
    return SimpleNamespace(
        roles=[SimpleNamespace(name=name) for name in roles],
        active=active,
        is_authenticated=authenticated,
        id=1,
    )


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("Admin",), "agency"),
        (("Agency",), "agency"),
        (("Customer",), "customer"),
        (("Promoter",), "promoter"),
        (("Admin", "Customer"), "agency"),
        (("Customer", "Agency"), "agency"),
        (("Customer", "Promoter"), "customer"),
        (("Promoter", "Agency"), "agency"),
        (("Public",), None),
        ((), None),
    ],
)
def test_system_of_roles(roles, expected):
    assert system_of(_user(*roles)) == expected


def test_inactive_and_anonymous_logins_belong_nowhere():
    assert system_of(_user("Admin", active=False)) is None
    assert system_of(_user("Customer", authenticated=False)) is None
    assert system_of(None) is None


@pytest.fixture()
def admin_with_customer_role(app):
    """An agency admin who was also given the Customer role and linked to a contact."""
    from app.extensions import db
    from app.models.crm import Contact

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username="doppelrolle")
        if user is None:
            user = sm.add_user(
                "doppelrolle",
                "Doppel",
                "Rolle",
                "doppelrolle@example.com",
                [sm.find_role("Admin"), sm.find_role("Customer")],
                password=DEMO_PASSWORD,
            )
        contact = db.session.query(Contact).filter(Contact.user_id.is_(None)).order_by(Contact.id).first()
        if contact is not None:
            contact.user_id = user.id
            db.session.commit()
        yield user.id
        if contact is not None:
            contact.user_id = None
            db.session.commit()


def test_admin_with_customer_role_stays_in_the_agency_system(app, admin_with_customer_role):
    client = app.test_client()
    refused = client.post("/portal/login", data={"username": "doppelrolle", "password": DEMO_PASSWORD})
    assert refused.status_code == 200
    assert "Dieses Konto gehört zum Agentursystem" in refused.get_data(as_text=True)
    login(client, "doppelrolle")  # at the agency's login page
    start = client.get("/")
    assert start.status_code == 200
    assert "/portal" not in (start.headers.get("Location") or "")
    stores = client.get("/portal/stores")
    assert stores.status_code == 403
    assert "Media" not in stores.get_data(as_text=True)
