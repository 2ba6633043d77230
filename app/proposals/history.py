"""A proposal's history as its customer sees it: from the audit trail, reduced to the fields
the customer knows, "you" or "agency" instead of internal user names."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.audit.views import AUDIT_ACTION_LABELS, local_time
from app.common.choices import APPOINTMENT_STATUSES, label

#: What a customer may see of their proposal's history.
CUSTOMER_FIELDS = ("status", "date", "start_time", "end_time", "decision_reason")
CUSTOMER_FIELD_LABELS = {
    "status": _l("Status"),
    "date": _l("Date"),
    "start_time": _l("Start"),
    "end_time": _l("End"),
    "decision_reason": _l("Reason"),
}


def _customer_value(field: str, value) -> str:
    if value is None:
        return "–"
    if field == "status":
        return label(APPOINTMENT_STATUSES, value)
    if field == "date":
        from flask_babel import format_date

        try:
            return format_date(dt.date.fromisoformat(value), "medium")
        except ValueError:
            return str(value)
    return str(value)


def proposal_history(session: Session, appointment_id: int, own_user_id: int | None) -> list[dict]:
    """The entries of one appointment, reduced to what its customer may see.

    Who: "you" for the customer's own entries, "agency" for everybody else —
    never an internal user name.
    """
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "appointment", AuditEntry.entity_id == appointment_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    history = []
    for entry in entries:
        changes = entry.change_map
        visible = [
            {
                "field": str(CUSTOMER_FIELD_LABELS[f]),
                "old": _customer_value(f, changes[f][0]) if entry.action != "create" else None,
                "new": _customer_value(f, changes[f][1]),
            }
            for f in CUSTOMER_FIELDS
            if f in changes
        ]
        if not visible and entry.action == "update":
            continue
        history.append(
            {
                "at": local_time(entry.at),
                "who": _("you") if own_user_id is not None and entry.user_id == own_user_id else _("agency"),
                "action": str(label(AUDIT_ACTION_LABELS, entry.action)),
                "changes": visible,
            }
        )
    return history
