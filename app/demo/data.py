"""The Supertoy demo campaign as plain data: stores, people and logins.

Nothing here touches the database; :mod:`app.demo.seed` turns these records into rows.
"""

from __future__ import annotations

from typing import NamedTuple

from app.security.roles import ADMIN, AGENCY

NORTH = "ADM Nord / Supertoy"
SOUTH = "ADM Süd / Supertoy"
GERMANY = "Supertoy Deutschland"

CUSTOMER_NAME = "Supertoy"
RETAIL_CHAIN_NAME = "Media Markt"
AGENCY_NAME = "promoplan Agentur"
PROJECT_NAME = "Supertoy Sales Promotion"


class CompanyRecord(NamedTuple):
    name: str
    kind: str
    street: str
    postcode: str
    city: str
    notes: str


COMPANIES: tuple[CompanyRecord, ...] = (
    CompanyRecord(
        CUSTOMER_NAME,
        "customer",
        "Spielwarenring 12",
        "90765",
        "Fürth",
        "Spielwarenhersteller; Kampagne Sales Promotion in 30 Media-Markt-Häusern.",
    ),
    CompanyRecord(RETAIL_CHAIN_NAME, "retail_chain", "Wankelstraße 5", "85046", "Ingolstadt", ""),
    CompanyRecord(AGENCY_NAME, "agency", "Schanzenstraße 41", "20357", "Hamburg", "Unsere eigene Agentur."),
)


class TerritoryRecord(NamedTuple):
    name: str
    parent: str | None
    description: str


TERRITORIES: tuple[TerritoryRecord, ...] = (
    TerritoryRecord(GERMANY, None, "Alle Einsatzhäuser von Supertoy in Deutschland."),
    TerritoryRecord(NORTH, GERMANY, "Außendienstgebiet Nord: Häuser in Norddeutschland."),
    TerritoryRecord(SOUTH, GERMANY, "Außendienstgebiet Süd: Häuser in Süd- und Westdeutschland."),
)


class Store(NamedTuple):
    """A Media Markt store of the campaign.

    ``days`` is the job's planned promotion days per week (2–6); ``pool`` names the
    backup promoter (0–9) who covers some days of the stores sharing that pool.
    """

    name: str
    street: str
    postcode: str
    city: str
    state: str
    territory: str
    days: int
    pool: int


STORES: tuple[Store, ...] = (
    # North: 12 stores, territory ADM Nord / Supertoy.
    Store("Media Markt Hamburg-Altona", "Ottenser Hauptstraße 10", "22765", "Hamburg", "HH", NORTH, 5, 0),
    Store("Media Markt Bremen-Waterfront", "AG-Weser-Straße 3", "28237", "Bremen", "HB", NORTH, 4, 1),
    Store("Media Markt Hannover-Wülfel", "Hildesheimer Straße 407", "30519", "Hannover", "NI", NORTH, 6, 2),
    Store("Media Markt Kiel-Sophienhof", "Sophienblatt 20", "24114", "Kiel", "SH", NORTH, 3, 0),
    Store("Media Markt Lübeck-Buntekuh", "Herrenholz 14", "23556", "Lübeck", "SH", NORTH, 2, 0),
    Store("Media Markt Berlin-Alexanderplatz", "Grunerstraße 20", "10179", "Berlin", "BE", NORTH, 6, 3),
    Store("Media Markt Rostock-Brinckmansdorf", "Timmermannsstrat 3", "18055", "Rostock", "MV", NORTH, 3, 3),
    Store(
        "Media Markt Braunschweig-Nordstadt",
        "Hamburger Straße 273",
        "38114",
        "Braunschweig",
        "NI",
        NORTH,
        4,
        2,
    ),
    Store("Media Markt Osnabrück-Hafen", "Pagenstecherstraße 130", "49090", "Osnabrück", "NI", NORTH, 3, 1),
    Store("Media Markt Oldenburg-Wechloy", "Posthalterweg 9", "26129", "Oldenburg", "NI", NORTH, 2, 1),
    Store("Media Markt Magdeburg-City Carré", "Kantstraße 5", "39104", "Magdeburg", "ST", NORTH, 4, 3),
    Store("Media Markt Bielefeld-Sieker", "Herforder Straße 247", "33609", "Bielefeld", "NW", NORTH, 3, 2),
    # South: 18 stores, territory ADM Süd / Supertoy.
    Store("Media Markt München-Pasing", "Pasinger Bahnhofsplatz 5", "81241", "München", "BY", SOUTH, 6, 4),
    Store("Media Markt Nürnberg-Langwasser", "Glogauer Straße 30", "90473", "Nürnberg", "BY", SOUTH, 5, 5),
    Store(
        "Media Markt Augsburg-City-Galerie", "Willy-Brandt-Platz 1", "86153", "Augsburg", "BY", SOUTH, 4, 4
    ),
    Store("Media Markt Regensburg-Arcaden", "Friedenstraße 23", "93053", "Regensburg", "BY", SOUTH, 3, 5),
    Store("Media Markt Würzburg-Grombühl", "Nürnberger Straße 65", "97076", "Würzburg", "BY", SOUTH, 2, 5),
    Store("Media Markt Ingolstadt-Westpark", "Am Westpark 7", "85057", "Ingolstadt", "BY", SOUTH, 3, 4),
    Store("Media Markt Stuttgart-Milaneo", "Mailänder Platz 7", "70173", "Stuttgart", "BW", SOUTH, 6, 6),
    Store(
        "Media Markt Karlsruhe-Ettlinger Tor",
        "Ettlinger-Tor-Platz 1",
        "76137",
        "Karlsruhe",
        "BW",
        SOUTH,
        4,
        7,
    ),
    Store("Media Markt Mannheim-Sandhofen", "Spinnereistraße 3", "68307", "Mannheim", "BW", SOUTH, 4, 7),
    Store(
        "Media Markt Freiburg-Haid", "Bötzinger Straße 4", "79111", "Freiburg im Breisgau", "BW", SOUTH, 3, 7
    ),
    Store("Media Markt Ulm-Blaubeurer Tor", "Blaubeurer Straße 95", "89077", "Ulm", "BW", SOUTH, 2, 6),
    Store(
        "Media Markt Heilbronn-Neckarsulmer Straße",
        "Neckarsulmer Straße 98",
        "74076",
        "Heilbronn",
        "BW",
        SOUTH,
        3,
        6,
    ),
    Store("Media Markt Frankfurt-Zeil", "Zeil 121", "60313", "Frankfurt am Main", "HE", SOUTH, 6, 8),
    Store(
        "Media Markt Wiesbaden-Mainzer Straße", "Mainzer Straße 124", "65189", "Wiesbaden", "HE", SOUTH, 3, 8
    ),
    Store("Media Markt Darmstadt-Holzhof", "Holzhofallee 25", "64295", "Darmstadt", "HE", SOUTH, 2, 8),
    Store("Media Markt Mainz-Bretzenheim", "Haifa-Allee 1", "55128", "Mainz", "RP", SOUTH, 4, 9),
    Store(
        "Media Markt Saarbrücken-Europa-Galerie",
        "Trierer Straße 1",
        "66111",
        "Saarbrücken",
        "SL",
        SOUTH,
        3,
        9,
    ),
    Store("Media Markt Kassel-Bettenhausen", "Leipziger Straße 171", "34123", "Kassel", "HE", SOUTH, 2, 9),
)

# Cities of the backup promoters, one per pool (the pool's main store city).
POOL_CITIES: tuple[str, ...] = (
    "Hamburg",
    "Bremen",
    "Hannover",
    "Berlin",
    "München",
    "Nürnberg",
    "Stuttgart",
    "Karlsruhe",
    "Frankfurt am Main",
    "Mainz",
)

# 40 promoters: the first 30 are the primary promoters of the stores above (same
# order), the last 10 the backup promoters of pools 0–9. The first ten get logins.
PROMOTER_NAMES: tuple[tuple[str, str], ...] = (
    ("Lena", "Schröder"),
    ("Jonas", "Meyer"),
    ("Marie", "Becker"),
    ("Finn", "Hansen"),
    ("Sophie", "Möller"),
    ("Leon", "Wagner"),
    ("Hannah", "Krause"),
    ("Paul", "Schulz"),
    ("Emma", "Hoffmann"),
    ("Lukas", "Janssen"),
    ("Mia", "Schmitz"),
    ("Tim", "Lange"),
    ("Anna", "Huber"),
    ("Maximilian", "Bauer"),
    ("Laura", "Fischer"),
    ("Felix", "Gruber"),
    ("Julia", "Weber"),
    ("Elias", "Hofmann"),
    ("Clara", "Schneider"),
    ("Noah", "Koch"),
    ("Lea", "Braun"),
    ("David", "Zimmermann"),
    ("Sarah", "Wolf"),
    ("Niklas", "Schäfer"),
    ("Katharina", "Neumann"),
    ("Jan", "Schwarz"),
    ("Lisa", "Krüger"),
    ("Tobias", "Hartmann"),
    ("Ayşe", "Yılmaz"),
    ("Moritz", "Lehmann"),
    ("Johanna", "Peters"),
    ("Ole", "Petersen"),
    ("Greta", "Vogel"),
    ("Erik", "Friedrich"),
    ("Nina", "Maier"),
    ("Florian", "Kaiser"),
    ("Selin", "Demir"),
    ("Benedikt", "Roth"),
    ("Amelie", "Kühn"),
    ("Luca", "Romano"),
)


class ContactRecord(NamedTuple):
    login: str
    salutation: str
    first_name: str
    last_name: str
    email: str
    phone: str
    position: str
    territory: str
    language: str


CONTACTS: tuple[ContactRecord, ...] = (
    ContactRecord(
        "adm.nord",
        "mr",
        "Jan",
        "Petersen",
        "jan.petersen@supertoy.example",
        "+49 171 4410201",
        "Außendienst Nord",
        NORTH,
        "de",
    ),
    ContactRecord(
        "adm.sued",
        "ms",
        "Katrin",
        "Obermeier",
        "katrin.obermeier@supertoy.example",
        "+49 171 4410202",
        "Außendienst Süd",
        SOUTH,
        "de",
    ),
    ContactRecord(
        "pos.marketing",
        "ms",
        "Sabine",
        "Wolff",
        "sabine.wolff@supertoy.example",
        "+49 911 7703140",
        "Leitung POS-Marketing",
        GERMANY,
        "de",
    ),
    ContactRecord(
        "vertrieb",
        "mr",
        "Daniel",
        "Carter",
        "daniel.carter@supertoy.example",
        "+49 911 7703100",
        "Leitung Vertrieb",
        GERMANY,
        "en",
    ),
)


class AgencyUser(NamedTuple):
    username: str
    first_name: str
    last_name: str
    email: str
    role: str


AGENCY_USERS: tuple[AgencyUser, ...] = (
    AgencyUser("admin", "Martina", "Krüger", "admin@promoplan.example", ADMIN),
    AgencyUser("agentur", "Tobias", "Brandt", "agentur@promoplan.example", AGENCY),
)

PROMOTER_LOGINS = 10


class NoteRecord(NamedTuple):
    login: str
    text: str
    days_ago: int


# Notes on the customer contacts, written by the agency user ``agentur``.
NOTES: tuple[NoteRecord, ...] = (
    NoteRecord(
        "adm.nord",
        "Kick-off-Telefonat: Herr Petersen wünscht sich in Hamburg und Berlin mehr Aktionstage am Samstag.",
        50,
    ),
    NoteRecord(
        "adm.sued",
        "Frau Obermeier betreut alle 18 Häuser im Süden; Rückfragen zu Einsatzzeiten bitte per E-Mail.",
        45,
    ),
    NoteRecord(
        "pos.marketing",
        "Neues POS-Material (Aufsteller, Flyer, Demo-Spielzeug) wird direkt an die Märkte geliefert.",
        30,
    ),
    NoteRecord(
        "vertrieb",
        "Prefers updates in English; asks for a monthly summary across all 30 stores.",
        20,
    ),
)


class TaskRecord(NamedTuple):
    login: str
    title: str
    kind: str
    due_in_days: int
    done: bool


# Tasks on the customer contacts, assigned to ``agentur``; due dates relative to today.
TASKS: tuple[TaskRecord, ...] = (
    TaskRecord("adm.nord", "Telefonat: Wochenplanung Nord abstimmen", "call", 1, False),
    TaskRecord("pos.marketing", "Nachfassen: Lieferung POS-Material an alle Häuser", "follow_up", 7, False),
    TaskRecord("vertrieb", "Zwischenbericht zur Kampagne senden", "other", 14, False),
    TaskRecord("adm.sued", "Einsatzplan Süd abstimmen", "call", -10, True),
)

# Customer proposals of the field rep North: (preferred store, days from today, note).
PROPOSALS: tuple[tuple[str, int, str], ...] = (
    (
        "Media Markt Hamburg-Altona",
        2,
        "Zusätzlicher Aktionstag: Prospektbeilage mit Supertoy-Angebot in dieser Woche.",
    ),
    (
        "Media Markt Bremen-Waterfront",
        5,
        "Die Marktleitung wünscht eine Vorführung der neuen Supertoy-Rennbahn.",
    ),
    ("Media Markt Braunschweig-Nordstadt", 9, "Verkaufsoffener Tag im Umfeld – bitte mit Promoter besetzen."),
)
