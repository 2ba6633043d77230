"""Questionnaires: which one an appointment or a job uses, their versions, and their editing.

Editing goes through :func:`working_version`: the newest version is changed in place as
long as no report uses it; once one does, the first change copies it (pages, questions,
groups with their sub-questions) into the next, unpublished version, and the reports keep
theirs. The editor's forms send the ids of the newest version's pages and questions; the
functions below find their copies. Refusals are :class:`DefinitionError` with a message
for the user and the form field it concerns. No commit here: the caller commits.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.common.choices import QUESTION_KINDS, QUESTIONNAIRE_KINDS
from app.common.models import utcnow
from app.models.planning import Appointment, Job, Project
from app.models.reporting import Question, Questionnaire, QuestionnairePage, QuestionnaireVersion, Report


def day_questionnaire_id(session: Session, appointment: Appointment) -> int | None:
    """The appointment's own day-report questionnaire, else its job's, else its project's."""
    return session.scalar(
        select(
            func.coalesce(
                Appointment.day_questionnaire_id, Job.day_questionnaire_id, Project.day_questionnaire_id
            )
        )
        .join(Job, Job.id == Appointment.job_id)
        .join(Project, Project.id == Job.project_id)
        .where(Appointment.id == appointment.id)
    )


def week_questionnaire_id(session: Session, job: Job) -> int | None:
    """The job's own weekly-report questionnaire, else its project's."""
    return session.scalar(
        select(func.coalesce(Job.week_questionnaire_id, Project.week_questionnaire_id))
        .join(Project, Project.id == Job.project_id)
        .where(Job.id == job.id)
    )


def day_questionnaire_column():
    """The same rule as :func:`day_questionnaire_id` as a column expression, for queries
    that already join Appointment, Job and Project (lists of many appointments)."""
    return func.coalesce(
        Appointment.day_questionnaire_id, Job.day_questionnaire_id, Project.day_questionnaire_id
    )


def current_version(session: Session, questionnaire_id: int) -> QuestionnaireVersion | None:
    """The newest published version (what a new report is filled in with), or None."""
    return session.scalar(
        select(QuestionnaireVersion)
        .where(
            QuestionnaireVersion.questionnaire_id == questionnaire_id,
            QuestionnaireVersion.published_at.is_not(None),
        )
        .order_by(QuestionnaireVersion.number.desc())
        .limit(1)
    )


def requires_day_report(session: Session, appointment: Appointment) -> bool:
    """True if the appointment's questionnaire has a published version: it is then set to
    done only by the approval of its day report, never by hand."""
    questionnaire_id = day_questionnaire_id(session, appointment)
    return questionnaire_id is not None and current_version(session, questionnaire_id) is not None


# -- editing: questionnaires, pages and questions ------------------------------------------

#: A question's key (answers are stored by it): lower case, starts with a letter.
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,59}\Z")
#: A choice's code.
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}\Z")
NUMBER_KINDS = ("integer", "decimal")
CHOICE_KINDS = ("single_choice", "multiple_choice")
COUNT_KINDS = ("photo", "file", "group")
#: At most this many photos per question (and files or rows per question or group).
MAX_PHOTOS = 20
MAX_COUNT = 100
#: Bounds of numbers beyond which a value is a typing error (and floats lose whole numbers).
NUMBER_LIMIT = 1e12
MAX_CHOICES = 100
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


class DefinitionError(ValueError):
    """A refused change of a questionnaire; the message is for the user. ``field`` names
    the form field it concerns (None: the whole form)."""

    def __init__(self, message, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Choice:
    code: str
    de: str
    en: str


@dataclass
class QuestionData:
    """What the question form holds (also the API's body); numbers already parsed."""

    kind: str
    label_de: str
    key: str = ""
    label_en: str | None = None
    help_de: str | None = None
    help_en: str | None = None
    required: bool = False
    unit: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_count: int | None = None
    max_count: int | None = None
    choices: str | None = None
    #: The key of the group this question belongs to (a sub-question), or None.
    parent_key: str | None = None


def _is_english(locale) -> bool:
    return str(locale or "de").lower().startswith("en")


def question_label(question: Question, locale) -> str:
    """The question's label in the language of ``locale``; English falls back to German."""
    if _is_english(locale) and (question.label_en or "").strip():
        return question.label_en
    return question.label_de


def help_text(question: Question, locale) -> str | None:
    """The question's help text in the language of ``locale`` (English falls back to German)."""
    if _is_english(locale) and (question.help_en or "").strip():
        return question.help_en
    return question.help_de or None


def page_title(page: QuestionnairePage, locale) -> str:
    if _is_english(locale) and (page.title_en or "").strip():
        return page.title_en
    return page.title_de


def choice_label(choices: str | list[Choice] | None, code: str | None, locale) -> str:
    """The label of the choice ``code`` (from a question's choices text or parsed list) in
    the language of ``locale``; the code itself if it is not (or no longer) a choice."""
    if code is None:
        return ""
    if choices is None or isinstance(choices, str):
        try:
            choices = parse_choices(choices)
        except DefinitionError:
            return code
    for choice in choices:
        if choice.code == code:
            return choice.en if _is_english(locale) and choice.en else choice.de
    return code


def _clean(text: str | None) -> str:
    """Text without surrounding blanks and control characters (NUL bytes, …)."""
    return "".join(ch for ch in (text or "") if ch in "\n\t" or ch.isprintable()).strip()


def parse_choices(text: str | None) -> list[Choice]:
    """The choices of a choice question, one a line: ``code | German | English`` (English
    may be left out; so may the code: ``German | English`` is not enough, the code comes
    first). Blank lines are ignored."""
    choices: list[Choice] = []
    seen: set[str] = set()
    for number, line in enumerate(_clean(text).splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or len(parts) > 3:
            raise DefinitionError(
                _l(
                    'Choices, line %(line)d: please write "code | German | English" '
                    "(the English label may be left out).",
                    line=number,
                ),
                field="choices",
            )
        code, de, en = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
        if not CODE_PATTERN.match(code):
            raise DefinitionError(
                _l(
                    'Choices, line %(line)d: the code "%(code)s" may hold only lower-case letters, '
                    "digits, - and _ (at most 60).",
                    line=number,
                    code=code[:60],
                ),
                field="choices",
            )
        if not de:
            raise DefinitionError(
                _l("Choices, line %(line)d: the German label is missing.", line=number), field="choices"
            )
        if len(de) > 200 or len(en) > 200:
            raise DefinitionError(
                _l("Choices, line %(line)d: a label may have at most 200 characters.", line=number),
                field="choices",
            )
        if code in seen:
            raise DefinitionError(
                _l('Choices, line %(line)d: the code "%(code)s" is used twice.', line=number, code=code),
                field="choices",
            )
        seen.add(code)
        choices.append(Choice(code, de, en))
    if len(choices) > MAX_CHOICES:
        raise DefinitionError(
            _l("At most %(count)d choices.", count=MAX_CHOICES),
            field="choices",
        )
    return choices


def parse_number(text: str | None, field: str) -> float | None:
    """A number typed into a form ("1,5" or "1.5"), None if empty."""
    text = _clean(text).replace(" ", "").replace("\u202f", "")
    if not text:
        return None
    if "," in text and "." in text:  # German thousands separator: 1.000,5
        text = text.replace(".", "")
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise DefinitionError(_l("Please enter a number."), field=field) from None
    if not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
        raise DefinitionError(_l("Please enter a smaller number."), field=field)
    return value


def parse_count(text: str | None, field: str) -> int | None:
    """A count typed into a form, None if empty."""
    value = parse_number(text, field)
    if value is None:
        return None
    if value != int(value):
        raise DefinitionError(_l("Please enter a whole number."), field=field)
    return int(value)


def slug_from_label(label: str) -> str:
    """A key proposed from a label: "Verkaufte Stück (Äpfel)" → "verkaufte_stueck_aepfel"."""
    text = unicodedata.normalize("NFKD", _clean(label).lower().translate(_TRANSLITERATION))
    text = text.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"q_{slug}".rstrip("_")
    return slug[:60].rstrip("_")


# ---- versions


def newest_version(session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    return session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
        .order_by(QuestionnaireVersion.number.desc())
        .limit(1)
    )


def report_count(session: Session, version: QuestionnaireVersion) -> int:
    """How many reports were filled in with ``version``."""
    return session.scalar(
        select(func.count()).select_from(Report).where(Report.questionnaire_version_id == version.id)
    )


def report_counts(session: Session, questionnaire_ids: list[int] | None = None) -> dict[int, int]:
    """Reports per version id (of the given questionnaires, or of all)."""
    query = (
        select(Report.questionnaire_version_id, func.count())
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Report.questionnaire_version_id)
        .group_by(Report.questionnaire_version_id)
    )
    if questionnaire_ids is not None:
        query = query.where(QuestionnaireVersion.questionnaire_id.in_(questionnaire_ids))
    return dict(session.execute(query).all())


def create_questionnaire(
    session: Session, name: str, kind: str, description: str | None = None
) -> Questionnaire:
    """A new questionnaire with an empty first version (a draft)."""
    name, description = _check_questionnaire(name, description)
    if kind not in QUESTIONNAIRE_KINDS:
        raise DefinitionError(_l("Please choose the kind of report."), field="kind")
    questionnaire = Questionnaire(name=name, kind=kind, description=description)
    questionnaire.versions.append(QuestionnaireVersion(number=1))
    session.add(questionnaire)
    session.flush()
    return questionnaire


def update_questionnaire(
    session: Session, questionnaire: Questionnaire, name: str, description: str | None = None
) -> None:
    """Rename a questionnaire (its kind stays: projects and jobs use it as that kind)."""
    questionnaire.name, questionnaire.description = _check_questionnaire(name, description)
    session.flush()


def _check_questionnaire(name: str, description: str | None) -> tuple[str, str | None]:
    name = _clean(name)
    if not name:
        raise DefinitionError(_l("Please enter a name."), field="name")
    if len(name) > 200:
        raise DefinitionError(_l("At most %(count)d characters.", count=200), field="name")
    description = _clean(description) or None
    if description and len(description) > 5000:
        raise DefinitionError(_l("At most %(count)d characters.", count=5000), field="description")
    return name, description


def working_version(session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion:
    """The version the editor changes: the newest one if no report uses it (edited in
    place, even if it is published), otherwise a copy of it as the next, unpublished
    version — the reports keep the version they were filled in with."""
    newest = newest_version(session, questionnaire)
    if newest is None:
        newest = QuestionnaireVersion(questionnaire=questionnaire, number=1)
        session.add(newest)
        session.flush()
        return newest
    if not report_count(session, newest):
        return newest
    copy = QuestionnaireVersion(questionnaire_id=questionnaire.id, number=newest.number + 1)
    session.add(copy)
    with session.no_autoflush:
        pages = {}
        for page in newest.pages:
            pages[page.id] = QuestionnairePage(
                position=page.position, title_de=page.title_de, title_en=page.title_en
            )
            copy.pages.append(pages[page.id])
        copied: dict[int, Question] = {}
        # parents before their children (a group's sub-questions point to the copied group)
        for question in sorted(newest.questions, key=lambda q: (q.parent_id is not None, q.position, q.id)):
            copied[question.id] = Question(
                page=pages[question.page_id],
                parent=copied.get(question.parent_id),
                **{name: getattr(question, name) for name in _COPIED},
            )
            copy.questions.append(copied[question.id])
    session.flush()
    session.expire(copy, ["pages", "questions"])
    return copy


_COPIED = (
    "position",
    "key",
    "kind",
    "label_de",
    "label_en",
    "help_de",
    "help_en",
    "required",
    "unit",
    "min_value",
    "max_value",
    "min_count",
    "max_count",
    "choices",
)


def editing_creates_version(session: Session, questionnaire: Questionnaire) -> bool:
    """True if the next change makes a new version (reports use the newest one)."""
    newest = newest_version(session, questionnaire)
    return newest is not None and report_count(session, newest) > 0


def _shown_version(session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion:
    """The version the editor shows (the newest); the ids of its pages and questions are
    what the editor's forms send."""
    version = newest_version(session, questionnaire)
    if version is None:
        version = working_version(session, questionnaire)
    return version


def _not_found(what: str) -> DefinitionError:
    if what == "page":
        return DefinitionError(_l("This page is not part of the questionnaire (any more)."))
    return DefinitionError(_l("This question is not part of the questionnaire (any more)."))


def _page_to_change(session: Session, questionnaire: Questionnaire, page_id: int) -> QuestionnairePage:
    """The page ``page_id`` of the shown version, in the working version (its copy if
    the change makes a new version). Pages of other versions or questionnaires are refused."""
    shown = _shown_version(session, questionnaire)
    page = session.get(QuestionnairePage, page_id) if isinstance(page_id, int) else None
    if page is None or page.version_id != shown.id:
        raise _not_found("page")
    index = shown.pages.index(page)
    version = working_version(session, questionnaire)
    return version.pages[index] if version is not shown else page


def _question_to_change(session: Session, questionnaire: Questionnaire, question_id: int) -> Question:
    shown = _shown_version(session, questionnaire)
    question = session.get(Question, question_id) if isinstance(question_id, int) else None
    if question is None or question.version_id != shown.id:
        raise _not_found("question")
    version = working_version(session, questionnaire)
    if version is shown:
        return question
    return next(q for q in version.questions if q.key == question.key)


def _renumber(items) -> None:
    for position, item in enumerate(sorted(items, key=lambda i: (i.position, i.id or 0))):
        item.position = position


def _move(items: list, item, direction: str) -> None:
    if direction not in ("up", "down"):
        raise DefinitionError(_l("Please choose up or down."))
    ordered = sorted(items, key=lambda i: (i.position, i.id or 0))
    index = ordered.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, row in enumerate(ordered):
        row.position = position


# ---- pages


def _check_page(title_de: str, title_en: str | None) -> tuple[str, str | None]:
    title_de, title_en = _clean(title_de), _clean(title_en) or None
    if not title_de:
        raise DefinitionError(_l("Please enter a German title."), field="title_de")
    for field, value in (("title_de", title_de), ("title_en", title_en)):
        if value and len(value) > 200:
            raise DefinitionError(_l("At most %(count)d characters.", count=200), field=field)
    return title_de, title_en


def add_page(
    session: Session, questionnaire: Questionnaire, title_de: str, title_en: str | None = None
) -> QuestionnairePage:
    title_de, title_en = _check_page(title_de, title_en)
    version = working_version(session, questionnaire)
    page = QuestionnairePage(
        version=version, position=len(version.pages), title_de=title_de, title_en=title_en
    )
    session.add(page)
    session.flush()
    return page


def update_page(
    session: Session, questionnaire: Questionnaire, page_id: int, title_de: str, title_en: str | None = None
) -> QuestionnairePage:
    title_de, title_en = _check_page(title_de, title_en)
    page = _page_to_change(session, questionnaire, page_id)
    page.title_de, page.title_en = title_de, title_en
    session.flush()
    return page


def delete_page(session: Session, questionnaire: Questionnaire, page_id: int) -> None:
    """Delete a page with its questions."""
    page = _page_to_change(session, questionnaire, page_id)
    version = page.version
    for question in [q for q in version.questions if q.page_id == page.id]:
        if question.parent_id is not None:
            version.questions.remove(question)
    session.flush()
    for question in [q for q in version.questions if q.page_id == page.id]:
        version.questions.remove(question)
    session.flush()
    version.pages.remove(page)
    session.flush()
    _renumber(version.pages)
    session.flush()


def move_page(session: Session, questionnaire: Questionnaire, page_id: int, direction: str) -> None:
    page = _page_to_change(session, questionnaire, page_id)
    _move(page.version.pages, page, direction)
    session.flush()


# ---- questions


def _optional_text(value: str | None, field: str, limit: int) -> str | None:
    value = _clean(value) or None
    if value and len(value) > limit:
        raise DefinitionError(_l("At most %(count)d characters.", count=limit), field=field)
    return value


def _check_question(
    version: QuestionnaireVersion, page: QuestionnairePage, data: QuestionData, question: Question | None
) -> tuple[dict, Question | None]:
    """The checked values of a question (and its group), or a DefinitionError."""
    if data.kind not in QUESTION_KINDS:
        raise DefinitionError(_l("Please choose the kind of question."), field="kind")
    label_de = _clean(data.label_de)
    if not label_de:
        raise DefinitionError(_l("Please enter a German label."), field="label_de")
    if len(label_de) > 300:
        raise DefinitionError(_l("At most %(count)d characters.", count=300), field="label_de")
    values = {
        "kind": data.kind,
        "label_de": label_de,
        "label_en": _optional_text(data.label_en, "label_en", 300),
        "help_de": _optional_text(data.help_de, "help_de", 2000),
        "help_en": _optional_text(data.help_en, "help_en", 2000),
        "required": bool(data.required),
        "unit": _optional_text(data.unit, "unit", 30),
        "min_value": data.min_value,
        "max_value": data.max_value,
        "min_count": data.min_count,
        "max_count": data.max_count,
        "choices": _clean(data.choices) or None,
    }
    others = [q for q in version.questions if q is not question]
    # the key: given, or derived from the label; unique in the version (sub-questions too)
    taken = {q.key for q in others}
    key = _clean(data.key)
    if key:
        if not KEY_PATTERN.match(key):
            raise DefinitionError(
                _l(
                    "The key may hold only lower-case letters (a–z), digits and _, starts with a "
                    "letter and has at most 60 characters."
                ),
                field="key",
            )
        if key in taken:
            raise DefinitionError(
                _l('The key "%(key)s" is already used by another question of this questionnaire.', key=key),
                field="key",
            )
    elif question is not None:  # left empty on an edit: the key stays (answers are stored by it)
        key = question.key
    else:
        base = slug_from_label(label_de)
        key, number = base, 2
        while key in taken:
            suffix = f"_{number}"
            key, number = base[: 60 - len(suffix)] + suffix, number + 1
    values["key"] = key
    # the group of a sub-question: a group of the same page; groups are not nested
    parent = None
    if data.parent_key:
        parent = next((q for q in others if q.key == data.parent_key and q.kind == "group"), None)
        if parent is None or parent.page_id != page.id:
            raise DefinitionError(_l("Please choose a repeating group of this page."), field="parent")
        if data.kind == "group":
            raise DefinitionError(_l("A repeating group cannot lie inside another group."), field="parent")
    if question is not None and question.kind == "group" and data.kind != "group" and question.children:
        raise DefinitionError(
            _l("This group has sub-questions; delete or move them before changing its kind."), field="kind"
        )
    # numbers: unit and bounds
    if data.kind in NUMBER_KINDS:
        for field in ("min_value", "max_value"):
            value = values[field]
            if value is not None and (not math.isfinite(value) or abs(value) > NUMBER_LIMIT):
                raise DefinitionError(_l("Please enter a smaller number."), field=field)
            if value is not None and data.kind == "integer" and value != int(value):
                raise DefinitionError(_l("A whole-number question needs whole-number bounds."), field=field)
        if (
            None not in (values["min_value"], values["max_value"])
            and values["min_value"] > values["max_value"]
        ):
            raise DefinitionError(_l("The minimum must not be greater than the maximum."), field="max_value")
    else:
        for field in ("unit", "min_value", "max_value"):
            if values[field] is not None:
                raise DefinitionError(
                    _l("Only number questions have a unit, a minimum and a maximum."), field=field
                )
    # photos, files, groups: how many
    if data.kind in COUNT_KINDS:
        limit = MAX_PHOTOS if data.kind == "photo" else MAX_COUNT
        for field in ("min_count", "max_count"):
            value = values[field]
            if value is not None and value < 0:
                raise DefinitionError(_l("A number of at least 0, please."), field=field)
            if value is not None and value > limit:
                raise DefinitionError(_l("At most %(count)d.", count=limit), field=field)
        if (
            None not in (values["min_count"], values["max_count"])
            and values["min_count"] > values["max_count"]
        ):
            raise DefinitionError(
                _l("The smallest number must not be greater than the largest."), field="max_count"
            )
    else:
        for field in ("min_count", "max_count"):
            if values[field] is not None:
                raise DefinitionError(
                    _l("Only photos, files and repeating groups have a number of items."), field=field
                )
    # choices
    if data.kind in CHOICE_KINDS:
        parse_choices(values["choices"])
    elif values["choices"]:
        raise DefinitionError(_l("Only choice questions have choices."), field="choices")
    return values, parent


def add_question(
    session: Session, questionnaire: Questionnaire, page_id: int, data: QuestionData
) -> Question:
    """A new question at the end of the page (or of its group)."""
    page = _page_to_change(session, questionnaire, page_id)
    version = page.version
    values, parent = _check_question(version, page, data, None)
    siblings = [q for q in version.questions if q.page_id == page.id and q.parent is parent]
    question = Question(version=version, page=page, parent=parent, position=len(siblings), **values)
    session.add(question)
    session.flush()
    return question


def update_question(
    session: Session, questionnaire: Questionnaire, question_id: int, data: QuestionData
) -> Question:
    question = _question_to_change(session, questionnaire, question_id)
    values, parent = _check_question(question.version, question.page, data, question)
    for name, value in values.items():
        setattr(question, name, value)
    if parent is not question.parent:
        siblings = [
            q for q in question.version.questions if q.page_id == question.page_id and q.parent is parent
        ]
        question.parent = parent
        question.position = len(siblings)
    session.flush()
    return question


def delete_question(session: Session, questionnaire: Questionnaire, question_id: int) -> None:
    """Delete a question (a group with its sub-questions)."""
    question = _question_to_change(session, questionnaire, question_id)
    version = question.version
    for child in list(question.children):
        version.questions.remove(child)
    session.flush()
    version.questions.remove(question)
    session.flush()


def move_question(session: Session, questionnaire: Questionnaire, question_id: int, direction: str) -> None:
    """Up or down among the questions of its page (or of its group)."""
    question = _question_to_change(session, questionnaire, question_id)
    siblings = [
        q
        for q in question.version.questions
        if q.page_id == question.page_id and q.parent_id == question.parent_id
    ]
    _move(siblings, question, direction)
    session.flush()


def publish(session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion:
    """Offer the working version to promoters (new reports are filled in with it)."""
    version = _shown_version(session, questionnaire)
    if version.published_at is not None and report_count(session, version):
        raise DefinitionError(_l("This version is already published; nothing has changed since."))
    if not version.questions:
        raise DefinitionError(_l("The questionnaire has no questions yet."))
    for page in version.pages:
        if not any(q.page_id == page.id for q in version.questions):
            raise DefinitionError(_l('The page "%(page)s" has no questions.', page=page.title_de))
    for question in version.questions:
        if question.kind == "group" and not question.children:
            raise DefinitionError(
                _l('The group "%(question)s" has no sub-questions.', question=question.label_de)
            )
        if question.kind in CHOICE_KINDS:
            try:
                choices = parse_choices(question.choices)
            except DefinitionError as error:
                raise DefinitionError(f"{question.label_de}: {error}") from None
            if not choices:
                raise DefinitionError(
                    _l('The choice question "%(question)s" has no choices.', question=question.label_de)
                )
    version.published_at = utcnow()
    session.flush()
    return version


__all__ = [
    "Choice",
    "DefinitionError",
    "QuestionData",
    "Questionnaire",
    "add_page",
    "add_question",
    "choice_label",
    "create_questionnaire",
    "delete_page",
    "delete_question",
    "editing_creates_version",
    "help_text",
    "move_page",
    "move_question",
    "newest_version",
    "page_title",
    "parse_choices",
    "parse_count",
    "parse_number",
    "publish",
    "question_label",
    "report_count",
    "report_counts",
    "update_page",
    "update_question",
    "update_questionnaire",
    "working_version",
    "current_version",
    "day_questionnaire_column",
    "day_questionnaire_id",
    "requires_day_report",
    "week_questionnaire_id",
]
