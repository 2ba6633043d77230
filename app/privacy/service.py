"""Personal-data requests (GDPR Art. 15 and 17) for contacts and promoters.

``export_person`` gathers everything stored about one person; ``anonymise``
removes their personal data while the planning history stays: bookings,
applications and appointments (also the ones they proposed) remain, so past
counts do not change; their name reads "anonymised" from then on.

Anonymising a person
- replaces their name with "anonymised" and clears email, phone, city,
  position and the like;
- deletes a contact's notes and tasks and a promoter's unavailabilities
  (free text about them);
- deactivates and anonymises the linked login (user name
  ``anonymised-<id>``, a random unusable password);
- scrubs the audit trail (old and new values of their personal fields,
  summaries, the user name snapshot) and the outbox (mail to them is deleted,
  other mail that names them is blanked out).
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.audit.models import AuditEntry
from app.audit.recorder import SECRET_FIELDS, plain
from app.common.models import utcnow
from app.crm.models import Contact
from app.notify.models import DigestRun, OutboxMessage
from app.planning.models import Appointment, Booking
from app.portal.models import WizardDraft
from app.promoter.models import Promoter

ANONYMISED = "anonymised"

#: Columns of the person's row that are personal data.
PERSONAL_FIELDS = {
    "contact": ("salutation", "first_name", "last_name", "email", "phone", "position"),
    "promoter": ("first_name", "last_name", "email", "phone", "city"),
    "ab_user": ("first_name", "last_name", "username", "email"),
}
#: What a user account export shows (never the password).
USER_FIELDS = (
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "active",
    "last_login",
    "login_count",
    "fail_login_count",
    "created_on",
    "changed_on",
)


def _row(obj, exclude: tuple[str, ...] = ()) -> dict:
    from sqlalchemy import inspect

    return {
        attr.key: plain(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in SECRET_FIELDS and attr.key not in exclude
    }


def kind_of(person) -> str:
    if isinstance(person, Contact):
        return "contact"
    if isinstance(person, Promoter):
        return "promoter"
    raise TypeError(type(person).__name__)


# ---------------------------------------------------------------- export


def _user_account(user: User | None) -> dict | None:
    if user is None:
        return None
    data = {key: plain(getattr(user, key, None)) for key in USER_FIELDS}
    data["roles"] = sorted(role.name for role in user.roles)
    return data


def _audit_about(session: Session, keys: list[tuple[str, int]], own_user_id: int | None) -> list[dict]:
    conditions = [(AuditEntry.entity == entity) & (AuditEntry.entity_id == pk) for entity, pk in keys]
    if own_user_id is not None:
        conditions.append(AuditEntry.user_id == own_user_id)
    if not conditions:
        return []
    entries = session.scalars(
        select(AuditEntry).where(or_(*conditions)).order_by(AuditEntry.at, AuditEntry.id)
    )
    return [
        {
            "at": plain(e.at),
            # Who: the person themselves or the agency (never another person's name).
            "by": "self" if own_user_id is not None and e.user_id == own_user_id else "agency",
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "changes": e.change_map,
        }
        for e in entries
    ]


def _appointment(appointment: Appointment) -> dict:
    job = appointment.job
    return {
        "id": appointment.id,
        "date": plain(appointment.date),
        "start_time": plain(appointment.start_time),
        "end_time": plain(appointment.end_time),
        "status": appointment.status,
        "origin": appointment.origin,
        "location": f"{job.location.name}, {job.location.city}",
        "job": job.title,
        "project": job.project.name,
    }


def export_person(session: Session, person) -> dict:
    """Everything stored about one contact or promoter, as JSON-ready data."""
    kind = kind_of(person)
    user = person.user
    keys = [(kind, person.id)] + ([("ab_user", user.id)] if user is not None else [])
    data: dict = {
        "exported_at": plain(utcnow().replace(microsecond=0)) + " UTC",
        "kind": kind,
        kind: _row(person),
        "user_account": _user_account(user),
    }
    if kind == "contact":
        data[kind]["company"] = person.company.name if person.company else None
        data[kind]["territories"] = sorted(t.name for t in person.territories)
        data["notes"] = [
            {"id": n.id, "text": n.text, "created_at": plain(n.created_at)}
            for n in sorted(person.notes, key=lambda n: n.id)
        ]
        data["tasks"] = [
            {
                "id": t.id,
                "title": t.title,
                "kind": t.kind,
                "due_date": plain(t.due_date),
                "done": t.done,
            }
            for t in sorted(person.tasks, key=lambda t: t.id)
        ]
        proposals = session.scalars(
            select(Appointment).where(Appointment.proposed_by_id == person.id).order_by(Appointment.id)
        )
        data["proposals"] = [
            {**_appointment(a), "note": a.note, "decision_reason": a.decision_reason} for a in proposals
        ]
    else:
        data["applications"] = [
            {
                "id": a.id,
                "job": a.job.title,
                "project": a.job.project.name,
                "status": a.status,
                "created_at": plain(a.created_at),
            }
            for a in sorted(_applications(session, person), key=lambda a: a.id)
        ]
        bookings = list(
            session.scalars(select(Booking).where(Booking.promoter_id == person.id).order_by(Booking.id))
        )
        data["bookings"] = [
            {
                "id": b.id,
                "status": b.status,
                "created_at": plain(b.created_at),
                "appointment": _appointment(b.appointment),
            }
            for b in bookings
        ]
        data["unavailabilities"] = [
            {
                "start_date": plain(u.start_date),
                "end_date": plain(u.end_date),
                "note": u.note,
            }
            for u in person.unavailabilities
        ]
        keys += [("booking", b.id) for b in bookings]
    data["audit_entries"] = _audit_about(session, keys, user.id if user is not None else None)
    return data


def _applications(session: Session, promoter: Promoter):
    from app.planning.models import Application

    return session.scalars(select(Application).where(Application.promoter_id == promoter.id)).all()


def export_zip(session: Session, person) -> tuple[bytes, str]:
    """The export as a ZIP with one JSON file; (content, file name)."""
    kind = kind_of(person)
    data = export_person(session, person)
    name = f"personal-data-{kind}-{person.id}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    return buffer.getvalue(), f"{name}.zip"


# ---------------------------------------------------------------- anonymise


def _originals(person, user: User | None) -> dict[str, list[str]]:
    """The person's identifying texts: exact field values, and longer ones also found inside text."""
    values = {
        getattr(person, f, None) for f in ("first_name", "last_name", "email", "phone", "position", "city")
    }
    values.add(f"{person.first_name} {person.last_name}")
    if user is not None:
        values |= {user.username, user.email, user.first_name, user.last_name}
        values.add(f"{user.first_name} {user.last_name}")
    values = {v.strip() for v in values if isinstance(v, str) and v.strip() and v.strip() != ANONYMISED}
    return {
        "exact": sorted(values, key=len, reverse=True),
        # Short values (e.g. a first name "Jan") are not searched inside other words.
        "inside": sorted((v for v in values if len(v) >= 4), key=len, reverse=True),
    }


def _scrub_text(text: str | None, inside: list[str]) -> str | None:
    if not text:
        return text
    for value in inside:
        if value in text:
            text = text.replace(value, ANONYMISED)
    return text


def _scrub_value(value, originals: dict[str, list[str]]):
    if isinstance(value, str):
        if value in originals["exact"]:
            return ANONYMISED
        return _scrub_text(value, originals["inside"])
    if isinstance(value, list):
        return [_scrub_value(v, originals) for v in value]
    return value


def _scrub_audit(session: Session, keys: list[tuple[str, int]], user: User | None, originals) -> None:
    about = or_(*[(AuditEntry.entity == e) & (AuditEntry.entity_id == pk) for e, pk in keys])
    mentions = [AuditEntry.changes.contains(v) for v in originals["inside"]] + [
        AuditEntry.summary.contains(v) for v in originals["inside"]
    ]
    if user is not None:
        mentions.append(AuditEntry.user_id == user.id)
        mentions.append(AuditEntry.username == user.username)
    for entry in session.scalars(select(AuditEntry).where(or_(about, *mentions))):
        personal = set()
        for entity, pk in keys:
            if entry.entity == entity and entry.entity_id == pk:
                personal |= set(PERSONAL_FIELDS.get(entity, ()))
        changes = entry.change_map
        for field, pair in changes.items():
            if field in personal:
                changes[field] = [ANONYMISED if v is not None else None for v in pair]
            else:
                changes[field] = _scrub_value(pair, originals)
        entry.changes = json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else entry.changes
        entry.summary = _scrub_text(entry.summary, originals["exact"] if personal else originals["inside"])
        if user is not None and (entry.user_id == user.id or entry.username in originals["exact"]):
            entry.username = f"{ANONYMISED}-{user.id}"


def _scrub_outbox(session: Session, emails: list[str], originals) -> None:
    if emails:
        session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.in_(emails)))
    mentions = []
    for value in originals["inside"]:
        for column in (OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html):
            mentions.append(column.contains(value))
    if not mentions:
        return
    for message in session.scalars(select(OutboxMessage).where(or_(*mentions))):
        message.subject = _scrub_text(message.subject, originals["inside"])
        message.body_text = _scrub_text(message.body_text, originals["inside"])
        message.body_html = _scrub_text(message.body_html, originals["inside"])
    for email in emails:
        session.execute(
            update(DigestRun)
            .where(DigestRun.recipient_key == email)
            .values(recipient_key=f"{ANONYMISED}:{secrets.token_hex(8)}")
        )


def _anonymise_user(session: Session, user: User) -> None:
    user.username = f"{ANONYMISED}-{user.id}"
    user.first_name = ANONYMISED
    user.last_name = ANONYMISED
    # FAB requires an email; this one belongs to nobody (RFC 2606 .invalid).
    user.email = f"{ANONYMISED}-{user.id}@{ANONYMISED}.invalid"
    user.password = generate_password_hash(secrets.token_urlsafe(48))
    user.active = False
    session.execute(delete(WizardDraft).where(WizardDraft.user_id == user.id))


def anonymise(session: Session, person) -> None:
    """Remove the person's personal data (no commit); the planning history stays."""
    kind = kind_of(person)
    user = person.user
    originals = _originals(person, user)
    emails = [e for e in {person.email, user.email if user is not None else None} if e]
    keys = [(kind, person.id)] + ([("ab_user", user.id)] if user is not None else [])
    person.first_name = ANONYMISED
    person.last_name = ANONYMISED
    person.email = None
    person.phone = None
    if kind == "contact":
        person.salutation = None
        person.position = None
        person.digest_opt_out = True
        person.notes.clear()
        person.tasks.clear()
    else:
        person.city = None
        person.active = False
        person.feed_token = None
        person.unavailabilities.clear()
    if user is not None:
        _anonymise_user(session, user)
    session.flush()  # the audit entries of these changes exist now and are scrubbed too
    _scrub_audit(session, keys, user, originals)
    _scrub_outbox(session, emails, originals)
    session.flush()
