"""Template filters for dates in the user's language."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import get_date_format
from flask import Flask, current_app
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


def format_utc_moment(value: dt.datetime | None) -> str:
    """A stored (naive UTC) timestamp in the configured TIMEZONE, with a four-digit year."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return format_moment(value.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None))


def init_formatting(app: Flask) -> None:
    from app.common.dates import install_local_date_filters

    install_local_date_filters()
    app.add_template_filter(format_date_local)
    app.add_template_filter(format_day)
    app.add_template_filter(format_moment)
    app.add_template_filter(format_utc_moment)
    app.jinja_env.globals["get_locale"] = get_locale


@lru_cache(maxsize=8)
def _four_digit_pattern(locale: str) -> str:
    """The language's short date pattern with a four-digit year (dd.MM.yyyy, M/d/yyyy)."""
    pattern = get_date_format("short", locale=locale).pattern
    return pattern if "yyyy" in pattern else pattern.replace("yy", "yyyy")


def format_day(value: dt.date | None) -> str:
    """A date in digits with a four-digit year: "12.12.2026" in German, "12/12/2026" in English."""
    if value is None:
        return ""
    locale = str(get_locale())
    return babel_format_date(value, _four_digit_pattern(locale), locale=locale)


def format_clock(value: dt.time | None) -> str:
    """A time of day in the user's language: "09:05" / "9:05 AM"."""
    if value is None:
        return ""
    return babel_format_time(value, "short", locale=str(get_locale()))


def format_moment(value: dt.datetime | None) -> str:
    """A local date and time with a four-digit year: "12.12.2026, 09:05" / "12/12/2026, 9:05 AM"."""
    if value is None:
        return ""
    locale = str(get_locale())
    return f"{format_day(value.date())}, {babel_format_time(value, 'short', locale=locale)}"


def current_language() -> str:
    """The request's language as promoplan names it: "en" or "de"."""
    return "en" if str(get_locale()) == "en" else "de"
