"""The agency's read-only audit trail, and a proposal's history for its customer."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.audit.models import AuditEntry
from app.audit.names import in_words, remember
from app.common.choices import CODED_COLUMNS, label
from app.common.formatting import format_day, format_moment, format_utc_moment
from app.common.labels import COLUMN_LABELS, TABLE_LABELS
from app.common.views import AgencyModelView
from app.extensions import db

AUDIT_ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Login"),
    "login_failed": _l("Failed login"),
}
ENTITY_LABELS = {**TABLE_LABELS, "ab_user": _l("Users")}


def local_time(value: dt.datetime | None) -> str:
    """A stored (naive) UTC time in the configured TIMEZONE, formatted for the user's language.

    Converted exactly once, here; the formatter gets the local time and converts nothing.
    """
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    local = value.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
    return format_moment(local)


@lru_cache(maxsize=1)
def _field_codes() -> dict[str, dict]:
    """Labels of coded fields by field name ("status": every status list; the labels agree)."""
    merged: dict[str, dict] = {}
    for (_table, column), values in CODED_COLUMNS.items():
        merged.setdefault(column, {}).update(values)
    return merged


@lru_cache(maxsize=1)
def _field_targets() -> dict[str, type]:
    """The model a foreign-key field points to ("decided_by_id" → User), from the mapped models."""
    targets: dict[str, type] = {}
    classes = {mapper.local_table.name: mapper.class_ for mapper in Model.registry.mappers}
    for mapper in Model.registry.mappers:
        for column in mapper.local_table.columns:
            for key in column.foreign_keys:
                target = classes.get(key.column.table.name)
                if target is not None:
                    targets.setdefault(column.name, target)
    return targets


def field_label(field: str) -> str:
    """ "decided_by_id" → "Decided by" (the label of the relation), else the column's label.

    The relation comes first: FAB adds generated English labels ("Decided By Id") to the
    shared label table for the columns it shows."""
    if field.endswith("_id") and field[:-3] in COLUMN_LABELS:
        return str(COLUMN_LABELS[field[:-3]])
    if field in COLUMN_LABELS:
        return str(COLUMN_LABELS[field])
    return field.replace("_", " ").capitalize()


def readable_value(field: str, value) -> str:
    """An audited value in words: labels for codes, names for record ids, local dates and times."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    codes = _field_codes().get(field)
    if codes is not None and isinstance(value, str):
        return label(codes, value)
    target = _field_targets().get(field)
    if target is not None and isinstance(value, int):
        row = db.session.get(target, value)
        return str(row) if row is not None else _("deleted entry no. %(id)s", id=value)
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        return format_utc_moment(dt.datetime.fromisoformat(value))
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return format_day(dt.date.fromisoformat(value))
    return str(value)


#: "appointment 705: " before a recorded summary repeats the kind and number of the entry.
_SUMMARY_PREFIX = re.compile(r"[a-z_]+ \d*: ")
#: What app.audit.recorder.record_login writes (in English, whatever the user's language).
_LOGIN_SUMMARY = re.compile(r"(?:Login|Failed login): (.*?)(?: from (\S+))?")


def readable_summary(text: str | None) -> str:
    """A recorded summary without the kind and number the list shows beside it; a login's
    in the user's language."""
    if not text:
        return "–"
    named = in_words(text)
    if named:
        return named
    login = _LOGIN_SUMMARY.fullmatch(text)
    if login:
        name, address = login.groups()
        return _("%(name)s from %(address)s", name=name, address=address) if address else name
    return _SUMMARY_PREFIX.sub("", text, count=1) if _SUMMARY_PREFIX.match(text) else text


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def changes_table(changes: str | None) -> Markup:
    """The JSON ``{field: [old, new]}`` as a small table (old → new), in words."""
    entry = AuditEntry(changes=changes)
    rows = []
    for field, pair in sorted(entry.change_map.items()):
        old, new = (readable_value(field, value) for value in (list(pair) + [None, None])[:2])
        if old == new:  # e.g. None → "" recorded before the recorder took them as equal
            continue
        rows.append(
            Markup("<tr><th>{}</th><td>{}</td><td>→</td><td>{}</td></tr>").format(
                field_label(field), old, new
            )
        )
    if not rows:
        return Markup('<span class="text-muted">–</span>')
    return Markup('<table class="table table-condensed audit-changes">{}</table>').format(
        Markup("").join(rows)
    )


class AuditView(AgencyModelView):
    datamodel = SQLAInterface(AuditEntry)
    base_permissions = ["can_list", "can_show"]
    list_title = _l("Audit trail")
    show_title = _l("Audit entry")
    label_columns = {
        **COLUMN_LABELS,
        "at": _l("Time"),
        "username": _l("User name"),
        "user": _l("User"),
        "action": _l("Action"),
        "entity": _l("Kind of entry"),
        "entity_id": _l("Entry no."),
        "summary": _l("Summary"),
        "changes": _l("Changes"),
    }
    list_columns = ["at", "username", "action", "entity", "entity_id", "summary"]
    show_columns = ["at", "username", "user", "action", "entity", "entity_id", "summary", "changes"]
    search_columns = ["entity", "action", "user", "username", "at", "entity_id"]
    order_columns = ["at", "username", "action", "entity", "entity_id"]
    base_order = ("at", "desc")
    formatters_columns = {
        "at": local_time,
        "action": lambda code: label(AUDIT_ACTION_LABELS, code),
        "entity": lambda code: label(ENTITY_LABELS, code),
        "changes": changes_table,
        "summary": readable_summary,
        "username": lambda name: name or _("system"),
    }

    def _get_list_widget(self, *args, **kwargs):
        """The page's bookings, applications and reports named at once, not per row."""
        widgets = super()._get_list_widget(*args, **kwargs)
        args = widgets["list"].template_args
        args["value_columns"] = values = list(args.get("value_columns") or [])  # FAB may yield them
        remember(row.get("summary") for row in values)
        return widgets
