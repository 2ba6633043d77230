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
- scrubs the audit trail entries about their rows (old and new values of
  their personal fields, the summary) and the user name on entries made with
  their login, and deletes mail addressed to them.

Everything is found by id — their own rows, audit entries about those rows or
made by their login — or by an address that is theirs alone. Nothing is found
by searching for their values in other people's data: a promoter who enters a
store's name as phone number, or another person's address as email, changes
nobody else's records. Mail to others that names them stays as it was sent;
digest markers stay, so no digest goes out twice.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.audit.models import AuditEntry
from app.audit.recorder import SECRET_FIELDS, plain
from app.common.models import utcnow
from app.models.crm import Contact
from app.models.planning import Appointment, Booking
from app.models.promoter import Promoter
from app.outbox.models import OutboxMessage
from app.portal.models import WizardDraft

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


def own_login(person) -> User | None:
    """The person's login — a customer or promoter login only. An agency or admin login
    linked to a contact or promoter by mistake belongs to somebody else."""
    from app.security.roles import CUSTOMER, PROMOTER

    user = person.user
    if user is None or {role.name for role in user.roles} - {CUSTOMER, PROMOTER}:
        return None
    return user


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
    user = own_login(person)
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
    from app.models.planning import Application

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


def _about(keys: list[tuple[str, int]]):
    """Audit entries about these rows (by entity and id)."""
    return or_(*[(AuditEntry.entity == entity) & (AuditEntry.entity_id == pk) for entity, pk in keys])


def _summary(summary: str | None) -> str | None:
    """ "contact 7: Erika Muster" -> "contact 7: anonymised"; "Login: erika" -> "Login: anonymised"."""
    if not summary or ": " not in summary:
        return summary
    return f"{summary.split(': ', 1)[0]}: {ANONYMISED}"


def _scrub_audit(session: Session, keys: list[tuple[str, int]], user: User | None) -> None:
    """Entries about the person's rows lose the personal values; entries by their login lose
    the user name. Found by id only: other entries stay as they are, whatever text they hold."""
    condition = _about(keys)
    if user is not None:
        condition = or_(condition, AuditEntry.user_id == user.id)
    for entry in session.scalars(select(AuditEntry).where(condition)):
        personal = set()
        for entity, pk in keys:
            if entry.entity == entity and entry.entity_id == pk:
                personal |= set(PERSONAL_FIELDS.get(entity, ()))
        if personal:
            changes = entry.change_map
            for field, pair in changes.items():
                if field in personal and isinstance(pair, list):
                    changes[field] = [ANONYMISED if v is not None else None for v in pair]
            if changes:
                entry.changes = json.dumps(changes, ensure_ascii=False, sort_keys=True)
            entry.summary = _summary(entry.summary)
        if user is not None and entry.user_id == user.id:
            entry.username = f"{ANONYMISED}-{user.id}"


def _own_addresses(session: Session, person, user: User | None) -> list[str]:
    """The person's mail addresses that are theirs alone.

    An address that another contact, promoter or login also has, or that the
    configuration uses (agency notifications, sender), does not identify the
    person's mail: mail to it is left alone.
    """
    from flask import current_app

    addresses = {a for a in (person.email, user.email if user is not None else None) if a}
    configured = {
        (current_app.config.get(name) or "").strip().lower()
        for name in ("AGENCY_NOTIFY_EMAIL", "MAIL_DEFAULT_SENDER")
    }
    own = []
    for address in sorted(addresses):
        lowered = address.strip().lower()
        if lowered in configured:
            continue
        others = [
            select(Contact.id).where(
                func.lower(Contact.email) == lowered, Contact.id != _pk(person, Contact)
            ),
            select(Promoter.id).where(
                func.lower(Promoter.email) == lowered, Promoter.id != _pk(person, Promoter)
            ),
            select(User.id).where(func.lower(User.email) == lowered, User.id != (user.id if user else -1)),
        ]
        if not any(session.scalar(stmt.limit(1)) is not None for stmt in others):
            own.append(address)
    return own


def _pk(person, model) -> int:
    return person.id if isinstance(person, model) else -1


def _delete_own_mail(session: Session, addresses: list[str]) -> None:
    """Mail addressed to the person (exactly their own address), sent or not. Digest markers
    stay, so no digest of the period goes out again."""
    if addresses:
        session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.in_(addresses)))


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
    user = own_login(person)
    addresses = _own_addresses(session, person, user)
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
    elif person.user_id is not None:
        person.user = None  # somebody else's login: unlinked, left as it is
    session.flush()  # the audit entries of these changes exist now and are scrubbed too
    _scrub_audit(session, keys, user)
    _delete_own_mail(session, addresses)
    session.flush()
