"""No default secrets: sessions and API tokens signed with the old public default are
refused; without SECRET_KEY the app keeps a random key of its own in the instance folder."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from tests.visibility_helpers import jwt_token

OLD_DEFAULT = "dev-only-change-me"


def _session_cookie(secret: str, user_id: int) -> str:
    """A session cookie as Flask-Login writes it after a login, signed with ``secret``."""
    signer = Flask("forger")
    signer.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


def _admin_page(app, secret: str):
    from app.extensions import db
    from app.security.sessions import session_id, session_token

    with app.app_context():
        admin_id = app.appbuilder.sm.find_user(username="admin").id
        # What a real login stores: the id with the login's current session token.
        user_id = session_id(admin_id, session_token(db.session, admin_id))
        db.session.commit()
    client = app.test_client()
    client.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), _session_cookie(secret, user_id))
    return client.get("/users/list/")


def test_a_session_cookie_signed_with_the_old_default_is_refused(app):
    assert app.config["SECRET_KEY"] != OLD_DEFAULT
    forged = _admin_page(app, OLD_DEFAULT)
    assert forged.status_code in (302, 401, 403)
    assert "/login" in forged.headers.get("Location", "/login")
    # The same cookie signed with the app's own key opens the page: the forgery was well made.
    assert _admin_page(app, app.config["SECRET_KEY"]).status_code == 200


def test_an_api_token_signed_with_the_old_default_is_refused(app):
    real = jwt_token(app, "adm.nord")
    claims = jwt.decode(real, options={"verify_signature": False})
    client = app.test_client(use_cookies=False)

    def appointments(token: str):
        return client.get("/api/v1/appointment/", headers={"Authorization": f"Bearer {token}"})

    for secret in (OLD_DEFAULT, app.config["SECRET_KEY"]):
        forged = jwt.encode(claims, secret, algorithm="HS256")
        assert appointments(forged).status_code in (401, 422), secret
    # The same claims signed with the API key are accepted: the forgery was well made.
    assert (
        appointments(jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")).status_code == 200
    )
    assert app.config["JWT_SECRET_KEY"] not in (OLD_DEFAULT, app.config["SECRET_KEY"])


def _bare(instance: Path, **config) -> Flask:
    from app.security.secret_key import configure_secrets

    app = Flask("keytest", instance_path=str(instance))
    app.config.update({"SECRET_KEY": None, "JWT_SECRET_KEY": None, **config})
    configure_secrets(app)
    return app


def test_the_key_is_created_once_private_and_reused(tmp_path):
    from app import create_app

    instance = tmp_path / "instance"
    first = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": None,
            "JWT_SECRET_KEY": None,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}",
        }
    )
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert first.config["SECRET_KEY"] == key and len(key) >= 32
    # Another process of the same installation (a second worker, the scheduler) uses it too.
    second = _bare(instance)
    assert second.config["SECRET_KEY"] == key
    assert second.config["JWT_SECRET_KEY"] == first.config["JWT_SECRET_KEY"] != key
    # Another installation gets another key.
    assert _bare(tmp_path / "elsewhere").config["SECRET_KEY"] != key


def test_an_explicit_key_wins_and_no_file_is_written(tmp_path):
    explicit = "x" * 20 + "explicit-key-0123456789"
    app = _bare(tmp_path, SECRET_KEY=explicit)
    assert app.config["SECRET_KEY"] == explicit
    assert not (tmp_path / "secret_key").exists()
    own_jwt = "j" * 40
    assert _bare(tmp_path, SECRET_KEY=explicit, JWT_SECRET_KEY=own_jwt).config["JWT_SECRET_KEY"] == own_jwt


@pytest.mark.parametrize(
    "setting",
    [
        {"SECRET_KEY": ""},
        {"SECRET_KEY": OLD_DEFAULT},
        {"SECRET_KEY": "change-me-to-a-long-random-string"},
        {"SECRET_KEY": "short"},
        {"SECRET_KEY": "k" * 40, "JWT_SECRET_KEY": OLD_DEFAULT},
        {"SECRET_KEY": "k" * 40, "JWT_SECRET_KEY": ""},
    ],
)
def test_an_empty_or_public_key_stops_the_start(tmp_path, setting):
    from app.security.secret_key import SecretKeyProblem

    with pytest.raises(SecretKeyProblem) as problem:
        _bare(tmp_path, **setting)
    assert "KEY" in str(problem.value) and ("random" in str(problem.value))
    assert not (tmp_path / "secret_key").exists()


def test_a_loose_key_file_is_made_private(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("a" * 64 + "\n")
    key_file.chmod(0o644)
    assert _bare(tmp_path).config["SECRET_KEY"] == "a" * 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_deployment_example_ships_no_working_key():
    root = Path(__file__).resolve().parent.parent
    env = (root / "deploy" / "promoplan.env.example").read_text()
    values = dict(
        line.split("=", 1) for line in env.splitlines() if "=" in line and not line.lstrip().startswith("#")
    )
    assert values.get("SECRET_KEY", "") == ""
    assert values.get("JWT_SECRET_KEY", "") == ""
    assert OLD_DEFAULT not in (root / "README.md").read_text()
