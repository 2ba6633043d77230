"""Agency-scale data for benchmarks: ``flask --app app bench-data``.

At scale 1: 100 territories (three levels), 5,000 locations, 200 projects with
25 jobs each, 2,000 promoters, 500 customer contacts (50 of them with logins
``bench.cust001`` …, 20 promoters with logins ``bench.prom00`` … and 20 agency-side
planners), 1,000,000 appointments and a booking on most of them. Rows are written
with Core ``executemany`` in large batches inside one transaction per table, with
explicit primary keys — appointments, bookings and reports with ``COPY`` (PostgreSQL)
or a DB-API ``executemany`` of tuples (SQLite), see :mod:`app.benchdata.reports`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.common.timezone import local_today
from app.models.crm import Company, Contact, Location, Territory, contact_territory
from app.models.planning import Appointment, Booking, Job, Project, project_contact, project_manager
from app.models.promoter import Promoter, Unavailability
from app.models.reporting import Report

from .reports import actual_times, bulk_dicts, day_questionnaire, fate, write_reports

BATCH = 20_000
STATES = ["BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"]
CITIES = [
    "Hamburg",
    "Berlin",
    "München",
    "Köln",
    "Frankfurt",
    "Stuttgart",
    "Leipzig",
    "Dresden",
    "Hannover",
    "Nürnberg",
]
SLOTS = [
    (dt.time(10), dt.time(18)),
    (dt.time(11), dt.time(19)),
    (dt.time(9), dt.time(14)),
    (dt.time(14), dt.time(20)),
]


@dataclass
class Sizes:
    territories: int = 100
    locations: int = 5_000
    projects: int = 200
    jobs_per_project: int = 25
    promoters: int = 2_000
    contacts: int = 500
    customer_logins: int = 50
    #: Promoters with a login (``bench.prom00`` …), each with about 450 bookings at scale 1.
    promoter_logins: int = 20
    appointments: int = 1_000_000

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        base = cls()
        return cls(
            territories=max(21, int(base.territories * min(1, scale * 10))),
            locations=max(50, int(base.locations * scale)),
            projects=max(4, int(base.projects * scale)),
            jobs_per_project=base.jobs_per_project if scale >= 0.05 else 5,
            promoters=max(20, int(base.promoters * scale)),
            contacts=max(10, int(base.contacts * scale)),
            customer_logins=max(5, int(base.customer_logins * min(1, scale * 10))),
            appointments=max(500, int(base.appointments * scale)),
        )


def _next_id(session: Session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def _insert(
    session: Session, table, rows: Iterator[dict], total: int, progress: Callable[[str, int, int], None]
):
    batch, done = [], 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            session.execute(insert(table), batch)
            done += len(batch)
            batch = []
            progress(table.name, done, total)
    if batch:
        session.execute(insert(table), batch)
        done += len(batch)
        progress(table.name, done, total)
    session.commit()


def _advance_sequences(session: Session) -> None:
    """Rows were written with explicit ids; move PostgreSQL's id sequences past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in (Company, Territory, Location, Project, Job, Promoter, Appointment, Booking, Contact):
        table = model.__table__.name
        session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )
    session.commit()


def generate(
    session: Session, sizes: Sizes, progress: Callable[[str, int, int], None], seed: int = 7
) -> dict:
    rng = random.Random(seed)
    sm = current_app.appbuilder.sm
    today = local_today()
    password = generate_password_hash("bench-password", method="pbkdf2:sha256:1000")
    tag = f"bench-{_next_id(session, Company)}"

    # companies: 40 customers, 10 retail chains
    first_company = _next_id(session, Company)
    companies = [
        {"id": first_company + i, "name": f"Kunde {i:02d} ({tag})", "kind": "customer"} for i in range(40)
    ] + [
        {"id": first_company + 40 + i, "name": f"Handel {i:02d} ({tag})", "kind": "retail_chain"}
        for i in range(10)
    ]
    _insert(session, Company.__table__, iter(companies), len(companies), progress)
    customers = [c["id"] for c in companies[:40]]
    chains = [c["id"] for c in companies[40:]]

    # territories: 4 roots, 4 regions each, the rest as leaves under the regions
    first_territory = _next_id(session, Territory)
    roots = [first_territory + i for i in range(4)]
    regions = [first_territory + 4 + i for i in range(16)]
    leaf_count = sizes.territories - 20
    territories = [{"id": t, "name": f"Land {i} ({tag})", "parent_id": None} for i, t in enumerate(roots)]
    territories += [
        {"id": t, "name": f"Region {i} ({tag})", "parent_id": roots[i // 4]} for i, t in enumerate(regions)
    ]
    leaves = [first_territory + 20 + i for i in range(leaf_count)]
    territories += [
        {"id": t, "name": f"Gebiet {i:03d} ({tag})", "parent_id": regions[i % 16]}
        for i, t in enumerate(leaves)
    ]
    _insert(session, Territory.__table__, iter(territories), len(territories), progress)

    first_location = _next_id(session, Location)
    locations = [first_location + i for i in range(sizes.locations)]

    def location_rows():
        for i, lid in enumerate(locations):
            yield {
                "id": lid,
                "name": f"Markt {i:05d} ({tag})",
                "retail_chain_id": chains[i % len(chains)],
                "street": f"Hauptstraße {i % 200 + 1}",
                "postcode": f"{10000 + i % 89999:05d}",
                "city": CITIES[i % len(CITIES)],
                "federal_state": STATES[i % len(STATES)],
                "territory_id": leaves[i % len(leaves)],
            }

    _insert(session, Location.__table__, location_rows(), len(locations), progress)

    # Each customer's projects run in the stores of one of the four roots ("Land"), so that
    # its contacts below that root (a region ~ 30 stores, an area ~ 6) see a realistic share.
    root_of_leaf = {leaf: (i % 16) // 4 for i, leaf in enumerate(leaves)}
    locations_by_root: list[list[int]] = [[], [], [], []]
    for i, lid in enumerate(locations):
        locations_by_root[root_of_leaf[leaves[i % len(leaves)]]].append(lid)
    # a root's sales factor: stores in "Land 3" sell 45 % more than in "Land 0"
    root_of_location = {lid: root for root, members in enumerate(locations_by_root) for lid in members}
    questionnaire_id, version_id = day_questionnaire(session, tag, today)

    # projects with jobs on distinct locations
    first_project = _next_id(session, Project)
    first_job = _next_id(session, Job)
    projects, jobs = [], []
    for p in range(sizes.projects):
        start = today - dt.timedelta(days=rng.randint(0, 700)) + dt.timedelta(days=180)
        start -= dt.timedelta(days=start.weekday())
        projects.append(
            {
                "id": first_project + p,
                "name": f"Aktion {p:03d} ({tag})",
                "customer_id": customers[p % len(customers)],
                "start_date": start,
                "end_date": start + dt.timedelta(weeks=52),
                "day_questionnaire_id": questionnaire_id,
            }
        )
        pool = locations_by_root[(p % len(customers)) % 4]
        if len(pool) < sizes.jobs_per_project:
            pool = locations
        chosen = rng.sample(pool, sizes.jobs_per_project)
        for lid in chosen:
            jobs.append(
                {
                    "id": first_job + len(jobs),
                    "project_id": first_project + p,
                    "location_id": lid,
                    "title": f"Job {len(jobs):05d}",
                    "status": "open",
                    "planned_days_per_week": 5,
                    "_start": start,
                }
            )
    _insert(session, Project.__table__, iter(projects), len(projects), progress)
    _insert(
        session,
        Job.__table__,
        ({k: v for k, v in job.items() if not k.startswith("_")} for job in jobs),
        len(jobs),
        progress,
    )

    first_promoter = _next_id(session, Promoter)
    promoters = [first_promoter + i for i in range(sizes.promoters)]
    promoter_role = sm.find_role("Promoter")
    promoter_users = [
        sm.add_user(
            f"bench.prom{i:02d}",
            "Bench",
            f"Promoter {i:02d}",
            f"bench.prom{i:02d}@bench.example",
            promoter_role,
            hashed_password=password,
        ).id
        for i in range(min(sizes.promoter_logins, sizes.promoters))
    ]
    _insert(
        session,
        Promoter.__table__,
        (
            {
                "id": pid,
                "first_name": f"Pro{i:04d}",
                "last_name": f"Moter ({tag})",
                "email": f"promoter{i:04d}.{tag}@bench.example",
                "active": True,
                "user_id": promoter_users[i] if i < len(promoter_users) else None,
            }
            for i, pid in enumerate(promoters)
        ),
        len(promoters),
        progress,
    )

    # appointments: spread evenly over the jobs, weekdays from the project start
    per_job = max(1, min(260, sizes.appointments // len(jobs)))  # at most 52 weeks x 5 days
    first_appointment = _next_id(session, Appointment)
    first_booking = _next_id(session, Booking)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def schedule():
        """(index, appointment id, job id, day, start, end, promoter id) of every appointment."""
        index = 0
        for job_index, job in enumerate(jobs):
            promoter = promoters[job_index % len(promoters)]
            for n in range(per_job):
                # weekdays from the Tuesday after the project's first Monday
                day = job["_start"] + dt.timedelta(days=7 * ((n + 1) // 5) + (n + 1) % 5)
                start, end = SLOTS[(job["id"] + n) % len(SLOTS)]
                yield index, first_appointment + index, job["id"], day, start, end, promoter
                index += 1

    def appointment_rows():
        for index, aid, job_id, day, start, end, _promoter in schedule():
            report = fate(index, day, today)
            # approved reports set the appointment done with the actual times (as the review
            # does); a past one without an approved report stays planned, as in the demo
            actual = actual_times(index, start, end) if report == "approved" else (None, None)
            yield {
                "id": aid,
                "job_id": job_id,
                "date": day,
                "start_time": start,
                "end_time": end,
                "status": "done" if report == "approved" or (day < today and report is None) else "planned",
                "actual_start_time": actual[0],
                "actual_end_time": actual[1],
                "origin": "agency",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }

    total_appointments = per_job * len(jobs)
    bulk_dicts(session, Appointment.__table__, appointment_rows(), total_appointments, progress)

    def booking_rows():
        bid = first_booking
        for index, aid, _job_id, day, _start, _end, promoter in schedule():
            if index % 10 == 9:
                continue  # one in ten stays open
            yield {
                "id": bid,
                "appointment_id": aid,
                "promoter_id": promoter,
                # a past day's booking was confirmed (it has the report)
                "status": "confirmed" if index % 10 < 7 or day < today else "requested",
                "created_at": now,
                "updated_at": now,
            }
            bid += 1

    bulk_dicts(session, Booking.__table__, booking_rows(), total_appointments * 9 // 10, progress)

    # absences: three of four days a promoter, spread from half a year back to a year ahead
    # (the conflicts page checks every booking of its weeks against them)
    absences = [
        {
            "promoter_id": promoter,
            "start_date": today + dt.timedelta(days=(index * 37 + k * 180) % 540 - 180),
            "end_date": today + dt.timedelta(days=(index * 37 + k * 180) % 540 - 177),
            "note": f"bench {tag}",
        }
        for index, promoter in enumerate(promoters)
        for k in range(3)
    ]
    _insert(session, Unavailability.__table__, iter(absences), len(absences), progress)

    sales = {job["id"]: 0.8 + 0.15 * root_of_location[job["location_id"]] for job in jobs}
    report_counts = write_reports(
        session,
        schedule,
        _next_id(session, Report),
        version_id,
        today,
        sales,
        seed,
        total_appointments // 2,
        progress,
    )

    # customer contacts: territories at all three levels, linked to their company's projects
    customer_role = sm.find_role("Customer")
    agency_role = sm.find_role("Agency")
    first_contact = _next_id(session, Contact)
    links_territory, links_project, contacts = [], [], []
    projects_of = {c: [p["id"] for p in projects if p["customer_id"] == c] for c in customers}
    for i in range(sizes.contacts):
        company = customers[i % len(customers)]
        cid = first_contact + i
        user_id = None
        if i < sizes.customer_logins:
            user = sm.add_user(
                f"bench.cust{i:03d}",
                "Bench",
                f"Kunde {i:03d}",
                f"bench.cust{i:03d}@bench.example",
                customer_role,
                hashed_password=password,
            )
            user_id = user.id
        contacts.append(
            {
                "id": cid,
                "company_id": company,
                "first_name": "Bench",
                "last_name": f"Kontakt {i:03d} ({tag})",
                "email": f"contact{i:03d}.{tag}@bench.example",
                "language": "de" if i % 5 else "en",
                "user_id": user_id,
                "digest_opt_out": False,
            }
        )
        # a territory at one of the three levels under the root of the company's stores
        root = (i % len(customers)) % 4
        level, pick = i % 3, i // 3
        below = [leaf for leaf in leaves if root_of_leaf[leaf] == root]
        if level == 0 or (level == 2 and not below):
            territory = regions[root * 4 + pick % 4] if level else roots[root]
        elif level == 1:
            territory = regions[root * 4 + pick % 4]
        else:
            territory = below[pick % len(below)]
        links_territory.append({"contact_id": cid, "territory_id": territory})
        for pid in projects_of[company]:
            links_project.append({"project_id": pid, "contact_id": cid})
    _insert(session, Contact.__table__, iter(contacts), len(contacts), progress)
    _insert(session, contact_territory, iter(links_territory), len(links_territory), progress)
    _insert(session, project_contact, iter(links_project), len(links_project), progress)
    planners = []
    for i in range(20):
        user = sm.add_user(
            f"bench.plan{i:02d}",
            "Bench",
            f"Planer {i:02d}",
            f"bench.plan{i:02d}@bench.example",
            agency_role,
            hashed_password=password,
        )
        planners.append(user.id)
    _insert(
        session,
        project_manager,
        ({"project_id": p["id"], "user_id": planners[i % len(planners)]} for i, p in enumerate(projects)),
        len(projects),
        progress,
    )
    _advance_sequences(session)
    return {
        "territories": len(territories),
        "locations": len(locations),
        "projects": len(projects),
        "jobs": len(jobs),
        "promoters": len(promoters),
        "contacts": len(contacts),
        "appointments": total_appointments,
        "bookings": total_appointments * 9 // 10,
        **report_counts,
    }
