"""Reading and writing spreadsheet files: CSV (as German Excel writes it) and XLSX.

Pure functions, no database: bytes in, rows out (and back).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from flask_babel import lazy_gettext as _l

#: Characters that make a spreadsheet read a cell as a formula; such text gets a leading "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_BYTES = 20 * 1024 * 1024
#: Characters that XML 1.0 (and so XLSX) cannot hold; NUL is also refused by PostgreSQL.
#: Tab, line feed and carriage return are allowed.
ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class FileProblem(Exception):
    """The file as a whole cannot be used; ``message`` says why (translated when shown)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class Table:
    """The first non-empty row as ``header``, the other non-empty rows with their row number."""

    header: list[str]
    header_row: int
    rows: list[tuple[int, list]] = field(default_factory=list)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(records: Iterable[tuple[int, Sequence]]) -> Table:
    table = None
    for number, values in records:
        values = list(values)
        if all(_blank(v) for v in values):
            continue
        if table is None:
            table = Table([("" if v is None else str(v)).strip() for v in values], number)
        else:
            table.rows.append((number, values))
    if table is None:
        raise FileProblem(_l("The file is empty."))
    return table


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # "CSV (Trennzeichen-getrennt)" of a German Excel is Windows-1252.
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    if counts[best]:
        return best
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=";,\t").delimiter
    except csv.Error:
        return ";"


def read_csv(data: bytes) -> Table:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return _table(enumerate(reader, start=1))
    except csv.Error as error:
        raise FileProblem(
            _l("The file could not be read. Please upload a CSV or Excel (.xlsx) file.")
        ) from error


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable workbook is the same answer
        raise FileProblem(
            _l("The file could not be read. Please upload a CSV or Excel (.xlsx) file.")
        ) from error
    try:
        sheet = workbook.worksheets[0]
        return _table(enumerate(sheet.iter_rows(values_only=True), start=1))
    finally:
        workbook.close()


def read_table(filename: str, data: bytes) -> Table:
    """The table of an uploaded file; XLSX by its content, everything else as CSV."""
    if len(data) > MAX_BYTES:
        raise FileProblem(_l("The file is too large (at most 20 MB)."))
    if not data.strip():
        raise FileProblem(_l("The file is empty."))
    name = (filename or "").lower()
    if data[:2] == b"PK" or name.endswith(".xlsx"):
        return read_xlsx(data)
    if name.endswith(".xls") or data[:4] == b"\xd0\xcf\x11\xe0":
        raise FileProblem(_l("Old Excel files (.xls) cannot be read; please save the file as .xlsx or CSV."))
    return read_csv(data)


# ---------------------------------------------------------------- writing


def formula_safe(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe.

    Only text is guarded: numbers, dates and None come back unchanged (a real
    -5 stays a number). The import removes the apostrophe again
    (:func:`unquote_formula`), so exported files can be imported unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unquote_formula(value: str) -> str:
    """The inverse of :func:`formula_safe` for the import."""
    if value.startswith("'") and value[1:2] and (value[1] in "=+-@\t\r"):
        return value[1:]
    return value


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


#: How each type is written into a CSV cell (German dates; by exact type, for speed).
_CSV_CELLS = {
    str: _csv_text,
    int: str,
    float: str,
    Decimal: str,
    bool: str,
    dt.date: lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}",
    dt.time: lambda t: f"{t.hour:02d}:{t.minute:02d}",
    dt.datetime: lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d} {d.hour:02d}:{d.minute:02d}",
}


def _csv_value(value) -> str:
    if value is None:
        return ""
    write = _CSV_CELLS.get(type(value))
    if write is not None:
        return write(value)
    if isinstance(value, dt.datetime):
        return _CSV_CELLS[dt.datetime](value)
    if isinstance(value, dt.date):
        return _CSV_CELLS[dt.date](value)
    if isinstance(value, dt.time):
        return _CSV_CELLS[dt.time](value)
    if isinstance(value, int | float | Decimal):
        return str(value)
    return formula_safe(str(value))


def write_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with BOM and semicolons: what a German Excel opens with a double click."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([formula_safe(str(h)) for h in header])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def iter_csv(header: Sequence[str], rows: Iterable[Sequence], batch: int = 1_000) -> Iterator[bytes]:
    """:func:`write_csv` piece by piece (every ``batch`` rows), for a streamed response."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([formula_safe(str(h)) for h in header])
    value, starts = _csv_value, FORMULA_STARTS
    for number, row in enumerate(rows, start=1):
        # plain text (most cells) without a call; everything else by its type
        writer.writerow([v if type(v) is str and not v.startswith(starts) else value(v) for v in row])
        if number % batch == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def iter_csv_text(
    header: Sequence[str], rows: Iterable[Sequence[str]], batch: int = 1_000
) -> Iterator[bytes]:
    """:func:`iter_csv` for rows whose cells are final text already (formatted and guarded
    against formulas by the query, e.g. :func:`app.transfer.exports.appointments_csv`):
    written as they are, ``batch`` rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([formula_safe(str(h)) for h in header])
    rows = iter(rows)
    for chunk in iter(lambda: list(islice(rows, batch)), []):
        writer.writerows(chunk)
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
    yield out.getvalue().encode("utf-8")


def iter_xlsx(
    header: Sequence[str], rows: Iterable[Sequence], title: str = "Export", chunk: int = 256 * 1024
) -> Iterator[bytes]:
    """:func:`write_xlsx` (see :mod:`app.transfer.xlsx`) into a temporary file, then sent
    in pieces: memory stays constant, the file lives on disk only while it is sent. (The
    first piece leaves once the whole file is written: a zip's sheet is not readable
    before its end anyway.)"""
    with tempfile.TemporaryFile() as spool:
        write_xlsx_to(spool, header, rows, title)
        spool.seek(0)
        while piece := spool.read(chunk):
            yield piece


def xlsx_safe(value):
    """``value`` without the characters an XLSX cell cannot hold (openpyxl would refuse
    the whole file); anything but text is returned as it is."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS.sub("", value)
    return value


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence], title: str = "Export") -> bytes:
    out = io.BytesIO()
    write_xlsx_to(out, header, rows, title)
    return out.getvalue()


def write_xlsx_to(out, header: Sequence[str], rows: Iterable[Sequence], title: str) -> None:
    """The rows as an XLSX workbook into the file ``out``, in constant memory (see
    :mod:`app.transfer.xlsx`): numbers stay numbers, dates get German date formats,
    text is never a formula."""
    from app.transfer.xlsx import write_xlsx as write_sheet

    write_sheet(out, header, rows, title)


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write_file(fmt: str, header: Sequence[str], rows: Iterable[Sequence], title: str = "Export") -> bytes:
    if fmt == "xlsx":
        return write_xlsx(header, rows, title)
    return write_csv(header, rows)
