"""Personal-data requests touch only the person, whatever they typed into their profile.

A promoter enters a store chain's name as phone, the agency user's login name as
city, the agency manager's address as email and the agency user's name as their
own. Their export holds only their data; anonymising them changes their rows and
the entries about them (found by id) and nothing else: every other row of every
table is the same before and after, digest markers included.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile

import pytest
from sqlalchemy import func, or_, select

from tests.helpers import Rows, client_for, fresh_row, view_by_name
from tests.test_agency_screens import _edit
from tests.test_personal_data import _mail

PASSWORD = "Geheim-123456"


def snapshot(app) -> dict[str, dict]:
    """Every row of every table, keyed by primary key (or by the whole row)."""
    from app.extensions import db
    from app.schema import metadata

    tables = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            rows = {}
            for row in conn.execute(select(table)).mappings():
                key = tuple(row[c.name] for c in pk) if pk else tuple(sorted(row.items()))
                rows[key] = dict(row)
            tables[table.name] = rows
    return tables


def _is_the_persons(table: str, row: dict, case: dict) -> bool:
    """The person's own rows and the rows that refer to them by id or by their own address."""
    pk, user_id = case["pk"], case["user_id"]
    if table == "promoter":
        return row["id"] == pk
    if table == "ab_user":
        return row["id"] == user_id
    if table in ("unavailability",):
        return row["promoter_id"] == pk
    if table in ("wizard_draft", "login_state", "account_token"):
        return row["user_id"] == user_id  # deactivating the login ends its sessions
    if table == "audit_log":
        return (
            (row["entity"] == "promoter" and row["entity_id"] == pk)
            or (row["entity"] == "ab_user" and row["entity_id"] == user_id)
            or row["user_id"] == user_id
        )
    if table == "outbox_message":
        return row["recipient"] == case["login_email"]
    return False


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def hostile(app, rows):
    """The hostile promoter, other people's data that holds the same words, and the agency."""
    from app.audit.models import AuditEntry
    from app.common.models import utcnow
    from app.digests.models import DigestRun
    from app.models.promoter import Promoter, Unavailability

    sm = app.appbuilder.sm
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        from app.extensions import db

        # SQLite hands out a deleted promoter's id again: older entries about that id are not this person's.
        audit_floor = db.session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))
    with app.app_context():
        agency = sm.find_user(username="agentur")
        agency_user = {
            "id": agency.id,
            "first_name": agency.first_name,
            "last_name": agency.last_name,
            "email": agency.email,
        }
    me = {
        "first_name": agency_user["first_name"],
        "last_name": agency_user["last_name"],
        "phone": "Media Markt",
        "city": "agentur",
        "email": agency_user["email"],
    }
    login_email = f"promoter-{tag}@example.org"
    with app.app_context():
        from app.extensions import db

        user = sm.add_user(
            f"hostile-{tag}",
            me["first_name"],
            me["last_name"],
            login_email,
            sm.find_role("Promoter"),
            PASSWORD,
        )
        user_id = user.id
        db.session.commit()
    rows.adopt(sm.user_model, user_id)
    pk = rows.add(Promoter, user_id=user_id, active=True, feed_token=uuid.uuid4().hex, **me)
    rows.add(
        Unavailability,
        promoter_id=pk,
        start_date=dt.date(2026, 8, 1),
        end_date=dt.date(2026, 8, 2),
        note="Urlaub",
    )
    # Other people's records with the very same words.
    for number in range(3):
        rows.add(
            AuditEntry,
            at=utcnow(),
            user_id=agency_user["id"],
            username="agentur",
            action="update",
            entity="location",
            entity_id=900000 + number,
            summary=f"location {900000 + number}: Media Markt Hamburg {tag}",
            changes=json.dumps(
                {"name": ["Media Markt", f"Media Markt Neu {tag}"], "city": ["agentur", "Hamburg"]}
            ),
        )
    manager_mails = [
        _mail(
            rows, agency_user["email"], f"Media Markt {tag}", f"Hallo {me['first_name']} {me['last_name']}"
        ),
        _mail(rows, agency_user["email"], "Offen", "Media Markt agentur", status="pending"),
    ]
    own_mail = _mail(
        rows, login_email, "Anfrage", f"Hallo {me['first_name']}, neue Anfrage.", status="pending"
    )
    rows.add(
        DigestRun,
        kind="agency_pending",
        recipient_key=agency_user["email"],
        period=f"2099-01-{tag[:2]}",
        created_at=utcnow(),
        outbox_message_id=manager_mails[0],
    )
    client = client_for(app, "agentur", "en")
    _edit(app, client, view_by_name(app, "PromoterView"), pk, {"city": "agentur-x"})
    _edit(app, client, view_by_name(app, "PromoterView"), pk, {"city": "agentur"})
    promoter_client = app.test_client()
    answer = promoter_client.post(
        "/promoter/login", data={"username": f"hostile-{tag}", "password": PASSWORD}
    )
    assert answer.status_code == 302
    return {
        "pk": pk,
        "user_id": user_id,
        "tag": tag,
        "me": me,
        "login_email": login_email,
        "agency": agency_user,
        "manager_mails": manager_mails,
        "own_mail": own_mail,
        "client": client,
        "audit_floor": audit_floor,
    }


def _entries_about(app, case) -> int:
    from app.audit.models import AuditEntry
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                or_(
                    (AuditEntry.entity == "promoter") & (AuditEntry.entity_id == case["pk"]),
                    (AuditEntry.entity == "ab_user") & (AuditEntry.entity_id == case["user_id"]),
                    AuditEntry.user_id == case["user_id"],
                )
            )
        ).scalar_one()


def test_the_export_holds_only_the_persons_data(app, hostile):
    response = hostile["client"].post(f"/promoterview/action/export_personal_data/{hostile['pk']}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        (name,) = archive.namelist()
        raw = archive.read(name).decode()
    data = json.loads(raw)
    assert data["promoter"]["id"] == hostile["pk"] and data["promoter"]["phone"] == "Media Markt"
    assert data["user_account"]["id"] == hostile["user_id"]
    entries = data["audit_entries"]
    assert len(entries) == _entries_about(app, hostile) >= 3
    assert {(e["entity"], e["entity_id"]) for e in entries} <= {
        ("promoter", hostile["pk"]),
        ("ab_user", hostile["user_id"]),
    }
    # Nothing of the manager's records with the same words: no mail, no other audit entry.
    for foreign in (f"Media Markt Neu {hostile['tag']}", "Hamburg", f"Media Markt {hostile['tag']}", "Offen"):
        assert foreign not in raw, foreign
    assert set(data) == {
        "exported_at",
        "kind",
        "promoter",
        "user_account",
        "applications",
        "bookings",
        "unavailabilities",
        "audit_entries",
    }


def test_anonymising_changes_the_person_and_nothing_else(app, hostile):
    from app.audit.models import AuditEntry
    from app.extensions import db
    from app.models.promoter import Promoter
    from app.outbox.models import OutboxMessage

    before = snapshot(app)
    response = hostile["client"].post(f"/promoterview/action/anonymise/{hostile['pk']}")
    assert response.status_code == 302
    after = snapshot(app)

    for table, rows_before in before.items():
        kept_before = {k: r for k, r in rows_before.items() if not _is_the_persons(table, r, hostile)}
        kept_after = {k: r for k, r in after[table].items() if not _is_the_persons(table, r, hostile)}
        assert kept_after == kept_before, f"{table} changed"

    # The person themselves is anonymised.
    stored = fresh_row(app, Promoter, hostile["pk"])
    assert (stored["first_name"], stored["last_name"], stored["phone"], stored["city"], stored["email"]) == (
        "anonymised",
        "anonymised",
        None,
        None,
        None,
    )
    user = fresh_row(app, app.appbuilder.sm.user_model, hostile["user_id"])
    assert user["active"] is False and user["username"] == f"anonymised-{hostile['user_id']}"
    # Their own mail is gone; the manager's mail (to the address they had copied) is all there.
    assert fresh_row(app, OutboxMessage, hostile["own_mail"]) is None
    for pk in hostile["manager_mails"]:
        assert fresh_row(app, OutboxMessage, pk)["recipient"] == hostile["agency"]["email"]
    # The entries about them hold no personal value any more; the agency's still say "agentur".
    with app.app_context(), db.engine.connect() as conn:
        about = conn.execute(
            select(AuditEntry.changes, AuditEntry.summary, AuditEntry.username).where(
                AuditEntry.entity == "promoter",
                AuditEntry.entity_id == hostile["pk"],
                AuditEntry.id > hostile["audit_floor"],
            )
        ).all()
        by_them = conn.execute(
            select(AuditEntry.username).where(AuditEntry.user_id == hostile["user_id"])
        ).scalars()
        assert set(by_them) == {f"anonymised-{hostile['user_id']}"}
    assert about
    for changes, summary, username in about:
        text = f"{changes} {summary}"
        assert "Media Markt" not in text and hostile["me"]["last_name"] not in text
        for field in ("city", "phone", "email", "first_name", "last_name"):
            assert set(json.loads(changes or "{}").get(field, [])) <= {"anonymised", None}, field
        assert username == "agentur", (summary, username)
    # The agency user still logs in and is who they were.
    agency = fresh_row(app, app.appbuilder.sm.user_model, hostile["agency"]["id"])
    assert (agency["active"], agency["username"], agency["email"]) == (
        True,
        "agentur",
        hostile["agency"]["email"],
    )


def test_a_contact_linked_to_an_admin_login_leaves_the_admin_alone(app, rows):
    from app.models.crm import Company, Contact

    with app.app_context():
        admin = app.appbuilder.sm.find_user(username="admin")
        admin_id = admin.id
    company = rows.add(Company, name=f"Kunde {uuid.uuid4().hex[:6]}", kind="customer")
    pk = rows.add(
        Contact, company_id=company, first_name="Ada", last_name="Link", language="de", user_id=admin_id
    )
    before = fresh_row(app, app.appbuilder.sm.user_model, admin_id)
    client = client_for(app, "agentur", "en")
    export = client.post(f"/contactview/action/export_personal_data/{pk}")
    with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
        data = json.loads(archive.read(archive.namelist()[0]))
    assert data["user_account"] is None and "admin@" not in json.dumps(data)
    assert client.post(f"/contactview/action/anonymise/{pk}").status_code == 302
    after = fresh_row(app, app.appbuilder.sm.user_model, admin_id)
    assert {k: after[k] for k in ("active", "username", "email", "password")} == {
        k: before[k] for k in ("active", "username", "email", "password")
    }
    stored = fresh_row(app, Contact, pk)
    assert stored["user_id"] is None and stored["last_name"] == "anonymised"
