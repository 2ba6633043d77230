"""promoplan configuration: defaults here, overridden by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def database_url() -> str:
    """DATABASE_URL, normalised so that postgres URLs use psycopg 3."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'promoplan.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    APP_NAME = "promoplan"
    # Session signing key. Not set: a random key kept in the instance folder
    # (app.security.secret_key); set but empty: the app refuses to start.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # API token (JWT) signing key; not set: derived from SECRET_KEY.
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Local time of appointments ("today", "this week").
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Berlin")

    # Mail
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "promoplan@localhost")
    AGENCY_NOTIFY_EMAIL = os.environ.get("AGENCY_NOTIFY_EMAIL", "")
    # Without MAIL_SERVER, mails are written as .eml files here (the demo's mailbox).
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER", str(INSTANCE_DIR / "mail"))
    # Exports with more rows than this are written by the scheduler ("exports" job) into
    # EXPORT_FOLDER (default: instance/exports), downloadable for a day by who asked.
    EXPORT_BACKGROUND_ROWS = _int("EXPORT_BACKGROUND_ROWS", 50_000)
    EXPORT_FOLDER = os.environ.get("EXPORT_FOLDER") or None
    MAIL_MESSAGE_ID_DOMAIN = os.environ.get("MAIL_MESSAGE_ID_DOMAIN", "promoplan.local")
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 10)
    OUTBOX_BACKOFF_SECONDS = _int("OUTBOX_BACKOFF_SECONDS", 60)
    # A sender's claim on a mail lasts this long and is renewed every third of it
    # while the mail is being sent; a dead sender's mail is sent again after it.
    OUTBOX_LEASE_SECONDS = _float("OUTBOX_LEASE_SECONDS", 30)
    # Time-out of every SMTP socket operation (connect, each command, the data).
    OUTBOX_SMTP_TIMEOUT = _float("OUTBOX_SMTP_TIMEOUT", 60)
    # Links in mails: the agency system's address; the customer system's is
    # derived from CUSTOMER_HOST (with URL_SCHEME) or falls back to BASE_URL/portal.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    URL_SCHEME = os.environ.get("URL_SCHEME", "https")
    # Scheduled digests (local time, TIMEZONE).
    DIGEST_DAILY_AT = os.environ.get("DIGEST_DAILY_AT", "07:00")
    DIGEST_WEEKLY_DAY = os.environ.get("DIGEST_WEEKLY_DAY", "fri")
    DIGEST_WEEKLY_AT = os.environ.get("DIGEST_WEEKLY_AT", "14:00")
    # Reporting: a missing day report is reminded (once) this many hours after the appointment's end.
    REPORT_REMINDER_HOURS = _int("REPORT_REMINDER_HOURS", 24)

    # Report photos and files (app.reporting.storage). REPORT_STORAGE: "local" (default) keeps
    # them in REPORT_STORAGE_PATH (default: the instance folder's "uploads"; never below
    # static: they are served only after a visibility check); "s3" in the bucket
    # REPORT_S3_BUCKET of an S3-compatible store: REPORT_S3_ENDPOINT_URL (empty: AWS),
    # REPORT_S3_REGION, REPORT_S3_ACCESS_KEY / REPORT_S3_SECRET_KEY (empty: boto3's usual
    # sources — environment, instance role), REPORT_S3_PREFIX (optional key prefix).
    REPORT_STORAGE = os.environ.get("REPORT_STORAGE", "local")
    REPORT_STORAGE_PATH = os.environ.get("REPORT_STORAGE_PATH") or None
    REPORT_S3_BUCKET = os.environ.get("REPORT_S3_BUCKET", "")
    REPORT_S3_ENDPOINT_URL = os.environ.get("REPORT_S3_ENDPOINT_URL") or None
    REPORT_S3_REGION = os.environ.get("REPORT_S3_REGION") or None
    REPORT_S3_ACCESS_KEY = os.environ.get("REPORT_S3_ACCESS_KEY") or None
    REPORT_S3_SECRET_KEY = os.environ.get("REPORT_S3_SECRET_KEY") or None
    REPORT_S3_PREFIX = os.environ.get("REPORT_S3_PREFIX", "")
    # Upload limits: one file as sent (MB), all stored files of one report together (MB),
    # and the pixels of one image (megapixels; larger ones are refused, not shrunk).
    REPORT_MAX_FILE_MB = _float("REPORT_MAX_FILE_MB", 15)
    REPORT_MAX_REPORT_MB = _float("REPORT_MAX_REPORT_MB", 60)
    REPORT_MAX_MEGAPIXELS = _float("REPORT_MAX_MEGAPIXELS", 40)

    # Hosts of the customer and promoter systems (empty: path fallback).
    CUSTOMER_HOST = os.environ.get("CUSTOMER_HOST", "")
    PROMOTER_HOST = os.environ.get("PROMOTER_HOST", "")

    # Host names this app answers to (comma-separated; empty: any). Requests with
    # another Host header get 400, so no link or redirect is ever built from it.
    # Host names are compared in lower case.
    TRUSTED_HOSTS = [
        h.strip().lower() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()
    ] or None
    # Number of reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For,
    # -Proto and -Host headers are then trusted, so rate limits and the audit see the
    # client's address. 0: the headers are ignored (no proxy, or it does not set them).
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

    # Benchmarks: a response header with the number of SQL statements of the request.
    SQL_COUNT_HEADER = _bool("SQL_COUNT_HEADER", False)

    # Flask-AppBuilder: migrations own the schema, roles live in code.
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = True
    FAB_PASSWORD_HASH_METHOD = os.environ.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    # Filled in by app.security.roles once all views are registered.
    FAB_ROLES: dict[str, list[list[str]]] = {}

    # Languages: German by default, English available.
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {
        "de": {"flag": "de", "name": "Deutsch"},
        "en": {"flag": "gb", "name": "English"},
    }

    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per 20 second")
    # Per account (the submitted user name or address, known or not), on top of the per-address limit.
    AUTH_ACCOUNT_RATE_LIMIT = os.environ.get("AUTH_ACCOUNT_RATE_LIMIT", "10 per 10 minute")
    # "Forgot password" mails per submitted address.
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "3 per hour")
    RESET_TOKEN_HOURS = _int("RESET_TOKEN_HOURS", 2)
    INVITE_TOKEN_HOURS = _int("INVITE_TOKEN_HOURS", 7 * 24)
    PASSWORD_MIN_LENGTH = _int("PASSWORD_MIN_LENGTH", 10)
