"""FlaskForm whose built-in WTForms messages fall back to promoplan's catalog."""

from __future__ import annotations

from flask_babel import get_translations
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations


class _FormTranslations:
    """WTForms' own catalog first (the same wording as FAB's screens), then ours."""

    def gettext(self, string):
        translated = wtforms_translations.gettext(string)
        return translated if translated != string else get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        translated = wtforms_translations.ngettext(singular, plural, n)
        if translated not in (singular, plural):
            return translated
        return get_translations().ungettext(singular, plural, n)


FORM_TRANSLATIONS = _FormTranslations()


class TranslatedForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return FORM_TRANSLATIONS


def int_or_none(value):
    """A select's value as an int, or None for empty or broken input."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
