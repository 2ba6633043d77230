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
    # Another promoter confirmed the appointment first: the open request was withdrawn
    # (not "cancelled", which means the agency or the appointment's cancellation ended it).
    "withdrawn": _l("Withdrawn"),
}
#: The agency's answer to a promoter's request to cancel a confirmed booking.
CANCEL_ANSWERS = {"granted": _l("Granted"), "refused": _l("Refused")}
#: The Bookings screen's column on a cancellation request (``Booking.cancel_state``).
CANCEL_STATES = {
    "pending": _l("Cancellation requested"),
    "granted": _l("Cancellation granted"),
    "refused": _l("Cancellation refused"),
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
    "booking_cancel_granted": _l("Cancellation of a booking granted"),
    "booking_cancel_refused": _l("Cancellation of a booking refused"),
    "booking_cancel_requested": _l("Cancellation of a booking requested"),
    "booking_declined": _l("Booking declined"),
    "booking_released": _l("Booking cancelled by the agency"),
    "booking_requests": _l("Booking requests"),
    "booking_withdrawn": _l("Request withdrawn"),
    "change_request_decided": _l("Change request decided"),
    "change_request_new": _l("New change request"),
    "digest_pending": _l("Proposals awaiting a decision"),
    "digest_week": _l("Week overview"),
    "password_reset": _l("Password reset"),
    "proposal_decided": _l("Proposal decided"),
    "proposal_new": _l("New proposal"),
    "proposal_withdrawn": _l("Proposal withdrawn"),
    "appointment_change": _l("Appointment changed"),
    "change_summary": _l("Summary of appointment changes"),
    "report_missing": _l("Report missing"),
    "report_monthly": _l("Monthly campaign report"),
    "report_returned": _l("Report returned for correction"),
}
#: What happened to an appointment, as told to the people it concerns (app.changes).
CHANGE_KINDS = {
    "planned": _l("Newly planned"),
    "moved": _l("Moved"),
    "cancelled": _l("Cancelled"),
}
#: When a customer contact hears of changes in their territory.
CHANGE_MAIL_MODES = {
    "immediate": _l("Immediately, one mail per change"),
    "daily": _l("Once a day, in a summary"),
    "weekly": _l("Only in the weekly mail"),
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


#: Campaign reporting (app.reporting): questionnaires, their questions and the reports.
QUESTIONNAIRE_KINDS = {"day": _l("Day report"), "week": _l("Weekly report")}
QUESTION_KINDS = {
    "text": _l("Text"),
    "long_text": _l("Long text"),
    "integer": _l("Whole number"),
    "decimal": _l("Decimal number"),
    "yes_no": _l("Yes / no"),
    "single_choice": _l("Single choice"),
    "multiple_choice": _l("Multiple choice"),
    "date": _l("Date"),
    "time": _l("Time"),
    "photo": _l("Photo"),
    "file": _l("File"),
    "group": _l("Repeating group"),
}
REPORT_STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned for correction"),
    "approved": _l("Approved"),
}

#: Coded columns by (table, column): the agency screens show their labels, not the codes.
CODED_COLUMNS = {
    ("company", "kind"): COMPANY_KINDS,
    ("contact", "language"): LANGUAGES,
    ("contact", "salutation"): SALUTATIONS,
    ("contact", "change_mail"): CHANGE_MAIL_MODES,
    ("promoter", "language"): LANGUAGES,
    ("appointment_change", "kind"): CHANGE_KINDS,
    ("task", "kind"): TASK_KINDS,
    ("job", "status"): JOB_STATUSES,
    ("application", "status"): APPLICATION_STATUSES,
    ("appointment", "status"): APPOINTMENT_STATUSES,
    ("appointment", "origin"): APPOINTMENT_ORIGINS,
    ("booking", "status"): BOOKING_STATUSES,
    ("booking", "cancel_answer"): CANCEL_ANSWERS,
    ("change_request", "kind"): CHANGE_REQUEST_KINDS,
    ("questionnaire", "kind"): QUESTIONNAIRE_KINDS,
    ("question", "kind"): QUESTION_KINDS,
    ("report", "kind"): QUESTIONNAIRE_KINDS,
    ("report", "status"): REPORT_STATUSES,
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
