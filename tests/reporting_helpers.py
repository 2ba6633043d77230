"""Rows for the reporting tests: a published questionnaire with every kind of question, a store
and job using it, appointments with bookings. Everything is inserted directly (not through the
questionnaire editor) and removed again by :class:`ReportRows`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import delete, select

from tests.visibility_helpers import PROJECT_NAME, Rows, db_session, new_tag

#: The questions of :func:`make_questionnaire`: key → (page, kind, extra columns).
QUESTIONS: list[tuple[int, str, str, dict[str, Any]]] = [
    (
        0,
        "sold",
        "integer",
        {
            "label_de": "Verkaufte Stück",
            "label_en": "Units sold",
            "required": True,
            "min_value": 0,
            "max_value": 500,
            "unit": "Stück",
        },
    ),
    (
        0,
        "price",
        "decimal",
        {"label_de": "Preis", "label_en": "Price", "min_value": 0, "max_value": 1000, "unit": "€"},
    ),
    (0, "tasting", "yes_no", {"label_de": "Verkostung", "label_en": "Tasting", "required": True}),
    (
        0,
        "weather",
        "single_choice",
        {
            "label_de": "Wetter",
            "label_en": "Weather",
            "choices": "sun | Sonnig | Sunny\nrain | Regen | Rainy",
        },
    ),
    (
        0,
        "material",
        "multiple_choice",
        {
            "label_de": "Material",
            "label_en": "Material",
            "choices": "flyer | Flyer | Flyers\nposter | Plakat | Poster",
        },
    ),
    (0, "remark", "text", {"label_de": "Bemerkung", "label_en": "Remark"}),
    (
        0,
        "notes",
        "long_text",
        {
            "label_de": "Notizen",
            "label_en": "Notes",
            "help_de": "Was ist aufgefallen?",
            "help_en": "What stood out?",
        },
    ),
    (1, "visit_date", "date", {"label_de": "Besuchsdatum", "label_en": "Visit date"}),
    (1, "visit_time", "time", {"label_de": "Besuchszeit", "label_en": "Visit time"}),
    (
        1,
        "products",
        "group",
        {"label_de": "Produkte", "label_en": "Products", "required": True, "max_count": 5},
    ),
    (
        1,
        "photos",
        "photo",
        {"label_de": "Fotos vom Stand", "label_en": "Photos of the stand", "required": True, "max_count": 3},
    ),
]
#: The sub-questions of the group "products".
GROUP_QUESTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("product", "text", {"label_de": "Produkt", "label_en": "Product", "required": True}),
    ("count", "integer", {"label_de": "Anzahl", "label_en": "Count", "min_value": 0, "unit": "Stück"}),
]


class ReportRows(Rows):
    """Rows (see :class:`tests.visibility_helpers.Rows`); at cleanup first the reports of the
    jobs made here (they are made by the app, not by the test)."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self.jobs: list[int] = []
        self._project: int | None = None

    def project(self) -> int:
        """A project of the demo's customer without questionnaires of its own (the demo's
        project has a day questionnaire, which every one of its jobs would inherit)."""
        from app.models.planning import Project

        if self._project is None:
            with db_session(self.app) as session:
                demo = session.get(Project, demo_project_id(self.app))
                customer, start, end = demo.customer_id, demo.start_date, demo.end_date
            self._project = self.add(
                Project,
                name=f"Berichte {new_tag('rp')}",
                customer_id=customer,
                start_date=start,
                end_date=end,
            )
        return self._project

    def cleanup(self) -> None:
        from app.audit.models import AuditEntry
        from app.extensions import db
        from app.models.reporting import Report, ReportAnswer, ReportFile

        if self.jobs:
            with self.app.app_context(), db.engine.begin() as conn:
                ids = list(conn.scalars(select(Report.id).where(Report.job_id.in_(self.jobs))))
                answers = select(ReportAnswer.id).where(ReportAnswer.report_id.in_(ids))
                # the audit trail of these reports too: a later test may get their ids again (SQLite)
                conn.execute(
                    delete(AuditEntry.__table__).where(
                        ((AuditEntry.entity == "report") & AuditEntry.entity_id.in_(ids))
                        | ((AuditEntry.entity == "report_answer") & AuditEntry.entity_id.in_(answers))
                    )
                )
                conn.execute(delete(ReportAnswer.__table__).where(ReportAnswer.report_id.in_(ids)))
                conn.execute(delete(ReportFile.__table__).where(ReportFile.report_id.in_(ids)))
                conn.execute(delete(Report.__table__).where(Report.id.in_(ids)))
        super().cleanup()


def make_questionnaire(rows: Rows, kind: str = "day", published: bool = True) -> dict[str, Any]:
    """A questionnaire with one version (published unless told), two pages and :data:`QUESTIONS`."""
    from app.models.reporting import Question, Questionnaire, QuestionnairePage, QuestionnaireVersion

    tag = new_tag("qn")
    questionnaire = rows.add(Questionnaire, name=f"Bericht {tag}", kind=kind)
    version = rows.add(
        QuestionnaireVersion,
        questionnaire_id=questionnaire,
        number=1,
        published_at=dt.datetime(2026, 1, 1) if published else None,
    )
    pages = [
        rows.add(QuestionnairePage, version_id=version, position=0, title_de="Verkauf", title_en="Sales"),
        rows.add(QuestionnairePage, version_id=version, position=1, title_de="Details", title_en="Details"),
    ]
    ids: dict[str, int] = {}
    for position, (page, key, question_kind, extra) in enumerate(QUESTIONS):
        ids[key] = rows.add(
            Question,
            version_id=version,
            page_id=pages[page],
            position=position,
            key=key,
            kind=question_kind,
            **extra,
        )
    for position, (key, question_kind, extra) in enumerate(GROUP_QUESTIONS):
        ids[key] = rows.add(
            Question,
            version_id=version,
            page_id=pages[1],
            parent_id=ids["products"],
            position=position,
            key=key,
            kind=question_kind,
            **extra,
        )
    return {"questionnaire": questionnaire, "version": version, "questions": ids, "tag": tag}


def demo_project_id(app: Flask) -> int:
    from app.models.planning import Project

    with db_session(app) as session:
        return session.scalar(select(Project.id).where(Project.name == PROJECT_NAME))


def promoter_id(app: Flask, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter

    with db_session(app) as session:
        return session.scalar(
            select(Promoter.id).join(User, User.id == Promoter.user_id).where(User.username == username)
        )


def add_job(
    rows: ReportRows, *, day_questionnaire: int | None = None, week_questionnaire: int | None = None
) -> int:
    """A store in Hamburg with a staffed job (of a project of the test's own) using the given
    questionnaires."""
    from app.models.crm import Location
    from app.models.planning import Job

    tag = new_tag("rp")
    location = rows.add(
        Location,
        name=f"Testmarkt {tag}",
        street="Teststraße 1",
        postcode="20095",
        city="Hamburg",
        federal_state="HH",
    )
    job = rows.add(
        Job,
        project_id=rows.project(),
        location_id=location,
        title=f"Promotion {tag}",
        status="staffed",
        day_questionnaire_id=day_questionnaire,
        week_questionnaire_id=week_questionnaire,
    )
    rows.jobs.append(job)
    return job


def add_appointment(
    rows: Rows,
    job: int,
    promoter: int | None,
    day: dt.date,
    start: dt.time = dt.time(0, 0),
    end: dt.time = dt.time(23, 59),
    *,
    booking: str = "confirmed",
    status: str = "planned",
) -> int:
    """An appointment (by default the whole day) with ``promoter``'s booking in state ``booking``."""
    from app.models.planning import Appointment, Booking

    appointment = rows.add(
        Appointment,
        job_id=job,
        date=day,
        start_time=start,
        end_time=end,
        status=status,
        origin="agency",
        version=1,
    )
    if promoter is not None:
        rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status=booking)
    return appointment


def complete_answers(group_rows: int = 1) -> dict[str, str]:
    """Form values that answer every question of :func:`make_questionnaire` (photos aside)."""
    values = {
        "actual_start": "09:05",
        "actual_end": "17:30",
        "break_minutes": "30",
        "q.sold": "42",
        "q.price": "3,99",
        "q.tasting": "yes",
        "q.weather": "sun",
        "q.remark": "Gut besucht",
        "q.visit_date": "2026-05-04",
        "q.visit_time": "10:15",
        "g.products.rows": str(group_rows),
    }
    for row in range(group_rows):
        values[f"g.products.{row}.product"] = f"Produkt {row + 1}"
        values[f"g.products.{row}.count"] = str(10 + row)
    return values
