"""The reporting area's figures (app.reporting.analytics) against brute force.

Hypothesis builds random little worlds — a territory forest, stores, projects and jobs with
or without (published or draft) day questionnaires, appointments of every status with
bookings, day reports of every status in two questionnaire versions (numbers, a product
group with opening stock, units sold and closing stock per row, photos and other files),
weekly reports, and one customer contact with random territories and projects — writes
each into the test database next to the Supertoy demo (in 2036, far from the demo's
dates) and compares every aggregate of analytics, for the agency and for the customer,
with the same figure computed in plain Python over the world. Every world is removed
again before the next example.

Plus a few examples a reader can check by hand on the demo.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from tests.test_visibility_property import one_in, optional_index
from tests.visibility_helpers import NORTH, SOUTH, JwtClient, db_session, demo_ids

#: A Monday; the worlds' six weeks span the switch to summer time (Sunday 30.03.2036).
BASE = dt.date(2036, 3, 17)
SPAN = 42
#: "Today" of progress (missing reports) and "now" (UTC) of punctuality.
TODAY = BASE + dt.timedelta(days=24)
NOW = dt.datetime(2036, 4, 20, 12, 0)
ZONE = ZoneInfo("Europe/Berlin")
CHOICES_V1 = (("a", "Apfel", "Apple"), ("b", "Birne", "Pear"), ("c", "Kirsche", "Cherry"))
CHOICES_V2 = (*CHOICES_V1, ("d", "Dattel", "Date"))
PROGRESS_STATUSES = ("planned", "done", "cancelled")
APPOINTMENT_STATUSES = ("planned", "done", "cancelled", "proposed", "rejected")
NUMBER_KEYS = ("opening_stock", "units_sold", "closing_stock")


# ---------------------------------------------------------------- the worlds


@dataclass(frozen=True)
class Item:
    product: str | None
    opening_stock: float | None
    units_sold: float | None
    closing_stock: float | None


@dataclass(frozen=True)
class DayReport:
    status: str
    version: int  # 0 = v1, 1 = v2 of the day questionnaire
    promoter: int
    contacts: float | None
    items: tuple[Item, ...]
    actual: tuple[int, int] | None  # start and end, minutes after midnight
    break_minutes: int | None
    submitted: int | None  # minutes after the deadline (negative: before); None = not submitted
    files: tuple[str, ...]  # content types of the report's files


@dataclass(frozen=True)
class Appt:
    job: int
    day: int  # days after BASE
    start: int  # minutes after midnight
    minutes: int
    status: str
    questionnaire: str | None  # the appointment's own: None, "published" or "draft"
    bookings: tuple[tuple[int, str], ...]  # (promoter, status)
    report: DayReport | None


@dataclass(frozen=True)
class WeekReport:
    job: int
    week: int
    status: str
    visits: float | None


@dataclass(frozen=True)
class Filter:
    kind: str  # none, project, territory, location, job
    index: int
    first: int
    last: int


@dataclass(frozen=True)
class World:
    parents: tuple[int | None, ...]
    locations: tuple[int | None, ...]  # store -> territory
    projects: tuple[str | None, ...]  # project -> its day questionnaire
    jobs: tuple[tuple[int, int, str | None], ...]  # (project, store, own questionnaire)
    appointments: tuple[Appt, ...]
    week_reports: tuple[WeekReport, ...]
    customer_territories: frozenset[int]
    customer_projects: frozenset[int]
    flt: Filter


numbers = st.one_of(st.none(), st.integers(0, 60).map(lambda n: n / 2))
questionnaires = st.sampled_from([None, None, "published", "draft"])


@st.composite
def day_reports(draw) -> DayReport:
    items = tuple(
        Item(draw(st.sampled_from([None, "a", "b", "c", "d"])), draw(numbers), draw(numbers), draw(numbers))
        for _ in range(draw(st.integers(0, 3)))
    )
    actual = None
    if not draw(one_in(4)):
        start = draw(st.integers(8 * 4, 12 * 4)) * 15
        actual = (start, start + draw(st.integers(-2, 40)) * 15)
    return DayReport(
        status=draw(st.sampled_from(["approved", "approved", "approved", "submitted", "returned", "draft"])),
        version=draw(st.integers(0, 1)),
        promoter=draw(st.integers(0, 1)),
        contacts=draw(numbers),
        items=items,
        actual=actual,
        break_minutes=draw(st.one_of(st.none(), st.integers(0, 60))),
        submitted=draw(st.sampled_from([-600, -1, 0, 1, 90, 3000])),
        files=tuple(
            draw(st.lists(st.sampled_from(["image/jpeg", "image/png", "application/pdf"]), max_size=2))
        ),
    )


@st.composite
def worlds(draw) -> World:
    n_territories = draw(st.integers(1, 5))
    parents = tuple(draw(optional_index(i)) for i in range(n_territories))
    locations = tuple(draw(st.lists(optional_index(n_territories), min_size=1, max_size=4)))
    projects = tuple(
        draw(st.lists(st.sampled_from(["published", "published", None, "draft"]), min_size=1, max_size=2))
    )
    jobs = tuple(
        (p, s, draw(questionnaires))
        for p in range(len(projects))
        for s in range(len(locations))
        if not draw(one_in(5))
    )
    appointments = []
    for j in range(len(jobs)):
        for _ in range(draw(st.integers(1, 5))):
            bookings = tuple(
                (
                    promoter,
                    draw(st.sampled_from(["confirmed", "confirmed", "confirmed", "requested", "cancelled"])),
                )
                for promoter in (0, 1)
                if draw(st.booleans())
            )
            appointments.append(
                Appt(
                    job=j,
                    # "today" of the progress more often than by chance
                    day=draw(st.integers(0, SPAN + 5).map(lambda d: (TODAY - BASE).days if d >= SPAN else d)),
                    start=draw(st.integers(8, 12)) * 60,
                    minutes=draw(st.integers(2, 18)) * 30,
                    status=draw(st.sampled_from(("done", "done", "planned", *APPOINTMENT_STATUSES))),
                    questionnaire=None if not draw(one_in(4)) else draw(questionnaires),
                    bookings=bookings,
                    report=None if draw(one_in(4)) else draw(day_reports()),
                )
            )
    week_reports = tuple(
        WeekReport(
            j,
            week,
            draw(st.sampled_from(["approved", "approved", "submitted", "draft"])),
            draw(numbers),
        )
        for j in range(len(jobs))
        for week in sorted(draw(st.sets(st.integers(0, SPAN // 7 - 1), max_size=2)))
    )
    # the whole six weeks half of the time, else a random part of them
    whole = draw(st.booleans())
    first = 0 if whole else draw(st.integers(0, SPAN - 1))
    last = SPAN - 1 if whole else draw(st.integers(first, SPAN - 1))
    kind = draw(st.sampled_from(["none", "none", "project", "territory", "location", "job"]))
    sizes = {
        "none": 1,
        "project": len(projects),
        "territory": n_territories,
        "location": len(locations),
        "job": max(1, len(jobs)),
    }
    return World(
        parents=parents,
        locations=locations,
        projects=projects,
        jobs=jobs,
        appointments=tuple(appointments),
        week_reports=week_reports,
        customer_territories=frozenset(
            draw(st.sets(st.integers(0, n_territories - 1), min_size=1, max_size=2))
        ),
        customer_projects=frozenset(p for p in range(len(projects)) if not draw(one_in(6))),
        flt=Filter(kind, draw(st.integers(0, sizes[kind] - 1)), first, last),
    )


# ---------------------------------------------------------------- the fixed rows of the module


@dataclass
class Fixed:
    """Questionnaires (day v1 + v2, a draft, weekly), a customer company, two promoters and
    one customer login, shared by every world of the module."""

    tag: str
    day_versions: list[int] = field(default_factory=list)
    draft: int = 0
    day: int = 0
    week: int = 0
    week_version: int = 0
    company: int = 0
    promoters: list[int] = field(default_factory=list)
    user: int = 0
    contact: int = 0
    questionnaires: list[int] = field(default_factory=list)


def _choices(choices) -> str:
    return "\n".join(" | ".join(choice) for choice in choices)


@pytest.fixture(scope="module")
def fixed(app) -> Iterator[Fixed]:
    from app.extensions import db
    from app.models.crm import Company, Contact
    from app.models.promoter import Promoter
    from app.models.reporting import Question, Questionnaire, QuestionnairePage, QuestionnaireVersion

    tag = f"fig{uuid.uuid4().hex[:10]}"
    f = Fixed(tag)
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            f"{tag}-c", "Figures", "Customer", f"{tag}@example.com", sm.find_role("Customer"), "pw"
        )
        f.user = user.id
        db.session.remove()
    published = dt.datetime(2036, 1, 1)
    with app.app_context(), db.engine.begin() as conn:

        def add(model, **values) -> int:
            return conn.execute(insert(model).values(**values)).inserted_primary_key[0]

        f.company = add(Company, name=f"{tag} Kunde", kind="customer")
        f.contact = add(
            Contact, company_id=f.company, first_name="Figures", last_name=f"{tag} C", user_id=f.user
        )
        f.promoters = [add(Promoter, first_name=f"{tag} P{i}", last_name="Promo") for i in (0, 1)]
        f.day = add(Questionnaire, name=f"{tag} Tag", kind="day")
        f.draft = add(Questionnaire, name=f"{tag} Entwurf", kind="day")
        f.week = add(Questionnaire, name=f"{tag} Woche", kind="week")
        f.questionnaires = [f.day, f.draft, f.week]
        for number, choices in ((1, CHOICES_V1), (2, CHOICES_V2)):
            version = add(QuestionnaireVersion, questionnaire_id=f.day, number=number, published_at=published)
            f.day_versions.append(version)
            page = add(QuestionnairePage, version_id=version, position=0, title_de="Seite")
            common = {"version_id": version, "page_id": page}

            def ask(position: int, key: str, kind: str, de: str, en: str, **extra) -> int:
                values = {"position": position, "key": key, "kind": kind, "label_de": de, "label_en": en}
                return add(Question, **common, **values, **extra)  # noqa: B023 (called at once)

            ask(0, "contacts", "integer", f"Kontakte v{number}", f"Contacts v{number}", unit="Pers.")
            group = ask(1, "products", "group", "Produkte", "Products")
            ask(
                0,
                "product",
                "single_choice",
                "Produkt",
                "Product",
                parent_id=group,
                choices=_choices(choices),
            )
            for position, key in enumerate(NUMBER_KEYS, start=1):
                ask(position, key, "decimal", f"{key} de", f"{key} en", parent_id=group)
            ask(2, "display_photo", "photo", f"Foto v{number}", f"Photo v{number}")
        draft = add(QuestionnaireVersion, questionnaire_id=f.draft, number=1, published_at=None)
        page = add(QuestionnairePage, version_id=draft, position=0, title_de="Seite")
        add(
            Question, version_id=draft, page_id=page, position=0, key="contacts", kind="integer", label_de="K"
        )
        f.week_version = add(QuestionnaireVersion, questionnaire_id=f.week, number=1, published_at=published)
        page = add(QuestionnairePage, version_id=f.week_version, position=0, title_de="Woche")
        add(
            Question,
            version_id=f.week_version,
            page_id=page,
            position=0,
            key="visits",
            kind="decimal",
            label_de="Besuche",
            label_en="Visits",
        )
    yield f
    from flask_appbuilder.security.sqla.models import User, assoc_user_role

    from app.models.reporting import Question as Q
    from app.models.reporting import QuestionnairePage as P
    from app.models.reporting import QuestionnaireVersion as V

    with app.app_context(), db.engine.begin() as conn:
        versions = select(V.id).where(V.questionnaire_id.in_(f.questionnaires))
        conn.execute(update(Q).where(Q.version_id.in_(versions)).values(parent_id=None))
        conn.execute(delete(Q).where(Q.version_id.in_(versions)))
        conn.execute(delete(P).where(P.version_id.in_(versions)))
        conn.execute(delete(V).where(V.questionnaire_id.in_(f.questionnaires)))
        conn.execute(delete(Questionnaire).where(Questionnaire.id.in_(f.questionnaires)))
        conn.execute(delete(Contact).where(Contact.id == f.contact))
        conn.execute(delete(Promoter).where(Promoter.id.in_(f.promoters)))
        conn.execute(delete(Company).where(Company.id == f.company))
        conn.execute(delete(assoc_user_role).where(assoc_user_role.c.user_id == f.user))
        conn.execute(delete(User).where(User.id == f.user))


# ---------------------------------------------------------------- writing a world


@dataclass
class Written:
    tag: str
    territory: list[int] = field(default_factory=list)
    location: list[int] = field(default_factory=list)
    project: list[int] = field(default_factory=list)
    job: list[int] = field(default_factory=list)
    appointment: list[int] = field(default_factory=list)
    day_report: dict[int, int] = field(default_factory=dict)  # appointment index -> report id
    week_report: list[int] = field(default_factory=list)
    files: dict[int, list[int]] = field(default_factory=dict)  # report id -> file ids
    location_names: list[str] = field(default_factory=list)


def day_of(appt: Appt) -> dt.date:
    return BASE + dt.timedelta(days=appt.day)


def clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def end_utc(appt: Appt) -> dt.datetime:
    """The appointment's end (local wall-clock time) in UTC, naive like the stored timestamps."""
    local = dt.datetime.combine(day_of(appt), clock(appt.start + appt.minutes)).replace(tzinfo=ZONE)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def deadline(appt: Appt, hours: int = 24) -> dt.datetime:
    return end_utc(appt) + dt.timedelta(hours=hours)


def questionnaire_of(world: World, appt: Appt) -> str | None:
    project, _store, own = world.jobs[appt.job]
    for value in (appt.questionnaire, own, world.projects[project]):
        if value is not None:
            return value
    return None


def write_world(app, world: World, f: Fixed, tag: str) -> Written:
    from app.extensions import db
    from app.models.crm import Location, Territory, contact_territory
    from app.models.planning import Appointment, Booking, Job, Project, project_contact
    from app.models.reporting import Report, ReportAnswer, ReportFile

    w = Written(tag)
    questionnaire = {None: None, "published": f.day, "draft": f.draft}
    with app.app_context(), db.engine.begin() as conn:

        def add(model, **values) -> int:
            return conn.execute(insert(model).values(**values)).inserted_primary_key[0]

        for i, parent in enumerate(world.parents):
            w.territory.append(
                add(Territory, name=f"{tag} T{i}", parent_id=None if parent is None else w.territory[parent])
            )
        for i, territory in enumerate(world.locations):
            name = f"{tag} L{i}"
            w.location_names.append(name)
            w.location.append(
                add(
                    Location,
                    name=name,
                    street="Weg 1",
                    postcode="20095",
                    city=f"Stadt {i}",
                    federal_state="HH",
                    territory_id=None if territory is None else w.territory[territory],
                )
            )
        for i, q in enumerate(world.projects):
            w.project.append(
                add(
                    Project,
                    name=f"{tag} P{i}",
                    customer_id=f.company,
                    start_date=BASE,
                    end_date=BASE + dt.timedelta(days=SPAN),
                    day_questionnaire_id=questionnaire[q],
                    week_questionnaire_id=f.week,
                )
            )
        for i, (project, store, q) in enumerate(world.jobs):
            w.job.append(
                add(
                    Job,
                    project_id=w.project[project],
                    location_id=w.location[store],
                    title=f"{tag} J{i}",
                    status="staffed",
                    day_questionnaire_id=questionnaire[q],
                )
            )
        for i, appt in enumerate(world.appointments):
            appointment = add(
                Appointment,
                job_id=w.job[appt.job],
                date=day_of(appt),
                start_time=clock(appt.start),
                end_time=clock(appt.start + appt.minutes),
                status=appt.status,
                day_questionnaire_id=questionnaire[appt.questionnaire],
            )
            w.appointment.append(appointment)
            for promoter, status in appt.bookings:
                add(Booking, appointment_id=appointment, promoter_id=f.promoters[promoter], status=status)
            r = appt.report
            if r is None:
                continue
            submitted = None
            if r.status != "draft":
                submitted = deadline(appt, app.config["REPORT_REMINDER_HOURS"]) + dt.timedelta(
                    minutes=r.submitted
                )
            report = add(
                Report,
                kind="day",
                appointment_id=appointment,
                job_id=w.job[appt.job],
                questionnaire_version_id=f.day_versions[r.version],
                promoter_id=f.promoters[r.promoter],
                status=r.status,
                actual_start=None if r.actual is None else clock(r.actual[0]),
                actual_end=None if r.actual is None else clock(r.actual[1] % (24 * 60)),
                break_minutes=r.break_minutes,
                submitted_at=submitted,
            )
            w.day_report[i] = report
            answers = []
            if r.contacts is not None:
                answers.append({"question_key": "contacts", "value_number": r.contacts})
            for item, row in enumerate(r.items):
                if row.product is not None:
                    answers.append({"question_key": "product", "value_text": row.product, "item": item})
                for key in NUMBER_KEYS:
                    if getattr(row, key) is not None:
                        answers.append({"question_key": key, "value_number": getattr(row, key), "item": item})
                for answer in answers[-4:]:
                    if "item" in answer:
                        answer["group_key"] = "products"
            for answer in answers:
                add(ReportAnswer, report_id=report, **{"item": 0, **answer})
            w.files[report] = [
                add(
                    ReportFile,
                    report_id=report,
                    question_key="display_photo",
                    storage_key=f"{tag}/{report}/{n}",
                    content_type=content_type,
                    byte_size=10,
                )
                for n, content_type in enumerate(r.files)
            ]
        for week in world.week_reports:
            report = add(
                Report,
                kind="week",
                job_id=w.job[week.job],
                week_start=BASE + dt.timedelta(days=7 * week.week),
                questionnaire_version_id=f.week_version,
                promoter_id=f.promoters[0],
                status=week.status,
            )
            w.week_report.append(report)
            if week.visits is not None:
                add(ReportAnswer, report_id=report, question_key="visits", item=0, value_number=week.visits)
        for t in sorted(world.customer_territories):
            conn.execute(insert(contact_territory).values(contact_id=f.contact, territory_id=w.territory[t]))
        for p in sorted(world.customer_projects):
            conn.execute(insert(project_contact).values(project_id=w.project[p], contact_id=f.contact))
    return w


def remove_world(app, w: Written, f: Fixed) -> None:
    from app.extensions import db
    from app.models.crm import Location, Territory, contact_territory
    from app.models.planning import Appointment, Booking, Job, Project, project_contact
    from app.models.reporting import Report, ReportAnswer, ReportFile

    with app.app_context(), db.engine.begin() as conn:
        reports = select(Report.id).where(Report.job_id.in_(w.job))
        conn.execute(delete(ReportAnswer).where(ReportAnswer.report_id.in_(reports)))
        conn.execute(delete(ReportFile).where(ReportFile.report_id.in_(reports)))
        conn.execute(delete(Report).where(Report.job_id.in_(w.job)))
        conn.execute(delete(Booking).where(Booking.appointment_id.in_(w.appointment)))
        conn.execute(delete(Appointment).where(Appointment.id.in_(w.appointment)))
        conn.execute(delete(Job).where(Job.id.in_(w.job)))
        conn.execute(delete(project_contact).where(project_contact.c.contact_id == f.contact))
        conn.execute(delete(contact_territory).where(contact_territory.c.contact_id == f.contact))
        conn.execute(delete(Project).where(Project.id.in_(w.project)))
        conn.execute(delete(Location).where(Location.id.in_(w.location)))
        conn.execute(update(Territory).where(Territory.id.in_(w.territory)).values(parent_id=None))
        conn.execute(delete(Territory).where(Territory.id.in_(w.territory)))


@contextmanager
def world_in_database(app, world: World, f: Fixed) -> Iterator[Written]:
    tag = f"{f.tag}w{uuid.uuid4().hex[:6]}"
    w = Written(tag)
    try:
        w = write_world(app, world, f, tag)
        yield w
    finally:
        remove_world(app, w, f)


# ---------------------------------------------------------------- brute force


class Brute:
    """The figures of one world for one viewer ("agency" or "customer"), in plain Python."""

    def __init__(self, world: World, w: Written, viewer: str, hours: int):
        self.world, self.w, self.viewer, self.hours = world, w, viewer, hours
        flt = world.flt
        self.first = BASE + dt.timedelta(days=flt.first)
        self.last = BASE + dt.timedelta(days=flt.last)

    # -- the tree and the rules

    def below(self, territory: int | None, ancestors) -> bool:
        """``territory`` is one of ``ancestors`` or lies below one of them."""
        while territory is not None:
            if territory in ancestors:
                return True
            territory = self.world.parents[territory]
        return False

    def job_visible(self, j: int) -> bool:
        if self.viewer == "agency":
            return True
        project, store, _q = self.world.jobs[j]
        return project in self.world.customer_projects and self.below(
            self.world.locations[store], self.world.customer_territories
        )

    def job_filtered(self, j: int) -> bool:
        flt = self.world.flt
        project, store, _q = self.world.jobs[j]
        return {
            "none": True,
            "project": project == flt.index,
            "territory": self.below(self.world.locations[store], {flt.index}),
            "location": store == flt.index,
            "job": j == flt.index,
        }[flt.kind]

    def job_in(self, j: int) -> bool:
        return self.job_visible(j) and self.job_filtered(j)

    def bases(self) -> set[int]:
        world = self.world
        if world.flt.kind == "territory":
            return {world.flt.index}
        if self.viewer == "customer":
            own = world.customer_territories
            return {t for t in own if not self.below(world.parents[t], own)}
        return {t for t, parent in enumerate(world.parents) if parent is None}

    def bucket(self, territory: int | None) -> int | None:
        bases = self.bases()
        if territory in bases:
            return territory
        while territory is not None:
            parent = self.world.parents[territory]
            if parent in bases:
                return territory
            territory = parent
        return None

    # -- reports

    def reports(self) -> list[dict]:
        """The approved reports of the filter: id, job, day, version, store, answers, files."""
        found = []
        for i, appt in enumerate(self.world.appointments):
            r = appt.report
            if r is None or r.status != "approved" or not self.job_in(appt.job):
                continue
            if not self.first <= day_of(appt) <= self.last:
                continue
            answers = []
            if r.contacts is not None:
                answers.append((None, "contacts", None, r.contacts))
            for item in r.items:
                for key in NUMBER_KEYS:
                    if getattr(item, key) is not None:
                        answers.append(("products", key, item.product, getattr(item, key)))
            report_id = self.w.day_report[i]
            found.append(
                {
                    "id": report_id,
                    "job": appt.job,
                    "day": day_of(appt),
                    "version": r.version,
                    "store": self.world.jobs[appt.job][1],
                    "answers": answers,
                    "files": [
                        (file_id, content_type)
                        for file_id, content_type in zip(self.w.files[report_id], r.files, strict=True)
                    ],
                    "items": r.items,
                }
            )
        for n, week in enumerate(self.world.week_reports):
            day = BASE + dt.timedelta(days=7 * week.week)
            if week.status != "approved" or not self.job_in(week.job) or not self.first <= day <= self.last:
                continue
            answers = [] if week.visits is None else [(None, "visits", None, week.visits)]
            found.append(
                {
                    "id": self.w.week_report[n],
                    "job": week.job,
                    "day": day,
                    "version": "week",
                    "store": self.world.jobs[week.job][1],
                    "answers": answers,
                    "files": [],
                    "items": (),
                }
            )
        return found

    def figure_ids(self) -> list[str]:
        reports = self.reports()
        versions = {r["version"] for r in reports}
        ids = []
        if versions & {0, 1}:
            codes = [c[0] for c in (CHOICES_V2 if 1 in versions else CHOICES_V1)]
            ids.append("contacts")
            for key in NUMBER_KEYS:
                ids.append(f"products.{key}")
                ids.extend(f"products.{key}:{code}" for code in codes)
        if "week" in versions:
            ids.append("visits")
        return ids

    def figures(self, key_of=None) -> dict:
        """{bucket: {figure id: (total, answers, reports, days)}}; key_of(report) → bucket."""
        known = set(self.figure_ids())
        sums: dict = defaultdict(lambda: defaultdict(lambda: [0.0, 0, set(), set()]))
        for r in self.reports():
            bucket = key_of(r) if key_of else 0
            if bucket is None:
                continue
            for group, key, choice, value in r["answers"]:
                ids = [key if group is None else f"{group}.{key}"]
                if group is not None and choice is not None:
                    ids.append(f"{ids[0]}:{choice}")
                for figure_id in ids:
                    if figure_id not in known:
                        continue
                    entry = sums[bucket][figure_id]
                    entry[0] += value
                    entry[1] += 1
                    entry[2].add(r["id"])
                    entry[3].add((r["job"], r["day"]))
        return {
            bucket: {fid: (e[0], e[1], len(e[2]), len(e[3])) for fid, e in values.items()}
            for bucket, values in sums.items()
        }

    def sell_through(self) -> dict:
        result: dict = {}
        reports = self.reports()
        if not any(r["version"] in (0, 1) for r in reports):
            return result
        total = [0.0, 0.0]
        for r in reports:
            for item in r["items"]:
                if item.opening_stock is None or item.closing_stock is None:
                    continue
                total[0] += item.opening_stock
                total[1] += item.closing_stock
                if item.product is not None:
                    entry = result.setdefault(("products", item.product), [0.0, 0.0])
                    entry[0] += item.opening_stock
                    entry[1] += item.closing_stock
        result[("products", None)] = total
        return {key: tuple(value) for key, value in result.items()}

    def photos(self) -> list[int]:
        rows = [
            (r["day"], file_id)
            for r in self.reports()
            for file_id, content_type in r["files"]
            if content_type.startswith("image/")
        ]
        return [file_id for _day, file_id in sorted(rows, reverse=True)]

    # -- appointments

    def appointments(self) -> list[tuple[int, Appt]]:
        return [
            (i, appt)
            for i, appt in enumerate(self.world.appointments)
            if self.job_in(appt.job) and self.first <= day_of(appt) <= self.last
        ]

    def progress(self, key_of=None) -> dict:
        """{bucket: (planned, done, cancelled, missing, planned min, worked min, days, staffed)}"""
        counts: dict = defaultdict(lambda: [0] * 6)
        days: dict = defaultdict(dict)  # bucket -> (job, date) -> staffed
        for _i, appt in self.appointments():
            if appt.status not in PROGRESS_STATUSES:
                continue
            bucket = key_of(appt) if key_of else 0
            c = counts[bucket]
            c[("planned", "done", "cancelled").index(appt.status)] += 1
            if appt.status == "cancelled":
                continue
            r = appt.report
            approved = r is not None and r.status == "approved"
            needs = questionnaire_of(self.world, appt) == "published"
            if needs and not approved and (appt.status == "done" or day_of(appt) < TODAY):
                c[3] += 1
            c[4] += appt.minutes
            if approved and r.actual is not None and r.actual[1] > r.actual[0] and r.actual[1] < 24 * 60:
                c[5] += r.actual[1] - r.actual[0] - (r.break_minutes or 0)
            staffed = any(status == "confirmed" for _p, status in appt.bookings)
            key = (appt.job, day_of(appt))
            days[bucket][key] = days[bucket].get(key, False) or staffed
        return {
            bucket: (*c[:6], len(days[bucket]), sum(days[bucket].values())) for bucket, c in counts.items()
        }

    def punctuality(self) -> dict:
        """promoter index -> (due, on time, late, missing, delays in hours)"""
        rows: dict = {}
        for _i, appt in self.appointments():
            if appt.status not in ("planned", "done") or questionnaire_of(self.world, appt) != "published":
                continue
            r = appt.report
            submitted = None
            if r is not None and r.status != "draft":
                submitted = deadline(appt, self.hours) + dt.timedelta(minutes=r.submitted)
            for promoter, status in appt.bookings:
                if status != "confirmed":
                    continue
                limit = deadline(appt, self.hours)
                due = submitted is not None or limit < NOW
                if not due:
                    continue
                row = rows.setdefault(promoter, [0, 0, 0, 0, []])
                row[0] += 1
                if submitted is None:
                    row[3] += 1
                    continue
                row[1 if submitted <= limit else 2] += 1
                row[4].append((submitted - end_utc(appt)).total_seconds() / 3600)
        return rows


# ---------------------------------------------------------------- the property


def scope_of(session, viewer: str, f: Fixed):
    from app.security.visibility import Scope

    if viewer == "agency":
        return Scope("agency")
    return Scope("customer", f.user).resolved(session)


def report_filter(world: World, w: Written):
    from app.reporting.analytics import ReportFilter

    flt = world.flt
    values = {}
    if flt.kind == "project":
        values["project_id"] = w.project[flt.index]
    elif flt.kind == "territory":
        values["territory_id"] = w.territory[flt.index]
    elif flt.kind == "location":
        values["location_id"] = w.location[flt.index]
    elif flt.kind == "job":
        values["job_id"] = w.job[flt.index] if w.job else -1
    return ReportFilter(
        date_from=BASE + dt.timedelta(days=flt.first), date_to=BASE + dt.timedelta(days=flt.last), **values
    )


def as_tuple(value) -> tuple:
    return (value.total, value.answers, value.reports, value.days)


def progress_tuple(p) -> tuple:
    return (
        p.planned,
        p.done,
        p.cancelled,
        p.missing_report,
        p.planned_minutes,
        p.worked_minutes,
        p.days,
        p.staffed_days,
    )


def check(app, world: World, f: Fixed) -> None:
    from app.reporting import analytics

    hours = int(app.config["REPORT_REMINDER_HOURS"])
    with world_in_database(app, world, f) as w, db_session(app) as session:
        flt = report_filter(world, w)
        for viewer in ("agency", "customer"):
            scope = scope_of(session, viewer, f)
            brute = Brute(world, w, viewer, hours)
            where = f"{viewer}, filter {world.flt}"
            reports = brute.reports()
            if reports:
                event(f"{viewer}: approved reports in the filter")
                if viewer == "customer" and any(
                    world.parents[t] is not None for t in world.customer_territories
                ):
                    event("a customer with a sub-territory sees approved reports")

            # figure definitions and the totals
            defs = analytics.figure_defs(session, scope, flt)
            assert [d.id for d in defs] == brute.figure_ids(), where
            versions = {r["version"] for r in reports}
            for d in defs:
                if d.id == "contacts":
                    assert d.label("de") == ("Kontakte v2" if 1 in versions else "Kontakte v1"), where
                    assert d.label("en").startswith("Contacts") and d.unit == "Pers."
                if d.id == "products.units_sold:d":
                    assert (
                        d.label("de") == "units_sold de – Dattel" and d.label("en") == "units_sold en – Date"
                    )
            got = {k: as_tuple(v) for k, v in analytics.figures(session, scope, flt).items() if v.answers}
            assert got == brute.figures().get(0, {}), where
            assert set(analytics.figures(session, scope, flt)) == {d.id for d in defs}

            # by week, month, store, job and territory
            keys = {
                "week": lambda r: r["day"] - dt.timedelta(days=r["day"].weekday()),
                "month": lambda r: r["day"].replace(day=1),
                "store": lambda r: w.location[r["store"]],
                "job": lambda r: w.job[r["job"]],
                "territory": lambda r, brute=brute: (
                    None
                    if brute.bucket(world.locations[r["store"]]) is None
                    else w.territory[brute.bucket(world.locations[r["store"]])]
                ),
            }
            for dimension, key_of in keys.items():
                buckets = analytics.figures_by(session, scope, flt, dimension)
                got = {b.key: {k: as_tuple(v) for k, v in b.values.items()} for b in buckets}
                assert got == brute.figures(key_of), f"{where}, by {dimension}"
                if dimension in ("week", "month"):
                    assert [b.key for b in buckets] == sorted(got)
                if dimension == "week" and buckets:
                    monday = buckets[0].key
                    assert buckets[0].label == f"{monday.isocalendar()[1]:02d}/{monday.isocalendar()[0]}"
                if dimension == "territory" and len(buckets) > 1:
                    event("figures of more than one territory")

            # sell-through
            got = {
                (s.group_key, s.choice): (s.opening, s.closing)
                for s in analytics.sell_through(session, scope, flt)
            }
            assert got == brute.sell_through(), where

            # photos, page by page
            expected_photos = brute.photos()
            seen, page = [], 1
            while True:
                result = analytics.photos(session, scope, flt, page=page, per_page=2)
                seen.extend(item.file_id for item in result.items)
                assert result.has_more == (len(expected_photos) > 2 * page), where
                if not result.has_more:
                    break
                page += 1
            assert seen == expected_photos, where
            if expected_photos:
                event("photos")
                item = analytics.photos(session, scope, flt).items[0]
                assert item.label_de in ("Foto v1", "Foto v2") and item.question_key == "display_photo"

            # the export's rows: every report once, in order, with its answers
            rows = list(analytics.report_rows(session, scope, flt))
            names = {w.location[i]: name for i, name in enumerate(w.location_names)}
            expected_order = sorted(reports, key=lambda r: (r["day"], w.location_names[r["store"]], r["id"]))
            assert [row.report_id for row, _answers in rows] == [r["id"] for r in expected_order], where
            for (row, answers), r in zip(rows, expected_order, strict=True):
                assert row.day == r["day"] and names[row.location_id] == row.location_name
                numbers = sorted(a.value_number for a in answers if a.value_number is not None)
                assert numbers == sorted(value for _g, _k, _c, value in r["answers"]), where
                assert row.promoter.endswith("P.") and "Promo" not in row.promoter

            sizes: dict[str, int] = {}
            for r in reports:
                used = [
                    n for n, item in enumerate(r["items"]) if any(v is not None for v in vars(item).values())
                ]
                if used:
                    sizes["products"] = max(sizes.get("products", 0), used[-1] + 1)
            assert analytics.group_sizes(session, scope, flt) == sizes, where

            # progress: in total, per week, per store
            today = TODAY
            assert progress_tuple(
                analytics.progress(session, scope, flt, today=today)
            ) == brute.progress().get(0, (0,) * 8), where
            weeks = analytics.progress_by_week(session, scope, flt, today=today)
            expected = brute.progress(lambda a: day_of(a) - dt.timedelta(days=day_of(a).weekday()))
            assert {k: progress_tuple(p) for k, p in weeks} == expected, where
            assert [k for k, _p in weeks] == sorted(expected)
            stores = analytics.progress_by_store(session, scope, flt, today=today)
            expected = brute.progress(lambda a: w.location[world.jobs[a.job][1]])
            assert {s.location_id: progress_tuple(s.progress) for s in stores} == expected, where
            if any(p[3] for p in expected.values()):
                event("missing reports")

            # the territory comparison
            if viewer == "customer" or world.flt.kind != "none":
                jobs = [j for j in range(len(world.jobs)) if brute.job_in(j)]
                buckets = {brute.bucket(world.locations[world.jobs[j][1]]) for j in jobs} - {None}
                assert analytics.compares_territories(session, scope, flt) == (len(buckets) > 1), where

        # punctuality (the agency)
        got = {
            row.promoter_id: (row.due, row.on_time, row.late, row.missing, row.avg_delay_hours)
            for row in analytics.punctuality(session, flt, now=NOW)
        }
        expected = Brute(world, w, "agency", hours).punctuality()
        assert set(got) == {f.promoters[p] for p in expected}, world.flt
        for p, (due, on_time, late, missing, delays) in expected.items():
            row = got[f.promoters[p]]
            assert row[:4] == (due, on_time, late, missing), (p, row, expected[p])
            if delays:
                assert row[4] == pytest.approx(sum(delays) / len(delays), abs=1e-6)
                event("punctuality with submitted reports")
            else:
                assert row[4] is None


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_figures_match_brute_force(app, fixed, world: World):
    check(app, world, fixed)


# ---------------------------------------------------------------- examples on the demo


def test_adm_nord_units_sold_per_week_equal_the_hand_count_over_the_api(app):
    """What adm.nord reads in the reports API, summed by hand per week, is what the reporting
    area shows as units sold per week."""
    from flask_appbuilder.security.sqla.models import User

    from app.reporting.analytics import ReportFilter, figures_by
    from app.security.visibility import scope_for

    client = JwtClient(app, "adm.nord")
    rows, page = [], 0
    while True:
        body = client.get(f"/api/v1/report/?page={page}&page_size=500").get_json()
        rows.extend(body["result"])
        if len(body["result"]) < 500:
            break
        page += 1
    by_week: dict[dt.date, float] = defaultdict(float)
    days = []
    for row in rows:
        assert row["status"] == "approved"
        if row["kind"] != "day":
            continue
        day = dt.date.fromisoformat(row["date"])
        days.append(day)
        monday = day - dt.timedelta(days=day.weekday())
        for product in row["answers"].get("products", []):
            by_week[monday] += product.get("units_sold") or 0
    assert by_week, "the demo has approved northern reports"
    with db_session(app) as session:
        user = session.scalar(select(User).where(User.username == "adm.nord"))
        scope = scope_for(user).resolved(session)
        buckets = figures_by(session, scope, ReportFilter(min(days), max(days)), "week")
    shown = {
        b.key: b.values["products.units_sold"].total for b in buckets if "products.units_sold" in b.values
    }
    assert shown == dict(by_week)


def test_vertrieb_compares_north_and_south_adm_nord_sees_the_north_only(app):
    from flask_appbuilder.security.sqla.models import User

    from app.common.timezone import local_today
    from app.reporting.analytics import ReportFilter, compares_territories, figures_by, territory_choices
    from app.security.visibility import scope_for

    ids = demo_ids(app)
    with db_session(app) as session:
        today = local_today()
        flt = ReportFilter(today - dt.timedelta(days=90), today)
        for username, compares, buckets in (
            ("vertrieb", True, [NORTH, SOUTH]),
            ("adm.nord", False, [NORTH]),
        ):
            user = session.scalar(select(User).where(User.username == username))
            scope = scope_for(user).resolved(session)
            assert compares_territories(session, scope, flt) is compares
            assert [b.label for b in figures_by(session, scope, flt, "territory")] == buckets
        nord = scope_for(session.scalar(select(User).where(User.username == "adm.nord"))).resolved(session)
        assert [t for t, _name in territory_choices(session, nord)] == [ids["north"]]
        # a filter on the south gives adm.nord nothing (the filter never widens the scope)
        south = ReportFilter(flt.date_from, flt.date_to, territory_id=ids["south"])
        assert figures_by(session, nord, south, "store") == []


def test_the_named_periods():
    from app.reporting.analytics import RANGES, period_of

    today = dt.date(2026, 3, 4)  # a Wednesday
    assert period_of("this_week", today) == (dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    assert period_of("last_week", today) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert period_of("last_4_weeks", today) == (dt.date(2026, 2, 9), dt.date(2026, 3, 8))
    assert period_of("this_month", today) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert period_of("last_month", today) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert period_of("this_year", today) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert period_of("last_month", dt.date(2026, 1, 15)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert all(period_of(code, today)[0] <= period_of(code, today)[1] for code in RANGES)
    with pytest.raises(ValueError):
        period_of("yesterday", today)


def test_ids_beyond_the_databases_integers_match_nothing(app):
    """An id typed into a URL that no INTEGER column can hold gives empty figures, no error."""
    from flask_appbuilder.security.sqla.models import User

    from app.reporting import analytics
    from app.security.visibility import scope_for

    huge = 10**20
    with db_session(app) as session:
        user = session.scalar(select(User).where(User.username == "vertrieb"))
        scope = scope_for(user).resolved(session)
        first, last = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
        assert analytics.figures_by(session, scope, analytics.ReportFilter(first, last), "store")
        for name in ("project_id", "territory_id", "location_id", "job_id"):
            flt = analytics.ReportFilter(first, last, **{name: huge})
            assert analytics.figures_by(session, scope, flt, "store") == [], name
            assert analytics.progress(session, scope, flt).appointments == 0, name
            assert analytics.photos(session, scope, flt).items == [], name
            assert not analytics.compares_territories(session, scope, flt), name
        assert analytics.photos(session, scope, analytics.ReportFilter(first, last), page=huge).items == []


def test_the_demo_figures_in_german_and_english_and_the_sell_through(app):
    """vertrieb's figures: named as in the questionnaire, per product in both languages; the
    units sold per product add up to the group's total, and the demo's closing stock is the
    opening stock minus the units sold, so the sell-through's sold units are the units sold."""
    from flask_appbuilder.security.sqla.models import User

    from app.common.timezone import local_today
    from app.reporting.analytics import ReportFilter, figure_defs, figures, sell_through
    from app.security.visibility import scope_for

    with db_session(app) as session:
        user = session.scalar(select(User).where(User.username == "vertrieb"))
        scope = scope_for(user).resolved(session)
        today = local_today()
        flt = ReportFilter(today - dt.timedelta(days=60), today)
        defs = {d.id: d for d in figure_defs(session, scope, flt)}
        values = figures(session, scope, flt)
        rows = {s.choice: s for s in sell_through(session, scope, flt)}
    turbo = defs["products.units_sold:turbo_kreisel"]
    assert turbo.label("de") == "Verkauft – Turbo-Kreisel"
    assert turbo.label("en") == "Units sold – Turbo Spinner"
    assert defs["contacts"].label("en") == "Customer contacts" and defs["contacts"].choice is None
    assert list(defs)[0] == "contacts"  # questionnaire order
    products = [i for i in defs if i.startswith("products.units_sold:")]
    total = values["products.units_sold"]
    assert total.total > 0 and total.total == sum(values[i].total for i in products)
    assert total.reports == values["contacts"].reports  # every approved day report counts its products
    assert total.avg == total.total / total.reports and total.per_day == total.total / total.days
    assert rows[None].sold == total.total
    assert rows["turbo_kreisel"].sold == values["products.units_sold:turbo_kreisel"].total
    assert 0 < rows["turbo_kreisel"].share < 1 and rows["turbo_kreisel"].label("en") == "Turbo Spinner"


def test_the_export_rows_stream_in_two_statements_whatever_their_number(app):
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import event

    from app.common.timezone import local_today
    from app.extensions import db
    from app.reporting.analytics import ReportFilter, report_rows
    from app.security.visibility import scope_for

    with db_session(app) as session:
        user = session.scalar(select(User).where(User.username == "vertrieb"))
        scope = scope_for(user).resolved(session)
        counts = []
        for days in (7, 120):
            statements: list[str] = []

            def listener(*args, statements=statements) -> None:
                statements.append(args[2])

            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                today = local_today()
                rows = list(report_rows(session, scope, ReportFilter(today - dt.timedelta(days=days), today)))
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            counts.append((len(rows), len(statements)))
            assert rows and all(answers for row, answers in rows if row.kind == "day")
            assert all(row.promoter.endswith(".") for row, _answers in rows)  # display names only
            days_in_order = [row.day for row, _answers in rows]
            assert days_in_order == sorted(days_in_order)
    (few, few_statements), (many, many_statements) = counts
    assert few < many and few_statements == many_statements == 2
