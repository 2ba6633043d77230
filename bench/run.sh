#!/usr/bin/env bash
# Everything of bench/README.md in one go, on a fresh database:
#   bash bench/run.sh sqlite        (a file in /tmp)
#   bash bench/run.sh postgresql    (database promoplan_bench on 127.0.0.1:5432, user postgres)
# BENCH_SCALE (1 = 1,000,000 appointments) and BENCH_SECONDS (20 per page) shorten a try run.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-sqlite}"
scale="${BENCH_SCALE:-1}"
seconds="${BENCH_SECONDS:-20}"
py=.venv/bin/python
flask=".venv/bin/flask --app app"

case "$kind" in
  sqlite)
    url="sqlite:////tmp/promoplan-bench.db"
    rm -f /tmp/promoplan-bench.db /tmp/promoplan-bench.db-wal /tmp/promoplan-bench.db-shm
    ;;
  postgresql)
    url="postgresql://postgres@127.0.0.1:5432/promoplan_bench"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS promoplan_bench WITH (FORCE)"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE promoplan_bench"
    ;;
  *) echo "usage: bash bench/run.sh sqlite|postgresql" >&2; exit 2 ;;
esac
export DATABASE_URL="$url"

echo "== $(date -Is) $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB, $kind, scale $scale"
$flask db upgrade >/dev/null 2>&1
$flask init-roles >/dev/null
/usr/bin/env time -f "bench-data: %e s wall, %M KB peak RSS" $flask bench-data --scale "$scale" | tail -2
if [ "$kind" = postgresql ]; then psql -q -h 127.0.0.1 -U postgres -d promoplan_bench -c "ANALYZE"; fi

echo "== load test (8 users, $seconds s per page)"
$py bench/loadtest.py --database-url "$url" --users 8 --seconds "$seconds"

echo "== 50 users, mixed reading and proposing"
$py bench/faults.py --database-url "$url" --users 50 --seconds "$((seconds * 3))" mixed

if [ "$kind" = postgresql ]; then
  echo "== PostgreSQL restart during load"
  $py bench/faults.py --database-url "$url" --seconds "$((seconds * 3 / 2))" restart
fi
