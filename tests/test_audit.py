"""The audit trail: changes through the agency's screens, the REST API and the
customer wizard (and the agency's decision), logins, never a password hash, and
a proposal's history for its own customer only."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import visible_text
from tests.helpers import Rows, client_for, fresh_row, view_by_name
from tests.test_agency_screens import _edit
from tests.test_wizard import Wizard, demo, find_day, high_water, portal_client, remove_since, t
from tests.visibility_helpers import jwt_token


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(rows):
    return rows.campaign()


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


def last_id(app) -> int:
    from app.audit.models import AuditEntry
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one()


def entries(app, since: int, **criteria) -> list[dict]:
    from app.audit.models import AuditEntry
    from app.extensions import db

    table = AuditEntry.__table__
    query = select(table).where(table.c.id > since).order_by(table.c.id)
    for name, value in criteria.items():
        query = query.where(table.c[name] == value)
    with app.app_context(), db.engine.connect() as conn:
        found = [dict(r) for r in conn.execute(query).mappings()]
    for entry in found:
        entry["changes"] = json.loads(entry["changes"]) if entry["changes"] else {}
    return found


def user_id(app, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(User.id).where(User.username == username)).scalar_one()


# ---------------------------------------------------------------- changes, wherever they are made


def test_an_agency_edit_of_an_appointments_time_is_recorded_and_shown(app, campaign):
    """Done when: the audit trail shows who changed an appointment's time."""
    from app.models.planning import Appointment

    pk = campaign["appointment"]
    before = fresh_row(app, Appointment, pk)
    old = before["start_time"].strftime("%H:%M")
    since = last_id(app)
    client = client_for(app, "agentur")
    _edit(app, client, view_by_name(app, "AppointmentView"), pk, {"start_time": "11:15"})

    (entry,) = entries(app, since, entity="appointment", entity_id=pk)
    assert entry["action"] == "update"
    assert (entry["user_id"], entry["username"]) == (user_id(app, "agentur"), "agentur")
    assert entry["changes"]["start_time"] == [old, "11:15"]
    assert "version" not in entry["changes"] and "updated_at" not in entry["changes"]

    # The agency's audit trail: newest first, filtered by entity, and the entry's page.
    listed = client.get("/auditview/list/?_flt_3_entity=appointment")
    assert listed.status_code == 200
    html = listed.get_data(as_text=True)
    assert f"/auditview/show/{entry['id']}" in html
    shown = visible_text(client.get(f"/auditview/show/{entry['id']}").get_data(as_text=True))
    assert "agentur" in shown and old in shown and "11:15" in shown
    # Read only.
    assert client.get(f"/auditview/edit/{entry['id']}").status_code in (302, 403, 404)
    assert client.post(f"/auditview/delete/{entry['id']}").status_code in (302, 403, 404, 405)
    assert entries(app, since, entity="appointment", entity_id=pk)


def test_the_list_is_newest_first(app):
    client = client_for(app, "agentur")
    html = client.get("/auditview/list/").get_data(as_text=True)
    import re

    ids = [int(i) for i in dict.fromkeys(re.findall(r"/auditview/show/(\d+)", html))]
    assert ids and ids == sorted(ids, reverse=True)


def test_an_api_change_is_recorded(app, campaign):
    from app.models.planning import Appointment

    pk = campaign["appointment"]
    old = fresh_row(app, Appointment, pk)["end_time"].strftime("%H:%M")
    token = jwt_token(app, "agentur")
    since = last_id(app)
    response = app.test_client().put(
        f"/api/v1/appointment/{pk}",
        json={"end_time": "19:45:00"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.data
    (entry,) = entries(app, since, entity="appointment", entity_id=pk)
    assert entry["action"] == "update" and entry["username"] == "agentur"
    assert entry["changes"]["end_time"] == [old, "19:45"]


def test_a_proposal_and_its_decision_are_recorded_and_its_customer_sees_the_history(app, tidy):
    from app.models.planning import Appointment

    info = demo(app)
    store, day = find_day(app, info, "free")
    since = last_id(app)
    customer = portal_client(app, "adm.nord", "en")
    wizard = Wizard(customer)
    wizard.to_review(info.project_id, store.location_id, day, "09:00", "13:00")
    answer = wizard.submit()
    assert answer.status_code == 302
    pk = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    (created,) = entries(app, since, entity="appointment", entity_id=pk)
    assert created["action"] == "create"
    assert (created["user_id"], created["username"]) == (info.customer_user_id, "adm.nord")
    assert created["changes"]["status"] == [None, "proposed"]
    assert created["changes"]["origin"] == [None, "customer"]
    assert created["changes"]["start_time"] == [None, "09:00"]
    assert created["changes"]["request_token"] == [None, "***"], "tokens are not stored"

    agency = client_for(app, "agentur")
    decided = agency.post(
        f"/proposals/{pk}/decide", data={"decision": "reject", "reason": "Kein Personal", "confirmed": "1"}
    )
    assert decided.status_code == 302
    assert fresh_row(app, Appointment, pk)["status"] == "rejected"
    (decision,) = entries(app, created["id"], entity="appointment", entity_id=pk)
    assert decision["action"] == "update" and decision["username"] == "agentur"
    assert decision["changes"]["status"] == ["proposed", "rejected"]
    assert decision["changes"]["decision_reason"] == [None, "Kein Personal"]

    # The customer's proposal page: their history, in customer words, no internal names.
    page = customer.get(f"/portal/proposals/{pk}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    history = visible_text(html.split('id="proposal-history"', 1)[1].split("</table>", 1)[0])
    assert "agency" in history and "you" in history
    assert "Kein Personal" in history and "09:00" in history
    assert t("Rejected", "en") in history and t("Proposed", "en") in history
    for secret in ("agentur", "Tobias", "Brandt", "request_token", "origin", "***"):
        assert secret not in history, secret
    german = portal_client(app, "adm.nord")
    history_de = visible_text(german.get(f"/portal/proposals/{pk}").get_data(as_text=True))
    assert t("agency", "de") in history_de and "agentur" not in history_de

    # Another customer does not see this proposal, nor its history.
    assert portal_client(app, "adm.sued").get(f"/portal/proposals/{pk}").status_code == 404
    assert portal_client(app, "pos.marketing").get(f"/portal/proposals/{pk}").status_code == 404


# ---------------------------------------------------------------- logins and passwords


def test_logins_and_failed_logins_are_recorded(app):
    since = last_id(app)
    client_for(app, "agentur")
    wrong = app.test_client().post("/login/", data={"username": "agentur", "password": "wrong-password"})
    assert wrong.status_code in (200, 302)
    nobody = f"nobody-{uuid.uuid4().hex[:6]}"
    app.test_client().post("/login/", data={"username": nobody, "password": "whatever-123"})
    app.test_client().post("/portal/login", data={"username": "adm.nord", "password": "wrong-password"})
    app.test_client().post(
        "/api/v1/security/login", json={"username": "agentur", "password": "x", "provider": "db"}
    )

    found = [(e["action"], e["username"], e["user_id"]) for e in entries(app, since, entity="ab_user")]
    agentur, nord = user_id(app, "agentur"), user_id(app, "adm.nord")
    assert found == [
        ("login", "agentur", agentur),
        ("login_failed", "agentur", agentur),
        ("login_failed", nobody, None),
        ("login_failed", "adm.nord", nord),
        ("login_failed", "agentur", agentur),
    ]
    for entry in entries(app, since, entity="ab_user"):
        assert entry["changes"] == {}, "a login changes nothing worth recording (no counters, no hashes)"


def test_a_password_hash_is_never_stored(app):
    from app.audit.models import AuditEntry
    from app.extensions import db

    tag = uuid.uuid4().hex[:8]
    since = last_id(app)
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            f"audit_{tag}", "Audit", tag, f"audit-{tag}@example.com", sm.find_role("Agency"), password=tag
        )
        uid = user.id
        sm.reset_password(uid, f"new-{tag}-password")
        hashes = [h for h in db.session.scalars(select(sm.user_model.password)) if h]
        db.session.rollback()
    try:
        created, *changed = entries(app, since, entity="ab_user", entity_id=uid)
        assert created["action"] == "create" and created["changes"]["password"] == [None, "***"]
        assert created["changes"]["username"] == [None, f"audit_{tag}"]
        assert changed and changed[-1]["changes"]["password"] == ["***", "***"]
        with app.app_context(), db.engine.connect() as conn:
            texts = [
                " ".join(str(v) for v in r)
                for r in conn.execute(select(AuditEntry.summary, AuditEntry.changes, AuditEntry.username))
            ]
        everything = "\n".join(texts)
        assert "pbkdf2:" not in everything and "scrypt:" not in everything
        assert not any(h in everything for h in hashes)
    finally:
        with app.app_context():
            db.session.delete(db.session.get(app.appbuilder.sm.user_model, uid))
            db.session.commit()
    (deleted,) = entries(app, since, entity="ab_user", entity_id=uid, action="delete")
    assert deleted["changes"]["password"] == ["***", None]


def test_system_changes_have_no_user(app, campaign):
    from app.extensions import db
    from app.models.crm import Territory

    since = last_id(app)
    with app.app_context():
        territory = db.session.get(Territory, campaign["territory"])
        old = territory.description
        territory.description = "Geändert vom System"
        db.session.commit()
        territory.description = old
        db.session.commit()
    first, second = entries(app, since, entity="territory", entity_id=campaign["territory"])
    assert (first["user_id"], first["username"]) == (None, None)
    assert first["changes"]["description"] == [old, "Geändert vom System"]
    assert second["changes"]["description"] == ["Geändert vom System", old]


def test_the_agency_sees_the_trail_filtered_by_user_action_and_date(app):
    client = client_for(app, "agentur")
    agentur = user_id(app, "agentur")
    since = dt.date.today() - dt.timedelta(days=1)
    for query in (
        f"_flt_0_user={agentur}",
        "_flt_0_action=login",
        f"_flt_1_at={since.isoformat()} 00:00:00",
    ):
        response = client.get(f"/auditview/list/?{query}")
        assert response.status_code == 200, query
        assert "/auditview/show/" in response.get_data(as_text=True), query
