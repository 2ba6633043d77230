"""Compiling the translation catalogs for tests (the .mo files are not in git)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def compile_catalogs(force: bool = False) -> list[Path]:
    """Write the .mo file of every catalog whose .mo is missing or older than its .po.

    A fresh clone's ``pytest`` needs this; fuzzy entries are left out, as
    ``pybabel compile`` does.
    """
    compiled = []
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if force or not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            catalog = read_catalog(po, po.parent.parent.name)
            with mo.open("wb") as fileobj:
                write_mo(fileobj, catalog, use_fuzzy=False)
            compiled.append(mo)
    return compiled
