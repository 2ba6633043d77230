#!/usr/bin/env bash
# Everything of bench/README.md in one go, on a fresh database:
#   bash bench/run.sh sqlite        (a file in /tmp)
#   bash bench/run.sh postgresql    (database promoplan_bench on 127.0.0.1:5432, user postgres)
# Environment (all optional):
#   BENCH_SCALE            1 = 1,000,000 appointments (0.02 for a quick try)
#   BENCH_SECONDS          seconds per page (20)
#   BENCH_DATABASE_URL     where to build the data; the database is created by bench/database.py
#                          and marked — an existing database without that mark is never dropped
#   BENCH_PORT             first of the ports used (default 8650: app, +1 ceiling, +100 fault checks)
#   BENCH_RESTART_COMMAND  PostgreSQL only: a command restarting the server during load, e.g.
#                          "pg_ctlcluster --skip-systemctl-redirect 15 main restart"; without it the
#                          restart check is skipped (a shared server is never restarted unasked)
#   BENCH_PYTHON           the Python with the project's requirements (.venv/bin/python)
#   BENCH_KEEP=1           keep the database afterwards (it is dropped by default)
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-sqlite}"
scale="${BENCH_SCALE:-1}"
seconds="${BENCH_SECONDS:-20}"
port="${BENCH_PORT:-8650}"
py="${BENCH_PYTHON:-.venv/bin/python}"
flask="$py -m flask --app app"

case "$kind" in
  sqlite) url="${BENCH_DATABASE_URL:-sqlite:////tmp/promoplan-bench.db}" ;;
  postgresql) url="${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/promoplan_bench}" ;;
  *) echo "usage: bash bench/run.sh sqlite|postgresql" >&2; exit 2 ;;
esac
$py bench/database.py fresh "$url"   # refuses (exit 3) a database it did not create
if [ "${BENCH_KEEP:-0}" != 1 ]; then trap '$py bench/database.py drop "$url"' EXIT; fi
export DATABASE_URL="$url"

echo "== $(date -Is) $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB, $kind, scale $scale"
$flask db upgrade >/dev/null 2>&1
$flask init-roles >/dev/null
/usr/bin/env time -f "bench-data: %e s wall, %M KB peak RSS" $flask bench-data --scale "$scale" | tail -2
if [ "$kind" = postgresql ]; then
  $py -c "import sys; sys.path.insert(0, 'bench'); from database import analyze; analyze('$url')"
fi

echo "== every page, one request at a time"
$py bench/pages.py --database-url "$url"

echo "== load test ($seconds s per page)"
$py bench/loadtest.py --database-url "$url" --users 8 --seconds "$seconds" --port "$port"

echo "== 50 users, mixed reading and proposing"
$py bench/faults.py --database-url "$url" --users 50 --seconds "$((seconds * 3))" --port "$((port + 100))" mixed

if [ "$kind" = postgresql ]; then
  if [ -n "${BENCH_RESTART_COMMAND:-}" ]; then
    echo "== PostgreSQL restart during load"
    $py bench/faults.py --database-url "$url" --seconds "$((seconds * 3 / 2))" --port "$((port + 100))" \
      --restart-command "$BENCH_RESTART_COMMAND" restart
  else
    echo "== PostgreSQL restart check skipped (set BENCH_RESTART_COMMAND to restart the server during load)"
  fi
fi
