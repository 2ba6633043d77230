"""Export benchmark: rows per second, peak RSS and SQL statements of every export.

    .venv/bin/python bench/exports.py --database-url sqlite:////tmp/bench.db [--only appointments]

The database must hold ``flask --app app bench-data``. Each export (the agency's
locations, contacts, projects and appointments, and a customer's appointment list
with ``range=all``; CSV and XLSX) runs in a fresh child process, so that the peak RSS
printed is that export's own. The child builds the rows and writes the file exactly as
the download does (``iter_csv`` / ``iter_xlsx``), discarding the bytes, and counts the
SQL statements on the engine. ``--background`` also runs the agency's appointment
export as a background job (the scheduler's code path, writing into a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCY = ("locations", "contacts", "projects", "appointments")
CUSTOMER_USER = "bench.cust000"


def _child(what: str, fmt: str, customer: str) -> dict:
    """One export in this process; answers its figures."""
    from flask_babel import force_locale
    from sqlalchemy import event, select

    from app import create_app
    from app.extensions import db

    app = create_app()
    statements = [0]
    with app.test_request_context("/"), force_locale("de"):
        from app.transfer import exports
        from app.transfer.tables import iter_csv, iter_csv_text, iter_xlsx

        event.listen(
            db.engine, "before_cursor_execute", lambda *_a: statements.__setitem__(0, statements[0] + 1)
        )
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        if what == "customer":
            from flask_appbuilder.security.sqla.models import User

            from app.portal.exports import customer_appointments
            from app.portal.queries import AppointmentFilter
            from app.security.visibility import Scope

            user_id = db.session.scalar(select(User.id).where(User.username == customer))
            statements[0] = 0
            started = time.perf_counter()
            header, rows = customer_appointments(
                db.session, Scope("customer", user_id), AppointmentFilter(range="all")
            )
        elif what == "appointments" and fmt == "csv":
            header, rows = exports.appointments_csv(db.session)  # as the download does
        else:
            header, rows = exports.EXPORTS[what](db.session)
        count = [0]

        def counted():
            for row in rows:
                count[0] += 1
                yield row

        if what == "appointments" and fmt == "csv":
            pieces = iter_csv_text(header, counted())
        else:
            pieces = iter_xlsx(header, counted(), what) if fmt == "xlsx" else iter_csv(header, counted())
        size = sum(len(piece) for piece in pieces)
        seconds = time.perf_counter() - started
    return {
        "export": what,
        "format": fmt,
        "rows": count[0],
        "seconds": round(seconds, 2),
        "rows_per_s": round(count[0] / seconds) if seconds else 0,
        "bytes": size,
        "statements": statements[0],
        "rss_before_mb": round(before / 1024),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _background_child(fmt: str) -> dict:
    """The appointment export as a background job, run as the scheduler runs it."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db

    folder = tempfile.mkdtemp(prefix="export-bench-")
    app = create_app({"EXPORT_FOLDER": folder})
    with app.app_context():
        from flask_appbuilder.security.sqla.models import User

        from app.transfer import export_jobs
        from app.transfer.models import ExportJob

        user_id = db.session.scalar(select(User.id).where(User.username == "bench.plan00"))
        token = export_jobs.create(db.session, user_id, "appointments", fmt, None, "de")
        started = time.perf_counter()
        export_jobs.run_pending(db.session)
        seconds = time.perf_counter() - started
        job = db.session.scalar(select(ExportJob).where(ExportJob.token == token))
        path = export_jobs.file_of(job)
        result = {
            "export": "appointments (background job)",
            "format": fmt,
            "state": job.state,
            "rows": job.done,
            "seconds": round(seconds, 2),
            "rows_per_s": round(job.done / seconds) if seconds else 0,
            "bytes": path.stat().st_size if path.exists() else 0,
            "statements": None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        path.unlink(missing_ok=True)
        db.session.delete(job)
        db.session.commit()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--only", action="append", choices=[*AGENCY, "customer"])
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--customer", default=CUSTOMER_USER)
    parser.add_argument("--background", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--background-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("--database-url or DATABASE_URL is needed")
    os.environ["DATABASE_URL"] = args.database_url
    if args.child:
        print(json.dumps(_child(*args.child, args.customer)))
        return
    if args.background_child:
        print(json.dumps(_background_child(args.background_child)))
        return
    runs = [
        [*("--child", what, fmt)]
        for what in (args.only or [*AGENCY, "customer"])
        for fmt in args.formats.split(",")
    ]
    if args.background:
        runs += [["--background-child", fmt] for fmt in args.formats.split(",")]
    print(
        f"{'export':32} {'fmt':4} {'rows':>9} {'s':>7} {'rows/s':>8} {'MB out':>7} {'SQL':>4} {'peak RSS':>8}"
    )
    results = []
    for run in runs:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--database-url",
                args.database_url,
                "--customer",
                args.customer,
                *run,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{run} failed")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"{result['export']:32} {result['format']:4} {result['rows']:>9,} {result['seconds']:>7} "
            f"{result['rows_per_s']:>8,} {result['bytes'] / 1e6:>7.1f} {result['statements'] or '-':>4} "
            f"{result['peak_rss_mb']:>5} MB"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    dialect = args.database_url.split(":", 1)[0].split("+")[0]
    (out / f"exports-{dialect}-{time.strftime('%Y-%m-%d')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
