"""Shared fixtures: one migrated database per test run, on SQLite or PostgreSQL.

TEST_DATABASE_URL selects the database (default: a SQLite file in a temporary
folder). The database is emptied, migrated to head with Alembic, given the
roles, and loaded with the Supertoy demo once per run.

With pytest-xdist (``-n``) every worker has its own database: its own SQLite
file, or on PostgreSQL ``<TEST_DATABASE_URL's name>_<worker>`` (created here,
dropped by .ci/with-postgres with the main one). Workers get whole files
(``--dist loadfile``), so the tests of one file still run in order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

pytest_plugins = ["tests.browser", "tests.smtp"]


def pytest_sessionstart(session) -> None:
    """German and English must be compiled before the first request (Flask-Babel caches them)."""
    from tests.catalogs import compile_catalogs

    compile_catalogs()


DEMO_PASSWORD = "demo-test-pw"


def _test_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and url.startswith("postgresql"):
        url = _worker_database(url, worker)
    return url


def _worker_database(url: str, worker: str) -> str:
    """The worker's own PostgreSQL database next to TEST_DATABASE_URL's (created if missing)."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _empty_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _test_database_url(tmp_path_factory)
    _empty_database(url)
    return url


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context.

    Flask reuses an app context that is already pushed (e.g. by the ``session``
    fixture), and with it ``g`` — the logged-in user of the previous request
    would leak into the next. A fresh context per request is what a server does.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from app import create_app
    from app.demo.seed import seed_demo
    from app.security.roles import ensure_roles

    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SERVER_NAME": None,
            # report photos and files of the tests: never in the instance folder
            "REPORT_STORAGE_PATH": str(tmp_path_factory.mktemp("uploads")),
        }
    )
    application.test_client_class = FreshContextClient
    with application.app_context():
        upgrade()
        ensure_roles(application.appbuilder)
        seed_demo(password=DEMO_PASSWORD)
    yield application
    with application.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def app_ctx(app) -> Iterator[Flask]:
    with app.app_context():
        yield app
        from app.extensions import db

        db.session.rollback()


@pytest.fixture()
def session(app_ctx):
    from app.extensions import db

    return db.session


@pytest.fixture()
def client(app) -> FlaskClient:
    return app.test_client()


#: The login page of each system (a login is refused at another system's page).
LOGIN_PATHS = {"agency": "/login/", "customer": "/portal/login", "promoter": "/promoter/login"}


def login_path(app: Flask, username: str) -> str:
    """The login page of the system ``username`` belongs to."""
    from app.security.accounts import home_system

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        return LOGIN_PATHS.get(home_system(user) if user is not None else "agency", "/login/")


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> None:
    path = login_path(client.application, username)
    response = client.post(path, data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed"
    assert "/login" not in response.headers["Location"], f"login of {username} was refused"


def set_language(client: FlaskClient, locale: str) -> None:
    client.get(f"/lang/{locale}")


@pytest.fixture()
def admin_client(client) -> FlaskClient:
    login(client, "admin")
    return client


@pytest.fixture()
def agency_client(client) -> FlaskClient:
    login(client, "agentur")
    return client


def visible_text(html: str) -> str:
    """The page's text without tags, scripts and styles (what a user reads)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
