"""Migrations own the schema: upgrade from empty, no drift, FAB creates nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.schema import metadata


@pytest.fixture()
def empty_database_url(database_url, tmp_path) -> Iterator[str]:
    """A second, empty database of the same kind as the test database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"{url.database}_migrations"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})


def _tables(app) -> set[str]:
    from app.extensions import db

    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def test_creating_the_app_creates_no_table(empty_database_url):
    app = _app(empty_database_url)
    assert _tables(app) == set()


def test_upgrade_from_empty_creates_every_table_and_matches_the_models(empty_database_url):
    app = _app(empty_database_url)
    from app.extensions import db

    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(metadata.tables) <= tables
        assert {"ab_user", "ab_role", "appointment", "booking", "territory"} <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "target_metadata": metadata}
            )
            diff = compare_metadata(context, metadata)
        assert diff == [], f"models and migrations differ; run `flask --app app db migrate`: {diff}"
        db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database_url):
    app = _app(empty_database_url)
    from app.extensions import db

    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "appointment" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_upgrading_keeps_existing_data(empty_database_url):
    """SQLite batch migrations recreate tables; rows that depend on them must survive."""
    app = _app(empty_database_url)
    from app.extensions import db

    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO company (id, name, kind) VALUES (1, 'Supertoy', 'customer')"))
            conn.execute(text("INSERT INTO territory (id, name) VALUES (1, 'ADM Nord / Supertoy')"))
            conn.execute(
                text(
                    "INSERT INTO contact (id, company_id, first_name, last_name, language) "
                    "VALUES (1, 1, 'Jan', 'Nord', 'de')"
                )
            )
            conn.execute(text("INSERT INTO contact_territory (contact_id, territory_id) VALUES (1, 1)"))
            conn.execute(
                text(
                    "INSERT INTO project (id, name, customer_id, start_date, end_date) "
                    "VALUES (1, 'P', 1, '2026-01-01', '2026-06-30')"
                )
            )
            conn.execute(text("INSERT INTO project_contact (project_id, contact_id) VALUES (1, 1)"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM contact_territory")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM project_contact")).scalar() == 1
            assert conn.execute(text("SELECT digest_opt_out FROM contact")).scalar() in (False, 0)
        db.engine.dispose()
