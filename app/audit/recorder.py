"""Records the audit trail from SQLAlchemy's session events — one place for the
agency's screens, the REST API, the customer wizard, services and commands alike.

- ``after_flush``: every insert, update and delete of an audited model (the
  attribute history is still there), written on the flush's own connection, so
  an entry exists exactly when its change is committed.
- ``do_orm_execute``: ORM-enabled bulk ``UPDATE``/``DELETE`` statements (the
  agency's decision on a proposal is one), with the rows read before and after.
- logins: a wrapper around the security manager's ``auth_user_db`` records
  every success and failure (HTML login, customer and promoter login, API);
  a right password at the wrong system is recorded as a refused login.

Who: ``g.user`` when there is a logged-in user, otherwise nobody ("system").
Secrets (password hashes, tokens) are never stored, only that they changed.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from flask import Flask, g, has_app_context, has_request_context, request
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.common.models import utcnow

#: Shown instead of a secret's value.
MASK = "***"
#: Fields whose values are never written to the audit trail.
SECRET_FIELDS = frozenset({"password", "request_token", "feed_token"})
#: Bookkeeping that changes with every save and tells nothing.
NOISE_FIELDS = frozenset(
    {
        "version",
        "revision",
        "updated_at",
        "created_at",
        "last_login",
        "login_count",
        "fail_login_count",
        "created_on",
        "changed_on",
        "created_by_fk",
        "changed_by_fk",
    }
)

_TABLE = AuditEntry.__table__


def _audited() -> dict[type, str]:
    """Model class -> entity name (the table)."""
    from app.models.crm import Contact, Location, Territory
    from app.models.planning import Application, Appointment, Booking, ChangeRequest, Job
    from app.models.promoter import Promoter
    from app.models.reporting import Questionnaire, QuestionnaireVersion, Report, ReportAnswer

    models = (
        Appointment,
        Booking,
        Application,
        Job,
        ChangeRequest,
        Contact,
        Location,
        Territory,
        Promoter,
        User,
        Report,
        ReportAnswer,
        Questionnaire,
        QuestionnaireVersion,
    )
    return {model: model.__tablename__ for model in models}


_AUDITED: dict[type, str] | None = None


def audited_entity(obj_or_class) -> str | None:
    """The entity name if rows of this kind are audited, else None."""
    global _AUDITED
    if _AUDITED is None:
        _AUDITED = _audited()
    cls = obj_or_class if isinstance(obj_or_class, type) else type(obj_or_class)
    for base in cls.__mro__:
        if base in _AUDITED:
            return _AUDITED[base]
    return None


# ---------------------------------------------------------------- values


def plain(value):
    """A JSON value for ``value`` (dates ISO, times HH:MM, rows by their name)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _same(old, new) -> bool:
    """Unchanged, for the audit trail: an empty text is no text (a form saves "" for None)."""
    return (None if old == "" else old) == (None if new == "" else new)


def _masked(key: str, value):
    if key in SECRET_FIELDS:
        return MASK if value is not None else None
    return plain(value)


def _actor() -> tuple[int | None, str | None]:
    """(id, user name) of the logged-in user, or (None, None) for the system."""
    if not has_app_context():
        return None, None
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    try:
        state = inspect(user)
        user_id = state.identity[0] if state.identity else None
        username = state.dict.get("username") or user.username
    except Exception:  # an anonymous or detached user object
        return None, None
    return user_id, username


def summary_of(obj) -> str:
    """A short, human description from the row's own columns (no lazy loading)."""
    data = inspect(obj).dict
    entity = audited_entity(obj) or type(obj).__tablename__
    if entity == "appointment" and data.get("date") and data.get("start_time"):
        end = data.get("end_time") or data["start_time"]
        text = f"{data['date']:%d.%m.%Y} {data['start_time']:%H:%M}–{end:%H:%M}"
    elif entity in ("contact", "promoter", "ab_user"):
        text = " ".join(str(data.get(k) or "") for k in ("first_name", "last_name")).strip()
        if entity == "ab_user" and data.get("username"):
            text = f"{text} ({data['username']})".strip()
    elif entity == "booking":
        text = f"promoter {data.get('promoter_id')} @ appointment {data.get('appointment_id')}"
    elif entity == "application":
        text = f"promoter {data.get('promoter_id')} @ job {data.get('job_id')}"
    elif entity == "job":
        text = str(data.get("title") or "")
    elif entity == "report":
        if data.get("appointment_id"):
            text = f"day report, appointment {data.get('appointment_id')}"
        else:
            text = f"weekly report, job {data.get('job_id')}, week {data.get('week_start')}"
    elif entity == "report_answer":
        text = f"report {data.get('report_id')}, {data.get('question_key')}"
        if data.get("group_key"):
            text += f" (row {int(data.get('item') or 0) + 1})"
    elif entity == "questionnaire_version":
        text = f"questionnaire {data.get('questionnaire_id')} v{data.get('number')}"
    else:
        text = str(data.get("name") or "")
    return f"{entity} {data.get('id', '')}: {text}"[:300]


def _before_flush(session: Session, _context, _instances) -> None:
    """Old values of attributes set while expired (e.g. after a commit) are read now,
    while the row is still unchanged in the database."""
    known = session.info["audit_old"] = {}
    for obj in session.dirty:
        if audited_entity(obj) is None:
            continue
        state = inspect(obj)
        missing = [
            attr
            for attr in state.mapper.column_attrs
            if attr.key not in NOISE_FIELDS
            and (h := state.attrs[attr.key].history).added
            and not h.deleted
            and not h.unchanged
        ]
        if not missing or state.identity is None:
            continue
        table = state.mapper.local_table
        (pk_column,) = table.primary_key.columns
        row = (
            session.connection()
            .execute(select(*[a.columns[0] for a in missing]).where(pk_column == state.identity[0]))
            .first()
        )
        if row is not None:
            known[id(obj)] = {attr.key: value for attr, value in zip(missing, row, strict=True)}


def _column_changes(obj, creating: bool, old_values: dict | None = None) -> dict[str, list]:
    old_values = old_values or {}
    state = inspect(obj)
    mapper = state.mapper
    changes: dict[str, list] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if key in NOISE_FIELDS or key == "id":
            continue
        history = state.attrs[key].history
        if creating:
            value = state.dict.get(key)
            if value is not None:
                changes[key] = [None, _masked(key, value)]
            continue
        if not history.has_changes():
            continue
        if history.deleted:
            old = history.deleted[0]
        elif history.unchanged:
            old = history.unchanged[0]
        else:
            old = old_values.get(key)
        new = history.added[0] if history.added else None
        if _same(old, new):
            continue
        changes[key] = [_masked(key, old), _masked(key, new)]
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOMANY":
            continue
        history = state.attrs[rel.key].history
        if not history.has_changes():
            continue
        old = sorted(str(x) for x in (*history.unchanged, *history.deleted))
        new = sorted(str(x) for x in (*history.unchanged, *history.added))
        if creating:
            if new:
                changes[rel.key] = [None, new]
        elif old != new:
            changes[rel.key] = [old, new]
    return changes


def _row(action: str, entity: str, entity_id, summary: str | None, changes: dict | None, actor) -> dict:
    user_id, username = actor
    return {
        "at": utcnow(),
        "user_id": user_id,
        "username": username,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "summary": summary,
        "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else None,
    }


# ---------------------------------------------------------------- session events


def _after_flush(session: Session, _context) -> None:
    old_values = session.info.pop("audit_old", {})
    rows = []
    actor = None
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            entity = audited_entity(obj)
            if entity is None:
                continue
            if action == "update" and not session.is_modified(obj):
                continue
            if action == "delete":
                data = inspect(obj).dict
                changes = {
                    k: [_masked(k, data.get(k)), None]
                    for k in (a.key for a in inspect(obj).mapper.column_attrs)
                    if k not in NOISE_FIELDS and k != "id" and data.get(k) is not None
                }
            else:
                changes = _column_changes(obj, action == "create", old_values.get(id(obj)))
                if action == "update" and not changes:
                    continue
            actor = actor or _actor()
            rows.append(_row(action, entity, inspect(obj).dict.get("id"), summary_of(obj), changes, actor))
    if rows:
        session.connection().execute(insert(_TABLE), rows)


def _bulk_statement(state) -> object | None:
    """ORM bulk UPDATE/DELETE of an audited model: record old → new per row."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    model = state.bind_mapper.class_
    entity = audited_entity(model) if model is not None else None
    if entity is None:
        return None
    table = state.bind_mapper.local_table
    where = state.statement.whereclause
    before_query = select(*table.c)
    if where is not None:
        before_query = before_query.where(where)
    session = state.session
    before = {row["id"]: dict(row) for row in session.connection().execute(before_query).mappings()}
    result = state.invoke_statement()
    if not before or not getattr(result, "rowcount", 0):
        return result
    actor = _actor()
    rows = []
    if state.is_delete:
        for pk, old in before.items():
            changes = {k: [_masked(k, v), None] for k, v in old.items() if v is not None and k != "id"}
            rows.append(_row("delete", entity, pk, f"{entity} {pk}", changes, actor))
    else:
        after = {
            row["id"]: dict(row)
            for row in session.connection()
            .execute(select(*table.c).where(table.c.id.in_(list(before))))
            .mappings()
        }
        for pk, old in before.items():
            new = after.get(pk)
            if new is None:
                continue
            changes = {
                k: [_masked(k, old[k]), _masked(k, new[k])]
                for k in old
                if k not in NOISE_FIELDS and k != "id" and not _same(old[k], new[k])
            }
            if changes:
                rows.append(_row("update", entity, pk, f"{entity} {pk}", changes, actor))
    if rows:
        session.connection().execute(insert(_TABLE), rows)
    return result


def _do_orm_execute(state):
    return _bulk_statement(state)


# ---------------------------------------------------------------- logins


def record_login(
    session: Session,
    username: str | None,
    user: User | None,
    success: bool,
    refused_at: str | None = None,
) -> None:
    """One entry per login attempt, committed at once (a failed login changes nothing else).

    ``refused_at``: the system where a right password was refused because the
    login belongs to another system (recorded as a failed login). The client's
    address is part of the summary (behind a proxy see TRUSTED_PROXIES).
    """
    user_id = user.id if user is not None else None
    name = user.username if user is not None else (username or "")[:128]
    if refused_at:
        success = False
        what = f"Refused login at the {refused_at} system"
    else:
        what = "Login" if success else "Failed login"
    action = "login" if success else "login_failed"
    address = request.remote_addr if has_request_context() else None
    summary = f"{what}: {name}" + (f" from {address}" if address else "")
    session.execute(
        insert(_TABLE).values(
            at=utcnow(),
            user_id=user_id,
            username=name,
            action=action,
            entity="ab_user",
            entity_id=user_id,
            summary=summary[:300],
            changes=None,
        )
    )
    session.commit()


def _wrap_auth(sm) -> None:
    if getattr(sm.auth_user_db, "_audited", False):
        return
    original = sm.auth_user_db

    def auth_user_db(username, password, *args, **kwargs):
        from app.security.accounts import refused_at

        user = original(username, password, *args, **kwargs)
        known = user
        if known is None and username:
            known = sm.find_user(username=username) or sm.find_user(email=username)
        try:
            record_login(sm.session, username, known, success=user is not None, refused_at=refused_at(user))
        except Exception:  # the audit must never lock anybody out
            sm.session.rollback()
        return user

    auth_user_db._audited = True
    sm.auth_user_db = auth_user_db


def init_audit(app: Flask) -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
    _wrap_auth(app.appbuilder.sm)
