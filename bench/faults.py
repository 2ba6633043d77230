"""Load and fault checks of issue "Production and scale" (item 5).

    .venv/bin/python bench/faults.py --database-url sqlite:////tmp/bench.db mixed
    .venv/bin/python bench/faults.py --database-url postgresql://postgres@127.0.0.1/promoplan_bench mixed
    .venv/bin/python bench/faults.py --database-url postgresql://… \
        --restart-command "pg_ctlcluster --skip-systemctl-redirect 15 main restart" restart

mixed: --users (50) threads for --seconds (60) against gunicorn with 2 workers,
each user reading the start page and the appointment list and proposing dates
through the wizard; afterwards every successful submit must have made exactly
one proposal (counted in the database by the wizard's request tokens), and no
request may have failed — on SQLite this is the concurrent-writers check
("database is locked" would show as errors).

restart: 8 users read the start page while PostgreSQL is restarted by the
--restart-command given (nothing is restarted without it: the server may be
shared); requests during the restart may fail, but after it every request must
succeed again without restarting the app.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import bindparam, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtest import (  # noqa: E402
    ROOT,
    customer_logins,
    portal_session,
    proposable_stores,
    serve,
    wizard_submit,
)

from config import database_url as normalise  # noqa: E402


def proposal_tokens(url: str, tokens: list[str]) -> Counter:
    """How many appointments each wizard token made (must be exactly one)."""
    query = text("SELECT request_token FROM appointment WHERE request_token IN :tokens").bindparams(
        bindparam("tokens", expanding=True)
    )
    found: Counter = Counter()
    engine = create_engine(url)
    with engine.connect() as conn:
        for start in range(0, len(tokens), 500):
            found.update(row[0] for row in conn.execute(query, {"tokens": tokens[start : start + 500]}))
    engine.dispose()
    return found


def mixed(base: str, url: str, users: int, seconds: float) -> bool:
    logins = customer_logins(url)
    names = [logins[i % len(logins)] for i in range(users)]
    sessions = [portal_session(base, name) for name in names]
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 9 * 86400))
    stores = proposable_stores(url, names, day)
    lock = threading.Lock()
    statuses: Counter = Counter()
    submitted: list[str] = []
    stop = time.monotonic() + seconds

    def user(index: int) -> None:
        s, store, rng = sessions[index], stores[index], random.Random(index)
        while time.monotonic() < stop:
            choice = rng.random()
            try:
                if choice < 0.45:
                    answer = s.get(f"{base}/portal/")
                elif choice < 0.85 or store is None:
                    answer = s.get(f"{base}/portal/appointments?range=next_week")
                else:
                    answer = wizard_submit(s, base, *store, day)
                    token = re.search(r"/new/([0-9a-f]{32})/", answer.request.url)
                    # a proposal was made when the wizard sends the user to it (a date outside a
                    # project's period sends them back to step 2 instead, which is no proposal)
                    made = re.search(r"/portal/proposals/\d+$", answer.headers.get("Location", ""))
                    if answer.status_code == 302 and token and made:
                        with lock:
                            submitted.append(token.group(1))
                with lock:
                    statuses[answer.status_code] += 1
            except requests.RequestException as error:
                with lock:
                    statuses[type(error).__name__] += 1

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = proposal_tokens(url, submitted)
    lost = [t for t in submitted if found[t] == 0]
    duplicated = [t for t in submitted if found[t] > 1]
    errors = sum(n for status, n in statuses.items() if not (isinstance(status, int) and status < 400))
    print(f"requests by status: {dict(statuses)}")
    print(f"proposals submitted: {len(submitted)}, lost: {len(lost)}, duplicated: {len(duplicated)}")
    print(f"failed requests: {errors}")
    return not lost and not duplicated and errors == 0


def restart(base: str, seconds: float, command: str) -> bool:
    sessions = [portal_session(base, f"bench.cust{i:03d}") for i in range(8)]
    log: list[tuple[float, int | str]] = []
    lock = threading.Lock()
    started = time.monotonic()
    stop = started + seconds

    def user(s) -> None:
        while time.monotonic() < stop:
            try:
                status: int | str = s.get(f"{base}/portal/", timeout=30).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            with lock:
                log.append((time.monotonic() - started, status))
            time.sleep(0.05)

    threads = [threading.Thread(target=user, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    time.sleep(seconds / 3)
    restart_at = time.monotonic() - started
    subprocess.run(shlex.split(command), check=True)
    back_at = time.monotonic() - started
    for t in threads:
        t.join()
    before = [s for t, s in log if t < restart_at]
    after = [s for t, s in log if t > back_at + 2]
    during = [s for t, s in log if restart_at <= t <= back_at + 2]
    print(f"restart at {restart_at:.1f} s, back at {back_at:.1f} s")
    print(f"before: {Counter(before)}; during: {Counter(during)}; after: {Counter(after)}")
    return bool(after) and all(s == 200 for s in after) and all(s == 200 for s in before)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("check", choices=["mixed", "restart"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8750)
    parser.add_argument(
        "--restart-command",
        help="restart check only: the command restarting the PostgreSQL server (required; "
        "a shared server is never restarted unasked)",
    )
    args = parser.parse_args()
    if args.check == "restart" and not args.restart_command:
        parser.error("restart needs --restart-command (the server may be shared)")
    os.environ["DATABASE_URL"] = args.database_url
    url = normalise()
    env = {
        **os.environ,
        "RATELIMIT_ENABLED": "0",
        "SECRET_KEY": secrets.token_hex(32),  # one random key per run, shared by the workers
        "MAIL_FOLDER": "/tmp/promoplan-bench-mail",
        "GUNICORN_THREADS": "4",
    }
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    server = serve("run:app", args.port, env)
    try:
        base = f"http://127.0.0.1:{args.port}"
        ok = (
            mixed(base, url, args.users, args.seconds)
            if args.check == "mixed"
            else restart(base, args.seconds, args.restart_command)
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
