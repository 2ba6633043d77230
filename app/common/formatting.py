"""Template filters for dates in the user's language."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from flask import Flask
from flask_babel import get_locale


@lru_cache(maxsize=4096)
def _format(value: dt.date, locale: str) -> str:
    weekday = babel_format_date(value, "EEE", locale=locale)
    return f"{weekday}, {babel_format_date(value, 'medium', locale=locale)}"


def format_date_local(value: dt.date | None) -> str:
    """E.g. "Fr., 27.11.2026" in German, "Fri, Nov 27, 2026" in English.

    Lists show the same few dates on hundreds of rows; the text is cached per
    date and language.
    """
    if value is None:
        return ""
    return _format(value, str(get_locale()))


def init_formatting(app: Flask) -> None:
    app.add_template_filter(format_date_local)
    app.jinja_env.globals["get_locale"] = get_locale
