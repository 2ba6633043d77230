"""Rows for the review and reminder tests: a published day questionnaire, appointments at a
demo store with a confirmed promoter of the test's own, and reports inserted directly."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import delete, func, insert, select

from app.common.models import utcnow


@dataclass
class ReviewData:
    app: Flask
    tag: str
    job_id: int
    project_id: int
    questionnaire_id: int
    version_id: int
    promoter_id: int
    promoter_email: str
    outbox_mark: int
    appointments: list[int] = field(default_factory=list)
    reports: list[int] = field(default_factory=list)
    promoters: list[int] = field(default_factory=list)

    def _conn(self):
        from app.extensions import db

        return db.engine.begin()

    def appointment(
        self,
        day: dt.date,
        start: dt.time = dt.time(10, 0),
        end: dt.time = dt.time(18, 0),
        status: str = "planned",
        questionnaire: bool = True,
        promoter_id: int | None = None,
        booking: str | None = "confirmed",
    ) -> int:
        from app.models.planning import Appointment, Booking

        with self.app.app_context(), self._conn() as conn:
            now = utcnow()
            pk = conn.execute(
                insert(Appointment).values(
                    job_id=self.job_id,
                    date=day,
                    start_time=start,
                    end_time=end,
                    status=status,
                    origin="agency",
                    created_at=now,
                    updated_at=now,
                    version=1,
                    note=f"Review {self.tag}",
                    day_questionnaire_id=self.questionnaire_id if questionnaire else None,
                )
            ).inserted_primary_key[0]
            if booking:
                conn.execute(
                    insert(Booking).values(
                        appointment_id=pk, promoter_id=promoter_id or self.promoter_id, status=booking
                    )
                )
        self.appointments.append(pk)
        return pk

    def report(
        self,
        appointment_id: int,
        status: str = "submitted",
        submitted_at: dt.datetime | None = None,
        actual: tuple[dt.time, dt.time] = (dt.time(10, 15), dt.time(17, 45)),
        answers: bool = True,
    ) -> int:
        from app.models.reporting import Report, ReportAnswer

        with self.app.app_context(), self._conn() as conn:
            now = utcnow()
            pk = conn.execute(
                insert(Report).values(
                    kind="day",
                    appointment_id=appointment_id,
                    job_id=self.job_id,
                    questionnaire_version_id=self.version_id,
                    promoter_id=self.promoter_id,
                    status=status,
                    actual_start=actual[0],
                    actual_end=actual[1],
                    break_minutes=30,
                    submitted_at=submitted_at or (now - dt.timedelta(hours=1) if status != "draft" else None),
                    created_at=now,
                    updated_at=now,
                    revision=1,
                )
            ).inserted_primary_key[0]
            if answers:
                rows = [
                    {"question_key": "contacts", "value_number": 42.0},
                    {"question_key": "mood", "value_text": "good"},
                    {"question_key": "remarks", "value_text": f"Alles gut {self.tag}"},
                    {"question_key": "product", "group_key": "products", "item": 0, "value_text": "Superbär"},
                    {"question_key": "sold", "group_key": "products", "item": 0, "value_number": 7.0},
                    {
                        "question_key": "product",
                        "group_key": "products",
                        "item": 1,
                        "value_text": "Turbokran",
                    },
                    {"question_key": "sold", "group_key": "products", "item": 1, "value_number": 3.0},
                ]
                conn.execute(
                    insert(ReportAnswer),
                    [
                        {
                            "report_id": pk,
                            "group_key": None,
                            "item": 0,
                            "value_text": None,
                            "value_number": None,
                        }
                        | r
                        for r in rows
                    ],
                )
        self.reports.append(pk)
        return pk

    def promoter(self, language: str = "de") -> int:
        from app.models.promoter import Promoter

        tag = uuid.uuid4().hex[:8]
        with self.app.app_context(), self._conn() as conn:
            pk = conn.execute(
                insert(Promoter).values(
                    first_name=f"Rita {tag}",
                    last_name="Review",
                    email=f"review-{tag}@example.com",
                    language=language,
                    active=True,
                )
            ).inserted_primary_key[0]
        self.promoters.append(pk)
        return pk

    def cleanup(self) -> None:
        from app.audit.models import AuditEntry
        from app.extensions import db
        from app.models.planning import Appointment, Booking
        from app.models.promoter import Promoter
        from app.models.reporting import (
            Question,
            Questionnaire,
            QuestionnairePage,
            QuestionnaireVersion,
            Report,
            ReportReminder,
        )
        from app.outbox.models import OutboxMessage

        with self.app.app_context(), db.engine.begin() as conn:
            conn.execute(delete(OutboxMessage).where(OutboxMessage.id > self.outbox_mark))
            conn.execute(
                delete(Report).where(Report.job_id == self.job_id, Report.promoter_id.in_(self.promoters))
            )
            conn.execute(delete(ReportReminder).where(ReportReminder.appointment_id.in_(self.appointments)))
            conn.execute(delete(Booking).where(Booking.appointment_id.in_(self.appointments)))
            conn.execute(delete(Appointment).where(Appointment.id.in_(self.appointments)))
            conn.execute(
                delete(Question).where(
                    Question.version_id == self.version_id, Question.parent_id.is_not(None)
                )
            )
            conn.execute(delete(Question).where(Question.version_id == self.version_id))
            conn.execute(delete(QuestionnairePage).where(QuestionnairePage.version_id == self.version_id))
            conn.execute(delete(QuestionnaireVersion).where(QuestionnaireVersion.id == self.version_id))
            conn.execute(delete(Questionnaire).where(Questionnaire.id == self.questionnaire_id))
            conn.execute(delete(Promoter).where(Promoter.id.in_(self.promoters)))
            conn.execute(
                delete(AuditEntry).where(
                    AuditEntry.entity.in_(
                        ("report", "report_answer", "questionnaire", "questionnaire_version")
                    )
                    & AuditEntry.entity_id.in_(self.reports + [self.questionnaire_id, self.version_id])
                )
            )


def make_review_data(
    app: Flask, store_index: int = 0, language: str = "de", job_id: int | None = None
) -> ReviewData:
    """A published day questionnaire (figures, a choice, a group per product, remarks, a photo),
    a promoter of its own at a northern Supertoy store."""
    from app.extensions import db
    from app.models.reporting import Question, Questionnaire, QuestionnairePage, QuestionnaireVersion
    from app.outbox.models import OutboxMessage
    from tests.test_wizard import demo

    info = demo(app)
    store = info.north[store_index]
    tag = uuid.uuid4().hex[:8]
    with app.app_context(), db.engine.begin() as conn:
        mark = conn.execute(select(func.coalesce(func.max(OutboxMessage.id), 0))).scalar_one()
        now = utcnow()
        questionnaire = conn.execute(
            insert(Questionnaire).values(name=f"Tagesbericht {tag}", kind="day", created_at=now)
        ).inserted_primary_key[0]
        version = conn.execute(
            insert(QuestionnaireVersion).values(
                questionnaire_id=questionnaire, number=1, published_at=now, created_at=now
            )
        ).inserted_primary_key[0]
        page = conn.execute(
            insert(QuestionnairePage).values(
                version_id=version, position=0, title_de="Kennzahlen", title_en="Figures"
            )
        ).inserted_primary_key[0]

        def question(position, key, kind, de, en, **extra):
            return conn.execute(
                insert(Question).values(
                    version_id=version,
                    page_id=page,
                    position=position,
                    key=key,
                    kind=kind,
                    label_de=de,
                    label_en=en,
                    required=extra.pop("required", False),
                    **extra,
                )
            ).inserted_primary_key[0]

        question(
            0, "contacts", "integer", "Kontakte", "Contacts", required=True, min_value=0, max_value=10000
        )
        question(
            1,
            "mood",
            "single_choice",
            "Stimmung im Markt",
            "Mood of the store",
            choices="good | Gut | Good\nbad | Schlecht | Bad",
        )
        group = question(2, "products", "group", "Je Produkt", "Per product")
        question(0, "product", "text", "Produkt", "Product", parent_id=group)
        question(1, "sold", "integer", "Verkauft", "Units sold", parent_id=group, min_value=0)
        question(3, "remarks", "long_text", "Bemerkungen", "Remarks")
        question(4, "display", "photo", "Foto der Platzierung", "Photo of the display")
    data = ReviewData(
        app=app,
        tag=tag,
        job_id=job_id or store.job_id,
        project_id=info.project_id,
        questionnaire_id=questionnaire,
        version_id=version,
        promoter_id=0,
        promoter_email="",
        outbox_mark=mark,
    )
    data.promoter_id = data.promoter(language)
    with app.app_context(), db.engine.connect() as conn:
        from app.models.promoter import Promoter

        data.promoter_email = conn.execute(
            select(Promoter.email).where(Promoter.id == data.promoter_id)
        ).scalar_one()
    return data
