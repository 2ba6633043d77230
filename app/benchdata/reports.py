"""Day reports for the bench data: the demo's day-report questionnaire on every bench
project and a report with answers on most past, booked appointments (about 490,000
reports and 6.5 million answer rows at scale 1).

The fate of an appointment's report is a pure function of its index (:func:`fate`), so
the appointment rows (status, actual times) and the report rows agree without keeping
500,000 rows in memory: 90 % approved, 4 % missing, 2 % returned, the rest and the last
two days submitted. Answers are written with :func:`bulk` (``COPY`` on PostgreSQL, a
DB-API ``executemany`` of tuples on SQLite), which is several times faster than Core
inserts of dicts.

Photos: the reports of the last 28 days get one ``display_photo`` row in ``report_file``
each (unique keys, as the table demands) **without stored bytes** — the gallery and its
pages are measured, opening a bench photo's image answers 404.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator, Sequence

from sqlalchemy.orm import Session
from sqlalchemy.sql import sqltypes

from app.demo.reports import DAY_PAGES, DAY_QUESTIONNAIRE, MOODS, PRODUCTS, _questionnaire

BATCH = 50_000
REPORT_COLUMNS = (
    "id",
    "kind",
    "appointment_id",
    "job_id",
    "questionnaire_version_id",
    "promoter_id",
    "status",
    "actual_start",
    "actual_end",
    "break_minutes",
    "submitted_at",
    "reviewed_at",
    "return_comment",
    "created_at",
    "updated_at",
    "revision",
)
ANSWER_COLUMNS = ("report_id", "question_key", "group_key", "item", "value_text", "value_number")
FILE_COLUMNS = (
    "report_id",
    "question_key",
    "item",
    "storage_key",
    "thumbnail_key",
    "content_type",
    "byte_size",
    "width",
    "height",
    "created_at",
)
REPORT_TEMPORAL = (7, 8, 10, 11, 13, 14)
FILE_TEMPORAL = (9,)
PHOTO_DAYS = 28
START_SHIFT = (-10, -5, 0, 0, 5, 15)
END_SHIFT = (-20, -10, 0, 0, 5)
BREAKS = (30, 30, 45, 60)
MOOD_CODES = [m[0] for m in MOODS]


def bulk(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple],
    total: int,
    progress: Callable[[str, int, int], None],
    temporal: tuple[int, ...] = (),
) -> int:
    """Write ``rows`` (tuples in ``columns`` order) fast; commits; returns the row count.
    ``temporal``: the positions of dates, times and datetimes (SQLite gets them as the
    text SQLAlchemy stores)."""
    connection = session.connection()
    done = 0
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                done += 1
                if done % BATCH == 0:
                    progress(table, done, total)
        cursor.close()
    else:
        if temporal:
            rows = _converted(rows, temporal)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        # straight to the DB-API connection (same transaction): the generated rows need
        # neither SQLAlchemy's parameter handling nor the input guard's per-value check
        raw = connection.connection.driver_connection
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                raw.executemany(sql, batch)
                done += len(batch)
                batch = []
                progress(table, done, total)
        if batch:
            raw.executemany(sql, batch)
            done += len(batch)
    progress(table, done, max(total, done))
    session.commit()
    return done


def _sqlite(value):
    """A value as SQLAlchemy's SQLite types store it."""
    kind = type(value)
    if kind is dt.datetime:
        return value.isoformat(" ", "microseconds")
    if kind is dt.time:
        return value.isoformat("microseconds")
    if kind is dt.date:
        return value.isoformat()
    return value


def bulk_dicts(
    session: Session, table, rows: Iterator[dict], total: int, progress: Callable[[str, int, int], None]
) -> int:
    """:func:`bulk` for rows as dicts (every row with the first row's keys) of a Core ``table``."""
    first = next(rows, None)
    if first is None:
        return 0
    columns = tuple(first)
    temporal = tuple(
        i
        for i, name in enumerate(columns)
        if isinstance(table.c[name].type, (sqltypes.Date, sqltypes.Time, sqltypes.DateTime))
    )

    def tuples() -> Iterator[tuple]:
        yield tuple(first.values())
        for row in rows:
            yield tuple(row.values())

    return bulk(session, table.name, columns, tuples(), total, progress, temporal)


def _converted(rows: Iterable[tuple], positions: tuple[int, ...]) -> Iterator[tuple]:
    for row in rows:
        values = list(row)
        for position in positions:
            values[position] = _sqlite(values[position])
        yield tuple(values)


def day_questionnaire(session: Session, tag: str, today: dt.date) -> tuple[int, int]:
    """(questionnaire id, version id) of a published copy of the demo's day report."""
    published = dt.datetime.combine(today - dt.timedelta(days=800), dt.time(9))
    questionnaire, version = _questionnaire(
        session, f"{DAY_QUESTIONNAIRE} ({tag})", "day", "Bench", DAY_PAGES, published
    )
    session.flush()
    ids = questionnaire.id, version.id
    session.commit()
    return ids


def _mix(index: int, salt: int) -> int:
    """A cheap deterministic hash of an appointment's index (0 … 2**32)."""
    return ((index + 1) * 2654435761 + salt * 40503) % 4294967296


def fate(index: int, day: dt.date, today: dt.date) -> str | None:
    """The report of appointment ``index`` on ``day``: None (future or unbooked),
    "missing", "returned", "submitted" or "approved"."""
    if day >= today or index % 10 == 9:
        return None
    share = _mix(index, 1) % 1000
    if share < 40:
        return "missing"
    if share < 60:
        return "returned"
    if share < 80 or (today - day).days <= 2:
        return "submitted"
    return "approved"


def _shift(value: dt.time, minutes: int) -> dt.time:
    total = value.hour * 60 + value.minute + minutes
    return dt.time(total // 60, total % 60)


def actual_times(index: int, start: dt.time, end: dt.time) -> tuple[dt.time, dt.time, int]:
    """(actual start, actual end, break minutes) of a reported appointment."""
    mix = _mix(index, 2)
    return (
        _shift(start, START_SHIFT[mix % 6]),
        _shift(end, END_SHIFT[(mix >> 8) % 5]),
        BREAKS[(mix >> 16) % 4],
    )


def report_rows(
    appointments: Iterator[tuple[int, int, int, dt.date, dt.time, dt.time, int]],
    first_report: int,
    version_id: int,
    today: dt.date,
    sales: dict[int, float],
    seed: int,
    answers_out: list,
    files_out: list,
) -> Iterator[tuple]:
    """Report tuples for ``appointments`` (index, appointment id, job id, day, start, end,
    promoter id); the answer and photo tuples of each batch are appended to
    ``answers_out`` / ``files_out`` for the caller to write."""
    rng = random.Random(seed)
    rand = rng.random
    report_id = first_report
    photo_from = today - dt.timedelta(days=PHOTO_DAYS)
    for index, appointment_id, job_id, day, start, end, promoter_id in appointments:
        status = fate(index, day, today)
        if status is None or status == "missing":
            continue
        actual_start, actual_end, pause = actual_times(index, start, end)
        submitted = dt.datetime.combine(day, actual_end) + dt.timedelta(minutes=20 + int(rand() * 60))
        reviewed = submitted + dt.timedelta(hours=16) if status in ("approved", "returned") else None
        yield (
            report_id,
            "day",
            appointment_id,
            job_id,
            version_id,
            promoter_id,
            status,
            actual_start,
            actual_end,
            pause,
            submitted,
            reviewed,
            "Bitte die Verkaufszahlen prüfen." if status == "returned" else None,
            submitted,
            reviewed or submitted,
            2 if reviewed else 1,
        )
        factor = sales[job_id] * (1.4 if day.weekday() == 5 else 1.0)
        add = answers_out.append
        add((report_id, "contacts", None, 0, None, float(int(30 + 40 * factor * rand()))))
        add((report_id, "footfall", None, 0, None, float(int(1000 + 1500 * factor * rand()))))
        # two or three of the products, in questionnaire order
        products = PRODUCTS if rand() < 0.7 else PRODUCTS[:2]
        for item, product in enumerate(products):
            opening = 18 + int(rand() * 23)
            sold = min(opening, int(product.daily * factor * (0.5 + rand())))
            add((report_id, "product", "products", item, product.code, None))
            add((report_id, "opening_stock", "products", item, None, float(opening)))
            add((report_id, "units_sold", "products", item, None, float(sold)))
            add((report_id, "closing_stock", "products", item, None, float(opening - sold)))
        add((report_id, "competitor_activity", None, 0, None, 1.0 if rand() < 0.3 else 0.0))
        add((report_id, "mood", None, 0, MOOD_CODES[int(rand() * 4)], None))
        if day >= photo_from:
            key = f"bench{report_id:027d}"
            files_out.append(
                (
                    report_id,
                    "display_photo",
                    0,
                    f"{key}.jpg",
                    f"{key}-thumb.jpg",
                    "image/jpeg",
                    48_000,
                    640,
                    480,
                    submitted,
                )
            )
        report_id += 1


def write_reports(
    session: Session,
    appointments: Callable[[], Iterator[tuple[int, int, int, dt.date, dt.time, dt.time, int]]],
    first_report: int,
    version_id: int,
    today: dt.date,
    sales: dict[int, float],
    seed: int,
    expected: int,
    progress: Callable[[str, int, int], None],
) -> dict[str, int]:
    """Reports, their answers and photo rows; returns the counts."""
    answers: list[tuple] = []
    files: list[tuple] = []
    counts = {"reports": 0, "report answers": 0, "report photos": 0}
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"

    def flush_children() -> None:
        if answers:
            counts["report answers"] += bulk(
                session, "report_answer", ANSWER_COLUMNS, answers, len(answers), _quiet
            )
            answers.clear()
        if files:
            counts["report photos"] += bulk(
                session, "report_file", FILE_COLUMNS, files, len(files), _quiet, temporal=FILE_TEMPORAL
            )
            files.clear()

    batch: list[tuple] = []
    for row in report_rows(appointments(), first_report, version_id, today, sales, seed, answers, files):
        batch.append(row)
        if len(batch) >= BATCH // 2:
            counts["reports"] += bulk(
                session, "report", REPORT_COLUMNS, batch, len(batch), _quiet, temporal=REPORT_TEMPORAL
            )
            batch = []
            flush_children()
            progress("report", counts["reports"], expected)
    if batch:
        counts["reports"] += bulk(
            session, "report", REPORT_COLUMNS, batch, len(batch), _quiet, temporal=REPORT_TEMPORAL
        )
        flush_children()
    progress("report", counts["reports"], counts["reports"])
    if postgres:
        from sqlalchemy import text

        for table in ("report", "report_answer", "report_file"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
        session.commit()
    return counts


def _quiet(table: str, done: int, total: int) -> None:
    pass
