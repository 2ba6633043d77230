"""Date fields of the agency screens in the user's format ("15.12.2026" in German).

FAB builds every date column as a WTForms ``DateField`` that reads ISO dates only, so a
German date typed by hand was refused (or silently cleared). ``LocalDateField`` reads
the user's short format, dd.mm.yyyy in either language and ISO, shows the stored date in
the user's format and carries the picker's language, format and first weekday.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from babel import Locale
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from wtforms import DateField
from wtforms.widgets import html_params

from app.common.formatting import _four_digit_pattern, format_day

#: An example in every hint: the same day in each language's format.
EXAMPLE_DAY = dt.date(2026, 12, 15)
_STRPTIME = {"dd": "%d", "d": "%d", "MM": "%m", "M": "%m", "yyyy": "%Y"}


def _locale() -> str:
    return str(get_locale() or "de")


@lru_cache(maxsize=8)
def typed_formats(locale: str) -> tuple[str, ...]:
    """strptime formats a date may be typed in: the language's own, dd.mm.yyyy, ISO."""
    pattern = _four_digit_pattern(locale)
    own = re.sub("yyyy|MM?|dd?", lambda token: _STRPTIME[token.group()], pattern)
    return tuple(dict.fromkeys((own, "%d.%m.%Y", "%Y-%m-%d")))


def parse_day(text: str, locale: str) -> dt.date | None:
    """The date ``text`` names in one of ``typed_formats``; None if it names none."""
    text = text.strip()
    for form in typed_formats(locale):
        try:
            day = dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
        if day.year >= 1000:  # "15.12.26" must not become the year 26
            return day
    return None


@lru_cache(maxsize=8)
def picker_options(locale: str) -> dict[str, str]:
    """bootstrap-datepicker's data-date-* options for the language."""
    pattern = _four_digit_pattern(locale)
    picker_format = pattern.replace("MM", "mm").replace("M", "m")
    # Babel counts weekdays from Monday (0); the picker from Sunday (0).
    week_start = (Locale.parse(locale).first_week_day + 1) % 7
    return {
        "data-date-format": picker_format,
        "data-date-week-start": str(week_start),
        "data-date-language": locale.split("_")[0],
    }


class LocalDatePickerWidget:
    """A text input in the user's date format with a calendar button (app/static/agency/dates.js)."""

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs["class"] = "form-control"
        locale = _locale()
        attributes = html_params(
            type="text",
            value=field._value(),
            autocomplete="off",
            placeholder=format_day(EXAMPLE_DAY),
            **picker_options(locale),
            **kwargs,
        )
        return Markup(
            '<div class="input-group date promoplan-date">'
            '<span class="input-group-addon"><i class="fa fa-calendar" aria-hidden="true"></i></span>'
            f"<input {attributes}></div>"
        )


class LocalDateField(DateField):
    """A date typed as dd.mm.yyyy (or the language's short format, or ISO)."""

    widget = LocalDatePickerWidget()

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = LocalDatePickerWidget()
        super().__init__(*args, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return format_day(self.data) if isinstance(self.data, dt.date) else ""

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        if not text:
            self.data = None
            return
        day = parse_day(text, _locale())
        if day is None:
            self.data = None
            hint = _("Please enter the date like %(example)s.", example=format_day(EXAMPLE_DAY))
            raise ValueError(f"{_('Not a valid date value.')} {hint}")
        self.data = day


def localise_date_fields(form_class) -> None:
    """Swap every plain ``DateField`` of a (FAB-generated) form class for ``LocalDateField``."""
    if form_class is None:
        return
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        field_class = getattr(unbound, "field_class", None)
        if field_class is DateField:
            kwargs = {k: v for k, v in unbound.kwargs.items() if k != "widget"}
            setattr(form_class, name, LocalDateField(*unbound.args, **kwargs))


def _filter_value(original):
    """FAB's list filter value conversion, reading dates in the user's format first.

    FAB parses a filter's date with dateutil, which reads "03.04.2026" as 4 March."""

    def set_value_to_type(datamodel, column_name, value):
        if isinstance(value, str) and datamodel.is_date(column_name):
            day = parse_day(value, _locale())
            if day is not None:
                return day
        return original(datamodel, column_name, value)

    set_value_to_type.localised = True
    return set_value_to_type


def install_local_date_filters() -> None:
    """Make the agency lists' date filters read dd.mm.yyyy (once per process)."""
    from flask_appbuilder.models.sqla import filters

    if not getattr(filters.set_value_to_type, "localised", False):
        filters.set_value_to_type = _filter_value(filters.set_value_to_type)
