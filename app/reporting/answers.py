"""Checking a report form against its questionnaire version, and reading answers back.

The form's field names:

- ``q.<key>``: a question outside a group (a multiple choice sends one value per choice);
- ``g.<group>.<row>.<key>``: a sub-question of a repeating group in row ``row`` (0, 1, …);
  ``g.<group>.rows``: how many rows the form showed;
- ``actual_start``, ``actual_end``, ``break_minutes``: a day report's real times.

:func:`check` turns the submitted values into :class:`AnswerRow` values as
:class:`app.models.reporting.ReportAnswer` stores them (numbers in ``value_number``,
yes/no as 1/0, one row per selected choice, dates ISO, times HH:MM, a group's
sub-answers with ``group_key`` and ``item``) and collects one message per field in the
user's language. A draft may leave required answers out, a submitted report may not;
a value of the wrong kind is refused either way. :func:`form_values` reads stored
answers back into form values (a draft shown again).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from babel.numbers import format_decimal
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.common.input_guard import UNSTORABLE
from app.models.reporting import Question, QuestionnairePage, QuestionnaireVersion, ReportAnswer
from app.reporting import definitions

#: Rows of one repeating group a form may hold (more is refused with a message).
MAX_GROUP_ROWS = 50
#: Longest answers: a short text, a long text.
MAX_TEXT = 500
MAX_LONG_TEXT = 5000
#: Digits before the decimal point; beyond that a number is refused as too large.
MAX_DIGITS = 12

FILE_KINDS = ("photo", "file")
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(\d+)(?:[.,](\d+))?", re.ASCII)
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_DIGITS = re.compile(r"[0-9]+")


def digits(raw: str) -> bool:
    """Only the digits 0–9 (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return bool(_DIGITS.fullmatch(raw))


class FormValues(Protocol):
    def get(self, key: str, default=None): ...

    def getlist(self, key: str) -> list: ...


@dataclass(frozen=True)
class AnswerRow:
    """One stored value (see :class:`app.models.reporting.ReportAnswer`)."""

    question_key: str
    group_key: str | None = None
    item: int = 0
    value_text: str | None = None
    value_number: float | None = None


@dataclass
class Checked:
    rows: list[AnswerRow] = field(default_factory=list)
    #: field name → message (``q.<key>``, ``g.<group>``, ``g.<group>.<row>.<key>``, ``actual_start``, …)
    errors: dict[str, str] = field(default_factory=dict)
    actual_start: dt.time | None = None
    actual_end: dt.time | None = None
    break_minutes: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


#: (question key, group key or None, row) → number of stored files.
FileCounts = Mapping[tuple[str, str | None, int], int]


# ---------------------------------------------------------------- labels


def _locale() -> str:
    return str(get_locale() or "de")


def question_label(question: Question) -> str:
    """The question in the user's language (English falls back to German)."""
    return definitions.question_label(question, _locale())


def page_title(page: QuestionnairePage) -> str:
    return definitions.page_title(page, _locale())


def question_help(question: Question) -> str:
    return definitions.help_text(question, _locale()) or ""


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


def choices(question: Question) -> list[Choice]:
    """The offered choices (``code | Deutsch | English`` per line) in the user's language."""
    try:
        parsed = definitions.parse_choices(question.choices)
    except definitions.DefinitionError:  # written before the editor checked it: read leniently
        parsed = []
        for line in (question.choices or "").splitlines():
            parts = [part.strip() for part in line.split("|")] + ["", ""]
            if parts[0]:
                parsed.append(definitions.Choice(parts[0], parts[1] or parts[0], parts[2]))
    english = _locale().startswith("en")
    return [Choice(c.code, (c.en or c.de) if english else c.de) for c in parsed]


def top_questions(version: QuestionnaireVersion) -> list[Question]:
    return [q for q in version.questions if q.parent_id is None]


def children(version: QuestionnaireVersion, group: Question) -> list[Question]:
    return [q for q in version.questions if q.parent_id == group.id]


def field_name(question: Question, group: Question | None = None, row: int = 0) -> str:
    if group is None:
        return f"q.{question.key}"
    return f"g.{group.key}.{row}.{question.key}"


def rows_field(group: Question) -> str:
    return f"g.{group.key}.rows"


# ---------------------------------------------------------------- numbers and units


def _number_text(value: float) -> str:
    return format_decimal(value, locale=str(get_locale() or "de"))


def _with_unit(value: float, unit: str | None) -> str:
    return f"{_number_text(value)} {unit}".strip() if unit else _number_text(value)


def _bounds_error(question: Question, number: float) -> str | None:
    low, high, unit = question.min_value, question.max_value, question.unit
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            return _(
                "Please enter a value from %(min)s to %(max)s.",
                min=_with_unit(low, unit),
                max=_with_unit(high, unit),
            )
        if low is not None:
            return _("Please enter at least %(min)s.", min=_with_unit(low, unit))
        return _("Please enter at most %(max)s.", max=_with_unit(high, unit))  # type: ignore[arg-type]
    return None


def _parse_number(question: Question, raw: str) -> tuple[float | None, str | None]:
    if question.kind == "integer":
        if not _INTEGER.fullmatch(raw):
            return None, _("Please enter a whole number.")
        digits = raw.lstrip("+-")
    else:
        match = _DECIMAL.fullmatch(raw)
        if not match:
            return None, _("Please enter a number (for example 12,5).")
        digits = match.group(1)
    if len(digits.lstrip("0")) > MAX_DIGITS:
        return None, _("This number is too large.")
    number = float(raw.replace(",", "."))
    if not math.isfinite(number):
        return None, _("This number is too large.")
    return number, _bounds_error(question, number)


def parse_date(raw: str) -> dt.date | None:
    """dd.mm.yyyy (as Germans type it) or yyyy-mm-dd (what a date field sends)."""
    match = _GERMAN_DATE.fullmatch(raw)
    if match:
        day, month, year = (int(part) for part in match.groups())
    else:
        match = _ISO_DATE.fullmatch(raw)
        if not match:
            return None
        year, month, day = (int(part) for part in match.groups())
    if not 1900 <= year <= 2200:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_time(raw: str) -> dt.time | None:
    """HH:MM (a time field may add :SS)."""
    match = _TIME.fullmatch(raw)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59 or (match.group(3) and int(match.group(3)) > 59):
        return None
    return dt.time(hour, minute)


# ---------------------------------------------------------------- one value


def _text_of(values: FormValues, name: str) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def _check_value(
    question: Question, values: FormValues, name: str, group_key: str | None, item: int
) -> tuple[list[AnswerRow], str | None, bool]:
    """(rows, error, answered) of one non-file question."""
    kind = question.kind
    key = question.key
    if kind == "multiple_choice":
        picked = [v for v in values.getlist(name) if isinstance(v, str) and v.strip()]
        if not picked:
            return [], None, False
        offered = {choice.code for choice in choices(question)}
        codes = list(dict.fromkeys(v.strip() for v in picked))
        if any(code not in offered for code in codes):
            return [], _("Please choose only among the choices offered."), True
        return [AnswerRow(key, group_key, item, value_text=code) for code in codes], None, True
    raw = _text_of(values, name)
    if not raw:
        return [], None, False
    if UNSTORABLE.search(raw):
        return [], _("This answer contains characters that cannot be stored. Please remove them."), True
    if kind in ("text", "long_text"):
        limit = MAX_LONG_TEXT if kind == "long_text" else MAX_TEXT
        if len(raw) > limit:
            return [], _("Please keep this answer under %(num)d characters.", num=limit), True
        return [AnswerRow(key, group_key, item, value_text=raw)], None, True
    if kind in ("integer", "decimal"):
        number, error = _parse_number(question, raw)
        if number is None or error:
            return [], error, True
        return [AnswerRow(key, group_key, item, value_number=number)], None, True
    if kind == "yes_no":
        if raw not in ("yes", "no"):
            return [], _("Please answer yes or no."), True
        return [AnswerRow(key, group_key, item, value_number=1.0 if raw == "yes" else 0.0)], None, True
    if kind == "single_choice":
        if raw not in {choice.code for choice in choices(question)}:
            return [], _("Please choose only among the choices offered."), True
        return [AnswerRow(key, group_key, item, value_text=raw)], None, True
    if kind == "date":
        day = parse_date(raw)
        if day is None:
            return [], _("Please enter a date as dd.mm.yyyy."), True
        return [AnswerRow(key, group_key, item, value_text=day.isoformat())], None, True
    if kind == "time":
        moment = parse_time(raw)
        if moment is None:
            return [], _("Please enter a time as HH:MM."), True
        return [AnswerRow(key, group_key, item, value_text=moment.strftime("%H:%M"))], None, True
    return [], None, False


def check_one(question: Question, raw: str) -> tuple[str | None, float | None, str | None]:
    """One corrected answer row (the agency's review): (value_text, value_number, error), by
    the same rules as the promoter's form. A row of a multiple choice holds one code; yes/no
    may come as 1/0."""
    raw = (raw or "").strip()
    if question.kind == "yes_no":
        raw = {"1": "yes", "0": "no"}.get(raw, raw)
    single = question.kind == "multiple_choice"
    rows, error, answered = _check_value(question, MultiDict({"value": raw}), "value", None, 0)
    if single and len(rows) > 1:
        error = _("Please choose only among the choices offered.")
    if error:
        return None, None, error
    if not answered:
        return None, None, _required() if question.required else None
    return rows[0].value_text, rows[0].value_number, None


def _check_files(question: Question, count: int, submit: bool) -> str | None:
    if question.max_count is not None and count > question.max_count:
        if question.kind == "photo":
            return ngettext(
                "Please add at most %(num)d photo.", "Please add at most %(num)d photos.", question.max_count
            )
        return ngettext(
            "Please add at most %(num)d file.", "Please add at most %(num)d files.", question.max_count
        )
    needed = question.min_count or (1 if question.required else 0)
    if submit and count < needed:
        if question.kind == "photo":
            return ngettext(
                "Please add at least %(num)d photo.", "Please add at least %(num)d photos.", needed
            )
        return ngettext("Please add at least %(num)d file.", "Please add at least %(num)d files.", needed)
    return None


def _required() -> str:
    return _("Please answer this question.")


# ---------------------------------------------------------------- the whole form


def _row_count(values: FormValues, group: Question) -> tuple[int, bool]:
    """Rows the form showed (at least those that hold a value), and whether that is too many."""
    raw = _text_of(values, rows_field(group))
    shown = (int(raw) if len(raw) < 7 else MAX_GROUP_ROWS + 1) if digits(raw) else 0
    prefix = f"g.{group.key}."
    for name in values.keys() if hasattr(values, "keys") else ():
        if isinstance(name, str) and name.startswith(prefix):
            part = name[len(prefix) :].split(".", 1)[0]
            if digits(part) and len(part) < 7:
                shown = max(shown, int(part) + 1)
    return min(shown, MAX_GROUP_ROWS), shown > MAX_GROUP_ROWS


def check(
    version: QuestionnaireVersion,
    values: FormValues,
    *,
    submit: bool,
    file_counts: FileCounts | None = None,
    day_report: bool = False,
) -> Checked:
    """Check ``values`` (a form) against the version's questions; see the module docstring."""
    counts = file_counts or {}
    result = Checked()
    for question in top_questions(version):
        name = field_name(question)
        if question.kind in FILE_KINDS:
            error = _check_files(question, counts.get((question.key, None, 0), 0), submit)
            if error:
                result.errors[name] = error
        elif question.kind == "group":
            _check_group(version, question, values, submit, counts, result)
        else:
            rows, error, answered = _check_value(question, values, name, None, 0)
            if error:
                result.errors[name] = error
            elif submit and question.required and not answered:
                result.errors[name] = _required()
            result.rows.extend(rows)
    if day_report:
        _check_times(values, submit, result)
    return result


def _check_group(
    version: QuestionnaireVersion,
    group: Question,
    values: FormValues,
    submit: bool,
    counts: FileCounts,
    result: Checked,
) -> None:
    rows, too_many = _row_count(values, group)
    group_name = f"g.{group.key}"
    if too_many:
        result.errors[group_name] = ngettext(
            "Please enter at most %(num)d row.", "Please enter at most %(num)d rows.", MAX_GROUP_ROWS
        )
        return
    filled = 0
    subs = children(version, group)
    for row in range(rows):
        row_rows: list[AnswerRow] = []
        row_errors: dict[str, str] = {}
        missing: list[str] = []
        answered_any = False
        for sub in subs:
            name = field_name(sub, group, row)
            if sub.kind in FILE_KINDS:
                count = counts.get((sub.key, group.key, row), 0)
                answered_any = answered_any or count > 0
                error = _check_files(sub, count, submit)
                if error and (count or submit):
                    row_errors[name] = error
                continue
            found, error, answered = _check_value(sub, values, name, group.key, row)
            answered_any = answered_any or answered
            if error:
                row_errors[name] = error
            elif sub.required and not answered:
                missing.append(name)
            row_rows.extend(found)
        if not answered_any:
            continue  # an empty row is no row
        filled += 1
        if submit:
            for name in missing:
                row_errors.setdefault(name, _required())
        result.errors.update(row_errors)
        result.rows.extend(row_rows)
    if group.max_count is not None and filled > group.max_count:
        result.errors[group_name] = ngettext(
            "Please enter at most %(num)d row.", "Please enter at most %(num)d rows.", group.max_count
        )
    needed = group.min_count or (1 if group.required else 0)
    if submit and filled < needed:
        result.errors[group_name] = ngettext(
            "Please fill in at least %(num)d row.", "Please fill in at least %(num)d rows.", needed
        )


def _check_times(values: FormValues, submit: bool, result: Checked) -> None:
    start_raw = _text_of(values, "actual_start")
    end_raw = _text_of(values, "actual_end")
    break_raw = _text_of(values, "break_minutes")
    start = parse_time(start_raw) if start_raw else None
    end = parse_time(end_raw) if end_raw else None
    if start_raw and start is None:
        result.errors["actual_start"] = _("Please enter a time as HH:MM.")
    if end_raw and end is None:
        result.errors["actual_end"] = _("Please enter a time as HH:MM.")
    minutes = None
    if break_raw:
        if not digits(break_raw) or len(break_raw) > 4:
            result.errors["break_minutes"] = _("Please enter the break in whole minutes (0 or more).")
        else:
            minutes = int(break_raw)
    if submit:
        for name, raw in (("actual_start", start_raw), ("actual_end", end_raw), ("break_minutes", break_raw)):
            if not raw:
                result.errors.setdefault(name, _("Please fill in this field."))
    if start and end:
        if end <= start:
            result.errors.setdefault("actual_end", _("The end must be after the start."))
        elif minutes is not None:
            worked = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            if minutes >= worked:
                result.errors.setdefault(
                    "break_minutes", _("The break must be shorter than the time worked.")
                )
    result.actual_start, result.actual_end, result.break_minutes = start, end, minutes


# ---------------------------------------------------------------- reading back


def _shown_number(question: Question | None, number: float) -> str:
    if question is not None and question.kind == "integer" or number.is_integer():
        return str(int(number))
    return format_decimal(number, locale=str(get_locale() or "de"), group_separator=False)


def form_values(
    version: QuestionnaireVersion,
    answers: Iterable[ReportAnswer],
    *,
    actual_start: dt.time | None = None,
    actual_end: dt.time | None = None,
    break_minutes: int | None = None,
    file_items: Iterable[tuple[str, str | None, int]] = (),
) -> MultiDict:
    """Stored answers as the form's values (the inverse of :func:`check`)."""
    by_key = {q.key: q for q in version.questions}
    values: MultiDict = MultiDict()
    rows: dict[str, int] = {}
    for answer in sorted(answers, key=lambda a: (a.group_key or "", a.item, a.id or 0)):
        question = by_key.get(answer.question_key)
        if answer.group_key:
            name = f"g.{answer.group_key}.{answer.item}.{answer.question_key}"
            rows[answer.group_key] = max(rows.get(answer.group_key, 0), answer.item + 1)
        else:
            name = f"q.{answer.question_key}"
        if answer.value_number is not None:
            if question is not None and question.kind == "yes_no":
                values.add(name, "yes" if answer.value_number else "no")
            else:
                values.add(name, _shown_number(question, answer.value_number))
        elif answer.value_text is not None:
            values.add(name, answer.value_text)
    for _key, group_key, item in file_items:
        if group_key:
            rows[group_key] = max(rows.get(group_key, 0), item + 1)
    for group_key, count in rows.items():
        values[f"g.{group_key}.rows"] = str(count)
    if actual_start is not None:
        values["actual_start"] = actual_start.strftime("%H:%M")
    if actual_end is not None:
        values["actual_end"] = actual_end.strftime("%H:%M")
    if break_minutes is not None:
        values["break_minutes"] = str(break_minutes)
    return values


def answer_text(question: Question, values: FormValues, name: str) -> str:
    """A stored answer as the read-only view shows it."""
    shown = [v for v in values.getlist(name) if v]
    if not shown:
        return ""
    if question.kind in ("single_choice", "multiple_choice"):
        labels = {choice.code: choice.label for choice in choices(question)}
        return ", ".join(labels.get(code, code) for code in shown)
    if question.kind == "yes_no":
        return _("Yes") if shown[0] == "yes" else _("No")
    if question.kind == "date":
        from app.common.formatting import format_day

        day = parse_date(shown[0])
        return format_day(day) if day else shown[0]
    if question.kind in ("integer", "decimal") and question.unit:
        return f"{shown[0]} {question.unit}"
    return shown[0]
