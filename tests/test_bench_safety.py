"""The benchmark never drops a database it did not create (bench/database.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_database", ROOT / "bench" / "database.py")
bench_db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_db)


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_a_foreign_sqlite_file_is_refused_and_kept(tmp_path):
    path = tmp_path / "somebodys.db"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customer_data (id INTEGER)"))
        conn.execute(text("INSERT INTO customer_data VALUES (1)"))
    engine.dispose()

    with pytest.raises(bench_db.NotOurs):
        bench_db.fresh(url)
    with pytest.raises(bench_db.NotOurs):
        bench_db.drop(url)
    assert path.exists() and _tables(url) == ["customer_data"]

    # the command line says so and exits non-zero (run.sh stops there)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "database.py"), "fresh", url], capture_output=True, text=True
    )
    assert done.returncode == 3 and "not created by the benchmark" in done.stderr
    assert _tables(url) == ["customer_data"]


def test_the_benchmarks_own_sqlite_file_is_renewed_and_dropped(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    bench_db.fresh(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE appointment (id INTEGER)"))
    engine.dispose()

    bench_db.fresh(url)  # ours: dropped and created again, empty but marked
    assert _tables(url) == [bench_db.MARKER]
    assert bench_db.drop(url) is True
    assert not (tmp_path / "bench.db").exists()
    assert bench_db.drop(url) is False


def test_a_foreign_postgresql_database_is_refused(database_url):
    """On PostgreSQL (TEST_DATABASE_URL) the test database itself is foreign to the benchmark;
    on SQLite the server's maintenance database name is refused without connecting."""
    if database_url.startswith("postgresql"):
        before = _tables(database_url)
        with pytest.raises(bench_db.NotOurs):
            bench_db.drop(database_url)
        with pytest.raises(bench_db.NotOurs):
            bench_db.fresh(database_url)
        assert _tables(database_url) == before
    with pytest.raises(bench_db.NotOurs):
        bench_db.drop("postgresql://postgres@127.0.0.1:5432/postgres")
