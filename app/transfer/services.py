"""Checked import rows as new model objects (written by :mod:`app.transfer.jobs`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.crm import Company, Contact, Location, Territory
from app.models.planning import Appointment
from app.transfer.importers import Lookup


def context(session: Session, user_id: int | None, job_id: int | None) -> dict:
    """What the builders look up: territories and companies by name, the job, the user."""
    return {
        "territories": Lookup(session.scalars(select(Territory))),
        "companies": Lookup(session.scalars(select(Company))),
        "job_id": job_id,
        "user_id": user_id,
    }


def build_location(row: dict, ctx: dict) -> Location:
    return Location(
        name=row["name"],
        retail_chain=_named(ctx["companies"], row.get("retail_chain"), "retail_chain"),
        street=row["street"],
        postcode=row["postcode"],
        city=row["city"],
        federal_state=row["federal_state"],
        territory=_named(ctx["territories"], row.get("territory")),
    )


def build_contact(row: dict, ctx: dict) -> Contact:
    return Contact(
        company=_named(ctx["companies"], row["company"], "customer"),
        salutation=row.get("salutation"),
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row.get("email"),
        phone=row.get("phone"),
        position=row.get("position"),
        language=row.get("language") or "de",
        territories=[_named(ctx["territories"], name) for name in row.get("territories") or []],
    )


def build_appointment(row: dict, ctx: dict) -> Appointment:
    return Appointment(
        job_id=ctx["job_id"],
        date=dt.date.fromisoformat(row["date"]),
        start_time=dt.time.fromisoformat(row["start_time"]),
        end_time=dt.time.fromisoformat(row["end_time"]),
        note=row.get("note"),
        status="planned",
        origin="agency",
        created_by_id=ctx["user_id"],
        updated_by_id=ctx["user_id"],
    )


def _named(lookup: Lookup, name: str | None, prefer_kind: str | None = None):
    if not name:
        return None
    found = lookup.find(name)
    if len(found) > 1 and prefer_kind:
        found = [item for item in found if item.kind == prefer_kind] or found
    if len(found) != 1:
        raise LookupError(name)
    return found[0]


def builder(kind: str):
    """``build_location``, ``build_contact`` or ``build_appointment`` (looked up at call time)."""
    return globals()["build_" + kind.removesuffix("s")]
