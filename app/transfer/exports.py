"""The rows of the exports: the agency's lists and the customer's appointment list.

Location and contact exports use the import's columns, so that an exported file
can be imported again. What a customer gets is built on the visibility scope
(``app.portal.queries``), never filtered in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, groupby
from operator import itemgetter

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Date, Select, and_, case, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from app.common.choices import APPOINTMENT_STATUSES, BOOKING_STATUSES, FEDERAL_STATES, SALUTATIONS, label
from app.models.crm import Company, Contact, Location, Territory, contact_territory
from app.models.planning import Appointment, Booking, Job, Project
from app.models.promoter import Promoter
from app.transfer.importers import CONTACTS, LOCATIONS
from app.transfer.tables import FORMULA_STARTS

CHUNK = 500
#: Rows fetched from the database at a time by streamed exports.
STREAM_BATCH = 2_000


def _stream(session: Session, stmt: Select):
    """The rows of a Core SELECT, fetched ``STREAM_BATCH`` at a time (no ORM rows)."""
    return session.connection().execution_options(yield_per=STREAM_BATCH).execute(stmt)


def locale() -> str:
    return "en" if str(get_locale() or "de") == "en" else "de"


def locations(session: Session) -> tuple[list[str], Iterator[list]]:
    """Every location with chain and territory: one Core SELECT, streamed."""

    def rows():
        chain, territory = aliased(Company), aliased(Territory)
        stmt = (
            select(
                Location.name,
                chain.name,
                Location.street,
                Location.postcode,
                Location.city,
                Location.federal_state,
                territory.name,
            )
            .outerjoin(chain, chain.id == Location.retail_chain_id)
            .outerjoin(territory, territory.id == Location.territory_id)
            .order_by(Location.city, Location.name, Location.id)
        )
        for name, chain_name, street, postcode, city, state, territory_name in _stream(session, stmt):
            yield [
                name,
                chain_name or "",
                street,
                postcode,
                city,
                FEDERAL_STATES.get(state, state),
                territory_name or "",
            ]

    return LOCATIONS.header(locale()), rows()


def contacts(session: Session) -> tuple[list[str], Iterator[list]]:
    """Every contact with company and territories: one Core SELECT with the territories
    outer-joined and sorted, folded into one line per contact while streaming."""

    def rows():
        stmt = (
            select(
                Contact.id,
                Company.name,
                Contact.salutation,
                Contact.first_name,
                Contact.last_name,
                Contact.email,
                Contact.phone,
                Contact.position,
                Contact.language,
                Territory.name,
            )
            .join(Company, Company.id == Contact.company_id)
            .outerjoin(contact_territory, contact_territory.c.contact_id == Contact.id)
            .outerjoin(Territory, Territory.id == contact_territory.c.territory_id)
            .order_by(Contact.last_name, Contact.first_name, Contact.id, Territory.name)
        )
        salutations = {code: label(SALUTATIONS, code) for code in SALUTATIONS}
        for _id, lines in groupby(_stream(session, stmt), key=itemgetter(0)):
            group = list(lines)  # one contact's territories: a few lines
            first = group[0]
            names = [line[9] for line in group if line[9] is not None]
            yield [
                first[1],
                salutations.get(first[2], first[2]) if first[2] else "",
                first[3],
                first[4],
                first[5] or "",
                first[6] or "",
                first[7] or "",
                first[8],
                _joined(names),
            ]

    return CONTACTS.header(locale()), rows()


def _joined(names: list[str]) -> str:
    """Names for one cell: comma-separated, or with pipes if a name has a comma itself."""
    return (" | " if any("," in name for name in names) else ", ").join(names)


def projects(session: Session) -> tuple[list[str], Iterator[list]]:
    """Every project with its customer and number of jobs: one Core SELECT, streamed."""
    header = [_("Project"), _("Customer"), _("Start"), _("End"), _("Jobs"), _("Description")]

    def rows():
        jobs = (
            select(func.count(Job.id))
            .where(Job.project_id == Project.id)
            .correlate(Project)
            .scalar_subquery()
        )
        stmt = (
            select(
                Project.name, Company.name, Project.start_date, Project.end_date, jobs, Project.description
            )
            .join(Company, Company.id == Project.customer_id)
            .order_by(Project.start_date.desc(), Project.name, Project.id)
        )
        for name, customer, start, end, count, description in _stream(session, stmt):
            yield [name, customer, start, end, count, description or ""]

    return header, rows()


def appointment_header(with_project: bool) -> list[str]:
    header = [_("Date"), _("Start"), _("End")]
    if with_project:
        header.append(_("Project"))
    return [*header, _("Job"), _("Store"), _("City"), _("Status"), _("Promoters")]


def appointments(session: Session, project_id: int | None = None) -> tuple[list[str], Iterator[list]]:
    """Every appointment for the agency, with the promoters and the state of their booking.

    One Core SELECT of appointments with their active bookings (outer join), streamed
    from the database in batches; the rows of one appointment arrive together and are
    folded into one line, so memory stays constant however many appointments there are.
    """

    def rows():
        active = and_(
            Booking.appointment_id == Appointment.id, Booking.status.in_(("requested", "confirmed"))
        )
        stmt = (
            select(
                Appointment.id,
                Appointment.date,
                Appointment.start_time,
                Appointment.end_time,
                Project.name,
                Job.title,
                Location.name,
                Location.city,
                Appointment.status,
                Booking.status,
                Promoter.first_name,
                Promoter.last_name,
            )
            .join(Job, Job.id == Appointment.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Project, Project.id == Job.project_id)
            .outerjoin(Booking, active)
            .outerjoin(Promoter, Promoter.id == Booking.promoter_id)
            .order_by(
                Appointment.date, Appointment.start_time, Location.name, Appointment.id, Booking.promoter_id
            )
        )
        if project_id:
            stmt = stmt.where(Job.project_id == project_id)
        statuses = {code: label(APPOINTMENT_STATUSES, code) for code in APPOINTMENT_STATUSES}
        booking_words = {code: label(BOOKING_STATUSES, code) for code in BOOKING_STATUSES}
        for _id, lines in groupby(_stream(session, stmt), key=itemgetter(0)):
            first = next(lines)
            names = []
            for line in chain((first,), lines):
                booking_status, first_name, last_name = line[9:12]
                if booking_status is None:
                    continue
                text = f"{first_name} {last_name}"
                if booking_status != "confirmed":
                    text += f" ({booking_words.get(booking_status, booking_status)})"
                names.append(text)
            yield [*first[1:8], statuses.get(first[8], first[8]), ", ".join(names)]

    return appointment_header(True), rows()


def _sql_text(column, dialect: str):
    """A date or time column as the CSV writes it (dd.mm.yyyy, HH:MM), formatted by the database."""
    if dialect == "postgresql":
        pattern = "DD.MM.YYYY" if isinstance(column.type, Date) else "HH24:MI"
        return func.to_char(column, pattern)
    if isinstance(column.type, Date):
        return func.strftime("%d.%m.%Y", column)
    return func.substr(column, 1, 5)  # SQLite keeps times as "HH:MM:SS.ffffff"


def _sql_formula_safe(text):
    """:func:`app.transfer.tables.formula_safe` in SQL: text that a spreadsheet would run as a
    formula gets a leading apostrophe."""
    return case((func.substr(text, 1, 1).in_(FORMULA_STARTS), literal("'") + text), else_=text)


def _promoters_cell(dialect: str):
    """An appointment's active promoters joined into one text, in the order of their ids (as
    :func:`appointments` lists them): a correlated subquery on the booking's unique
    (appointment, promoter) index, which already holds them in that order.

    PostgreSQL orders inside the aggregate; SQLite (before 3.44 no ORDER BY in group_concat)
    concatenates the rows of an ordered derived table in the order they come.
    """
    requested = label(BOOKING_STATUSES, "requested")
    name = (
        Promoter.first_name
        + literal(" ")
        + Promoter.last_name
        + case((Booking.status == "requested", literal(f" ({requested})")), else_=literal(""))
    )
    active = (Booking.appointment_id == Appointment.id, Booking.status.in_(("requested", "confirmed")))
    if dialect == "postgresql":
        aggregate = func.string_agg(name, aggregate_order_by(literal(", "), Booking.promoter_id))
        return (
            select(aggregate)
            .select_from(Booking)
            .join(Promoter, Promoter.id == Booking.promoter_id)
            .where(*active)
            .scalar_subquery()
        )
    ordered = (
        select(name.label("name"))
        .select_from(Booking)
        .join(Promoter, Promoter.id == Booking.promoter_id)
        .where(*active)
        .order_by(Booking.promoter_id)
        .correlate(Appointment)
        .subquery()
    )
    return select(func.group_concat(ordered.c.name, literal(", "))).scalar_subquery()


def appointments_csv(session: Session, project_id: int | None = None) -> tuple[list[str], Iterator[tuple]]:
    """The rows of :func:`appointments`, finished by the database for the CSV file: dates and
    times formatted, statuses in words, each appointment's promoters joined into one cell
    (a correlated subquery on the booking's appointment index), formula-like text guarded.

    The CSV writer then writes the fetched tuples as they are: no Python per cell, which
    makes a full export about twice as fast as building Python values first (bench/).
    The XLSX export keeps :func:`appointments` (real dates and times in the cells).
    """
    dialect = session.get_bind().dialect.name
    promoters = _promoters_cell(dialect)
    statuses = {code: label(APPOINTMENT_STATUSES, code) for code in APPOINTMENT_STATUSES}
    stmt = (
        select(
            _sql_text(Appointment.date, dialect),
            _sql_text(Appointment.start_time, dialect),
            _sql_text(Appointment.end_time, dialect),
            _sql_formula_safe(Project.name),
            _sql_formula_safe(Job.title),
            _sql_formula_safe(Location.name),
            _sql_formula_safe(Location.city),
            case(statuses, value=Appointment.status, else_=Appointment.status),
            func.coalesce(_sql_formula_safe(promoters), literal("")),
        )
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Project, Project.id == Job.project_id)
        .order_by(Appointment.date, Appointment.start_time, Location.name, Appointment.id)
    )
    if project_id:
        stmt = stmt.where(Job.project_id == project_id)
    return appointment_header(True), iter(_stream(session, stmt))


def _ids(what: str, project_id: int | None) -> Select:
    ids = {
        "locations": select(Location.id),
        "contacts": select(Contact.id),
        "projects": select(Project.id),
        "appointments": select(Appointment.id),
    }[what]
    if what == "appointments" and project_id:
        ids = ids.join(Job, Job.id == Appointment.job_id).where(Job.project_id == project_id)
    return ids


def count_at_most(session: Session, what: str, limit: int, project_id: int | None = None) -> int:
    """The export's number of rows, counted only up to ``limit + 1``: cheap at any size,
    enough to decide between a download now and a background job."""
    ids = _ids(what, project_id).limit(limit + 1).subquery()
    return session.scalar(select(func.count()).select_from(ids)) or 0


def total(session: Session, what: str, project_id: int | None = None) -> int:
    """The export's exact number of rows (for a background job's progress)."""
    return session.scalar(select(func.count()).select_from(_ids(what, project_id).subquery())) or 0


EXPORTS = {
    "locations": locations,
    "contacts": contacts,
    "appointments": appointments,
    "projects": projects,
}


def sample(session: Session, kind: str) -> tuple[list[str], list[list]]:
    """Two example rows with German headers, using names that exist in this installation."""
    import datetime as dt

    from app.common.timezone import local_today
    from app.transfer.importers import KINDS

    territory = session.scalar(select(Territory.name).order_by(Territory.name).limit(1)) or ""
    if kind == "locations":
        chain = session.scalar(
            select(Company.name).where(Company.kind == "retail_chain").order_by(Company.name).limit(1)
        )
        rows = [
            ["Beispielmarkt Köln-Mitte", chain or "", "Hohe Straße 1", "50667", "Köln", "NW", territory],
            [
                "Beispielmarkt Dresden-Nord",
                chain or "",
                "Königsbrücker Straße 12",
                "01099",
                "Dresden",
                "Sachsen",
                territory,
            ],
        ]
    elif kind == "contacts":
        company = session.scalar(
            select(Company.name).where(Company.kind == "customer").order_by(Company.name).limit(1)
        )
        rows = [
            [
                company or "",
                "Frau",
                "Erika",
                "Mustermann",
                "erika.mustermann@example.com",
                "+49 221 123456",
                "Außendienst",
                "de",
                territory,
            ],
            [
                company or "",
                "Herr",
                "Max",
                "Beispiel",
                "max.beispiel@example.com",
                "+49 89 654321",
                "Vertrieb",
                "en",
                territory,
            ],
        ]
    else:
        first = local_today() + dt.timedelta(days=7)
        rows = [
            [first, dt.time(10), dt.time(18), "Beispieltermin"],
            [first + dt.timedelta(days=1), dt.time(9, 30), dt.time(17), ""],
        ]
    return KINDS[kind].header("de"), rows
