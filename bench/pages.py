"""Every page, one request at a time: time, size and SQL statements of each, memory at the end.

    .venv/bin/python bench/pages.py --database-url sqlite:////tmp/bench.db [--repeat 3]

The database must hold ``flask --app app bench-data``. One process (the app behind Flask's
test client, no HTTP server) logs in as a planner (``bench.plan00``), a customer
(``bench.cust000``) and a promoter (``bench.prom00``) and visits every page it can find:

- agency: every generated screen's list, add form, and the show and edit page of its
  first row, plus every other agency page without URL arguments (cockpit, conflicts,
  proposals, reporting, import/export …);
- customer and promoter: every page of their systems without URL arguments.

Pages that need a file, a POST or a token are left out; so are downloads (exports, feeds,
PDFs: ``bench/exports.py`` and ``bench/loadtest.py`` measure those). Each page is requested
``--repeat`` times; the median time is printed with the response size and the statements of
the last request (``X-SQL-Statements``). The process's peak RSS after all pages is the figure
for "worker RSS after visiting every page". Rows over a target (300 ms, 1 MB, 12 statements)
are marked.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password"
TARGET_MS, TARGET_BYTES, TARGET_SQL = 300, 1_000_000, 12
#: Paths never visited: they change something, send a file or end the session.
SKIPPED = (
    "/logout",
    "/login",
    "/lang/",
    "/static",
    "/api/",
    "/swagger",
    "/export",
    ".xlsx",
    ".csv",
    ".pdf",
    ".ics",
    "/feed",
    "/download",
    "/photo",
    "/file",
    "/delete",
    "/action",
    "/register",
    "/reset",
    "/resetmypassword",
    "/resetpasswords",
    "/userinfoeditview",
    "/healthz",
    "/health",
)


def _paths_without_arguments(app, prefix: str, exclude: tuple[str, ...] = ()) -> list[str]:
    found = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if rule.arguments or "GET" not in (rule.methods or ()) or not path.startswith(prefix):
            continue
        if any(part in path for part in SKIPPED) or any(path.startswith(p) for p in exclude):
            continue
        found.add(path)
    return sorted(found)


def _agency_paths(app) -> list[str]:
    """Every generated screen's list, add, show and edit page, and the other agency pages."""
    from flask import current_app
    from flask_appbuilder import ModelView

    from app.extensions import db

    appbuilder = current_app.appbuilder

    paths = []
    for view in appbuilder.baseviews:
        if not isinstance(view, ModelView):
            continue
        base = view.route_base
        paths += [f"{base}/list/", f"{base}/add"]
        model = view.datamodel.obj
        pk = view.datamodel.get_pk_name()
        first = db.session.query(getattr(model, pk)).order_by(getattr(model, pk)).limit(1).scalar()
        if first is not None:
            paths += [f"{base}/show/{first}", f"{base}/edit/{first}"]
    generated = {p.rsplit("/", 2)[0] for p in paths} - {""}
    others = [
        p
        for p in _paths_without_arguments(app, "/", exclude=("/portal", "/promoter", "/customer"))
        if not any(p.startswith(g + "/") for g in generated)
    ]
    return sorted(set(paths)) + others


def _login(app, path: str, username: str, json_login: bool = False):
    client = app.test_client()
    response = client.post(path, data={"username": username, "password": PASSWORD})
    if response.status_code not in (302, 303):
        raise SystemExit(f"login of {username} at {path} failed ({response.status_code})")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["SQL_COUNT_HEADER"] = "1"
    os.environ.setdefault("WTF_CSRF_ENABLED", "0")

    import logging

    from app import create_app

    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)

    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False, SQL_COUNT_HEADER=True)
    with app.app_context():
        systems = [
            ("agency", _login(app, "/login/", "bench.plan00"), _agency_paths(app)),
            (
                "customer",
                _login(app, "/portal/login", "bench.cust000"),
                _paths_without_arguments(app, "/portal/"),
            ),
            (
                "promoter",
                _login(app, "/promoter/login", "bench.prom00"),
                _paths_without_arguments(app, "/promoter/"),
            ),
        ]
    print(f"{'system':9} {'page':58} {'status':>6} {'ms':>7} {'KB':>6} {'SQL':>4}")
    over, visited, slowest = [], 0, []
    started = time.perf_counter()
    for system, client, paths in systems:
        for path in paths:
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
            if response.status_code in (302, 303, 403, 404, 405):
                continue  # not this user's page (or a form that needs a choice first)
            visited += 1
            median = statistics.median(times)
            size = len(response.get_data())
            sql = int(response.headers.get("X-SQL-Statements", "0"))
            marks = [
                label
                for label, bad in (
                    ("time", median > TARGET_MS),
                    ("size", size > TARGET_BYTES),
                    ("sql", sql > TARGET_SQL),
                    ("error", response.status_code >= 500),
                )
                if bad
            ]
            if marks:
                over.append((system, path, marks))
            slowest.append((median, system, path))
            flag = f"  over: {', '.join(marks)}" if marks else ""
            status = response.status_code
            print(f"{system:9} {path[:58]:58} {status:>6} {median:7.0f} {size / 1024:6.0f} {sql:>4}{flag}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n{visited} pages in {time.perf_counter() - started:.0f} s; "
        f"peak RSS of the process: {peak:.0f} MB; {len(over)} over a target"
    )
    for median, system, path in sorted(slowest, reverse=True)[:10]:
        print(f"  slowest: {median:6.0f} ms  {system} {path}")


if __name__ == "__main__":
    main()
