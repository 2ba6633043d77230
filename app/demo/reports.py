"""The campaign reporting of the Supertoy demo: a day-report and a weekly-report
questionnaire (published, attached to the project) and the promoters' reports of the
past appointments.

Figures are drawn from a random generator seeded per store and day, so a rebuilt demo
has the same reports; stores in the south see more visitors and sell more than those
in the north. Most past day reports are approved (their appointment is done with the
actual times, as the agency's approval sets it); the last day's wait for review; a few
were returned with a comment and a few are missing (their appointments stay planned).
Past weeks of every store have an approved weekly report.

The photos of the display are made by :func:`app.demo.photos.attach_photos` and kept
in the report storage (:mod:`app.reporting.storage`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.common.models import utcnow
from app.demo import data
from app.models.crm import Location, Territory
from app.models.planning import Appointment, Booking, Job, Project
from app.models.reporting import (
    Question,
    Questionnaire,
    QuestionnairePage,
    QuestionnaireVersion,
    Report,
    ReportAnswer,
)
from app.rules.calendar import week_of

SEED = "supertoy-demo-reports"
DAY_QUESTIONNAIRE = "Supertoy Tagesbericht"
WEEK_QUESTIONNAIRE = "Supertoy Wochenbericht"


class Product(NamedTuple):
    code: str
    de: str
    en: str
    #: Units a store sells on an average day (before the region's factor).
    daily: float


PRODUCTS: tuple[Product, ...] = (
    Product("turbo_kreisel", "Turbo-Kreisel", "Turbo Spinner", 6.0),
    Product("drache_fridolin", "Plüschdrache Fridolin", "Fridolin the Plush Dragon", 4.0),
    Product("weltraumstation", "Baukasten Weltraumstation", "Space Station Building Kit", 2.0),
)
PRODUCT_CHOICES = "\n".join(f"{p.code} | {p.de} | {p.en}" for p in PRODUCTS)
MOODS = (
    ("great", "Sehr gut", "Great"),
    ("good", "Gut", "Good"),
    ("calm", "Ruhig", "Calm"),
    ("poor", "Schlecht", "Poor"),
)
MOOD_CHOICES = "\n".join(" | ".join(mood) for mood in MOODS)


class Region(NamedTuple):
    """How a region's figures are drawn: mean contacts and footfall, sales factor, moods."""

    contacts: float
    footfall: float
    sales: float
    mood_weights: tuple[int, ...]


REGIONS = {
    data.NORTH: Region(contacts=42, footfall=1600, sales=0.8, mood_weights=(2, 5, 3, 1)),
    data.SOUTH: Region(contacts=61, footfall=2300, sales=1.25, mood_weights=(4, 5, 1, 1)),
}

# (question key, kind, German, English, extra fields); groups list their sub-questions.
DAY_PAGES: tuple[tuple[str, str, tuple], ...] = (
    (
        "Kontakte und Frequenz",
        "Contacts and footfall",
        (
            (
                "contacts",
                "integer",
                "Kundenkontakte",
                "Customer contacts",
                {"required": True, "min_value": 0, "max_value": 2000, "unit": "Kontakte"},
            ),
            (
                "footfall",
                "integer",
                "Besucherfrequenz im Markt",
                "Footfall in the store",
                {
                    "required": True,
                    "min_value": 0,
                    "max_value": 50000,
                    "unit": "Besucher",
                    "help_de": "Laut Zählung des Markts, sonst geschätzt.",
                    "help_en": "As counted by the store, otherwise estimated.",
                },
            ),
        ),
    ),
    (
        "Produkte",
        "Products",
        (
            (
                "products",
                "group",
                "Je Produkt",
                "Per product",
                {"required": True, "min_count": 1, "max_count": 3},
                (
                    (
                        "product",
                        "single_choice",
                        "Produkt",
                        "Product",
                        {"required": True, "choices": PRODUCT_CHOICES},
                    ),
                    (
                        "opening_stock",
                        "integer",
                        "Anfangsbestand",
                        "Opening stock",
                        {"required": True, "min_value": 0, "max_value": 1000, "unit": "Stück"},
                    ),
                    (
                        "units_sold",
                        "integer",
                        "Verkauft",
                        "Units sold",
                        {"required": True, "min_value": 0, "max_value": 1000, "unit": "Stück"},
                    ),
                    (
                        "closing_stock",
                        "integer",
                        "Endbestand",
                        "Closing stock",
                        {"required": True, "min_value": 0, "max_value": 1000, "unit": "Stück"},
                    ),
                ),
            ),
        ),
    ),
    (
        "Markt und Stimmung",
        "Store and mood",
        (
            (
                "competitor_activity",
                "yes_no",
                "Aktivität des Wettbewerbs",
                "Competitor activity",
                {"required": True},
            ),
            (
                "competitor_notes",
                "text",
                "Was hat der Wettbewerb gemacht?",
                "What did the competitors do?",
                {
                    "help_de": "Nur bei Aktivität des Wettbewerbs.",
                    "help_en": "Only if there was competitor activity.",
                },
            ),
            (
                "mood",
                "single_choice",
                "Stimmung im Markt",
                "Mood of the store",
                {"required": True, "choices": MOOD_CHOICES},
            ),
            (
                "display_photo",
                "photo",
                "Foto der Platzierung",
                "Photo of the display",
                {"required": True, "min_count": 1, "max_count": 3},
            ),
            ("remarks", "long_text", "Bemerkungen", "Remarks", {}),
        ),
    ),
)

WEEK_PAGES: tuple[tuple[str, str, tuple], ...] = (
    (
        "Wochenrückblick",
        "Week in review",
        (
            ("summary", "long_text", "Zusammenfassung der Woche", "Summary of the week", {"required": True}),
            (
                "best_product",
                "single_choice",
                "Bestes Produkt der Woche",
                "Best product of the week",
                {"required": True, "choices": PRODUCT_CHOICES},
            ),
            ("restock_needed", "yes_no", "Nachbestellung nötig", "Restock needed", {"required": True}),
        ),
    ),
)

COMPETITOR_NOTES = (
    "Lego-Aktionsfläche am Eingang",
    "Playmobil mit Gewinnspiel",
    "Ravensburger-Promoterin im Gang nebenan",
    "Preisaktion von Hasbro",
)
REMARKS = (
    "Viele Familien am Nachmittag.",
    "Platzierung vom Markt gut sichtbar aufgebaut.",
    "Kreisel-Vorführung kam sehr gut an.",
    "Drache als Dekoration war der Hingucker.",
    "Abteilungsleiter wünscht mehr Ware für Samstag.",
)
SUMMARIES = (
    "Gute Woche, besonders der Samstag war stark.",
    "Ruhige Woche; Kreisel verkauft sich am besten.",
    "Viele Rückfragen zur Weltraumstation, Ware knapp.",
    "Platzierung zur Wochenmitte verbessert, danach mehr Kontakte.",
)
RETURN_COMMENTS = (
    "Bitte die Verkaufszahlen prüfen: Anfangs- minus Endbestand passt nicht zu den verkauften Stück.",
    "Das Foto der Platzierung fehlt bzw. ist unscharf – bitte ein neues hochladen.",
    "Die Pause fehlt, bitte die tatsächlichen Zeiten ergänzen.",
)
#: Returned and missing day reports, per region, among the last ten days (not the last one).
RETURNED_PER_REGION = 2
MISSING_PER_REGION = 2


def _questions(session: Session, version: QuestionnaireVersion, pages) -> None:
    for page_position, (title_de, title_en, questions) in enumerate(pages):
        page = QuestionnairePage(
            version=version, position=page_position, title_de=title_de, title_en=title_en
        )
        session.add(page)
        for position, spec in enumerate(questions):
            key, kind, label_de, label_en, extra = spec[:5]
            question = Question(
                version=version,
                page=page,
                position=position,
                key=key,
                kind=kind,
                label_de=label_de,
                label_en=label_en,
                **extra,
            )
            session.add(question)
            for child_position, (c_key, c_kind, c_de, c_en, c_extra) in enumerate(
                spec[5] if len(spec) > 5 else ()
            ):
                session.add(
                    Question(
                        version=version,
                        page=page,
                        parent=question,
                        position=child_position,
                        key=c_key,
                        kind=c_kind,
                        label_de=c_de,
                        label_en=c_en,
                        **c_extra,
                    )
                )


def _questionnaire(session: Session, name: str, kind: str, description: str, pages, published: dt.datetime):
    questionnaire = Questionnaire(name=name, kind=kind, description=description, created_at=published)
    version = QuestionnaireVersion(
        questionnaire=questionnaire, number=1, published_at=published, created_at=published
    )
    session.add_all([questionnaire, version])
    _questions(session, version, pages)
    return questionnaire, version


def ensure_reporting(
    session: Session, project: Project, today: dt.date, reviewer, promoter01: int | None
) -> bool:
    """The questionnaires and reports of the demo, unless its day questionnaire exists;
    True if they were made now."""
    if session.scalar(select(Questionnaire.id).where(Questionnaire.name == DAY_QUESTIONNAIRE)) is not None:
        return False
    published = dt.datetime.combine(project.start_date - dt.timedelta(days=10), dt.time(9))
    day, day_version = _questionnaire(
        session,
        DAY_QUESTIONNAIRE,
        "day",
        "Tagesbericht der Promoter: Kontakte, Frequenz, Abverkauf je Produkt, Wettbewerb, Foto.",
        DAY_PAGES,
        published,
    )
    week, week_version = _questionnaire(
        session,
        WEEK_QUESTIONNAIRE,
        "week",
        "Wochenbericht je Markt: Rückblick und bestes Produkt.",
        WEEK_PAGES,
        published,
    )
    session.flush()
    project.day_questionnaire_id = day.id
    project.week_questionnaire_id = week.id
    days = _day_reports(session, project, today, day_version.id, reviewer, promoter01)
    _week_reports(session, today, week_version.id, reviewer, days)
    return True


class _Past(NamedTuple):
    appointment_id: int
    job_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    promoter_id: int
    store: str
    territory: str


def _past_appointments(session: Session, project: Project, today: dt.date) -> list[_Past]:
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.job_id,
            Appointment.date,
            Appointment.start_time,
            Appointment.end_time,
            Booking.promoter_id,
            Location.name,
            Territory.name,
        )
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Territory, Territory.id == Location.territory_id)
        .join(Booking, Booking.appointment_id == Appointment.id)
        .where(
            Job.project_id == project.id,
            Appointment.date < today,
            Appointment.status.in_(("planned", "done")),
            Booking.status == "confirmed",
        )
        .order_by(Appointment.date, Location.name, Appointment.id)
    ).all()
    return [_Past(*row) for row in rows]


def _fates(past: list[_Past], today: dt.date, promoter01_id: int | None) -> dict[int, str]:
    """appointment id -> "approved", "submitted", "returned" or "missing"."""
    last_day = max((p.date for p in past), default=today)
    fates = {p.appointment_id: "approved" for p in past}
    for p in past:
        if p.date == last_day:
            fates[p.appointment_id] = "submitted"
    recent = [p for p in past if today - dt.timedelta(days=10) <= p.date < last_day]
    # promoter01's latest of these was returned: the promoter system shows a correction.
    own = [p for p in recent if p.promoter_id == promoter01_id]
    if own:
        fates[own[-1].appointment_id] = "returned"
    for territory in REGIONS:
        rng = random.Random(f"{SEED}:fates:{territory}")
        candidates = [p for p in recent if p.territory == territory and fates[p.appointment_id] == "approved"]
        chosen = rng.sample(candidates, min(len(candidates), RETURNED_PER_REGION + MISSING_PER_REGION))
        for index, p in enumerate(chosen):
            fates[p.appointment_id] = "returned" if index < RETURNED_PER_REGION else "missing"
    return fates


def _minutes(value: dt.time, delta: int) -> dt.time:
    moment = dt.datetime.combine(dt.date(2000, 1, 1), value) + dt.timedelta(minutes=delta)
    return moment.time().replace(second=0, microsecond=0)


def _figures(p: _Past) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, int]]:
    """(answers of the report, its answer rows, units sold per product) of one store day."""
    rng = random.Random(f"{SEED}:{p.store}:{p.date.isoformat()}")
    region = REGIONS[p.territory]
    busy = 1.4 if p.date.weekday() == 5 else 1.0
    rows: list[dict[str, Any]] = []

    def add(key: str, *, text: str | None = None, number: float | None = None, group=None, item=0) -> None:
        rows.append(
            {
                "question_key": key,
                "group_key": group,
                "item": item,
                "value_text": text,
                "value_number": number,
            }
        )

    contacts = max(5, round(rng.gauss(region.contacts * busy, region.contacts * 0.2)))
    footfall = max(200, round(rng.gauss(region.footfall * busy, region.footfall * 0.15)))
    add("contacts", number=contacts)
    add("footfall", number=footfall)
    sold: dict[str, int] = {}
    for item, product in enumerate(PRODUCTS):
        opening = rng.randint(18, 40)
        units = min(opening, max(0, round(rng.gauss(product.daily * region.sales * busy, 1.5))))
        sold[product.code] = units
        add("product", text=product.code, group="products", item=item)
        add("opening_stock", number=opening, group="products", item=item)
        add("units_sold", number=units, group="products", item=item)
        add("closing_stock", number=opening - units, group="products", item=item)
    competitor = rng.random() < 0.3
    add("competitor_activity", number=1 if competitor else 0)
    if competitor:
        add("competitor_notes", text=rng.choice(COMPETITOR_NOTES))
    add("mood", text=rng.choices([m[0] for m in MOODS], weights=region.mood_weights)[0])
    if rng.random() < 0.4:
        add("remarks", text=rng.choice(REMARKS))
    times = {
        "actual_start": _minutes(p.start_time, rng.choice((-10, -5, 0, 0, 5, 15))),
        "actual_end": _minutes(p.end_time, rng.choice((-20, -10, 0, 0, 5))),
        "break_minutes": rng.choice((30, 30, 45, 60)),
    }
    return times, rows, sold


def _day_reports(
    session: Session, project: Project, today: dt.date, version_id: int, reviewer, promoter01: int | None
) -> dict[tuple[int, dt.date], dict[int, dict[str, int]]]:
    """The day reports; returns (job, week's Monday) -> promoter -> units sold per product."""
    past = _past_appointments(session, project, today)
    fates = _fates(past, today, promoter01)
    reports, answers, appointment_updates = [], [], []
    sold_by_week: dict[tuple[int, dt.date], dict[int, dict[str, int]]] = defaultdict(dict)
    now = utcnow()
    returned = 0
    for p in past:
        fate = fates[p.appointment_id]
        if fate == "missing":
            appointment_updates.append(
                {
                    "b_id": p.appointment_id,
                    "status": "planned",
                    "actual_start_time": None,
                    "actual_end_time": None,
                }
            )
            continue
        times, rows, sold = _figures(p)
        returned += fate == "returned"
        submitted = dt.datetime.combine(p.date, times["actual_end"]) + dt.timedelta(minutes=25)
        reviewed = submitted + dt.timedelta(hours=16) if fate in ("approved", "returned") else None
        reports.append(
            {
                "kind": "day",
                "appointment_id": p.appointment_id,
                "job_id": p.job_id,
                "questionnaire_version_id": version_id,
                "promoter_id": p.promoter_id,
                "status": fate,
                **times,
                "submitted_at": submitted - dt.timedelta(hours=1),  # local evening, stored as UTC
                "reviewed_at": reviewed,
                "reviewed_by_id": reviewer.id if reviewed else None,
                "return_comment": RETURN_COMMENTS[returned % len(RETURN_COMMENTS)]
                if fate == "returned"
                else None,
                "created_at": submitted - dt.timedelta(hours=1),
                "updated_at": min(reviewed or submitted, now),
                "revision": 2 if reviewed else 1,
            }
        )
        answers.append(rows)
        done = fate == "approved"
        appointment_updates.append(
            {
                "b_id": p.appointment_id,
                "status": "done" if done else "planned",
                "actual_start_time": times["actual_start"] if done else None,
                "actual_end_time": times["actual_end"] if done else None,
            }
        )
        if done:
            sold_by_week[p.job_id, week_of(p.date)[0]].setdefault(p.promoter_id, {})
            totals = sold_by_week[p.job_id, week_of(p.date)[0]][p.promoter_id]
            for code, units in sold.items():
                totals[code] = totals.get(code, 0) + units
    if reports:
        ids = session.scalars(
            insert(Report).returning(Report.id, sort_by_parameter_order=True), reports
        ).all()
        session.execute(
            insert(ReportAnswer.__table__),
            [
                {"report_id": report_id, **row}
                for report_id, rows in zip(ids, answers, strict=True)
                for row in rows
            ],
        )
    if appointment_updates:
        table = Appointment.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                status=bindparam("status"),
                actual_start_time=bindparam("actual_start_time"),
                actual_end_time=bindparam("actual_end_time"),
            ),
            appointment_updates,
        )
    return sold_by_week


def _week_reports(
    session: Session,
    today: dt.date,
    version_id: int,
    reviewer,
    sold_by_week: dict[tuple[int, dt.date], dict[int, dict[str, int]]],
) -> None:
    """An approved weekly report per store and past week, by the week's main promoter."""
    this_week = week_of(today)[0]
    reports, answers = [], []
    for (job_id, monday), by_promoter in sorted(sold_by_week.items()):
        if monday >= this_week:
            continue
        promoter_id = max(by_promoter, key=lambda pid: (sum(by_promoter[pid].values()), -pid))
        totals: dict[str, int] = defaultdict(int)
        for figures in by_promoter.values():
            for code, units in figures.items():
                totals[code] += units
        best = max(PRODUCTS, key=lambda product: totals[product.code]).code
        rng = random.Random(f"{SEED}:week:{job_id}:{monday.isoformat()}")
        submitted = dt.datetime.combine(monday + dt.timedelta(days=5), dt.time(17, 30))
        reports.append(
            {
                "kind": "week",
                "job_id": job_id,
                "week_start": monday,
                "questionnaire_version_id": version_id,
                "promoter_id": promoter_id,
                "status": "approved",
                "submitted_at": submitted,
                "reviewed_at": submitted + dt.timedelta(days=2),
                "reviewed_by_id": reviewer.id,
                "created_at": submitted,
                "updated_at": submitted + dt.timedelta(days=2),
                "revision": 2,
            }
        )
        answers.append(
            [
                {"question_key": "summary", "value_text": rng.choice(SUMMARIES)},
                {"question_key": "best_product", "value_text": best},
                {"question_key": "restock_needed", "value_number": 1 if rng.random() < 0.35 else 0},
            ]
        )
    if reports:
        ids = session.scalars(
            insert(Report).returning(Report.id, sort_by_parameter_order=True), reports
        ).all()
        session.execute(
            insert(ReportAnswer.__table__),
            [
                {
                    "report_id": report_id,
                    "group_key": None,
                    "item": 0,
                    "value_text": None,
                    "value_number": None,
                    **row,
                }
                for report_id, rows in zip(ids, answers, strict=True)
                for row in rows
            ],
        )
