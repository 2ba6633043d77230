"""The only code that changes reports: their state, answers, actual times and files.

Report states (``app.common.choices.REPORT_STATUSES``):

- ``draft`` → ``submitted`` (the booked promoter submits a complete report);
- ``submitted`` → ``approved`` (the agency; a day report's appointment becomes done with
  the report's actual times) or ``returned`` (the agency, with a comment; the promoter is
  mailed, corrects and submits again: ``returned`` → ``submitted``).

Each part of the workflow has its section below.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l  # noqa: F401

from app.models.reporting import Report, ReportFile  # noqa: F401


class ReportError(ValueError):
    """A refused reporting step; the message is for the user."""


# -- capture: the promoter starts, saves and submits a report ----------------


# -- files: photos and documents of a report ---------------------------------


# -- review: the agency approves, returns or corrects a report ----------------


# -- reminders: missing reports ----------------------------------------------
