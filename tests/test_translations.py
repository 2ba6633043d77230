"""The translation catalogs: complete, up to date with the source, and in use.

German is the default language, English the second. ``translations/update.py``
regenerates the catalogs (see translations/README.md); these tests fail when that
step or a German translation is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext, ngettext

from tests.catalogs import compile_catalogs, read_catalog
from tests.conftest import DEMO_PASSWORD, login, set_language, visible_text

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
OVERRIDES = TRANSLATIONS / "fab_overrides.po"
LOCALES = ("de", "en")
FIX = "python translations/update.py  (see translations/README.md)"
# Used when the demo seed has no "admin" login (yet).
OWN_ADMIN = ("i18n-admin", "i18n-admin-pw")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def entries(catalog: Catalog) -> list:
    return [message for message in catalog if message.id]


def key(message) -> tuple:
    return (message.id, message.context)


def show(keys) -> str:
    return "\n".join(
        f"  {msgid!r}" + (f" (context {ctx!r})" if ctx else "") for msgid, ctx in sorted(keys, key=str)
    )


def extracted_keys() -> set[tuple]:
    """The msgids `pybabel extract -F babel.cfg` finds in the source right now."""
    with (ROOT / "babel.cfg").open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=str(ROOT / "babel.cfg"))
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found.add((message if isinstance(message, str) else tuple(message), context))
    return found


# -- the catalog files ---------------------------------------------------------------------


def test_template_is_up_to_date_with_the_source():
    template = {key(m) for m in entries(read_catalog(TEMPLATE))}
    found = extracted_keys()
    missing, stale = found - template, template - found
    assert not missing and not stale, (
        "translations/messages.pot does not match the source.\n"
        f"Missing from the template:\n{show(missing)}\n"
        f"In the template but no longer in the source:\n{show(stale)}\n"
        f"Fix: {FIX}"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_updated_from_the_template(locale):
    template = {key(m) for m in entries(read_catalog(TEMPLATE))}
    catalog = {key(m) for m in entries(read_catalog(po_path(locale), locale))}
    missing = template - catalog
    assert not missing, f"{po_path(locale).relative_to(ROOT)} lacks:\n{show(missing)}\nFix: {FIX}"
    if locale == "en":
        assert catalog == template, (
            f"Entries of the English catalog not in the template:\n{show(catalog - template)}"
        )


def test_every_german_entry_is_translated():
    todo = []
    for message in entries(read_catalog(po_path("de"), "de")):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s and s.strip() for s in strings):
            todo.append(key(message))
    assert not todo, (
        "German entries that are empty or fuzzy in translations/de/LC_MESSAGES/messages.po "
        f"(translate them and delete the '#, fuzzy' line):\n{show(todo)}"
    )


def test_english_entries_repeat_the_source():
    wrong = [
        key(m)
        for m in entries(read_catalog(po_path("en"), "en"))
        if m.fuzzy or m.string != (m.id if isinstance(m.id, str) else tuple(m.id))
    ]
    assert not wrong, f"English msgstr must equal msgid:\n{show(wrong)}\nFix: {FIX}"


def test_fab_overrides_are_merged_into_the_german_catalog():
    german = read_catalog(po_path("de"), "de")
    template = read_catalog(TEMPLATE)
    for override in entries(read_catalog(OVERRIDES, "de")):
        assert override.string and not override.fuzzy, f"fab_overrides.po: {override.id!r} is not translated"
        merged = german.get(override.id, override.context)
        assert merged is not None, (
            f"{override.id!r} of fab_overrides.po is not in the German catalog. Fix: {FIX}"
        )
        if template.get(override.id, override.context) is None:  # the app's own use of a msgid wins
            assert merged.string == override.string, (
                f"{override.id!r} differs from fab_overrides.po. Fix: {FIX}"
            )


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match(locale):
    problems = [
        f"  {message.id!r}: {'; '.join(str(error) for error in errors)}"
        for message, errors in read_catalog(po_path(locale), locale).check()
    ]
    assert not problems, "Placeholders of msgid and msgstr differ:\n" + "\n".join(problems)


# -- the running app -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogs(app: Flask) -> Flask:
    """Compiled catalogs, and Flask-Babel's cache emptied if they were (re)compiled."""
    if compile_catalogs():
        app.extensions["babel"].instance.domain_instance.cache.clear()
    return app


@pytest.fixture()
def admin(catalogs: Flask, client: FlaskClient) -> FlaskClient:
    """The test client logged in as an administrator (the demo's or one of our own)."""
    with catalogs.app_context():
        sm = catalogs.appbuilder.sm
        username, password = "admin", DEMO_PASSWORD
        if sm.find_user(username=username) is None:
            username, password = OWN_ADMIN
            if sm.find_user(username=username) is None:
                sm.add_user(
                    username, "I18n", "Admin", "i18n-admin@example.com", sm.find_role("Admin"), password
                )
    login(client, username, password)
    return client


def page_text(client: FlaskClient, url: str, **post) -> str:
    response = client.post(url, data=post) if post else client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return visible_text(response.get_data(as_text=True))


def invalid_location() -> dict[str, str]:
    return {"name": "Testmarkt", "street": "Teststraße 1", "postcode": "123", "city": "Teststadt"}


def test_location_list_is_german_by_default(admin):
    text = page_text(admin, "/locationview/list/")
    for german in ("Standorte", "Postleitzahl", "Handelskette", "Bundesland", "Gebiet", "Filter hinzufügen"):
        assert german in text, f"{german!r} missing from the German location list"
    for english in ("Locations", "Postcode", "Retail chain", "Federal state", "Add Filter", "Record Count"):
        assert not re.search(rf"\b{re.escape(english)}\b", text), f"English {english!r} on the German page"


def test_location_list_is_english_after_switching(admin):
    set_language(admin, "en")
    text = page_text(admin, "/locationview/list/")
    for english in ("Locations", "Postcode", "Retail chain", "Federal state", "Territory", "Add Filter"):
        assert english in text, f"{english!r} missing from the English location list"
    assert "Postleitzahl" not in text and "Standorte" not in text


def search_filters(html: str) -> dict[str, list[str]]:
    """The filter names per column that FAB's list page hands to its JavaScript."""
    args = re.search(r"new AdminFilters\(\s*'#filter_form',(.*?)\);", html, re.S).group(1)
    decoder, values, pos = json.JSONDecoder(), [], 0
    while pos < len(args):
        if args[pos] in " \t\r\n,":
            pos += 1
            continue
        value, pos = decoder.raw_decode(args, pos)
        values.append(value)
    _labels, _fields, filters, _active = values
    return filters


def test_search_filters_are_german(admin):
    filters = search_filters(admin.get("/locationview/list/").get_data(as_text=True))
    assert {"Beginnt mit", "Ist gleich", "Enthält"} <= set(filters["name"])
    assert set(filters["territory"]) == {"Ist", "Ist nicht"}


def test_invalid_postcode_error_in_german(admin):
    text = page_text(admin, "/locationview/add", **invalid_location(), federal_state="BE")
    assert "Standort anlegen" in text
    assert "Eine Postleitzahl hat fünf Ziffern." in text


def test_required_field_and_postcode_errors_in_english(admin):
    set_language(admin, "en")
    text = page_text(admin, "/locationview/add", **invalid_location())
    assert "A postcode has five digits." in text
    assert "This field is required." in text  # federal_state is missing


def test_required_field_error_in_german(admin):
    # WTForms' own German catalog answers (Flask-WTF passes the request's locale on).
    text = page_text(admin, "/locationview/add", **invalid_location())
    assert "Dieses Feld wird benötigt." in text
    assert "This field is required." not in text


def test_fab_and_wtforms_strings_in_german(catalogs):
    expected = {
        "Added Row": "Eintrag angelegt",
        "Changed Row": "Änderungen gespeichert",
        "Deleted Row": "Eintrag gelöscht",
        "Access is Denied": "Zugriff verweigert",
        "Invalid login. Please try again.": "Ungültige Anmeldedaten. Bitte versuchen Sie es erneut.",
        "Starts with": "Beginnt mit",
        "Equal to": "Ist gleich",
        "Relation": "Ist",
        "Greater than": "Größer als",
        "Delete": "Löschen",
        "Not a valid choice": "Keine gültige Auswahl",
        # WTForms messages: FAB's form template passes every field error through _(), so these
        # entries are the fallback where WTForms' own German catalog has none (time) or is not used.
        "Not a valid time value.": "Keine gültige Uhrzeit.",
        "Invalid email address.": "Ungültige E-Mail-Adresse.",
        "Not a valid integer value.": "Keine gültige ganze Zahl.",
        "Not a valid date value.": "Kein gültiges Datum.",
        "This field is required.": "Dieses Feld ist erforderlich.",
        # the app's own
        "Proposals awaiting a decision": "Terminvorschläge zur Entscheidung",
        "Follow-up": "Wiedervorlage",
    }
    with catalogs.test_request_context(), force_locale("de"):
        actual = {msgid: gettext(msgid) for msgid in expected}
        appointments = ngettext("%(num)d appointment", "%(num)d appointments", 2)
    assert actual == expected
    assert appointments == "2 Termine"
    with catalogs.test_request_context(), force_locale("en"):
        assert gettext("Added Row") == "Added Row"
        assert gettext("Proposals awaiting a decision") == "Proposals awaiting a decision"
