"""Questionnaires: versioning, which questionnaire an appointment or job uses, and the
agency's editor (its forms' messages in German and English, forged requests, publishing).

The module makes its own campaign and questionnaires and removes them at the end; reports
are inserted directly (the promoters' report form is not needed to use a version).
"""

from __future__ import annotations

import re
import uuid

import pytest
from flask_babel import force_locale
from sqlalchemy import delete, select, update

from tests.helpers import Rows, client_for, flashes
from tests.planning_helpers import LOCALES, page, t, text

TAG = uuid.uuid4().hex[:6]
WRITE_CHOICES = (
    'Choices, line %(line)d: please write "code | German | English" (the English label may be left out).'
)
KEY_RULE = (
    "The key may hold only lower-case letters (a–z), digits and _, starts with a letter "
    "and has at most 60 characters."
)


# ---------------------------------------------------------------- rows of the module


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    from app.extensions import db
    from app.models.planning import Appointment, Job, Project
    from app.models.reporting import Question, Questionnaire, QuestionnairePage, QuestionnaireVersion, Report

    with app.app_context(), db.engine.begin() as conn:
        ids = select(Questionnaire.id).where(Questionnaire.name.like(f"%{TAG}%"))
        for model in (Project, Job, Appointment):
            conn.execute(
                update(model).where(model.day_questionnaire_id.in_(ids)).values(day_questionnaire_id=None)
            )
        for model in (Project, Job):
            conn.execute(
                update(model).where(model.week_questionnaire_id.in_(ids)).values(week_questionnaire_id=None)
            )
        versions = select(QuestionnaireVersion.id).where(QuestionnaireVersion.questionnaire_id.in_(ids))
        conn.execute(delete(Report).where(Report.questionnaire_version_id.in_(versions)))
        conn.execute(
            delete(Question).where(Question.version_id.in_(versions), Question.parent_id.is_not(None))
        )
        conn.execute(delete(Question).where(Question.version_id.in_(versions)))
        conn.execute(delete(QuestionnairePage).where(QuestionnairePage.version_id.in_(versions)))
        conn.execute(delete(QuestionnaireVersion).where(QuestionnaireVersion.id.in_(versions)))
        conn.execute(delete(Questionnaire).where(Questionnaire.name.like(f"%{TAG}%")))
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(rows):
    return rows.campaign()


def name(label: str) -> str:
    return f"{label} {TAG} {uuid.uuid4().hex[:4]}"


def make_questionnaire(session, kind: str = "day", published: bool = False):
    """A questionnaire with a page "Verkauf": a number, a choice and a group with a sub-question."""
    from app.reporting import definitions as d

    questionnaire = d.create_questionnaire(session, name("Fragebogen"), kind)
    page = d.add_page(session, questionnaire, "Verkauf", "Sales")
    d.add_question(
        session,
        questionnaire,
        page.id,
        d.QuestionData(
            kind="integer", label_de="Verkaufte Stück", label_en="Units sold", min_value=0, unit="Stk"
        ),
    )
    d.add_question(
        session,
        questionnaire,
        page.id,
        d.QuestionData(kind="single_choice", label_de="Wetter", choices="sun | Sonne | Sun\nrain | Regen"),
    )
    d.add_question(session, questionnaire, page.id, d.QuestionData(kind="group", label_de="Produkte"))
    d.add_question(
        session,
        questionnaire,
        page.id,
        d.QuestionData(kind="decimal", label_de="Preis", key="price", parent_key="produkte"),
    )
    if published:
        d.publish(session, questionnaire)
    session.commit()
    return questionnaire


def add_report(session, campaign, version) -> int:
    from app.models.reporting import Report

    report = Report(
        kind="day",
        appointment_id=campaign["appointment"],
        job_id=campaign["job"],
        questionnaire_version_id=version.id,
        promoter_id=campaign["promoter"],
        status="draft",
    )
    session.add(report)
    session.commit()
    return report.id


def remove_reports(session, campaign) -> None:
    from app.models.reporting import Report

    session.execute(delete(Report).where(Report.appointment_id == campaign["appointment"]))
    session.commit()


def outline(version) -> list[tuple]:
    """What a version asks, comparable across versions."""
    return [
        (page.title_de, q.key, q.kind, q.label_de, q.parent.key if q.parent else None, q.choices)
        for page in version.pages
        for q in sorted(
            (q for q in version.questions if q.page_id == page.id),
            key=lambda q: (q.parent_id is not None, q.position),
        )
    ]


# ---------------------------------------------------------------- definitions


def test_choices_are_parsed_and_explained(app_ctx):
    from app.reporting.definitions import Choice, DefinitionError, choice_label, parse_choices

    assert parse_choices("yes | Ja | Yes\n\n no | Nein ") == [
        Choice("yes", "Ja", "Yes"),
        Choice("no", "Nein", ""),
    ]
    assert choice_label("yes | Ja | Yes\nno | Nein", "no", "en") == "Nein"  # English falls back to German
    assert choice_label("yes | Ja | Yes\nno | Nein", "yes", "en") == "Yes"
    assert choice_label("yes | Ja | Yes", "yes", "de") == "Ja"
    broken = {
        "Ja": WRITE_CHOICES,
        "a | b | c | d": WRITE_CHOICES,
        "yes | ": "Choices, line %(line)d: the German label is missing.",
        "ok | Gut\nok | Auch gut": 'Choices, line %(line)d: the code "%(code)s" is used twice.',
    }
    for locale in LOCALES:
        for choices, msgid in broken.items():
            with force_locale(locale):
                with pytest.raises(DefinitionError) as refused:
                    parse_choices(choices)
                line = choices.count("\n") + 1
                assert str(refused.value) == t(msgid, locale, line=line, code="ok")
        with force_locale(locale):
            with pytest.raises(DefinitionError) as refused:
                parse_choices("Ja Nein | Ja")
            assert "Ja Nein" in str(refused.value) and refused.value.field == "choices"


def test_labels_fall_back_to_german(app_ctx):
    from app.models.reporting import Question
    from app.reporting.definitions import help_text, question_label

    question = Question(label_de="Wetter", label_en="", help_de="Am Mittag", help_en=None)
    assert question_label(question, "en") == "Wetter" and help_text(question, "en") == "Am Mittag"
    question.label_en, question.help_en = "Weather", "At noon"
    assert question_label(question, "en") == "Weather" and question_label(question, "de") == "Wetter"
    assert help_text(question, "en") == "At noon" and help_text(question, "de") == "Am Mittag"


def test_keys_are_made_from_labels_and_unique_with_sub_questions(session):
    from app.reporting import definitions as d

    questionnaire = make_questionnaire(session)
    page = d.newest_version(session, questionnaire).pages[0]
    same = d.add_question(
        session, questionnaire, page.id, d.QuestionData(kind="text", label_de="Verkaufte Stück!")
    )
    assert same.key == "verkaufte_stueck_2"
    digits = d.add_question(session, questionnaire, page.id, d.QuestionData(kind="text", label_de="1. Größe"))
    assert digits.key == "q_1_groesse"
    # "price" is a sub-question's key: taken for the whole version
    with pytest.raises(d.DefinitionError) as refused:
        d.add_question(
            session, questionnaire, page.id, d.QuestionData(kind="text", label_de="P", key="price")
        )
    assert refused.value.field == "key"
    with pytest.raises(d.DefinitionError) as refused:
        d.add_question(
            session, questionnaire, page.id, d.QuestionData(kind="text", label_de="P", key="Preis-1")
        )
    assert refused.value.field == "key"
    session.rollback()


INVALID_QUESTIONS = [
    (
        {"kind": "integer", "min_value": 5, "max_value": 1},
        "max_value",
        "The minimum must not be greater than the maximum.",
    ),
    (
        {"kind": "integer", "min_value": 1.5},
        "min_value",
        "A whole-number question needs whole-number bounds.",
    ),
    ({"kind": "text", "unit": "kg"}, "unit", "Only number questions have a unit, a minimum and a maximum."),
    (
        {"kind": "yes_no", "max_value": 3},
        "max_value",
        "Only number questions have a unit, a minimum and a maximum.",
    ),
    ({"kind": "photo", "min_count": -1}, "min_count", "A number of at least 0, please."),
    ({"kind": "photo", "max_count": 21}, "max_count", "At most %(count)d."),
    (
        {"kind": "group", "min_count": 3, "max_count": 2},
        "max_count",
        "The smallest number must not be greater than the largest.",
    ),
    (
        {"kind": "text", "max_count": 2},
        "max_count",
        "Only photos, files and repeating groups have a number of items.",
    ),
    ({"kind": "text", "choices": "a | A"}, "choices", "Only choice questions have choices."),
    (
        {"kind": "group", "parent_key": "produkte"},
        "parent",
        "A repeating group cannot lie inside another group.",
    ),
    (
        {"kind": "text", "parent_key": "verkaufte_stueck"},
        "parent",
        "Please choose a repeating group of this page.",
    ),
    ({"kind": "nonsense"}, "kind", "Please choose the kind of question."),
    ({"kind": "text", "label_de": "  \x00 "}, "label_de", "Please enter a German label."),
]


@pytest.mark.parametrize("locale", LOCALES)
def test_question_rules(session, locale):
    from app.reporting import definitions as d

    questionnaire = make_questionnaire(session)
    version = d.newest_version(session, questionnaire)
    before = outline(version)
    for values, field, msgid in INVALID_QUESTIONS:
        data = d.QuestionData(**{"label_de": "Frage", **values})
        with force_locale(locale):
            with pytest.raises(d.DefinitionError) as refused:
                d.add_question(session, questionnaire, version.pages[0].id, data)
            assert (refused.value.field, str(refused.value)) == (field, t(msgid, locale, count=20)), values
    session.rollback()
    assert outline(d.newest_version(session, questionnaire)) == before


def test_editing_without_reports_changes_the_version_in_place(session):
    from app.reporting import definitions as d

    questionnaire = make_questionnaire(session, published=True)
    version = d.newest_version(session, questionnaire)
    assert d.working_version(session, questionnaire) is version
    question = next(q for q in version.questions if q.key == "wetter")
    d.update_question(
        session,
        questionnaire,
        question.id,
        d.QuestionData(kind="single_choice", label_de="Wetter heute", choices="sun | Sonne"),
    )
    session.commit()
    assert [v.number for v in questionnaire.versions] == [1]
    assert question.label_de == "Wetter heute" and version.published_at is not None


def test_editing_after_a_report_creates_the_next_version(session, campaign):
    from app.models.reporting import Report
    from app.reporting import definitions as d

    questionnaire = make_questionnaire(session, published=True)
    first = d.newest_version(session, questionnaire)
    asked = outline(first)
    report_id = add_report(session, campaign, first)
    try:
        assert d.editing_creates_version(session, questionnaire)
        sub = next(q for q in first.questions if q.key == "price")
        d.update_question(
            session,
            questionnaire,
            sub.id,
            d.QuestionData(kind="decimal", label_de="Preis (€)", parent_key="produkte"),
        )
        session.commit()
        second = d.newest_version(session, questionnaire)
        assert (second.number, second.published_at) == (2, None)
        # the report keeps its version, and that version its questions
        session.expire_all()
        assert session.get(Report, report_id).questionnaire_version_id == first.id
        assert outline(first) == asked
        changed = [row for row in outline(second) if row[1] == "price"]
        assert changed == [("Verkauf", "price", "decimal", "Preis (€)", "produkte", None)]
        copied_group = next(q for q in second.questions if q.key == "produkte")
        assert [c.key for c in copied_group.children] == ["price"]
        assert {q.version_id for q in second.questions} == {second.id}
        # further changes stay in version 2 (no report uses it)
        d.delete_question(session, questionnaire, next(q for q in second.questions if q.key == "wetter").id)
        d.add_page(session, questionnaire, "Fotos")
        session.commit()
        assert [v.number for v in questionnaire.versions] == [1, 2]
        assert [row[1] for row in outline(first)] == [row[1] for row in asked]
        # the current version for new reports is still version 1 until 2 is published
        assert d.current_version(session, questionnaire.id).id == first.id
        d.add_question(
            session,
            questionnaire,
            second.pages[1].id,
            d.QuestionData(kind="photo", label_de="Foto", max_count=3),
        )
        d.publish(session, questionnaire)
        session.commit()
        assert d.current_version(session, questionnaire.id).id == second.id
    finally:
        remove_reports(session, campaign)


@pytest.mark.parametrize("locale", LOCALES)
def test_publish_refusals(session, locale):
    from app.reporting import definitions as d

    def refusal(questionnaire) -> str:
        with force_locale(locale):
            with pytest.raises(d.DefinitionError) as refused:
                d.publish(session, questionnaire)
            return str(refused.value)

    empty = d.create_questionnaire(session, name("Leer"), "week")
    assert refusal(empty) == t("The questionnaire has no questions yet.", locale)
    page = d.add_page(session, empty, "Woche")
    d.add_question(session, empty, page.id, d.QuestionData(kind="group", label_de="Aktionen"))
    assert refusal(empty) == t('The group "%(question)s" has no sub-questions.', locale, question="Aktionen")
    d.add_question(
        session, empty, page.id, d.QuestionData(kind="text", label_de="Aktion", parent_key="aktionen")
    )
    d.add_question(session, empty, page.id, d.QuestionData(kind="multiple_choice", label_de="Material"))
    assert refusal(empty) == t(
        'The choice question "%(question)s" has no choices.', locale, question="Material"
    )
    material = next(q for q in d.newest_version(session, empty).questions if q.key == "material")
    d.update_question(
        session,
        empty,
        material.id,
        d.QuestionData(kind="multiple_choice", label_de="Material", choices="a | Aufsteller"),
    )
    d.add_page(session, empty, "Leere Seite")
    assert refusal(empty) == t('The page "%(page)s" has no questions.', locale, page="Leere Seite")
    d.delete_page(session, empty, d.newest_version(session, empty).pages[1].id)
    assert d.publish(session, empty).published_at is not None
    session.rollback()


def test_pages_and_questions_move_within_their_level(session):
    from app.reporting import definitions as d

    questionnaire = make_questionnaire(session)
    version = d.newest_version(session, questionnaire)
    second = d.add_page(session, questionnaire, "Zweite")
    d.move_page(session, questionnaire, second.id, "up")
    d.move_page(session, questionnaire, second.id, "up")  # already first: nothing happens
    session.commit()
    session.expire_all()
    assert [p.title_de for p in version.pages] == ["Zweite", "Verkauf"]
    group = next(q for q in version.questions if q.key == "produkte")
    d.move_question(session, questionnaire, group.id, "up")
    session.commit()
    session.expire_all()
    top = [q.key for q in version.questions if q.parent_id is None]
    assert top == ["verkaufte_stueck", "produkte", "wetter"]
    with pytest.raises(d.DefinitionError):
        d.move_question(session, questionnaire, group.id, "sideways")
    session.rollback()


def test_changes_refuse_pages_and_questions_of_other_questionnaires(session, campaign):
    from app.reporting import definitions as d

    mine, other = make_questionnaire(session, published=True), make_questionnaire(session)
    foreign_page = d.newest_version(session, other).pages[0]
    foreign_question = d.newest_version(session, other).questions[0]
    old = d.newest_version(session, mine)
    add_report(session, campaign, old)
    try:
        d.update_question(session, mine, old.questions[0].id, d.QuestionData(kind="integer", label_de="Neu"))
        session.commit()
        for change in (
            lambda: d.update_page(session, mine, foreign_page.id, "X"),
            lambda: d.delete_question(session, mine, foreign_question.id),
            lambda: d.add_question(session, mine, foreign_page.id, d.QuestionData(kind="text", label_de="X")),
            # the version reports use is no longer the one the editor shows
            lambda: d.delete_page(session, mine, old.pages[0].id),
            lambda: d.move_question(session, mine, old.questions[0].id, "down"),
        ):
            with pytest.raises(d.DefinitionError):
                change()
            session.rollback()
        assert [v.number for v in mine.versions] == [1, 2]
    finally:
        remove_reports(session, campaign)


# ---------------------------------------------------------------- which questionnaire applies


def test_appointment_over_job_over_project(session, campaign):
    from app.models.planning import Appointment, Job, Project
    from app.reporting import definitions as d

    day_project, day_job, day_own = (make_questionnaire(session) for _ in range(3))
    week_project, week_job = (make_questionnaire(session, kind="week") for _ in range(2))
    appointment = session.get(Appointment, campaign["appointment"])
    job, project = session.get(Job, campaign["job"]), session.get(Project, campaign["project"])
    assert (
        d.day_questionnaire_id(session, appointment) is None and d.week_questionnaire_id(session, job) is None
    )
    project.day_questionnaire, project.week_questionnaire = day_project, week_project
    session.commit()
    assert d.day_questionnaire_id(session, appointment) == day_project.id
    assert d.week_questionnaire_id(session, job) == week_project.id
    assert appointment.effective_day_questionnaire == (day_project, "project")
    job.day_questionnaire, job.week_questionnaire = day_job, week_job
    session.commit()
    assert d.day_questionnaire_id(session, appointment) == day_job.id
    assert d.week_questionnaire_id(session, job) == week_job.id
    assert job.effective_week_questionnaire == (week_job, "job")
    appointment.day_questionnaire = day_own
    session.commit()
    assert d.day_questionnaire_id(session, appointment) == day_own.id
    assert appointment.effective_day_questionnaire == (day_own, "appointment")
    # a draft is not what a report is filled in with
    assert not d.requires_day_report(session, appointment)
    d.publish(session, day_own)
    session.commit()
    assert d.requires_day_report(session, appointment)
    project.day_questionnaire = project.week_questionnaire = job.day_questionnaire = None
    job.week_questionnaire = appointment.day_questionnaire = None
    session.commit()


# ---------------------------------------------------------------- the screens


def agency(app, locale: str = "de"):
    return client_for(app, "agentur", locale)


def editor_url(questionnaire_id: int) -> str:
    return f"/questionnaires/{questionnaire_id}/"


def fresh(app, questionnaire_id: int):
    """The questionnaire's newest version as an outline, read in a new session."""
    from app.extensions import db
    from app.models.reporting import Questionnaire
    from app.reporting import definitions as d

    with app.app_context():
        questionnaire = db.session.get(Questionnaire, questionnaire_id)
        versions = [(v.number, v.published_at is not None) for v in questionnaire.versions]
        result = versions, outline(d.newest_version(db.session, questionnaire))
        db.session.remove()
        return result


def made(app, **kwargs) -> int:
    from app.extensions import db

    with app.app_context():
        questionnaire_id = make_questionnaire(db.session, **kwargs).id
        db.session.remove()
        return questionnaire_id


def ids_of(app, questionnaire_id: int) -> dict[str, int]:
    """Ids of the newest version's first page and questions by key."""
    from app.extensions import db
    from app.models.reporting import Questionnaire
    from app.reporting import definitions as d

    with app.app_context():
        version = d.newest_version(db.session, db.session.get(Questionnaire, questionnaire_id))
        ids = {"page": version.pages[0].id, "version": version.id, **{q.key: q.id for q in version.questions}}
        db.session.remove()
        return ids


@pytest.mark.parametrize("locale", LOCALES)
def test_list_and_create(app, locale):
    client = agency(app, locale)
    html = page(client, "/questionnaires/")
    assert t("Questionnaires", locale) in text(html)
    # no name: a message at the field, nothing created
    html = page(client, "/questionnaires/add", method="POST", data={"name": "   ", "kind": "day"})
    assert t("Please enter a name.", locale) in text(html)
    html = page(client, "/questionnaires/add", method="POST", data={"name": "A\x00B", "kind": "day"})
    assert "NUL" in text(html) and "has-error" in html
    html = page(client, "/questionnaires/add", method="POST", data={"name": "X", "kind": "month"})
    assert "has-error" in html
    title = name("Neu")
    response = client.post("/questionnaires/add", data={"name": title, "kind": "week"})
    assert response.status_code == 302
    html = page(client, response.headers["Location"])
    assert title in text(html) and t("Weekly report", locale) in text(html)
    assert t("draft, not published", locale) in text(html)
    listed = page(client, "/questionnaires/")
    row = re.search(
        rf"<tr data-questionnaire=\"\d+\">(?:(?!</tr>).)*{re.escape(title)}.*?</tr>", listed, re.S
    )
    assert row and t("No", locale) in text(row.group(0))


@pytest.mark.parametrize("locale", LOCALES)
def test_editor_forms_show_what_is_wrong(app, locale):
    questionnaire_id = made(app)
    ids = ids_of(app, questionnaire_id)
    before = fresh(app, questionnaire_id)
    client = agency(app, locale)
    base = editor_url(questionnaire_id)
    html = page(client, base + "pages/add", method="POST", data={"title_de": "", "title_en": "Sales"})
    assert t("Please enter a German title.", locale) in text(html)
    html = page(client, base + "rename", method="POST", data={"name": " ", "description": "d"})
    assert t("Please enter a name.", locale) in text(html)
    html = page(client, base + f"pages/{ids['page']}/edit", method="POST", data={"title_de": "x" * 201})
    assert t("At most %(count)d characters.", locale, count=200) in text(html)
    add_question = base + f"pages/{ids['page']}/questions/add"
    cases = [
        (
            {"kind": "decimal", "min_value": "10", "max_value": "2,5"},
            "The minimum must not be greater than the maximum.",
        ),
        ({"kind": "integer", "min_value": "zehn"}, "Please enter a number."),
        ({"kind": "decimal", "max_value": "1e400"}, "Please enter a smaller number."),
        ({"kind": "photo", "max_count": "25"}, "At most %(count)d."),
        ({"kind": "photo", "min_count": "1,5"}, "Please enter a whole number."),
        ({"kind": "text", "unit": "kg"}, "Only number questions have a unit, a minimum and a maximum."),
        (
            {"kind": "single_choice", "choices": "ja"},
            WRITE_CHOICES,
        ),
        (
            {"kind": "text", "key": "price"},
            'The key "%(key)s" is already used by another question of this questionnaire.',
        ),
        (
            {"kind": "text", "key": "Preis"},
            KEY_RULE,
        ),
        ({"kind": "text", "label_de": ""}, "Please enter a German label."),
        ({"kind": "group", "parent": "produkte"}, "A repeating group cannot lie inside another group."),
    ]
    for values, msgid in cases:
        data = {"label_de": "Frage", "parent": "", **values}
        html = page(client, add_question, method="POST", data=data)
        expected = t(msgid, locale, count=20, line=1, key="price")
        assert expected in text(html), (values, text(html)[-600:])
        assert 'class="help-block field-error"' in html
    edit = base + f"questions/{ids['verkaufte_stueck']}/edit"
    html = page(client, edit)
    assert 'value="0"' in html  # the stored minimum is shown
    html = page(
        client,
        edit,
        method="POST",
        data={"kind": "integer", "label_de": "X", "min_value": "5", "max_value": "4"},
    )
    assert t("The minimum must not be greater than the maximum.", locale) in text(html)
    assert fresh(app, questionnaire_id) == before


def test_editor_changes_and_publishes(app):
    questionnaire_id = made(app)
    ids = ids_of(app, questionnaire_id)
    client = agency(app, "en")
    base = editor_url(questionnaire_id)
    response = client.post(
        base + f"pages/{ids['page']}/questions/add",
        data={
            "kind": "decimal",
            "label_de": "Umsatz",
            "label_en": "Revenue",
            "unit": "€",
            "min_value": "0",
            "max_value": "1.000,5",
            "parent": "produkte",
            "required": "y",
        },
    )
    assert response.status_code == 302
    html = page(client, response.headers["Location"])
    assert "The question was added." in flashes(html)
    added = re.search(
        r'<li class="list-group-item question sub-question" data-question="\d+" data-key="umsatz">', html
    )
    assert added, "the new sub-question is listed in its group"
    _, asked = fresh(app, questionnaire_id)
    assert ("Verkauf", "umsatz", "decimal", "Umsatz", "produkte", None) in asked
    # publish: a confirmation page, then the version is published
    html = page(client, base + "publish")
    assert "Publish version 1?" in text(html)
    html = page(client, base + "publish", method="POST", follow_redirects=True)
    assert "Version 1 is published." in flashes(html)
    assert re.search(r"published</span> \d{2}/\d{2}/\d{4}, \d{1,2}:\d{2}", html) or "published" in text(html)
    assert fresh(app, questionnaire_id)[0] == [(1, True)]
    assert 'id="live-version-note"' in page(client, base)
    de = agency(app, "de")
    html = page(de, base)
    row = re.search(r'<tr data-version="1">.*?</tr>', html, re.S).group(0)
    assert re.search(r"\d{2}\.\d{2}\.\d{4},? \d{2}:\d{2}", text(row)), text(row)
    # delete with a confirmation
    html = page(client, base + f"questions/{ids['produkte']}/delete")
    assert 'Delete the group "Produkte" with its sub-questions?' in text(html)
    html = page(client, base + f"questions/{ids['produkte']}/delete", method="POST", follow_redirects=True)
    assert "The question was deleted." in flashes(html)
    keys = [row[1] for row in fresh(app, questionnaire_id)[1]]
    assert keys == ["verkaufte_stueck", "wetter"]


def test_banner_and_new_version_after_a_report(app, campaign):
    from app.extensions import db
    from app.models.reporting import QuestionnaireVersion

    questionnaire_id = made(app, published=True)
    ids = ids_of(app, questionnaire_id)
    with app.app_context():
        add_report(db.session, campaign, db.session.get(QuestionnaireVersion, ids["version"]))
        db.session.remove()
    try:
        client = agency(app, "en")
        html = page(client, editor_url(questionnaire_id))
        assert 'id="new-version-banner"' in html
        assert (
            page(client, editor_url(questionnaire_id) + f"pages/{ids['page']}/edit").count(
                "new-version-banner"
            )
            == 1
        )
        html = page(
            client,
            editor_url(questionnaire_id) + f"pages/{ids['page']}/edit",
            method="POST",
            data={"title_de": "Abverkauf", "title_en": "Sell-out"},
            follow_redirects=True,
        )
        messages = flashes(html)
        assert "The page was saved." in messages
        assert any("new version 2" in message for message in messages), messages
        assert 'id="new-version-banner"' not in html
        versions, asked = fresh(app, questionnaire_id)
        assert versions == [(1, True), (2, False)] and asked[0][0] == "Abverkauf"
        # the old version's preview still shows its page; its report count is 1
        html = page(client, editor_url(questionnaire_id) + f"versions/{ids['version']}")
        assert "Sales" in text(html) and "1 report" in text(html)
        row = re.search(r'<tr data-version="1">.*?</tr>', page(client, editor_url(questionnaire_id)), re.S)
        assert text(row.group(0)).split()[-5] == "1" or ">1<" in row.group(0)
    finally:
        with app.app_context():
            remove_reports(db.session, campaign)
            db.session.remove()


def test_forged_requests_are_refused(app):
    mine, other = made(app), made(app)
    ids, foreign = ids_of(app, mine), ids_of(app, other)
    before = fresh(app, mine), fresh(app, other)
    client = agency(app, "en")
    base = editor_url(mine)
    for url in (
        base + f"pages/{foreign['page']}/edit",
        base + f"pages/{foreign['page']}/delete",
        base + f"pages/{foreign['page']}/questions/add",
        base + f"questions/{foreign['wetter']}/edit",
        base + f"questions/{foreign['wetter']}/delete",
        base + f"versions/{foreign['version']}",
        "/questionnaires/999999999/",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (base + f"pages/{foreign['page']}/edit", {"title_de": "Gekapert"}),
        (base + f"pages/{foreign['page']}/questions/add", {"kind": "text", "label_de": "Gekapert"}),
        (base + f"questions/{foreign['wetter']}/edit", {"kind": "text", "label_de": "Gekapert"}),
        (base + f"questions/{ids['wetter']}/edit", {"kind": "text", "label_de": "X", "parent": "unknown"}),
        (
            base + f"questions/{ids['verkaufte_stueck']}/edit",
            {"kind": "integer", "label_de": "X", "parent": "\x00"},
        ),
    ):
        response = client.post(url, data=data)
        assert response.status_code in (200, 404), url
    for url in (base + f"pages/{foreign['page']}/delete", base + f"questions/{foreign['wetter']}/delete"):
        assert client.post(url).status_code == 404, url
    for url in (base + f"pages/{foreign['page']}/move", base + f"questions/{foreign['wetter']}/move"):
        html = page(client, url, method="POST", data={"direction": "up"}, follow_redirects=True)
        assert any("not part of the questionnaire" in message for message in flashes(html)), url
    assert (fresh(app, mine), fresh(app, other)) == before
    # customers and promoters do not reach the editor
    for username in ("adm.nord", "promoter01"):
        outsider = client_for(app, username)
        response = outsider.post(base + "pages/add", data={"title_de": "Fremd"})
        assert response.status_code in (302, 403, 404)
        assert fresh(app, mine) == before[0]


def test_questionnaire_selects_on_project_job_and_appointment(app, campaign):
    from app.extensions import db
    from app.models.planning import Appointment, Job

    day_id, week_id = made(app), made(app, kind="week")
    with app.app_context():
        from app.models.reporting import Questionnaire

        day_name = db.session.get(Questionnaire, day_id).name
        week_name = db.session.get(Questionnaire, week_id).name
        db.session.remove()
    client = agency(app, "en")
    html = page(client, f"/jobview/edit/{campaign['job']}")
    day_select = re.search(r'<select[^>]*name="day_questionnaire".*?</select>', html, re.S).group(0)
    week_select = re.search(r'<select[^>]*name="week_questionnaire".*?</select>', html, re.S).group(0)
    assert day_name in day_select and week_name not in day_select
    assert week_name in week_select and day_name not in week_select
    # a weekly questionnaire forged into the day select is refused
    form = {
        "title": "Job",
        "project": str(campaign["project"]),
        "location": str(campaign["location"]),
        "planned_days_per_week": "3",
        "day_questionnaire": str(week_id),
    }
    response = client.post(f"/jobview/edit/{campaign['job']}", data=form)
    assert response.status_code == 200 and "Not a valid choice" in text(response.get_data(as_text=True))
    form["day_questionnaire"] = str(day_id)
    form["week_questionnaire"] = str(week_id)
    response = client.post(f"/jobview/edit/{campaign['job']}", data=form)
    assert response.status_code == 302
    html = page(client, f"/jobview/show/{campaign['job']}")
    assert f"{day_name} (from the job)" in text(html) and f"{week_name} (from the job)" in text(html)
    html = page(client, f"/appointmentview/show/{campaign['appointment']}")
    assert f"{day_name} (from the job)" in text(html)
    # an appointment added with its own questionnaire keeps it (through plan_appointment)
    response = client.post(
        "/appointmentview/add",
        data={
            "job": str(campaign["job"]),
            "date": "2026-03-03",
            "start_time": "10:00",
            "end_time": "18:00",
            "day_questionnaire": str(day_id),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        added = db.session.scalar(
            select(Appointment).where(
                Appointment.job_id == campaign["job"], Appointment.id != campaign["appointment"]
            )
        )
        assert added.day_questionnaire_id == day_id
        added_id = added.id
        db.session.get(Job, campaign["job"]).day_questionnaire_id = None
        db.session.commit()
        db.session.remove()
    de = agency(app, "de")
    html = page(de, f"/appointmentview/show/{added_id}")
    assert t("%(name)s (own)", "de", name=day_name) in text(html)
    with app.app_context():
        db.session.execute(delete(Appointment).where(Appointment.id == added_id))
        db.session.execute(update(Job).where(Job.id == campaign["job"]).values(week_questionnaire_id=None))
        db.session.commit()
        db.session.remove()
