"""Telling people about a change of an appointment (called by the operations that change it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from app.models.planning import Appointment

ChangeKind = Literal["cancelled", "moved", "planned"]


@dataclass(frozen=True)
class Before:
    """The appointment's date and times before a move."""

    date: dt.date
    start_time: dt.time
    end_time: dt.time


def appointment_changed(
    session: Session, appointment: Appointment, kind: ChangeKind, before: Before | None = None
) -> None:
    """Record the change and write the mails it causes into the outbox (no commit).

    Not yet implemented: nobody is told. (Filled in by the change-notification work.)
    """
