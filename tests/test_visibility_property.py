"""Property test of the customer visibility rule (app.security.visibility).

Hypothesis builds random little worlds — a territory forest, projects,
locations (with or without territory), jobs, appointments, bookings and
customer logins with random territories, project links and active flags —
writes each into the test database next to the Supertoy demo, and compares
what every customer sees

- through the REST API (JWT login, list endpoints) and
- through the SQL of :class:`~app.security.visibility.Scope`

with the rule computed by brute force in Python (walking up the territory
tree). Every world is removed again before the next example.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, update

from app.common.choices import APPOINTMENT_STATUSES, BOOKING_STATUSES, JOB_STATUSES

PASSWORD = "prop-test-pw"
PREFIX = "prop-"
RESOURCES = ("project", "job", "location", "appointment")

# Kinds of customer login in a world.
LINKED = "linked"  # a user with role Customer and a contact linked to it
NO_USER = "contact_without_user"  # a contact nobody can log in as
NO_CONTACT = "user_without_contact"  # a Customer user without contact


# ---------------------------------------------------------------- the worlds


@dataclass(frozen=True)
class Customer:
    kind: str
    inactive: bool
    territories: frozenset[int]  # indices into World.parents
    projects: frozenset[int]  # indices of projects


@dataclass(frozen=True)
class World:
    parents: tuple[int | None, ...]  # territory i -> index of its parent (always < i) or None
    location_territories: tuple[int | None, ...]  # location i -> territory index or None
    n_projects: int
    jobs: tuple[tuple[int, int], ...]  # job i -> (project, location)
    appointments: tuple[int, ...]  # appointment i -> job index
    bookings: tuple[tuple[int, int, str], ...]  # booking i -> (appointment, promoter 0/1, status)
    customers: tuple[Customer, ...] = field(default=())


def optional_index(n: int) -> st.SearchStrategy[int | None]:
    """None or an index below ``n``; None about once in n + 1 (shrinks towards index 0)."""
    if not n:
        return st.none()
    return st.integers(-1, n - 1).map(lambda i: None if i < 0 else i)


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in ``n`` (shrinks towards False)."""
    return st.integers(1, n).map(lambda i: i == n)


@st.composite
def worlds(draw) -> World:
    n_territories = draw(st.integers(1, 8))
    parents = tuple(draw(optional_index(i)) for i in range(n_territories))
    location_territories = tuple(draw(st.lists(optional_index(n_territories), min_size=1, max_size=6)))
    n_projects = draw(st.integers(1, 3))
    pairs = [(p, loc) for p in range(n_projects) for loc in range(len(location_territories))]
    jobs = tuple(pair for pair in pairs if not draw(one_in(3)))
    appointments = tuple(job for job in range(len(jobs)) for _ in range(draw(st.integers(0, 3))))
    statuses = st.sampled_from(sorted(BOOKING_STATUSES))
    bookings = tuple(
        (appointment, promoter, draw(statuses))
        for appointment in range(len(appointments))
        for promoter in (0, 1)
        if draw(st.booleans())
    )
    some_territories = st.lists(st.integers(0, n_territories - 1), min_size=1, max_size=3)
    customers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = NO_USER if draw(one_in(5)) else NO_CONTACT if draw(one_in(8)) else LINKED
        customers.append(
            Customer(
                kind=kind,
                inactive=draw(one_in(4)),
                territories=frozenset() if draw(one_in(6)) else frozenset(draw(some_territories)),
                projects=frozenset(p for p in range(n_projects) if not draw(one_in(3))),
            )
        )
    return World(parents, location_territories, n_projects, jobs, appointments, bookings, tuple(customers))


# ---------------------------------------------------------------- brute force


def expected_visible(world: World, customer: Customer) -> dict[str, set[int]]:
    """Indices of the rows ``customer`` may see, by the rule in plain Python.

    A linked project is visible as soon as the contact has any territory, even
    when none of its jobs is (that is how Scope.project_ids reads the rule).
    """
    nothing = {name: set() for name in (*RESOURCES, "booking")}
    if customer.kind != LINKED or customer.inactive or not customer.territories:
        return nothing

    def granted(territory: int | None) -> bool:
        while territory is not None:  # the parents form a forest: this ends
            if territory in customer.territories:
                return True
            territory = world.parents[territory]
        return False

    jobs = {
        j
        for j, (project, location) in enumerate(world.jobs)
        if project in customer.projects and granted(world.location_territories[location])
    }
    appointments = {a for a, job in enumerate(world.appointments) if job in jobs}
    return {
        "project": set(customer.projects),
        "job": jobs,
        "location": {world.jobs[j][1] for j in jobs},
        "appointment": appointments,
        "booking": {
            b
            for b, (appointment, _promoter, status) in enumerate(world.bookings)
            if appointment in appointments and status == "confirmed"
        },
    }


# ---------------------------------------------------------------- the database


@dataclass
class Written:
    """Database ids of a world written to the database, by world index."""

    tag: str
    territory: list[int] = field(default_factory=list)
    company: list[int] = field(default_factory=list)
    promoter: list[int] = field(default_factory=list)
    location: list[int] = field(default_factory=list)
    project: list[int] = field(default_factory=list)
    job: list[int] = field(default_factory=list)
    appointment: list[int] = field(default_factory=list)
    booking: list[int] = field(default_factory=list)
    contact: dict[int, int] = field(default_factory=dict)  # customer index -> contact id
    user: dict[int, int] = field(default_factory=dict)  # customer index -> user id
    username: dict[int, str] = field(default_factory=dict)

    def ids(self, resource: str, indices) -> set[int]:
        rows = getattr(self, resource)
        return {rows[i] for i in indices}


def write_world(app: Flask, world: World, tag: str) -> Written:
    from app.extensions import db
    from app.models.crm import Company, Contact, Location, Territory, contact_territory
    from app.models.planning import Appointment, Booking, Job, Project, project_contact
    from app.models.promoter import Promoter

    w = Written(tag=tag)
    with app.app_context():
        sm = app.appbuilder.sm
        customer_role = sm.find_role("Customer")
        for i, customer in enumerate(world.customers):
            if customer.kind == NO_USER:
                continue
            username = f"{tag}-u{i}"
            user = sm.add_user(
                username, "Prop", f"User {i}", f"{username}@example.com", customer_role, PASSWORD
            )
            assert user, f"could not create {username}"
            w.user[i], w.username[i] = user.id, username
        db.session.remove()

        with db.engine.begin() as conn:

            def add(model, **values) -> int:
                return conn.execute(insert(model).values(**values)).inserted_primary_key[0]

            for i, parent in enumerate(world.parents):
                parent_id = None if parent is None else w.territory[parent]
                w.territory.append(add(Territory, name=f"{tag} T{i}", parent_id=parent_id))
            w.company.append(add(Company, name=f"{tag} Kunde", kind="customer"))
            w.company.append(add(Company, name=f"{tag} Kette", kind="retail_chain"))
            for p in (0, 1):
                w.promoter.append(add(Promoter, first_name=f"{tag} P{p}", last_name="Promo"))
            for i, territory in enumerate(world.location_territories):
                w.location.append(
                    add(
                        Location,
                        name=f"{tag} L{i}",
                        retail_chain_id=w.company[1],
                        street="Teststraße 1",
                        postcode="20095",
                        city=f"{tag} Stadt",
                        federal_state="HH",
                        territory_id=None if territory is None else w.territory[territory],
                    )
                )
            for i in range(world.n_projects):
                w.project.append(
                    add(
                        Project,
                        name=f"{tag} P{i}",
                        customer_id=w.company[0],
                        start_date=dt.date(2026, 1, 1),
                        end_date=dt.date(2026, 12, 31),
                    )
                )
            job_statuses = sorted(JOB_STATUSES)
            for i, (project, location) in enumerate(world.jobs):
                w.job.append(
                    add(
                        Job,
                        project_id=w.project[project],
                        location_id=w.location[location],
                        title=f"{tag} J{i}",
                        status=job_statuses[i % len(job_statuses)],
                    )
                )
            appointment_statuses = sorted(APPOINTMENT_STATUSES)
            for i, job in enumerate(world.appointments):
                w.appointment.append(
                    add(
                        Appointment,
                        job_id=w.job[job],
                        date=dt.date(2026, 3, 2) + dt.timedelta(days=i),
                        start_time=dt.time(10, 0),
                        end_time=dt.time(18, 0),
                        status=appointment_statuses[i % len(appointment_statuses)],
                    )
                )
            for appointment, promoter, status in world.bookings:
                w.booking.append(
                    add(
                        Booking,
                        appointment_id=w.appointment[appointment],
                        promoter_id=w.promoter[promoter],
                        status=status,
                    )
                )
            for i, customer in enumerate(world.customers):
                if customer.kind == NO_CONTACT:
                    continue
                w.contact[i] = add(
                    Contact,
                    company_id=w.company[0],
                    first_name="Prop",
                    last_name=f"{tag} C{i}",
                    email=f"{tag}-c{i}@example.com",
                    user_id=w.user.get(i),
                )
                for t in sorted(customer.territories):
                    conn.execute(
                        insert(contact_territory).values(contact_id=w.contact[i], territory_id=w.territory[t])
                    )
                for p in sorted(customer.projects):
                    conn.execute(
                        insert(project_contact).values(project_id=w.project[p], contact_id=w.contact[i])
                    )
    return w


def set_active(app: Flask, user_ids, active: bool) -> None:
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db

    if not user_ids:
        return
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(User).where(User.id.in_(list(user_ids))).values(active=active))


def remove_world(app: Flask, tag: str) -> None:
    """Delete every row of the world ``tag`` (by its names), children first."""
    from flask_appbuilder.security.sqla.models import User, assoc_user_role

    from app.extensions import db
    from app.models.crm import Company, Contact, Location, Territory, contact_territory
    from app.models.planning import Appointment, Booking, Job, Project, project_contact
    from app.models.promoter import Promoter

    like = f"{tag}%"
    with app.app_context(), db.engine.begin() as conn:
        projects = select(Project.id).where(Project.name.like(like))
        jobs = select(Job.id).where(Job.project_id.in_(projects))
        appointments = select(Appointment.id).where(Appointment.job_id.in_(jobs))
        contacts = select(Contact.id).where(Contact.last_name.like(like))
        users = select(User.id).where(User.username.like(like))
        conn.execute(delete(Booking).where(Booking.appointment_id.in_(appointments)))
        conn.execute(delete(Appointment).where(Appointment.job_id.in_(jobs)))
        conn.execute(delete(Job).where(Job.project_id.in_(projects)))
        conn.execute(delete(project_contact).where(project_contact.c.project_id.in_(projects)))
        conn.execute(delete(Project).where(Project.name.like(like)))
        conn.execute(delete(contact_territory).where(contact_territory.c.contact_id.in_(contacts)))
        conn.execute(delete(Contact).where(Contact.last_name.like(like)))
        conn.execute(delete(assoc_user_role).where(assoc_user_role.c.user_id.in_(users)))
        conn.execute(delete(User).where(User.username.like(like)))
        conn.execute(delete(Location).where(Location.name.like(like)))
        conn.execute(update(Territory).where(Territory.name.like(like)).values(parent_id=None))
        conn.execute(delete(Territory).where(Territory.name.like(like)))
        conn.execute(delete(Promoter).where(Promoter.first_name.like(like)))
        conn.execute(delete(Company).where(Company.name.like(like)))


def leftovers(app: Flask, tag: str) -> dict[str, int]:
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.crm import Company, Contact, Location, Territory
    from app.models.planning import Job, Project
    from app.models.promoter import Promoter

    named = [
        (Territory, Territory.name),
        (Company, Company.name),
        (Location, Location.name),
        (Project, Project.name),
        (Job, Job.title),
        (Contact, Contact.last_name),
        (Promoter, Promoter.first_name),
        (User, User.username),
    ]
    with app.app_context(), db.engine.connect() as conn:
        counts = {
            model.__name__: conn.execute(
                select(func.count()).select_from(model).where(column.like(f"{tag}%"))
            ).scalar_one()
            for model, column in named
        }
    return {name: count for name, count in counts.items() if count}


@contextmanager
def world_in_database(app: Flask, world: World) -> Iterator[Written]:
    tag = f"{PREFIX}{uuid.uuid4().hex[:10]}"
    try:
        yield write_world(app, world, tag)
    finally:
        remove_world(app, tag)


# ---------------------------------------------------------------- what is seen


def world_ids(w: Written) -> dict[str, set[int]]:
    return {name: set(getattr(w, name)) for name in (*RESOURCES, "booking")}


def seen_by_scope(app: Flask, user_id: int) -> dict[str, dict[str, set[int]]]:
    """What Scope's SQL shows the user: per way of asking, per resource."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.crm import Location
    from app.models.planning import Appointment, Booking, Job, Project
    from app.security.visibility import Scope, scope_for

    models = {
        "project": Project,
        "job": Job,
        "location": Location,
        "appointment": Appointment,
        "booking": Booking,
    }
    with app.app_context():
        session = db.session
        try:
            user = session.get(User, user_id)
            answers = {}
            for label, scope in (
                ("Scope('customer')", Scope("customer", user_id)),
                ("scope_for", scope_for(user)),
                ("scope_for().resolved()", scope_for(user).resolved(session)),
            ):
                subqueries = {
                    "project": scope.project_ids,
                    "job": scope.job_ids,
                    "location": scope.location_ids,
                    "appointment": scope.appointment_ids,
                    "booking": scope.booking_ids,
                }
                answers[f"{label}.*_ids()"] = {
                    name: set(session.scalars(subquery())) for name, subquery in subqueries.items()
                }
                answers[f"{label}.rows()"] = {
                    name: {row.id for row in session.scalars(scope.rows(model))}
                    for name, model in models.items()
                }
            return answers
        finally:
            session.rollback()
            session.remove()


def explained_jobs(app: Flask, contact_id: int) -> tuple[set[int], list[tuple[int, int, int]]]:
    """Job ids of visibility_explained, and (job, location territory, granting root) per row."""
    from app.extensions import db
    from app.security.visibility import visibility_explained

    with app.app_context():
        try:
            rows = db.session.execute(visibility_explained(contact_id)).all()
            return {job.id for job, _location, _root in rows}, [
                (job.id, location.territory_id, root.id) for job, location, root in rows
            ]
        finally:
            db.session.rollback()
            db.session.remove()


def api_login(client: FlaskClient, username: str):
    return client.post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db"},
    )


def seen_by_api(client: FlaskClient, token: str) -> dict[str, set[int]]:
    seen = {}
    for resource in RESOURCES:
        response = client.get(
            f"/api/v1/{resource}/",
            query_string={"q": "(page_size:500)"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, (resource, response.status_code, response.get_data(as_text=True))
        body = response.get_json()
        assert body["count"] == len(body["ids"]), (
            f"{resource}: {body['count']} rows visible, more than one page (foreign rows?)"
        )
        seen[resource] = set(body["ids"])
    return seen


# ---------------------------------------------------------------- the property


def check_world(app: Flask, world: World) -> None:
    with world_in_database(app, world) as w:
        mine = world_ids(w)
        expected = {
            i: {name: w.ids(name, idx) for name, idx in expected_visible(world, c).items()}
            for i, c in enumerate(world.customers)
        }
        for c in world.customers:
            seen = expected_visible(world, c)
            if seen["appointment"]:
                event("a customer sees appointments")
            if seen["booking"]:
                event("a customer sees confirmed bookings")
            if any(world.location_territories[world.jobs[j][1]] not in c.territories for j in seen["job"]):
                event("a customer sees a job through a territory above the location's")
            if seen["job"] and len(seen["job"]) < sum(p in c.projects for p, _loc in world.jobs):
                event("a customer sees some, not all, jobs of their projects")
            if c.kind != LINKED:
                event(f"a {c.kind.replace('_', ' ')}")
            elif c.inactive:
                event("an inactive customer")
            elif not c.territories:
                event("a contact without territory")

        # Tokens of the later deactivated users, taken while they were still active.
        stale_tokens = {}
        inactive = {i for i, c in enumerate(world.customers) if c.inactive and i in w.user}
        client = app.test_client()
        for i in inactive:
            response = api_login(client, w.username[i])
            assert response.status_code == 200, response.get_data(as_text=True)
            stale_tokens[i] = response.get_json()["access_token"]
        set_active(app, [w.user[i] for i in inactive], False)

        for i, customer in enumerate(world.customers):
            # (b) Scope's SQL, asked directly.
            if i in w.user:
                for way, seen in seen_by_scope(app, w.user[i]).items():
                    for name, ids in seen.items():
                        assert not ids - mine[name], (
                            f"customer {i} sees foreign (demo) {name} rows via {way}: {ids - mine[name]}"
                        )
                        assert ids == expected[i][name], (
                            f"customer {i} ({customer}): {way} {name}: "
                            f"got {sorted(ids)}, expected {sorted(expected[i][name])} (db ids {w})"
                        )
            # The agency's check lists the same jobs for an active, linked contact.
            if customer.kind == LINKED and not customer.inactive:
                job_ids, rows = explained_jobs(app, w.contact[i])
                assert job_ids == expected[i]["job"], (
                    f"visibility_explained of customer {i}: {sorted(job_ids)}"
                )
                parent = {
                    w.territory[t]: (None if p is None else w.territory[p])
                    for t, p in enumerate(world.parents)
                }
                roots = {w.territory[t] for t in customer.territories}
                for job_id, territory_id, root_id in rows:
                    chain = []
                    while territory_id is not None:
                        chain.append(territory_id)
                        territory_id = parent.get(territory_id)
                    assert root_id in roots and root_id in chain, (job_id, root_id, chain)

            # (a) the REST API, as the user.
            if i not in w.user:
                continue
            client = app.test_client()
            response = api_login(client, w.username[i])
            if customer.inactive:
                assert response.status_code == 401, f"inactive customer {i} could log in"
                for resource in RESOURCES:
                    stale = client.get(
                        f"/api/v1/{resource}/",
                        query_string={"q": "(page_size:500)"},
                        headers={"Authorization": f"Bearer {stale_tokens[i]}"},
                    )
                    assert stale.status_code in (401, 403, 422) or not stale.get_json()["ids"], (
                        f"deactivated customer {i} still reads {resource} with an old token"
                    )
                continue
            assert response.status_code == 200, response.get_data(as_text=True)
            seen = seen_by_api(client, response.get_json()["access_token"])
            for name, ids in seen.items():
                assert not ids - mine[name], (
                    f"customer {i} sees foreign (demo) {name} rows via API: {ids - mine[name]}"
                )
                assert ids & mine[name] == expected[i][name], (
                    f"customer {i} ({customer}): API {name}: "
                    f"got {sorted(ids)}, expected {sorted(expected[i][name])} (db ids {w})"
                )
    assert not leftovers(app, w.tag), f"rows of the world left behind: {leftovers(app, w.tag)}"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_customers_see_exactly_their_territories(app, world: World):
    check_world(app, world)
