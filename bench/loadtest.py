"""Load benchmark: gunicorn (2 workers) serving promoplan, 8 concurrent users.

    .venv/bin/python bench/loadtest.py --database-url sqlite:////tmp/bench.db [--users 8] [--seconds 20]

The database must hold ``flask --app app bench-data`` (logins bench.cust000 …,
bench.plan00 …, password bench-password). For each page the script runs
--users threads for --seconds, then prints p50, p95, requests per second, SQL
statements per request (from the X-SQL-Statements header) and errors; the
ceiling — the same start-page rows from one hand-written SQL query
(bench/ceiling_app.py) — is measured in the same run, and the ratio printed.
Worker memory (RSS) is read from /proc at the end. Results also go to
bench/results/<database>-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password"
#: Further agency pages measured (name, path).
AGENCY_PAGES = (
    ("agency cockpit /", "/"),
    ("agency cockpit week", "/cockpit/week"),
    ("agency conflicts page (4 weeks)", "/planning/conflicts/"),
    ("agency proposals screen", "/proposals/"),
    ("agency contact list", "/contactview/list/"),
    ("agency booking list", "/bookingview/list/"),
    ("agency booking add form", "/bookingview/add"),
    ("agency application list", "/applicationview/list/"),
)
#: The promoter system, with the bench's promoter logins (about 450 bookings each).
PROMOTER_PAGES = (
    ("promoter start page", "/promoter/"),
    ("promoter requests", "/promoter/requests"),
    ("promoter schedule", "/promoter/schedule"),
    ("promoter open jobs", "/promoter/jobs"),
)
#: The reporting area (issue 15), for customers of one region (about 30 stores at scale 1):
#: (name, path; {territory} is the customer's own territory).
REPORTING_CUSTOMER_PAGES = (
    ("reporting overview, last month", "/portal/reporting/?range=last_month"),
    ("reporting overview, month + territory", "/portal/reporting/?range=last_month&territory={territory}"),
    ("reporting stores, last month", "/portal/reporting/stores?range=last_month"),
    ("reporting photos, last 4 weeks", "/portal/reporting/photos?range=last_4_weeks"),
    (
        "reporting XLSX, month + territory",
        "/portal/reporting/export.xlsx?range=last_month&territory={territory}",
    ),
    ("reporting PDF, last month", "/portal/reporting/report.pdf?range=last_month"),
)
#: The agency's reporting screens over all projects.
REPORTING_AGENCY_PAGES = (
    ("reporting agency dashboard, last month", "/reporting/dashboard/?range=last_month"),
    ("reporting agency punctuality, last month", "/reporting/punctuality/?range=last_month"),
)


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    sql: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def serve(target: str, port: int, env: dict) -> subprocess.Popen:
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
        raise SystemExit(f"port {port} is in use (a server left over?); choose another with --port")
    except requests.ConnectionError:
        pass
    log = open(ROOT / "bench" / "results" / f"server-{port}.log", "w")  # noqa: SIM115 (kept open for the server)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            target,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=10)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{target} did not start; see {log.name}")


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return match.group(1) if match else ""


def portal_session(base: str, username: str) -> requests.Session:
    s = requests.Session()
    token = csrf(s.get(f"{base}/portal/login").text)
    answer = s.post(
        f"{base}/portal/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    if "/portal/login" in answer.url:
        raise SystemExit(f"login of {username} failed")
    return s


def promoter_session(base: str, username: str) -> requests.Session:
    s = requests.Session()
    token = csrf(s.get(f"{base}/promoter/login").text)
    answer = s.post(
        f"{base}/promoter/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    if "/promoter/login" in answer.url:
        raise SystemExit(f"login of {username} failed")
    return s


def promoter_logins(url: str) -> list[str]:
    """The bench's promoter logins (none in bench data made before they were added)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    text("SELECT username FROM ab_user WHERE username LIKE 'bench.prom%' ORDER BY username")
                )
            )
    finally:
        engine.dispose()


def agency_session(base: str, username: str) -> requests.Session:
    s = requests.Session()
    token = csrf(s.get(f"{base}/login/").text)
    s.post(f"{base}/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return s


def api_session(base: str, username: str) -> requests.Session:
    s = requests.Session()
    answer = s.post(
        f"{base}/api/v1/security/login", json={"username": username, "password": PASSWORD, "provider": "db"}
    )
    s.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return s


def wizard_submit(s: requests.Session, base: str, project: str, location: str, day: str) -> requests.Response:
    """Steps 1 and 2 (not measured), then the measured submit of step 3."""
    page = s.get(f"{base}/portal/proposals/new")
    token = re.search(r"token=([0-9a-f]{32})", page.text).group(1)
    s.post(
        f"{base}/portal/proposals/new?token={token}",
        data={"project": project, "location": location, "csrf_token": csrf(page.text)},
    )
    page = s.get(f"{base}/portal/proposals/new/{token}/when")
    s.post(
        f"{base}/portal/proposals/new/{token}/when",
        data={"date": day, "start_time": "10:00", "end_time": "16:00", "csrf_token": csrf(page.text)},
    )
    page = s.get(f"{base}/portal/proposals/new/{token}/review")
    started = time.perf_counter()
    answer = s.post(
        f"{base}/portal/proposals/new/{token}/review",
        data={"csrf_token": csrf(page.text)},
        allow_redirects=False,
    )
    answer.elapsed_measured = time.perf_counter() - started
    return answer


def proposable_stores(url: str, usernames: list[str], day: str) -> list[tuple[str, str] | None]:
    """For each user a (project, store) they see whose project runs on ``day`` (None if none)."""
    import datetime as dt

    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models.planning import Job, Project
    from app.security.visibility import Scope

    date = dt.date.fromisoformat(day)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    found = []
    with app.app_context():
        for name in usernames:
            user_id = db.session.scalar(select(User.id).where(User.username == name))
            job = db.session.scalar(
                Scope("customer", user_id)
                .jobs()
                .join(Project, Project.id == Job.project_id)
                .where(Project.start_date <= date, Project.end_date >= date)
                .order_by(Job.id)
                .limit(1)
            )
            found.append((str(job.project_id), str(job.location_id)) if job else None)
    return found


def normalise_url(url: str) -> str:
    """postgresql:// URLs use psycopg 3, as in config.py."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def customer_logins(url: str) -> list[str]:
    """The bench's customer logins that exist (fewer at a small --scale)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        names = list(
            conn.execute(
                text("SELECT username FROM ab_user WHERE username LIKE 'bench.cust%' ORDER BY username")
            ).scalars()
        )
    engine.dispose()
    return names


def region_customers(url: str) -> list[tuple[str, int]]:
    """(login, territory id) of the bench's customer logins whose one territory is a region
    (the middle level: about 30 of their company's stores at scale 1) with approved reports
    last month."""
    import datetime as dt

    from sqlalchemy import create_engine, text

    first = dt.date.today().replace(day=1)
    start = (first - dt.timedelta(days=1)).replace(day=1).isoformat()
    end = first.isoformat()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                (name, territory)
                for name, territory in conn.execute(
                    text(
                        "SELECT u.username, t.id FROM ab_user u JOIN contact c ON c.user_id = u.id "
                        "JOIN contact_territory ct ON ct.contact_id = c.id "
                        "JOIN territory t ON t.id = ct.territory_id "
                        "JOIN territory p ON p.id = t.parent_id "
                        "WHERE u.username LIKE 'bench.cust%' AND p.parent_id IS NULL "
                        "AND (SELECT count(*) FROM contact_territory x WHERE x.contact_id = c.id) = 1 "
                        # with approved reports last month (a customer's campaigns may all be over)
                        "AND EXISTS (SELECT 1 FROM report r JOIN job j ON j.id = r.job_id "
                        "JOIN project pr ON pr.id = j.project_id JOIN location l ON l.id = j.location_id "
                        "JOIN territory lt ON lt.id = l.territory_id "
                        "WHERE pr.customer_id = c.company_id AND lt.parent_id = t.id "
                        "AND r.status = 'approved' AND r.submitted_at >= :start AND r.submitted_at < :end) "
                        "ORDER BY u.username"
                    ),
                    {"start": start, "end": end},
                )
            ]
    finally:
        engine.dispose()


def reporting_pages(base: str, url: str, users: int, agency: list, only: list[str] | None) -> list:
    """The reporting pages as (name, sessions, request function); a page whose route the
    app does not have yet (404) is left out with a message. ``only``: as --only."""

    def wanted(name: str) -> bool:
        return not only or any(word in name for word in only)

    if not any(wanted(name) for name, _path in REPORTING_CUSTOMER_PAGES + REPORTING_AGENCY_PAGES):
        return []
    found = region_customers(url)
    if not found:
        print("no bench customer login with one region: customer reporting pages not run")
        customer_pages, sessions = (), []
    else:
        chosen = [found[i % len(found)] for i in range(users)]
        sessions = [portal_session(base, name) for name, _territory in chosen]
        territory_of = {id(s): territory for s, (_name, territory) in zip(sessions, chosen, strict=True)}
        customer_pages = REPORTING_CUSTOMER_PAGES
    pages = []
    for kind, page_list, group in (
        ("customer", customer_pages, sessions),
        ("agency", REPORTING_AGENCY_PAGES, agency),
    ):
        for name, path in page_list:
            if not wanted(name):
                continue

            def fetch(s, path=path, kind=kind):
                target = path.format(territory=territory_of.get(id(s), "")) if kind == "customer" else path
                return s.get(f"{base}{target}", timeout=120)

            probe = fetch(group[0])
            if probe.status_code == 404:
                print(f"{name}: {path.split('?')[0]} answers 404 (not merged yet?) — skipped")
                continue
            pages.append((name, group, fetch))
    return pages


def run(name: str, sessions: list, request_fn, seconds: float) -> Sample:
    sample, lock = Sample(), threading.Lock()
    stop = time.monotonic() + seconds

    def worker(s):
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                answer = request_fn(s)
                took = getattr(answer, "elapsed_measured", time.perf_counter() - started)
                ok = answer.status_code < 400
            except Exception as error:  # a failed request is counted, not fatal
                took, ok, answer = time.perf_counter() - started, False, error
            with lock:
                if ok:
                    sample.latencies.append(took)
                    sample.sql.append(int(answer.headers.get("X-SQL-Statements", 0)))
                else:
                    sample.errors += 1
                    sample.first_error = sample.first_error or str(getattr(answer, "status_code", answer))

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sample


def rss_mb(process: subprocess.Popen) -> list[float]:
    """Resident memory of the gunicorn workers (the master's children), from /proc."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        parent = re.search(r"PPid:\s+(\d+)", text)
        rss = re.search(r"VmRSS:\s+(\d+)", text)
        if parent and rss and int(parent.group(1)) == process.pid:
            sizes.append(int(rss.group(1)) / 1024)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8650)))
    parser.add_argument(
        "--only", nargs="*", help="measure only the pages whose name contains one of these words"
    )
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SQL_COUNT_HEADER": "1",
        "RATELIMIT_ENABLED": "0",
        "SECRET_KEY": secrets.token_hex(32),  # one random key per run, shared by the workers
        "MAIL_FOLDER": "/tmp/promoplan-bench-mail",
    }
    app_base, ceiling_base = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.port + 1}"
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    app_server = serve("run:app", args.port, env)
    ceiling_server = serve("bench.ceiling_app:app", args.port + 1, env)
    results = {}
    try:
        logins = customer_logins(normalise_url(args.database_url))
        customers = [logins[i % len(logins)] for i in range(args.users)]
        portal = [portal_session(app_base, u) for u in customers]
        api = [api_session(app_base, u) for u in customers]
        agency = [agency_session(app_base, f"bench.plan{i:02d}") for i in range(args.users)]
        promoter_names = promoter_logins(normalise_url(args.database_url))
        promoters = [
            promoter_session(app_base, promoter_names[i % len(promoter_names)])
            for i in range(args.users if promoter_names else 0)
        ]
        plain = [requests.Session() for _ in customers]
        # a store and project each customer may propose for on a day nine days ahead
        day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 9 * 86400))
        stores = proposable_stores(normalise_url(args.database_url), customers, day)
        proposing = [s for s, store in zip(portal, stores, strict=True) if store]
        # The ceiling must serve the same rows as the real start page, or the ratio means nothing.
        for s, user in zip(portal, customers, strict=True):
            app_rows = re.search(r'id="count-week">(\d+)<', s.get(f"{app_base}/portal/").text).group(1)
            ceiling_rows = re.search(
                r"id='count'>(\d+)<", requests.get(f"{ceiling_base}/start?user={user}").text
            )
            if app_rows != ceiling_rows.group(1):
                raise SystemExit(
                    f"ceiling and app disagree for {user}: {ceiling_rows.group(1)} vs {app_rows} rows"
                )
        users = {id(s): u for s, u in zip(plain, customers, strict=True)}
        store_of = {id(s): st for s, st in zip(portal, stores, strict=True)}

        pages = [
            ("customer start page", portal, lambda s: s.get(f"{app_base}/portal/")),
            (
                "ceiling: start-page rows, one SQL",
                plain,
                lambda s: s.get(f"{ceiling_base}/start?user={users[id(s)]}"),
            ),
            (
                "filtered appointment list",
                portal,
                lambda s: s.get(f"{app_base}/portal/appointments?range=next_week&status=planned&sort=store"),
            ),
            (
                "API appointment list",
                api,
                lambda s: s.get(f"{app_base}/api/v1/appointment/?q=(page_size:50)"),
            ),
            ("agency appointment list", agency, lambda s: s.get(f"{app_base}/appointmentview/list/")),
        ]
        pages += [
            (name, agency, lambda s, path=path: s.get(f"{app_base}{path}", timeout=120))
            for name, path in AGENCY_PAGES
        ]
        if promoters:
            pages += [
                (name, promoters, lambda s, path=path: s.get(f"{app_base}{path}", timeout=120))
                for name, path in PROMOTER_PAGES
            ]
        else:
            print("this bench data has no promoter logins (bench.prom00 …): promoter pages not run")
        pages += reporting_pages(app_base, normalise_url(args.database_url), args.users, agency, args.only)
        if args.only:
            pages = [p for p in pages if any(word in p[0] for word in args.only)]
        if proposing and (not args.only or any(word in "wizard submit" for word in args.only)):
            pages.append(
                ("wizard submit", proposing, lambda s: wizard_submit(s, app_base, *store_of[id(s)], day))
            )
        print(f"{'page':<36} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7} {'SQL/req':>9} {'errors':>6}")
        peak_rss = 0.0
        for name, sessions, fn in pages:
            fn(sessions[0])  # warm up
            sample = run(name, sessions, fn, args.seconds)
            peak_rss = max([peak_rss, *rss_mb(app_server)])
            lat = sorted(sample.latencies)
            row = {
                "n": len(lat),
                "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
                "p95_ms": round(lat[int(len(lat) * 0.95) - 1] * 1000, 1) if lat else None,
                "rps": round(len(lat) / args.seconds, 1),
                "sql_min": min(sample.sql) if sample.sql else None,
                "sql_max": max(sample.sql) if sample.sql else None,
                "errors": sample.errors,
                "first_error": sample.first_error,
            }
            results[name] = row
            sql = f"{row['sql_min']}–{row['sql_max']}" if row["sql_min"] is not None else "-"
            cells = f"{row['n']:>6} {row['p50_ms']!s:>8} {row['p95_ms']!s:>8} {row['rps']:>7} {sql:>9}"
            print(f"{name:<36} {cells} {row['errors']:>6} {row['first_error']}")
        if "customer start page" not in results or "ceiling: start-page rows, one SQL" not in results:
            return
        ratio = results["customer start page"]["rps"] / max(
            results["ceiling: start-page rows, one SQL"]["rps"], 0.1
        )
        results["start_page_vs_ceiling"] = round(ratio, 3)
        results["worker_rss_mb_peak"] = round(peak_rss, 1)
        print(f"start page throughput / ceiling: {ratio:.0%}")
        print(f"largest worker RSS after a page (MB): {results['worker_rss_mb_peak']}")
    finally:
        for server in (app_server, ceiling_server):
            os.killpg(server.pid, signal.SIGTERM)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    kind = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    (out / f"{kind}-{time.strftime('%Y%m%d-%H%M')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
