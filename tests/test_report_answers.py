"""Checking a report form against its questionnaire (app.reporting.answers): every question
kind, in German and English; drafts may be incomplete, submitted reports may not; hostile
input (NUL bytes, huge numbers, 10,000 group rows) gets a message, never an exception;
stored answers read back into the same form values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from tests.reporting_helpers import ReportRows, complete_answers, make_questionnaire


@pytest.fixture(scope="module")
def made(app) -> Iterator[dict]:
    rows = ReportRows(app)
    yield make_questionnaire(rows)
    rows.cleanup()


@pytest.fixture()
def version(app, made, session):
    from app.models.reporting import QuestionnaireVersion

    with app.test_request_context():
        yield session.get(QuestionnaireVersion, made["version"])


def check(
    version, values: dict, *, submit: bool, locale: str = "de", files: dict | None = None, day: bool = True
):
    from app.reporting.answers import check as check_form

    form = MultiDict()
    for key, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            form.add(key, one)
    with force_locale(locale):
        result = check_form(version, form, submit=submit, file_counts=files or {}, day_report=day)
        return result, {name: str(message) for name, message in result.errors.items()}


PHOTO = {("photos", None, 0): 1}

# (field, value, German message, English message)
WRONG = [
    ("q.sold", "12,5", "Bitte eine ganze Zahl eingeben.", "Please enter a whole number."),
    ("q.sold", "zwölf", "Bitte eine ganze Zahl eingeben.", "Please enter a whole number."),
    (
        "q.sold",
        "501",
        "Bitte einen Wert von 0 Stück bis 500 Stück eingeben.",
        "Please enter a value from 0 Stück to 500 Stück.",
    ),
    ("g.products.0.count", "-1", "Bitte mindestens 0 Stück eingeben.", "Please enter at least 0 Stück."),
    (
        "q.sold",
        "-1",
        "Bitte einen Wert von 0 Stück bis 500 Stück eingeben.",
        "Please enter a value from 0 Stück to 500 Stück.",
    ),
    ("q.sold", "9" * 400, "Diese Zahl ist zu groß.", "This number is too large."),
    (
        "q.price",
        "abc",
        "Bitte eine Zahl eingeben (zum Beispiel 12,5).",
        "Please enter a number (for example 12,5).",
    ),
    (
        "q.price",
        "1e308",
        "Bitte eine Zahl eingeben (zum Beispiel 12,5).",
        "Please enter a number (for example 12,5).",
    ),
    (
        "q.price",
        "1001",
        "Bitte einen Wert von 0 € bis 1.000 € eingeben.",
        "Please enter a value from 0 € to 1,000 €.",
    ),
    ("q.tasting", "vielleicht", "Bitte antworten Sie mit Ja oder Nein.", "Please answer yes or no."),
    (
        "q.weather",
        "snow",
        "Bitte nur unter den angebotenen Möglichkeiten wählen.",
        "Please choose only among the choices offered.",
    ),
    (
        "q.material",
        ["flyer", "tv"],
        "Bitte nur unter den angebotenen Möglichkeiten wählen.",
        "Please choose only among the choices offered.",
    ),
    (
        "q.remark",
        "a\x00b",
        "Diese Antwort enthält Zeichen, die nicht gespeichert werden können. Bitte entfernen.",
        "This answer contains characters that cannot be stored. Please remove them.",
    ),
    (
        "q.remark",
        "x" * 501,
        "Bitte weniger als 500 Zeichen eingeben.",
        "Please keep this answer under 500 characters.",
    ),
    (
        "q.visit_date",
        "31.02.2026",
        "Bitte geben Sie ein Datum als TT.MM.JJJJ ein.",
        "Please enter a date as dd.mm.yyyy.",
    ),
    (
        "q.visit_date",
        "2026-13-01",
        "Bitte geben Sie ein Datum als TT.MM.JJJJ ein.",
        "Please enter a date as dd.mm.yyyy.",
    ),
    (
        "q.visit_time",
        "25:00",
        "Bitte geben Sie eine Uhrzeit als HH:MM ein.",
        "Please enter a time as HH:MM.",
    ),
    (
        "q.visit_time",
        "9 Uhr",
        "Bitte geben Sie eine Uhrzeit als HH:MM ein.",
        "Please enter a time as HH:MM.",
    ),
]


@pytest.mark.parametrize("submit", [False, True], ids=["draft", "submit"])
@pytest.mark.parametrize(
    ("name", "value", "german", "english"), WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)]
)
def test_a_wrong_value_is_refused_in_the_users_language(version, name, value, german, english, submit):
    for locale, expected in (("de", german), ("en", english)):
        values = complete_answers() | {name: value}
        result, errors = check(version, values, submit=submit, locale=locale, files=PHOTO)
        assert errors == {name: expected}, locale
        assert not any(row.question_key == name.split(".")[-1] for row in result.rows)


def test_every_kind_is_stored_as_the_model_describes(version):
    values = complete_answers(group_rows=2) | {
        "q.material": ["flyer", "poster", "flyer"],
        "q.notes": " Viel los ",
    }
    result, errors = check(version, values, submit=True, files=PHOTO)
    assert errors == {}
    stored = {(r.question_key, r.group_key, r.item, r.value_text, r.value_number) for r in result.rows}
    assert stored == {
        ("sold", None, 0, None, 42.0),
        ("price", None, 0, None, 3.99),
        ("tasting", None, 0, None, 1.0),
        ("weather", None, 0, "sun", None),
        ("material", None, 0, "flyer", None),
        ("material", None, 0, "poster", None),
        ("remark", None, 0, "Gut besucht", None),
        ("notes", None, 0, "Viel los", None),
        ("visit_date", None, 0, "2026-05-04", None),
        ("visit_time", None, 0, "10:15", None),
        ("product", "products", 0, "Produkt 1", None),
        ("count", "products", 0, None, 10.0),
        ("product", "products", 1, "Produkt 2", None),
        ("count", "products", 1, None, 11.0),
    }
    assert (
        result.actual_start.strftime("%H:%M"),
        result.actual_end.strftime("%H:%M"),
        result.break_minutes,
    ) == (
        "09:05",
        "17:30",
        30,
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("04.05.2026", "2026-05-04"), ("4.5.2026", "2026-05-04"), ("2026-05-04", "2026-05-04")],
)
def test_dates_in_german_and_iso_form_are_accepted(version, typed, stored):
    result, errors = check(version, {"q.visit_date": typed}, submit=False)
    assert errors == {}
    assert [r.value_text for r in result.rows if r.question_key == "visit_date"] == [stored]


def test_no_is_stored_as_zero_and_decimals_take_a_point_too(version):
    result, errors = check(version, {"q.tasting": "no", "q.price": "2.5"}, submit=False)
    assert errors == {}
    assert {r.question_key: r.value_number for r in result.rows} == {"tasting": 0.0, "price": 2.5}


def test_a_draft_may_leave_required_answers_out(version):
    result, errors = check(version, {"q.sold": "7"}, submit=False)
    assert errors == {}
    assert [(r.question_key, r.value_number) for r in result.rows] == [("sold", 7.0)]


@pytest.mark.parametrize("locale", ["de", "en"])
def test_submitting_needs_every_required_answer(version, locale):
    _result, errors = check(version, {"g.products.rows": "1"}, submit=True, locale=locale)
    required = "Bitte diese Frage beantworten." if locale == "de" else "Please answer this question."
    fill = "Bitte dieses Feld ausfüllen." if locale == "de" else "Please fill in this field."
    assert errors == {
        "q.sold": required,
        "q.tasting": required,
        "g.products": "Bitte mindestens 1 Zeile ausfüllen."
        if locale == "de"
        else "Please fill in at least 1 row.",
        "q.photos": "Bitte mindestens 1 Foto hinzufügen."
        if locale == "de"
        else "Please add at least 1 photo.",
        "actual_start": fill,
        "actual_end": fill,
        "break_minutes": fill,
    }


def test_a_weekly_report_has_no_working_times(version):
    values = {k: v for k, v in complete_answers().items() if not k.startswith(("actual", "break"))}
    _result, errors = check(version, values, submit=True, files=PHOTO, day=False)
    assert errors == {}


def test_a_group_row_needs_its_required_answers_but_empty_rows_are_ignored(version):
    values = complete_answers() | {
        "g.products.rows": "3",
        "g.products.1.count": "5",  # a row with a count but no product
    }
    result, errors = check(version, values, submit=True, files=PHOTO)
    assert errors == {"g.products.1.product": "Bitte diese Frage beantworten."}
    # as a draft the row is kept without its product
    result, errors = check(version, values, submit=False, files=PHOTO)
    assert errors == {}
    assert ("count", "products", 1, 5.0) in {
        (r.question_key, r.group_key, r.item, r.value_number) for r in result.rows
    }


@pytest.mark.parametrize("locale", ["de", "en"])
def test_too_many_photos_and_too_many_rows(version, locale):
    values = complete_answers(group_rows=6)
    _result, errors = check(version, values, submit=False, locale=locale, files={("photos", None, 0): 4})
    if locale == "de":
        assert errors == {
            "q.photos": "Bitte höchstens 3 Fotos hinzufügen.",
            "g.products": "Bitte höchstens 5 Zeilen eingeben.",
        }
    else:
        assert errors == {
            "q.photos": "Please add at most 3 photos.",
            "g.products": "Please enter at most 5 rows.",
        }


def test_ten_thousand_group_rows_get_a_message(version):
    values = complete_answers() | {"g.products.rows": "10000"}
    values.update({f"g.products.{row}.product": "x" for row in range(10_000)})
    result, errors = check(version, values, submit=False, files=PHOTO)
    assert errors == {"g.products": "Bitte höchstens 50 Zeilen eingeben."}
    assert not any(r.group_key for r in result.rows)
    _result, errors = check(version, {"g.products.rows": "9" * 50}, submit=False)
    assert errors == {"g.products": "Bitte höchstens 50 Zeilen eingeben."}


@pytest.mark.parametrize(
    ("values", "errors_de"),
    [
        (
            {"actual_start": "10:00", "actual_end": "09:00"},
            {"actual_end": "Das Ende muss nach dem Beginn liegen."},
        ),
        (
            {"actual_start": "10:00", "actual_end": "11:00", "break_minutes": "60"},
            {"break_minutes": "Die Pause muss kürzer als die Arbeitszeit sein."},
        ),
        (
            {"break_minutes": "-5"},
            {"break_minutes": "Bitte die Pause in ganzen Minuten angeben (0 oder mehr)."},
        ),
        ({"actual_start": "24:00"}, {"actual_start": "Bitte geben Sie eine Uhrzeit als HH:MM ein."}),
    ],
)
def test_working_time_is_checked(version, values, errors_de):
    _result, errors = check(version, values, submit=False)
    assert errors == errors_de


def test_answers_read_back_into_the_form(app, version):
    from app.models.reporting import ReportAnswer
    from app.reporting.answers import form_values

    values = complete_answers(group_rows=2) | {"q.material": ["flyer", "poster"], "q.tasting": "no"}
    result, errors = check(version, values, submit=True, files=PHOTO)
    assert errors == {}
    stored = [
        ReportAnswer(
            question_key=r.question_key,
            group_key=r.group_key,
            item=r.item,
            value_text=r.value_text,
            value_number=r.value_number,
        )
        for r in result.rows
    ]
    with force_locale("de"):
        shown = form_values(
            version,
            stored,
            actual_start=result.actual_start,
            actual_end=result.actual_end,
            break_minutes=result.break_minutes,
        )
    assert shown.getlist("q.material") == ["flyer", "poster"]
    assert shown["q.tasting"] == "no"
    assert shown["q.price"] == "3,99"
    assert shown["g.products.rows"] == "2"
    # what is shown again is accepted again and gives the same rows
    again, errors = check(version, shown.to_dict(flat=False), submit=True, files=PHOTO)
    assert errors == {}
    assert sorted(map(repr, again.rows)) == sorted(map(repr, result.rows))
