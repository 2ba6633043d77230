"""Re-extract promoplan's messages and bring the catalogs up to date.

Run from the repository root with the venv active::

    python translations/update.py              # extract, update de + en, compile
    python translations/update.py --no-compile

Steps:

1. ``pybabel extract`` (settings in ``babel.cfg``) into ``translations/messages.pot``.
2. ``de`` and ``en`` catalogs are created or updated from the template
   (obsolete entries are dropped; new and changed strings come in empty).
3. ``de``: the German overrides of Flask-AppBuilder's and WTForms' own strings,
   kept in ``translations/fab_overrides.po``, are merged in. Where the app uses
   the same msgid itself, the app's translation wins.
4. ``en``: every msgstr is set to its msgid (English is the source language).
5. ``pybabel compile -d translations`` (the .mo files are not in git).

Exits with status 1 and lists the ids if the German catalog has untranslated or
fuzzy entries afterwards; translate them in ``de/LC_MESSAGES/messages.po``
(remove the ``#, fuzzy`` line once checked) and run the script again.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
OVERRIDES = TRANSLATIONS / "fab_overrides.po"
LOCALES = ("de", "en")
# Also in babel.cfg; repeated so that older Babel versions (no per-section keywords) agree.
KEYWORDS = ["_l", "lazy_gettext", "lazy_ngettext:1,2", "lazy_pgettext:1c,2"]
OVERRIDE_COMMENT = "Flask-AppBuilder/WTForms string, kept in translations/fab_overrides.po"


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", *args])


def extract(output: Path = TEMPLATE) -> None:
    keyword_args = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    # Run from the repository root so that the source references stay relative.
    with contextlib.chdir(ROOT):
        pybabel(
            "extract",
            "-F",
            "babel.cfg",
            *keyword_args,
            "--project=promoplan",
            "--sort-by-file",
            "--add-location=file",  # no line numbers: fewer diffs when code moves
            "-o",
            str(output),
            ".",
        )


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def write_catalog(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fileobj:
        write_po(fileobj, catalog, ignore_obsolete=True, include_lineno=False, width=100)


def updated_catalog(locale: str, template: Catalog) -> Catalog:
    path = po_path(locale)
    if path.exists():
        catalog = read_catalog(path, locale)
    else:
        catalog = Catalog(locale=locale, project="promoplan", fuzzy=False)
    # No fuzzy matching: its guesses for short UI strings are mostly wrong.
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False
    return catalog


def merge_overrides(catalog: Catalog) -> None:
    overrides = read_catalog(OVERRIDES, "de")
    for override in overrides:
        if not override.id:
            continue
        own = catalog.get(override.id, override.context)
        if own is not None:
            # The app uses the same msgid: its translation wins (it applies to FAB's use too).
            if not own.string:
                own.string = override.string
            continue
        catalog[override.id] = Message(
            override.id,
            override.string,
            locations=override.locations,
            flags=override.flags - {"fuzzy"},
            auto_comments=[OVERRIDE_COMMENT],
            context=override.context,
        )


def copy_ids(catalog: Catalog) -> None:
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")


def missing(catalog: Catalog) -> list[str]:
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-compile", action="store_true", help="do not write the .mo files")
    args = parser.parse_args(argv)

    extract()
    template = read_catalog(TEMPLATE)
    for locale in LOCALES:
        catalog = updated_catalog(locale, template)
        if locale == "de":
            merge_overrides(catalog)
        else:
            copy_ids(catalog)
        write_catalog(catalog, po_path(locale))

    if not args.no_compile:
        pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")

    todo = missing(read_catalog(po_path("de"), "de"))
    if todo:
        print(f"\n{len(todo)} German entries are untranslated or fuzzy:", file=sys.stderr)
        for msgid in todo:
            print(f"  {msgid!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
