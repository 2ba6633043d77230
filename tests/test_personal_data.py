"""Personal-data requests: the export ZIP and anonymisation of a contact and a promoter."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile

import pytest
from sqlalchemy import String, Text, func, or_, select

from tests.helpers import Rows, client_for, fresh_row, view_by_name
from tests.test_agency_screens import _edit


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(rows):
    return rows.campaign()


def _user(app, rows, role: str, tag: str, first: str, last: str, email: str) -> tuple[int, str]:
    from app.extensions import db

    username = f"login-{tag}"
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(username, first, last, email, sm.find_role(role), password="Geheim-123456")
        pk = user.id
        db.session.commit()
    rows.adopt(app.appbuilder.sm.user_model, pk)
    return pk, username


def _mail(rows, recipient: str, subject: str, body: str, status: str = "sent") -> int:
    from app.common.models import utcnow
    from app.outbox.models import OutboxMessage

    return rows.add(
        OutboxMessage,
        kind="test",
        recipient=recipient,
        language="de",
        subject=subject,
        body_text=body,
        body_html=f"<p>{body}</p>",
        message_id=f"<{uuid.uuid4().hex}@promoplan.test>",
        status=status,
        attempts=1,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
    )


def _person(tag: str, kind: str) -> dict[str, str]:
    return {
        "first_name": f"Vorname{kind}{tag}",
        "last_name": f"Nachname{kind}{tag}",
        "email": f"person-{kind.lower()}-{tag}@example.org",
        "phone": f"+49 40 {abs(hash(tag + kind)) % 10**7:07d}",
    }


@pytest.fixture(scope="module")
def contact_case(app, rows, campaign):
    """A customer contact with a login, notes, tasks, proposals, mail and audit entries."""
    from app.models.crm import Contact, Note, Task
    from app.models.planning import Appointment

    tag = uuid.uuid4().hex[:8]
    me, other = _person(tag, "K"), _person(tag, "X")
    user_id, username = _user(app, rows, "Customer", tag, me["first_name"], me["last_name"], me["email"])
    pk = rows.add(Contact, company_id=campaign["customer"], language="de", user_id=user_id, **me)
    other_pk = rows.add(Contact, company_id=campaign["customer"], language="de", **other)
    rows.add(
        Note,
        contact_id=pk,
        text=f"Telefonat mit {me['first_name']} {me['last_name']}",
        created_at=dt.datetime(2026, 1, 5),
    )
    rows.add(
        Note, contact_id=other_pk, text=f"Notiz zu {other['last_name']}", created_at=dt.datetime(2026, 1, 5)
    )
    rows.add(
        Task,
        contact_id=pk,
        title=f"Rückruf {me['last_name']}",
        kind="call",
        due_date=dt.date(2030, 1, 1),
        done=False,
    )
    proposals = [
        rows.add(
            Appointment,
            job_id=campaign["job"],
            date=dt.date(2026, 3, d),
            start_time=dt.time(10, 0),
            end_time=dt.time(12, 0),
            status="rejected",
            origin="customer",
            proposed_by_id=pk,
            note="Bitte mit Vorführung",
        )
        for d in (9, 10)
    ]
    _mail(rows, me["email"], "Ihr Vorschlag", f"Hallo {me['first_name']} {me['last_name']}, ...")
    _mail(rows, me["email"], "Ihre Woche", "Offen", status="pending")
    agency_mail = _mail(
        rows,
        "agentur@promoplan.example",
        "Neuer Vorschlag",
        f"Vorschlag von {me['first_name']} {me['last_name']} ({me['email']})",
    )
    # Audit entries with their data: an edit through the agency screen, and logins.
    client = client_for(app, "agentur", "en")
    _edit(
        app, client, view_by_name(app, "ContactView"), pk, {"phone": me["phone"] + "9", "position": "Einkauf"}
    )
    _edit(app, client, view_by_name(app, "ContactView"), pk, {"phone": me["phone"]})
    portal = app.test_client()
    assert (
        portal.post("/portal/login", data={"username": username, "password": "Geheim-123456"}).status_code
        == 302
    )
    app.test_client().post("/portal/login", data={"username": me["email"], "password": "falsch"})
    return {
        "pk": pk,
        "user_id": user_id,
        "username": username,
        "me": me,
        "other": other,
        "other_pk": other_pk,
        "proposals": proposals,
        "agency_mail": agency_mail,
        "client": client,
    }


@pytest.fixture(scope="module")
def promoter_case(app, rows, campaign):
    """A promoter with a login, applications, bookings on past appointments and unavailabilities."""
    from app.models.planning import Application, Appointment, Booking
    from app.models.promoter import Promoter, Unavailability

    tag = uuid.uuid4().hex[:8]
    me = {**_person(tag, "P"), "city": f"Stadt{tag}"}
    user_id, username = _user(app, rows, "Promoter", tag, me["first_name"], me["last_name"], me["email"])
    pk = rows.add(Promoter, user_id=user_id, active=True, feed_token=uuid.uuid4().hex, **me)
    rows.add(Application, promoter_id=pk, job_id=campaign["job"], status="accepted")
    appointments = [
        rows.add(
            Appointment,
            job_id=campaign["job"],
            date=dt.date(2026, 2, d),
            start_time=dt.time(9, 0),
            end_time=dt.time(17, 0),
            status="done",
        )
        for d in (2, 3, 4)
    ]
    bookings = [rows.add(Booking, appointment_id=a, promoter_id=pk, status="confirmed") for a in appointments]
    # Another promoter on the same appointment: never in this promoter's export.
    rows.add(Booking, appointment_id=appointments[0], promoter_id=campaign["promoter2"], status="confirmed")
    rows.add(
        Unavailability,
        promoter_id=pk,
        start_date=dt.date(2026, 8, 1),
        end_date=dt.date(2026, 8, 14),
        note=f"Urlaub {me['last_name']}",
    )
    _mail(rows, me["email"], "Anfrage", f"Hallo {me['first_name']}, neue Anfrage.")
    client = client_for(app, "agentur", "en")
    _edit(app, client, view_by_name(app, "PromoterView"), pk, {"city": me["city"] + "X"})
    _edit(app, client, view_by_name(app, "PromoterView"), pk, {"city": me["city"]})
    return {
        "pk": pk,
        "user_id": user_id,
        "username": username,
        "me": me,
        "bookings": bookings,
        "client": client,
    }


def export(client, view: str, pk: int) -> tuple[dict, str]:
    response = client.post(f"/{view.lower()}/action/export_personal_data/{pk}")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        (name,) = archive.namelist()
        raw = archive.read(name).decode()
    return json.loads(raw), raw


def counts(app, contact_pk: int | None = None, promoter_pk: int | None = None) -> dict:
    from app.extensions import db
    from app.models.planning import Appointment, Booking

    with app.app_context(), db.engine.connect() as conn:
        if contact_pk is not None:
            return {
                "proposals": conn.execute(
                    select(func.count())
                    .select_from(Appointment)
                    .where(Appointment.proposed_by_id == contact_pk)
                ).scalar_one()
            }
        return {
            "bookings": conn.execute(
                select(func.count()).select_from(Booking).where(Booking.promoter_id == promoter_pk)
            ).scalar_one(),
            "past": conn.execute(
                select(func.count())
                .select_from(Booking)
                .join(Appointment, Appointment.id == Booking.appointment_id)
                .where(Booking.promoter_id == promoter_pk, Appointment.date < dt.date.today())
            ).scalar_one(),
        }


def find_anywhere(app, values) -> list[str]:
    """Every (table.column) of every table whose text contains one of ``values``."""
    from app.extensions import db
    from app.schema import metadata

    found = []
    with app.app_context(), db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for column in columns:
                hits = conn.execute(
                    select(func.count()).select_from(table).where(or_(*[column.contains(v) for v in values]))
                ).scalar_one()
                if hits:
                    found.append(f"{table.name}.{column.name} ({hits})")
    return found


# ---------------------------------------------------------------- export


def test_the_contact_export_has_their_data_and_nobody_elses(app, contact_case):
    data, raw = export(contact_case["client"], "ContactView", contact_case["pk"])
    me, other = contact_case["me"], contact_case["other"]
    assert data["kind"] == "contact"
    assert data["contact"]["email"] == me["email"] and data["contact"]["phone"] == me["phone"]
    assert data["user_account"]["username"] == contact_case["username"]
    assert "password" not in data["user_account"] and "pbkdf2" not in raw and "scrypt" not in raw
    assert [n["text"] for n in data["notes"]] == [f"Telefonat mit {me['first_name']} {me['last_name']}"]
    assert [t["title"] for t in data["tasks"]] == [f"Rückruf {me['last_name']}"]
    assert sorted(p["id"] for p in data["proposals"]) == sorted(contact_case["proposals"])
    entries = data["audit_entries"]
    assert any(e["action"] == "update" and "phone" in e["changes"] for e in entries)
    assert any(e["action"] == "login" for e in entries) and any(
        e["action"] == "login_failed" for e in entries
    )
    assert {e["by"] for e in entries} <= {"self", "agency"}
    for value in (
        *other.values(),
        "agentur",
        "Tobias",
        "Brandt",
        "jan.petersen@supertoy.example",
        "Petersen",
    ):
        assert value not in raw, value


def test_the_promoter_export_has_their_data_and_nobody_elses(app, promoter_case, campaign):
    from app.models.promoter import Promoter

    data, raw = export(promoter_case["client"], "PromoterView", promoter_case["pk"])
    me = promoter_case["me"]
    assert data["promoter"]["email"] == me["email"] and data["promoter"]["city"] == me["city"]
    assert "feed_token" not in data["promoter"]
    assert sorted(b["id"] for b in data["bookings"]) == sorted(promoter_case["bookings"])
    assert all(b["appointment"]["date"].startswith("2026-02") for b in data["bookings"])
    assert len(data["applications"]) == 1 and len(data["unavailabilities"]) == 1
    assert any("city" in e["changes"] for e in data["audit_entries"])
    other = fresh_row(app, Promoter, campaign["promoter2"])
    for value in (other["first_name"], other["last_name"], "agentur", "Tobias"):
        assert value not in raw, value


def test_the_actions_are_for_the_agency_only(app, contact_case):
    for user in ("adm.nord", None):
        client = client_for(app, user)
        answer = client.post(f"/contactview/action/export_personal_data/{contact_case['pk']}")
        assert answer.status_code in (302, 403, 404) and answer.mimetype != "application/zip"
        answer = client.post(f"/contactview/action/anonymise/{contact_case['pk']}")
        assert answer.status_code in (302, 403, 404)
    from app.models.crm import Contact

    assert fresh_row(app, Contact, contact_case["pk"])["email"] == contact_case["me"]["email"]


def test_the_show_pages_offer_both_actions(app, contact_case, promoter_case):
    from tests.helpers import text_of

    for view, pk in (("contactview", contact_case["pk"]), ("promoterview", promoter_case["pk"])):
        text = text_of(contact_case["client"].get(f"/{view}/show/{pk}").get_data(as_text=True))
        assert "Export personal data" in text and "Anonymise" in text


# ---------------------------------------------------------------- anonymise


def test_anonymising_a_contact_leaves_no_trace_but_keeps_the_history(app, contact_case):
    from app.audit.models import AuditEntry
    from app.extensions import db
    from app.models.crm import Contact, Note, Task
    from app.outbox.models import OutboxMessage

    me = contact_case["me"]
    before = counts(app, contact_pk=contact_case["pk"])
    assert before == {"proposals": 2}
    assert find_anywhere(app, me.values()), "the test data is in the database"
    response = contact_case["client"].post(f"/contactview/action/anonymise/{contact_case['pk']}")
    assert response.status_code == 302

    # Only the agency's mail that names them still does: it is the manager's mail, kept as sent.
    assert find_anywhere(app, me.values()) == [
        "outbox_message.body_text (1)",
        "outbox_message.body_html (1)",
    ]
    assert find_anywhere(app, [contact_case["username"]]) == []
    assert counts(app, contact_pk=contact_case["pk"]) == before
    stored = fresh_row(app, Contact, contact_case["pk"])
    assert (stored["first_name"], stored["last_name"], stored["email"], stored["phone"]) == (
        "anonymised",
        "anonymised",
        None,
        None,
    )
    user = fresh_row(app, app.appbuilder.sm.user_model, contact_case["user_id"])
    assert user["active"] is False and user["username"] == f"anonymised-{contact_case['user_id']}"
    with app.app_context(), db.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(Note).where(Note.contact_id == contact_case["pk"])
            ).scalar_one()
            == 0
        )
        assert (
            conn.execute(
                select(func.count()).select_from(Task).where(Task.contact_id == contact_case["pk"])
            ).scalar_one()
            == 0
        )
        # The other contact keeps everything; the agency's mail stays as it was sent.
        assert (
            conn.execute(
                select(func.count()).select_from(Note).where(Note.contact_id == contact_case["other_pk"])
            ).scalar_one()
            == 1
        )
        body = conn.execute(
            select(OutboxMessage.body_text).where(OutboxMessage.id == contact_case["agency_mail"])
        ).scalar_one()
        assert body == f"Vorschlag von {me['first_name']} {me['last_name']} ({me['email']})"
        # Their audit entries stay, with the personal values replaced.
        changes = (
            conn.execute(
                select(AuditEntry.changes).where(
                    AuditEntry.entity == "contact",
                    AuditEntry.entity_id == contact_case["pk"],
                    AuditEntry.action == "update",
                )
            )
            .scalars()
            .all()
        )
    assert changes and any('"phone": ["anonymised", "anonymised"]' in c for c in changes if c)
    assert find_anywhere(app, contact_case["other"].values()), "nobody else was touched"
    # The old login no longer works.
    answer = app.test_client().post(
        "/portal/login", data={"username": contact_case["username"], "password": "Geheim-123456"}
    )
    assert answer.status_code == 200
    # The agency's screens still show the planning history.
    page = contact_case["client"].get(f"/contactview/show/{contact_case['pk']}")
    assert page.status_code == 200 and "anonymised" in page.get_data(as_text=True)


def test_anonymising_a_promoter_leaves_no_trace_but_keeps_the_history(app, promoter_case):
    from app.models.promoter import Promoter

    me = promoter_case["me"]
    before = counts(app, promoter_pk=promoter_case["pk"])
    assert before == {"bookings": 3, "past": 3}
    assert find_anywhere(app, me.values())
    response = promoter_case["client"].post(f"/promoterview/action/anonymise/{promoter_case['pk']}")
    assert response.status_code == 302
    assert find_anywhere(app, me.values()) == []
    assert find_anywhere(app, [promoter_case["username"]]) == []
    assert counts(app, promoter_pk=promoter_case["pk"]) == before
    stored = fresh_row(app, Promoter, promoter_case["pk"])
    assert (stored["first_name"], stored["active"], stored["feed_token"], stored["city"]) == (
        "anonymised",
        False,
        None,
        None,
    )
    assert fresh_row(app, app.appbuilder.sm.user_model, promoter_case["user_id"])["active"] is False
    # The export after anonymising: nothing personal left to give.
    data, raw = export(promoter_case["client"], "PromoterView", promoter_case["pk"])
    assert not any(v in raw for v in me.values())
    assert len(data["bookings"]) == 3 and data["unavailabilities"] == []
