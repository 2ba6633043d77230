"""Value lists stored as short codes, with their translated labels.

Codes are stored as strings guarded by CHECK constraints (portable across SQLite
and PostgreSQL and easy to migrate); labels are translated at render time.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

COMPANY_KINDS = {
    "customer": _l("Customer"),
    "retail_chain": _l("Retail chain"),
    "agency": _l("Agency"),
    "other": _l("Other"),
}
LANGUAGES = {"de": _l("German"), "en": _l("English")}
SALUTATIONS = {"mr": _l("Mr"), "ms": _l("Ms"), "mx": _l("Mx")}
TASK_KINDS = {"call": _l("Call"), "follow_up": _l("Follow-up"), "other": _l("Other")}
JOB_STATUSES = {
    "draft": _l("Draft"),
    "open": _l("Open for applications"),
    "staffed": _l("Staffed"),
    "closed": _l("Closed"),
}
APPLICATION_STATUSES = {
    "applied": _l("Applied"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
APPOINTMENT_STATUSES = {
    "planned": _l("Planned"),
    "proposed": _l("Proposed"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
    "done": _l("Done"),
}
APPOINTMENT_ORIGINS = {"agency": _l("Agency"), "customer": _l("Customer")}
#: What a customer contact may ask of an existing appointment, and where that request stands.
CHANGE_REQUEST_KINDS = {"cancel": _l("Cancel"), "move": _l("Move")}
CHANGE_REQUEST_STATUSES = {
    "pending": _l("Awaiting the agency's decision"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
}
BOOKING_STATUSES = {
    "requested": _l("Requested"),
    "confirmed": _l("Confirmed"),
    "declined": _l("Declined"),
    "cancelled": _l("Cancelled"),
}
#: The mail outbox: where a mail stands, and what it is about (its template).
OUTBOX_STATUSES = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}
MAIL_KINDS = {
    "account_invite": _l("Invitation to an account"),
    "application_withdrawn": _l("Application withdrawn"),
    "booking_declined": _l("Booking declined"),
    "booking_requests": _l("Booking requests"),
    "change_request_decided": _l("Change request decided"),
    "change_request_new": _l("New change request"),
    "digest_pending": _l("Proposals awaiting a decision"),
    "digest_week": _l("Week overview"),
    "password_reset": _l("Password reset"),
    "proposal_decided": _l("Proposal decided"),
    "proposal_new": _l("New proposal"),
    "proposal_withdrawn": _l("Proposal withdrawn"),
}
# German federal states (ISO 3166-2:DE suffixes), as the `holidays` library uses them.
FEDERAL_STATES = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}


#: Coded columns by (table, column): the agency screens show their labels, not the codes.
CODED_COLUMNS = {
    ("company", "kind"): COMPANY_KINDS,
    ("contact", "language"): LANGUAGES,
    ("contact", "salutation"): SALUTATIONS,
    ("task", "kind"): TASK_KINDS,
    ("job", "status"): JOB_STATUSES,
    ("application", "status"): APPLICATION_STATUSES,
    ("appointment", "status"): APPOINTMENT_STATUSES,
    ("appointment", "origin"): APPOINTMENT_ORIGINS,
    ("booking", "status"): BOOKING_STATUSES,
    ("change_request", "kind"): CHANGE_REQUEST_KINDS,
    ("change_request", "status"): CHANGE_REQUEST_STATUSES,
    ("outbox_message", "status"): OUTBOX_STATUSES,
    ("outbox_message", "kind"): MAIL_KINDS,
    ("outbox_message", "language"): LANGUAGES,
    ("location", "federal_state"): FEDERAL_STATES,
}


def check_in(column: str, values: dict) -> str:
    """SQL for a CHECK constraint that limits ``column`` to the codes of ``values``."""
    codes = ", ".join(f"'{code}'" for code in values)
    return f"{column} IN ({codes})"


def label(values: dict, code: str | None) -> str:
    """The translated label of ``code``, or the code itself when unknown."""
    if code is None:
        return ""
    return str(values.get(code, code))


def form_choices(values: dict) -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in values.items()]
