"""Builds the Supertoy demo campaign of the domain description.

``seed_demo`` is idempotent: master data (companies, territories, stores, contacts,
promoters, logins) is looked up by its natural key and created only when missing;
the campaign (project, jobs, applications, appointments, bookings, notes, tasks) is
built only when the project does not exist yet, its reporting (questionnaires and
reports, :mod:`app.demo.reports`) only when the day questionnaire does not exist yet.
Re-running it resets the passwords of the demo logins. Everything happens in one
transaction.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import click
import holidays
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, scoped_session
from werkzeug.security import check_password_hash, generate_password_hash

from app.common.models import utcnow
from app.common.timezone import local_today
from app.demo import data
from app.demo.data import STORES, Store
from app.demo.photos import attach_photos
from app.demo.reports import ensure_reporting
from app.extensions import db
from app.models.crm import Company, Contact, Location, Note, Task, Territory, contact_territory
from app.models.planning import (
    Application,
    Appointment,
    Booking,
    Job,
    Project,
    project_contact,
    project_manager,
)
from app.models.promoter import Promoter
from app.models.reporting import (
    Question,
    Questionnaire,
    QuestionnairePage,
    QuestionnaireVersion,
    Report,
    ReportAnswer,
    ReportFile,
    ReportReminder,
)
from app.reporting.storage import storage_for
from app.rules.calendar import week_of
from app.security.roles import CUSTOMER, PROMOTER

DEFAULT_PASSWORD = "promoplan-demo"
RANDOM_SEED = "supertoy-demo"
PROJECT_WEEKS = 26
WEEKS_BEFORE_TODAY = 8
SHIFTS = ((dt.time(10), dt.time(18)), (dt.time(11), dt.time(19)))
# Share of booked store days that the pool's backup promoter works instead.
BACKUP_SHARE = 0.15
# promoter01 alternates confirmed and requested bookings this many days ahead.
SHOWCASE_DAYS = 21
# promoter01 works today from early on (the day report can be filled in by mid-morning).
SHOWCASE_TODAY = (dt.time(8), dt.time(16))

# Every row of these tables is deleted by ``--reset`` (children before parents).
BUSINESS_TABLES = (
    ReportReminder.__table__,
    ReportFile.__table__,
    ReportAnswer.__table__,
    Report.__table__,
    Booking.__table__,
    Appointment.__table__,
    Application.__table__,
    Job.__table__,
    project_contact,
    project_manager,
    Project.__table__,
    Question.__table__,
    QuestionnairePage.__table__,
    QuestionnaireVersion.__table__,
    Questionnaire.__table__,
    Note.__table__,
    Task.__table__,
    contact_territory,
    Contact.__table__,
    Location.__table__,
    Territory.__table__,
    Promoter.__table__,
    Company.__table__,
)

COUNTED = {
    "companies": Company,
    "territories": Territory,
    "locations": Location,
    "contacts": Contact,
    "notes": Note,
    "tasks": Task,
    "promoters": Promoter,
    "projects": Project,
    "jobs": Job,
    "applications": Application,
    "appointments": Appointment,
    "bookings": Booking,
    "questionnaires": Questionnaire,
    "reports": Report,
}

DbSession = Session | scoped_session


class UserSpec(NamedTuple):
    """A demo login: who it is and which role it gets."""

    username: str
    first_name: str
    last_name: str
    email: str
    role: str


def promoter_login(number: int) -> str:
    """Username of the n-th promoter login (1-based): promoter01, promoter02, …"""
    return f"promoter{number:02d}"


def promoter_email(first_name: str, last_name: str) -> str:
    """vorname.nachname@example.org, transliterated to ASCII."""
    return f"{_ascii(first_name)}.{_ascii(last_name)}@example.org"


def _ascii(name: str) -> str:
    """Lower-case ASCII for an email address: Jürgen → juergen, Yılmaz → yilmaz."""
    name = name.lower()
    for letter, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ı", "i")):
        name = name.replace(letter, plain)
    decomposed = unicodedata.normalize("NFKD", name)
    return decomposed.encode("ascii", "ignore").decode().replace(" ", "-")


def _phone(index: int) -> str:
    """A made-up, stable German mobile number."""
    prefix = ("151", "160", "172", "176")[index % 4]
    return f"+49 {prefix} {(3_141_593 + index * 271_829) % 9_000_000 + 1_000_000}"


def user_specs() -> list[UserSpec]:
    """Every demo login: agency users, customer contacts, the first ten promoters."""
    specs = [UserSpec(u.username, u.first_name, u.last_name, u.email, u.role) for u in data.AGENCY_USERS]
    specs += [UserSpec(c.login, c.first_name, c.last_name, c.email, CUSTOMER) for c in data.CONTACTS]
    for number, (first, last) in enumerate(data.PROMOTER_NAMES[: data.PROMOTER_LOGINS], start=1):
        specs.append(UserSpec(promoter_login(number), first, last, promoter_email(first, last), PROMOTER))
    return specs


def demo_usernames() -> list[str]:
    """Usernames of every demo login."""
    return [spec.username for spec in user_specs()]


def project_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the campaign: 26 weeks from the Monday eight weeks ago."""
    start = week_of(today)[0] - dt.timedelta(weeks=WEEKS_BEFORE_TODAY)
    return start, start + dt.timedelta(weeks=PROJECT_WEEKS, days=-1)


@lru_cache(maxsize=64)
def _closed_days(state: str, years: tuple[int, ...]) -> frozenset[dt.date]:
    """Cached public holidays of one federal state."""
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=years))


def closed_days(state: str, start: dt.date, end: dt.date) -> frozenset[dt.date]:
    """Public holidays of a federal state between two dates (inclusive years)."""
    return _closed_days(state, tuple(range(start.year, end.year + 1)))


def promotion_days(store: Store, start: dt.date, weeks: int = PROJECT_WEEKS) -> list[dt.date]:
    """The store's promotion days: 2..store.days days Mon–Sat per week, no public holidays.

    Each week's choice depends only on the store and that week's Monday, so the same
    calendar week always gets the same days.
    """
    closed = closed_days(store.state, start, start + dt.timedelta(weeks=weeks))
    days: list[dt.date] = []
    for week in range(weeks):
        monday = start + dt.timedelta(weeks=week)
        rng = random.Random(f"{RANDOM_SEED}:{store.name}:{monday.isoformat()}")
        weekdays = [monday + dt.timedelta(days=offset) for offset in range(6)]
        candidates = [day for day in weekdays if day not in closed]
        if len(candidates) < 2:
            candidates = weekdays
        wanted = store.days if rng.random() < 0.6 else rng.randint(2, store.days)
        days.extend(sorted(rng.sample(candidates, min(wanted, len(candidates)))))
    return days


def with_today(days: list[dt.date], today: dt.date, closed: frozenset[dt.date]) -> list[dt.date]:
    """promoter01's store works today: today replaces the week's day closest to it (so the
    week keeps its number of days); on a Sunday or a holiday it is added all the same."""
    if today in days:
        return days
    monday = week_of(today)[0]
    week = [day for day in days if monday <= day < monday + dt.timedelta(days=7)]
    if week and today.weekday() < 6 and today not in closed:
        days = [day for day in days if day != min(week, key=lambda d: (abs((d - today).days), d))]
    return sorted([*days, today])


def _booking_status(day: dt.date, today: dt.date, rng: random.Random) -> str | None:
    """Confirmed in the past; ahead, the further away the more requested or open days."""
    if day <= today:
        return "confirmed"
    ahead = (day - today).days
    confirmed, requested = (0.8, 0.12) if ahead <= 14 else (0.55, 0.25) if ahead <= 42 else (0.25, 0.25)
    roll = rng.random()
    if roll < confirmed:
        return "confirmed"
    if roll < confirmed + requested:
        return "requested"
    return None


def _hash(password: str) -> str:
    """A password hash the way Flask-AppBuilder makes it."""
    config = current_app.config
    return generate_password_hash(
        password,
        method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )


def _roles() -> dict:
    """The roles of the demo logins by name; a clear error when one is missing."""
    sm = current_app.appbuilder.sm
    roles = {}
    for name in {spec.role for spec in user_specs()}:
        role = sm.find_role(name)
        if role is None:
            raise click.ClickException(
                f"The role {name!r} does not exist. Run `flask --app app init-roles` first."
            )
        roles[name] = role
    return roles


class _Passwords:
    """Hashes the demo password once and checks each distinct stored hash once.

    All demo logins share one password, so they may share one salted hash; this
    keeps the (deliberately slow) hashing out of the command's run time.
    """

    def __init__(self, password: str) -> None:
        self.password = password
        self._hash: str | None = None
        self._checked: dict[str, bool] = {}

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = _hash(self.password)
            self._checked[self._hash] = True
        return self._hash

    def matches(self, stored: str | None) -> bool:
        if not stored:
            return False
        if stored not in self._checked:
            self._checked[stored] = check_password_hash(stored, self.password)
        return self._checked[stored]


def _ensure_users(roles: dict, password: str) -> dict:
    """Create missing demo logins; make existing ones usable with ``password``."""
    sm = current_app.appbuilder.sm
    passwords = _Passwords(password)
    users = {}
    for spec in user_specs():
        role = roles[spec.role]
        user = sm.find_user(username=spec.username)
        if user is None:
            clash = sm.find_user(email=spec.email)
            if clash is not None:
                raise click.ClickException(
                    f"Cannot create the demo login {spec.username!r}: "
                    f"the email {spec.email} belongs to the user {clash.username!r}."
                )
            user = sm.add_user(
                spec.username,
                spec.first_name,
                spec.last_name,
                spec.email,
                role,
                hashed_password=passwords.hash,
                commit=False,
            )
            if not user:
                raise click.ClickException(f"Could not create the demo login {spec.username!r}.")
        else:
            if role not in user.roles:
                user.roles.append(role)
            if not user.active:
                user.active = True
            if not passwords.matches(user.password):
                user.password = passwords.hash
        users[spec.username] = user
    return users


def _ensure_companies(session: DbSession) -> dict[str, Company]:
    """Supertoy, Media Markt and the agency, by name."""
    names = [record.name for record in data.COMPANIES]
    existing = {(c.name, c.kind): c for c in session.scalars(select(Company).where(Company.name.in_(names)))}
    companies = {}
    for record in data.COMPANIES:
        company = existing.get((record.name, record.kind))
        if company is None:
            company = Company(
                name=record.name,
                kind=record.kind,
                street=record.street,
                postcode=record.postcode,
                city=record.city,
                country="DE",
                notes=record.notes or None,
            )
            session.add(company)
        companies[record.name] = company
    return companies


def _ensure_territories(session: DbSession) -> dict[str, Territory]:
    """Supertoy Deutschland with its children ADM Nord and ADM Süd, by name."""
    names = [record.name for record in data.TERRITORIES]
    territories = {t.name: t for t in session.scalars(select(Territory).where(Territory.name.in_(names)))}
    for record in data.TERRITORIES:  # parents come first
        if record.name not in territories:
            territory = Territory(
                name=record.name,
                description=record.description,
                parent=territories[record.parent] if record.parent else None,
            )
            session.add(territory)
            territories[record.name] = territory
    return territories


def _ensure_locations(
    session: DbSession, retail_chain: Company, territories: dict[str, Territory]
) -> list[Location]:
    """The 30 Media Markt stores, in the order of data.STORES."""
    names = [store.name for store in STORES]
    existing = {loc.name: loc for loc in session.scalars(select(Location).where(Location.name.in_(names)))}
    locations = []
    for store in STORES:
        location = existing.get(store.name)
        if location is None:
            location = Location(
                name=store.name,
                retail_chain=retail_chain,
                street=store.street,
                postcode=store.postcode,
                city=store.city,
                federal_state=store.state,
                territory=territories[store.territory],
            )
            session.add(location)
        locations.append(location)
    return locations


def _ensure_contacts(
    session: DbSession, customer: Company, territories: dict[str, Territory], users: dict
) -> dict[str, Contact]:
    """The four Supertoy contacts by login, each linked to their login."""
    emails = [record.email for record in data.CONTACTS]
    existing = {c.email: c for c in session.scalars(select(Contact).where(Contact.email.in_(emails)))}
    contacts = {}
    for record in data.CONTACTS:
        contact = existing.get(record.email)
        if contact is None:
            contact = Contact(
                company=customer,
                salutation=record.salutation,
                first_name=record.first_name,
                last_name=record.last_name,
                email=record.email,
                phone=record.phone,
                position=record.position,
                language=record.language,
                territories=[territories[record.territory]],
            )
            session.add(contact)
        if contact.user is None:
            contact.user = users[record.login]
        contacts[record.login] = contact
    return contacts


def _promoter_city(index: int) -> str:
    """Primaries live in their store's city, backups in their pool's main city."""
    if index < len(STORES):
        return STORES[index].city
    return data.POOL_CITIES[index - len(STORES)]


def _ensure_promoters(session: DbSession, users: dict) -> list[Promoter]:
    """The 40 promoters in data order; the first ten linked to their logins."""
    emails = [promoter_email(first, last) for first, last in data.PROMOTER_NAMES]
    existing = {p.email: p for p in session.scalars(select(Promoter).where(Promoter.email.in_(emails)))}
    promoters = []
    for index, ((first, last), email) in enumerate(zip(data.PROMOTER_NAMES, emails, strict=True)):
        promoter = existing.get(email)
        if promoter is None:
            promoter = Promoter(
                first_name=first,
                last_name=last,
                email=email,
                phone=_phone(index),
                city=_promoter_city(index),
                active=True,
            )
            session.add(promoter)
        if index < data.PROMOTER_LOGINS and promoter.user is None:
            promoter.user = users[promoter_login(index + 1)]
        promoters.append(promoter)
    return promoters


def _applications(jobs: list[Job], promoters: list[Promoter], start: dt.date) -> list[Application]:
    """Primaries and backups accepted on their stores; more applied or rejected elsewhere."""
    applied_at = dt.datetime.combine(start - dt.timedelta(days=21), dt.time(9))
    seen: set[tuple[int, int]] = set()
    applications = []

    def add(promoter_index: int, job_index: int, status: str) -> None:
        seen.add((promoter_index, job_index))
        applications.append(
            Application(
                promoter=promoters[promoter_index],
                job=jobs[job_index],
                status=status,
                created_at=applied_at + dt.timedelta(hours=promoter_index * 5 + job_index),
            )
        )

    for index in range(len(STORES)):
        add(index, index, "accepted")
    for index, store in enumerate(STORES):
        add(len(STORES) + store.pool, index, "accepted")
    for index in range(len(promoters)):
        if index % 4 == 3:
            continue
        home = (
            index
            if index < len(STORES)
            else next(j for j, store in enumerate(STORES) if store.pool == index - len(STORES))
        )
        region = [
            j
            for j, store in enumerate(STORES)
            if store.territory == STORES[home].territory and (index, j) not in seen
        ]
        add(index, region[(index * 7) % len(region)], "rejected" if index % 4 == 2 else "applied")
    return applications


def _schedule(
    jobs: list[Job],
    promoters: list[Promoter],
    start: dt.date,
    today: dt.date,
    planner,
) -> tuple[list[Appointment], list[Booking], dict[int, set[dt.date]]]:
    """Appointments of every store and their bookings; no promoter twice on one day."""
    created = dt.datetime.combine(start - dt.timedelta(days=14), dt.time(8))
    busy: set[tuple[int, dt.date]] = set()
    appointments: list[Appointment] = []
    bookings: list[Booking] = []
    days_by_store: dict[int, set[dt.date]] = {}
    for index, (store, job) in enumerate(zip(STORES, jobs, strict=True)):
        backup = len(STORES) + store.pool
        showcase = 0
        days = promotion_days(store, start)
        if index == 0:
            days = with_today(days, today, closed_days(store.state, today, today))
        days_by_store[index] = set(days)
        for day in days:
            rng = random.Random(f"{RANDOM_SEED}:{store.name}:{day.isoformat()}")
            start_time, end_time = rng.choice(SHIFTS)
            if index == 0 and day == today:
                start_time, end_time = SHOWCASE_TODAY
            past = day < today
            updated = dt.datetime.combine(day, end_time) if past else created
            appointment = Appointment(
                job=job,
                date=day,
                start_time=start_time,
                end_time=end_time,
                status="done" if past else "planned",
                origin="agency",
                created_at=created,
                created_by=planner,
                updated_at=updated,
                updated_by=planner,
            )
            appointments.append(appointment)
            status = _booking_status(day, today, rng)
            who = index
            if index == 0 and day == today:
                status = "confirmed"  # promoter01's report of today (the reporting walk)
            elif index == 0 and today < day <= today + dt.timedelta(days=SHOWCASE_DAYS):
                # promoter01 shows both: confirmed and still-requested coming days.
                showcase += 1
                status = "requested" if showcase % 2 == 0 else "confirmed"
            elif status and rng.random() < BACKUP_SHARE and (backup, day) not in busy:
                who = backup
            if status is None or (who, day) in busy:
                continue
            busy.add((who, day))
            bookings.append(
                Booking(
                    appointment=appointment,
                    promoter=promoters[who],
                    status=status,
                    created_at=created,
                    updated_at=updated if status == "confirmed" else created,
                )
            )
    return appointments, bookings, days_by_store


def _proposals(
    jobs: list[Job],
    days_by_store: dict[int, set[dt.date]],
    today: dt.date,
    contact: Contact,
    user,
) -> list[Appointment]:
    """Three pending customer proposals at northern stores within the next two weeks."""
    index_by_name = {store.name: index for index, store in enumerate(STORES)}
    north = [index for index, store in enumerate(STORES) if store.territory == data.NORTH]
    last = today + dt.timedelta(days=14)
    proposals: list[Appointment] = []
    used: set[int] = set()
    now = utcnow()
    for store_name, offset, note in data.PROPOSALS:
        preferred = index_by_name[store_name]
        for index in [preferred, *north]:
            if index in used:
                continue
            store = STORES[index]
            closed = closed_days(store.state, today, last)
            free = [
                day
                for day in (today + dt.timedelta(days=n) for n in range(1, 15))
                if day.weekday() < 6 and day not in closed and day not in days_by_store[index]
            ]
            if not free:
                continue
            day = next((d for d in free if d >= today + dt.timedelta(days=offset)), free[0])
            used.add(index)
            proposals.append(
                Appointment(
                    job=jobs[index],
                    date=day,
                    start_time=dt.time(10),
                    end_time=dt.time(18),
                    status="proposed",
                    origin="customer",
                    proposed_by=contact,
                    note=note,
                    created_at=now,
                    created_by=user,
                    updated_at=now,
                    updated_by=user,
                )
            )
            break
    return proposals


def _build_campaign(
    session: DbSession,
    today: dt.date,
    customer: Company,
    locations: list[Location],
    promoters: list[Promoter],
    contacts: dict[str, Contact],
    users: dict,
) -> Project:
    """The project with one job per store, applications, appointments and bookings."""
    start, end = project_period(today)
    planner = users["agentur"]
    project = Project(
        name=data.PROJECT_NAME,
        customer=customer,
        start_date=start,
        end_date=end,
        description=(
            "Sechsmonatige Verkaufsförderung für Supertoy in 30 Media-Markt-Häusern: "
            "2 bis 6 Aktionstage pro Woche und Haus."
        ),
    )
    jobs = [
        Job(
            project=project,
            location=location,
            title=f"Promotion {store.name}",
            description=(
                f"Supertoy-Promotion im {store.name}, {store.city}: "
                f"bis zu {store.days} Aktionstage pro Woche (Mo–Sa)."
            ),
            status="open",
            planned_days_per_week=store.days,
        )
        for store, location in zip(STORES, locations, strict=True)
    ]
    session.add(project)
    session.add_all(jobs)
    session.add_all(_applications(jobs, promoters, start))
    appointments, bookings, days_by_store = _schedule(jobs, promoters, start, today, planner)
    proposals = _proposals(jobs, days_by_store, today, contacts["adm.nord"], users["adm.nord"])
    session.add_all(appointments)
    session.add_all(proposals)
    session.add_all(bookings)
    return project


def _ensure_notes_and_tasks(
    session: DbSession, today: dt.date, contacts: dict[str, Contact], users: dict
) -> None:
    """The notes and tasks of data.NOTES / data.TASKS, unless already there."""
    author = users["agentur"]
    contact_ids = [contact.id for contact in contacts.values()]
    notes = {
        (n.contact_id, n.text) for n in session.scalars(select(Note).where(Note.contact_id.in_(contact_ids)))
    }
    tasks = {
        (t.contact_id, t.title) for t in session.scalars(select(Task).where(Task.contact_id.in_(contact_ids)))
    }
    now = utcnow()
    for record in data.NOTES:
        contact = contacts[record.login]
        if (contact.id, record.text) not in notes:
            created = now - dt.timedelta(days=record.days_ago)
            session.add(Note(contact=contact, text=record.text, author=author, created_at=created))
    for record in data.TASKS:
        contact = contacts[record.login]
        if (contact.id, record.title) not in tasks:
            session.add(
                Task(
                    contact=contact,
                    title=record.title,
                    kind=record.kind,
                    due_date=today + dt.timedelta(days=record.due_in_days),
                    assignee=author,
                    done=record.done,
                )
            )


def _delete_all(session: DbSession) -> list[str]:
    """``--reset``: delete every row of the business tables and the demo logins; returns
    the storage keys of the deleted report files (their bytes go after the commit)."""
    session.flush()
    stored = [
        key
        for keys in session.execute(select(ReportFile.storage_key, ReportFile.thumbnail_key))
        for key in keys
        if key
    ]
    session.execute(update(Territory.__table__).values(parent_id=None))
    for table in BUSINESS_TABLES:
        session.execute(table.delete())
    user_model = current_app.appbuilder.sm.user_model
    for user in session.scalars(select(user_model).where(user_model.username.in_(demo_usernames()))):
        session.delete(user)
    session.flush()
    # Deleted rows must not linger in the identity map (SQLite reuses the ids).
    session.expunge_all()
    return stored


def demo_present(session: DbSession | None = None) -> bool:
    """Whether the demo project exists."""
    session = session or db.session
    return session.scalar(select(Project.id).where(Project.name == data.PROJECT_NAME).limit(1)) is not None


def count_rows(session: DbSession | None = None) -> dict[str, int]:
    """Rows per business table, pending customer proposals and demo logins."""
    session = session or db.session
    counts = {
        name: session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()
    }
    counts["proposals"] = session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.status == "proposed")
    )
    user_model = current_app.appbuilder.sm.user_model
    counts["demo_users"] = session.scalar(
        select(func.count()).select_from(user_model).where(user_model.username.in_(demo_usernames()))
    )
    return counts


def seed_demo(password: str = DEFAULT_PASSWORD, reset: bool = False) -> dict[str, int]:
    """Load the Supertoy demo (idempotent) and return the resulting row counts.

    ``reset`` first deletes all business data and the demo logins. Needs an app
    context and the roles (``flask --app app init-roles``).
    """
    if not password:
        raise click.ClickException("The demo password must not be empty.")
    session = db.session
    storage = storage_for(current_app)
    removed: list[str] = []
    try:
        if reset:
            removed = _delete_all(session)
        users = _ensure_users(_roles(), password)
        companies = _ensure_companies(session)
        territories = _ensure_territories(session)
        locations = _ensure_locations(session, companies[data.RETAIL_CHAIN_NAME], territories)
        customer = companies[data.CUSTOMER_NAME]
        contacts = _ensure_contacts(session, customer, territories, users)
        promoters = _ensure_promoters(session, users)
        session.flush()
        today = local_today()
        project = session.scalar(
            select(Project).where(Project.name == data.PROJECT_NAME, Project.customer_id == customer.id)
        )
        if project is None:
            project = _build_campaign(session, today, customer, locations, promoters, contacts, users)
        for contact in contacts.values():
            if contact not in project.contacts:
                project.contacts.append(contact)
        if users["agentur"] not in project.managers:
            project.managers.append(users["agentur"])
        _ensure_notes_and_tasks(session, today, contacts, users)
        session.flush()
        if ensure_reporting(session, project, today, users["agentur"], promoters[0].id):
            # Photos of the recent reports (bytes stored before the commit: if it fails,
            # the storage's orphan sweep removes them).
            attach_photos(session, project.id, today, storage.put)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for key in removed:
        storage.delete(key)
    return count_rows(session)
