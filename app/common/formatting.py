"""Template filters for dates in the user's language."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import format_date, get_locale


def format_date_local(value: dt.date | None) -> str:
    """E.g. "Fr., 27.11.2026" in German, "Fri, Nov 27, 2026" in English."""
    if value is None:
        return ""
    return f"{format_date(value, 'EEE')}, {format_date(value, 'medium')}"


def init_formatting(app: Flask) -> None:
    app.add_template_filter(format_date_local)
    app.jinja_env.globals["get_locale"] = get_locale
