"""What an import file must contain, and checking it row by row (nothing is written here).

``check(kind, table, session, job)`` maps the file's columns (German or English
headers, any case), parses every value and looks names up in the database, and
answers with the rows that would be created and the errors of every bad row
(row number as in the file, column, message in the user's language).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.common.choices import FEDERAL_STATES
from app.common.formatting import format_day
from app.models.crm import Company, Contact, Location, Territory
from app.models.planning import Appointment, Job
from app.rules.calendar import holiday_name
from app.transfer.tables import ILLEGAL_CHARACTERS, FileProblem, Table, unquote_formula

CHUNK = 500


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy string, the column's name in the user's language
    de: str  # the German header of samples and exports
    en: str  # the English header
    aliases: tuple[str, ...] = ()
    required: bool = False  # the column must be in the file
    max_length: int | None = None


@dataclass(frozen=True)
class Kind:
    key: str
    label: object
    columns: tuple[Column, ...]

    def header(self, locale: str = "de") -> list[str]:
        return [c.en if locale == "en" else c.de for c in self.columns]


LOCATIONS = Kind(
    "locations",
    _l("Locations"),
    (
        Column("name", _l("Name"), "Name", "Name", ("markt", "standort", "einsatzhaus", "store"), True, 200),
        Column(
            "retail_chain", _l("Retail chain"), "Handelskette", "Retail chain", ("kette", "chain"), False, 200
        ),
        Column("street", _l("Street"), "Straße", "Street", ("strasse", "adresse", "address"), True, 200),
        Column(
            "postcode", _l("Postcode"), "PLZ", "Postcode", ("postleitzahl", "postal code", "zip"), True, 10
        ),
        Column("city", _l("City"), "Ort", "City", ("stadt", "town"), True, 100),
        Column("federal_state", _l("Federal state"), "Bundesland", "Federal state", ("state",), True),
        Column("territory", _l("Territory"), "Gebiet", "Territory", ("region",), False),
    ),
)
CONTACTS = Kind(
    "contacts",
    _l("Contacts"),
    (
        Column("company", _l("Company"), "Firma", "Company", ("unternehmen",), True),
        Column("salutation", _l("Salutation"), "Anrede", "Salutation"),
        Column("first_name", _l("First name"), "Vorname", "First name", ("firstname",), True, 100),
        Column(
            "last_name",
            _l("Last name"),
            "Nachname",
            "Last name",
            ("lastname", "surname", "familienname"),
            True,
            100,
        ),
        Column(
            "email", _l("Email"), "E-Mail", "Email", ("mail", "e-mail-adresse", "email address"), False, 254
        ),
        Column("phone", _l("Phone"), "Telefon", "Phone", ("tel", "telefonnummer", "phone number"), False, 50),
        Column("position", _l("Position"), "Position", "Position", ("funktion", "job title"), False, 150),
        Column("language", _l("Language"), "Sprache", "Language"),
        Column("territories", _l("Territories"), "Gebiete", "Territories", ("gebiet", "territory"), False),
    ),
)
APPOINTMENTS = Kind(
    "appointments",
    _l("Appointments"),
    (
        Column("date", _l("Date"), "Datum", "Date", ("tag", "day"), True),
        Column(
            "start_time",
            _l("Start"),
            "Beginn",
            "Start",
            ("von", "start time", "startzeit", "uhrzeit von"),
            True,
        ),
        Column("end_time", _l("End"), "Ende", "End", ("bis", "end time", "endzeit", "uhrzeit bis"), True),
        Column("note", _l("Note"), "Notiz", "Note", ("bemerkung", "kommentar", "comment", "notes")),
    ),
)
KINDS = {kind.key: kind for kind in (LOCATIONS, CONTACTS, APPOINTMENTS)}


# ---------------------------------------------------------------- results


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class Checked:
    kind: str
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: Rows that can be imported but look like a mistake (e.g. an appointment twice).
    warnings: list[RowError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    #: column key -> its header as written in the file (what errors name)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def error_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


# ---------------------------------------------------------------- headers


def normalise(text) -> str:
    """Compare names the way a user means them: case, spaces, dashes and ß/umlauts do not matter."""
    text = unicodedata.normalize("NFC", str(text or "")).strip().lower().rstrip("*:").strip()
    text = text.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    return re.sub(r"[\s_\-./]+", " ", text).strip()


def column_map(kind: Kind, header: list[str]) -> tuple[dict[str, int], list[str]]:
    """column key -> index in the file, and the headers that mean nothing here."""
    names = {}
    for column in kind.columns:
        for name in (column.key, column.de, column.en, str(column.label), *column.aliases):
            names.setdefault(normalise(name), column)
    found: dict[str, int] = {}
    ignored = []
    for index, text in enumerate(header):
        if not text:
            continue
        column = names.get(normalise(text))
        if column is None:
            ignored.append(text)
        elif column.key in found:
            raise FileProblem(_("The column “%(name)s” appears twice.", name=text))
        else:
            found[column.key] = index
    missing = [str(c.label) for c in kind.columns if c.required and c.key not in found]
    if missing:
        raise FileProblem(_("Columns missing: %(columns)s.", columns=", ".join(missing)))
    return found, ignored


def records(kind: Kind, table: Table) -> tuple[list[tuple[int, dict]], list[str]]:
    """(row number, column key -> raw value) of every data row, and the ignored headers."""
    found, ignored = column_map(kind, table.header)
    result = []
    for number, values in table.rows:
        raw = {}
        for key, index in found.items():
            value = values[index] if index < len(values) else None
            if isinstance(value, str):
                value = unquote_formula(value.strip())
            raw[key] = value
        result.append((number, raw))
    return result, ignored


# ---------------------------------------------------------------- values


class Invalid(ValueError):
    """A value that cannot be used; the message is already translated."""


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value).strip()


def postcode(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        value = str(int(value))
    value = text(value)
    if re.fullmatch(r"\d{4}", value):
        # Excel drops the leading zero of "01067" (every postcode in Saxony and Thuringia).
        value = "0" + value
    if not re.fullmatch(r"\d{5}", value):
        raise Invalid(_("A postcode has five digits, e.g. 01067 or 80331."))
    return value


def padded_postcode(raw) -> bool:
    """True if ``raw`` is a postcode that lost its leading zero (and :func:`postcode` adds it)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
        raw = str(int(raw))
    return bool(re.fullmatch(r"\d{4}", text(raw)))


_STATE_NAMES = {
    **{normalise(code): code for code in FEDERAL_STATES},
    **{normalise(name): code for code, name in FEDERAL_STATES.items()},
    **{
        normalise(name): code
        for name, code in (
            ("Bavaria", "BY"),
            ("Hesse", "HE"),
            ("Lower Saxony", "NI"),
            ("Mecklenburg-Western Pomerania", "MV"),
            ("North Rhine-Westphalia", "NW"),
            ("Rhineland-Palatinate", "RP"),
            ("Saxony", "SN"),
            ("Saxony-Anhalt", "ST"),
            ("Thuringia", "TH"),
            ("Baden-Wurttemberg", "BW"),
            ("Thuringen", "TH"),
            # Abbreviations in common use besides the ISO codes.
            ("NRW", "NW"),
            ("BaWü", "BW"),
            ("BaWue", "BW"),
            ("Bay", "BY"),
            ("Bln", "BE"),
            ("Brb", "BB"),
            ("Bbg", "BB"),
            ("Nds", "NI"),
            ("MVP", "MV"),
            ("M-V", "MV"),
            ("RLP", "RP"),
            ("Saar", "SL"),
            ("Sachs", "SN"),
            ("LSA", "ST"),
            ("S-A", "ST"),
            ("S-H", "SH"),
            ("Thür", "TH"),
        )
    },
    **{normalise(f"DE-{code}"): code for code in FEDERAL_STATES},
}


def federal_state(value) -> str:
    code = _STATE_NAMES.get(normalise(text(value)))
    if code is None:
        allowed = ", ".join(f"{name} ({code})" for code, name in FEDERAL_STATES.items())
        raise Invalid(
            _(
                "Unknown federal state “%(value)s”. Allowed are the name or its abbreviation: "
                "%(allowed)s; also NRW, DE-BY and the English names.",
                value=text(value),
                allowed=allowed,
            )
        )
    return code


_SALUTATIONS = {
    "mr": "mr",
    "herr": "mr",
    "hr": "mr",
    "ms": "ms",
    "mrs": "ms",
    "frau": "ms",
    "fr": "ms",
    "mx": "mx",
    "divers": "mx",
}


def salutation(value) -> str | None:
    if not text(value):
        return None
    code = _SALUTATIONS.get(normalise(text(value)))
    if code is None:
        raise Invalid(_("Unknown salutation “%(value)s” (Mr, Ms or Mx).", value=text(value)))
    return code


_LANGUAGES = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "en": "en",
    "englisch": "en",
    "english": "en",
}


def language(value) -> str:
    if not text(value):
        return "de"
    code = _LANGUAGES.get(normalise(text(value)))
    if code is None:
        raise Invalid(_("Unknown language “%(value)s” (de or en).", value=text(value)))
    return code


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email(value) -> str | None:
    value = text(value).lower()
    if not value:
        return None
    if not EMAIL.fullmatch(value):
        raise Invalid(_("Not a valid email address."))
    return value


def day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date()
    value = text(value)
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise Invalid(_("Not a date (DD.MM.YYYY or YYYY-MM-DD)."))


def time(value) -> dt.time:
    if isinstance(value, dt.datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return dt.time(minutes // 60, minutes % 60) if minutes < 24 * 60 else dt.time(23, 59)
    value = text(value).lower().removesuffix("uhr").strip()
    for pattern in ("%H:%M", "%H:%M:%S", "%H.%M", "%H"):
        try:
            return dt.datetime.strptime(value, pattern).time()
        except ValueError:
            continue
    raise Invalid(_("Not a time (HH:MM)."))


def names(value) -> list[str]:
    """Territory names separated by pipes or, if there is no pipe, by commas or semicolons."""
    value = text(value)
    pattern = r"[|\n]" if "|" in value else r"[,;\n]"
    return [part.strip() for part in re.split(pattern, value) if part.strip()]


# ---------------------------------------------------------------- lookups


class Lookup:
    """Rows found by name (case and spaces do not matter), loaded once per check."""

    def __init__(self, items: Iterable, attribute: str = "name"):
        self.by_name: dict[str, list] = {}
        for item in items:
            self.by_name.setdefault(normalise(getattr(item, attribute)), []).append(item)

    def find(self, name: str) -> list:
        return self.by_name.get(normalise(name), [])


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------- checking


class _Rows:
    """Collects one row's values and errors."""

    def __init__(self, checked: Checked, kind: Kind, number: int, raw: dict):
        self.checked = checked
        self.columns = {c.key: c for c in kind.columns}
        self.number = number
        self.raw = raw
        self.values: dict = {"row": number}
        self.failed = False

    def error(self, key: str, message: str) -> None:
        label = self.checked.headers.get(key) or (str(self.columns[key].label) if key in self.columns else "")
        self.checked.errors.append(RowError(self.number, label, message))
        self.failed = True

    def warn(self, key: str, message: str) -> None:
        label = self.checked.headers.get(key) or str(self.columns[key].label)
        self.checked.warnings.append(RowError(self.number, label, message))

    def take(self, key: str, parse=text, required: bool = False):
        raw = self.raw.get(key)
        column = self.columns[key]
        if isinstance(raw, str) and (found := ILLEGAL_CHARACTERS.search(raw)):
            # NUL cannot be stored by PostgreSQL, and none of them in an Excel export.
            self.error(
                key,
                _(
                    "Contains the control character %(char)s, which cannot be stored. "
                    "Please remove it from the file.",
                    char=f"U+{ord(found.group()):04X}",
                ),
            )
            return None
        if required and not text(raw):
            self.error(key, _("A value is required."))
            return None
        try:
            value = parse(raw)
        except Invalid as problem:
            self.error(key, str(problem))
            return None
        if isinstance(value, str):
            if column.max_length and len(value) > column.max_length:
                self.error(key, _("Too long (at most %(max)d characters).", max=column.max_length))
                return None
            value = value or None
        self.values[key] = value
        return value


def _one(row: _Rows, key: str, found: list, name: str, unknown: str, ambiguous: str):
    if not found:
        row.error(key, unknown % {"name": name})
        return None
    if len(found) > 1:
        row.error(key, ambiguous % {"name": name})
        return None
    return found[0]


def check_locations(session: Session, rows: list[tuple[int, dict]], checked: Checked) -> None:
    territories = Lookup(session.scalars(select(Territory)))
    chains = Lookup(session.scalars(select(Company)))
    seen: dict[tuple[str, str], int] = {}
    candidates = []
    for number, raw in rows:
        row = _Rows(checked, LOCATIONS, number, raw)
        name = row.take("name", required=True)
        chain = row.take("retail_chain")
        row.take("street", required=True)
        code = row.take("postcode", postcode, required=True)
        if code and padded_postcode(raw.get("postcode")):
            row.warn("postcode", _("Postcode read as %(code)s (the leading zero was missing).", code=code))
        row.take("city", required=True)
        row.take("federal_state", federal_state, required=True)
        territory = row.take("territory")
        if chain:
            found = chains.find(chain)
            if len(found) > 1:
                found = [c for c in found if c.kind == "retail_chain"] or found
            _one(
                row,
                "retail_chain",
                found,
                chain,
                _("Unknown retail chain “%(name)s”."),
                _("Several companies are called “%(name)s”."),
            )
        if territory:
            _one(
                row,
                "territory",
                territories.find(territory),
                territory,
                _("Unknown territory “%(name)s”."),
                _("Several territories are called “%(name)s”."),
            )
        if name and code:
            key = (normalise(name), code)
            if key in seen:
                row.error("name", _("The file lists this location twice (also row %(row)d).", row=seen[key]))
            else:
                seen[key] = number
                candidates.append((row, name, code))
        if not row.failed:
            checked.rows.append(row.values)
    # Locations that are already there (same name and postcode): an import is no update.
    existing = set()
    for chunk in _chunks(candidates):
        stmt = select(Location.name, Location.postcode).where(
            Location.name.in_([name for _r, name, _c in chunk])
        )
        existing |= {(normalise(n), p) for n, p in session.execute(stmt)}
    for row, name, code in candidates:
        if (normalise(name), code) in existing:
            message = _(
                "A location “%(name)s” with postcode %(postcode)s already exists.", name=name, postcode=code
            )
            row.error("name", message)
    _drop_failed(checked)


def check_contacts(session: Session, rows: list[tuple[int, dict]], checked: Checked) -> None:
    territories = Lookup(session.scalars(select(Territory)))
    companies = Lookup(session.scalars(select(Company)))
    seen: dict[str, int] = {}
    candidates = []
    for number, raw in rows:
        row = _Rows(checked, CONTACTS, number, raw)
        company = row.take("company", required=True)
        row.take("salutation", salutation)
        row.take("first_name", required=True)
        row.take("last_name", required=True)
        address = row.take("email", email)
        row.take("phone")
        row.take("position")
        row.values["language"] = row.take("language", language) or "de"
        wanted = row.take("territories", lambda v: names(v)) or []
        row.values["territories"] = wanted
        if company:
            found = companies.find(company)
            if len(found) > 1:
                found = [c for c in found if c.kind == "customer"] or found
            _one(
                row,
                "company",
                found,
                company,
                _("Unknown company “%(name)s”."),
                _("Several companies are called “%(name)s”."),
            )
        whole = text(raw.get("territories"))
        if len(wanted) > 1 and len(territories.find(whole)) == 1:
            wanted = row.values["territories"] = [whole]  # one name that contains a comma
        for name in wanted:
            _one(
                row,
                "territories",
                territories.find(name),
                name,
                _("Unknown territory “%(name)s”."),
                _("Several territories are called “%(name)s”."),
            )
        if address:
            if address in seen:
                row.error(
                    "email",
                    _("The file lists this email address twice (also row %(row)d).", row=seen[address]),
                )
            else:
                seen[address] = number
                candidates.append((row, address))
        if not row.failed:
            checked.rows.append(row.values)
    taken = set()
    for chunk in _chunks(candidates):
        stmt = select(Contact.email).where(func.lower(Contact.email).in_([a for _r, a in chunk]))
        taken |= {e.lower() for e in session.scalars(stmt)}
    for row, address in candidates:
        if address in taken:
            row.error("email", _("A contact with this email address already exists."))
    _drop_failed(checked)


def _drop_failed(checked: Checked) -> None:
    failed = {e.row for e in checked.errors}
    checked.rows[:] = [r for r in checked.rows if r["row"] not in failed]


def check_appointments(session: Session, rows: list[tuple[int, dict]], checked: Checked, job: Job) -> None:
    project = job.project
    existing = {
        tuple(found)
        for found in session.execute(
            select(Appointment.date, Appointment.start_time, Appointment.end_time).where(
                Appointment.job_id == job.id, Appointment.status != "cancelled"
            )
        )
    }
    seen: dict[tuple, int] = {}
    for number, raw in rows:
        row = _Rows(checked, APPOINTMENTS, number, raw)
        date = row.take("date", day, required=True)
        start = row.take("start_time", time, required=True)
        end = row.take("end_time", time, required=True)
        row.take("note")
        if start and end and end <= start:
            row.error("end_time", _("The end must be after the start."))
        if date and not project.start_date <= date <= project.end_date:
            row.error(
                "date",
                _(
                    "The date lies outside the project period (%(start)s – %(end)s).",
                    start=project.start_date.strftime("%d.%m.%Y"),
                    end=project.end_date.strftime("%d.%m.%Y"),
                ),
            )
        if not row.failed:
            _warn_duplicate(row, (date, start, end), seen, existing)
            if holiday := holiday_name(job.location.federal_state, date):
                row.warn("date", _("Public holiday in the store's federal state: %(name)s.", name=holiday))
            checked.rows.append(_jsonable(row.values))


def _warn_duplicate(row: _Rows, key: tuple, seen: dict[tuple, int], existing: set[tuple]) -> None:
    """Same job, date, start and end as an earlier row of the file or an appointment of the job
    (cancelled ones aside): allowed, but most likely a mistake."""
    if key in seen:
        row.warn("date", _("The file lists this appointment twice (also row %(row)d).", row=seen[key]))
    else:
        seen[key] = row.number
    if key in existing:
        row.warn("date", _("The job already has an appointment on this day at these times."))


def _jsonable(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if isinstance(value, dt.time):
            value = value.strftime("%H:%M")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[key] = value
    return out


def shown_value(key: str, value) -> str:
    """A checked value as the preview shows it: dates in the user's format, federal states by
    name, lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if key == "date" and isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return format_day(dt.date.fromisoformat(value))
    if key == "federal_state":
        return FEDERAL_STATES.get(value, value)
    return str(value)


def check(kind: str, table: Table, session: Session, job: Job | None = None) -> Checked:
    """Every row of ``table`` parsed and looked up; nothing is written."""
    spec = KINDS[kind]
    rows, ignored = records(spec, table)
    if not rows:
        raise FileProblem(_("The file has no data rows."))
    found, _ignored = column_map(spec, table.header)
    checked = Checked(kind, ignored=ignored, headers={key: table.header[i] for key, i in found.items()})
    if kind == "locations":
        check_locations(session, rows, checked)
    elif kind == "contacts":
        check_contacts(session, rows, checked)
    else:
        if job is None:
            raise FileProblem(_("Please choose the job the appointments belong to."))
        check_appointments(session, rows, checked, job)
    checked.errors.sort(key=lambda e: e.row)
    checked.warnings.sort(key=lambda e: e.row)
    checked.rows.sort(key=lambda r: r["row"])
    return checked


def stored_table(kind: str, rows: list[dict]) -> Table:
    """The checked rows as a table again (to check them once more before writing)."""
    spec = KINDS[kind]
    keys = [c.key for c in spec.columns]
    table = Table([str(c.label) for c in spec.columns], 1)
    for values in rows:
        cells = []
        for key in keys:
            value = values.get(key)
            if isinstance(value, list):
                value = " | ".join(value)
            cells.append(value)
        table.rows.append((values["row"], cells))
    return table
