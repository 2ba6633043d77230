"""Login hardening: rate limits, cookies, CSRF, redirects, headers, caching, equal work."""

from __future__ import annotations

import pytest
from werkzeug import security as wz_security

from app import create_app
from tests.conftest import DEMO_PASSWORD, login, visible_text

LOGIN_PAGES = ["/login/", "/portal/login"]


def _second_app(database_url, **config):
    """Another app on the test database, with some production settings switched on."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **config,
        }
    )


@pytest.fixture()
def strict_app(app, database_url):
    """Rate limits on (3 login attempts a minute)."""
    return _second_app(
        database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        AUTH_RATE_LIMITED=True,
        AUTH_RATE_LIMIT="3 per minute",
    )


@pytest.fixture()
def csrf_app(app, database_url):
    return _second_app(database_url, WTF_CSRF_ENABLED=True)


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_html_logins_are_rate_limited_with_a_german_message(strict_app, path):
    client = strict_app.test_client()
    answers = [
        client.post(path, data={"username": "adm.nord", "password": "wrong"}).status_code for _ in range(4)
    ]
    assert 429 not in answers[:3]
    assert answers[3] == 429
    page = client.post(path, data={"username": "adm.nord", "password": "wrong"})
    assert page.status_code == 429
    assert "Zu viele Anmeldeversuche" in visible_text(page.get_data(as_text=True))


def test_api_login_is_rate_limited(strict_app):
    client = strict_app.test_client()
    body = {"username": "adm.nord", "password": "wrong", "provider": "db"}
    answers = [client.post("/api/v1/security/login", json=body).status_code for _ in range(4)]
    assert answers[:3] == [401, 401, 401]
    assert answers[3] == 429


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_login_forms_require_a_csrf_token(csrf_app, path):
    client = csrf_app.test_client()
    answer = client.post(path, data={"username": "adm.nord", "password": DEMO_PASSWORD})
    assert answer.status_code == 400
    assert "Formular ist abgelaufen" in visible_text(answer.get_data(as_text=True))
    assert client.get("/portal/").status_code == 302  # still not logged in


def test_session_cookie_is_httponly_and_samesite(client):
    answer = client.post("/portal/login", data={"username": "adm.nord", "password": DEMO_PASSWORD})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_cookie_is_secure_behind_https(app, database_url):
    app = _second_app(database_url, SESSION_COOKIE_SECURE=True)
    answer = app.test_client().get("/portal/login")
    assert "Secure" in answer.headers["Set-Cookie"]


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_login_pages_are_not_cached_and_send_security_headers(client, path):
    answer = client.get(path)
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    csp = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_inline_scripts_carry_the_request_nonce(admin_client):
    answer = admin_client.get("/locationview/list/")
    csp = answer.headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    html = answer.get_data(as_text=True)
    assert html.count("<script") == html.count(f'nonce="{nonce}"')


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/portal/", "/\\evil.example", "javascript:alert(1)"],
)
def test_portal_login_never_redirects_off_site(client, target):
    answer = client.post(
        "/portal/login",
        query_string={"next": target},
        data={"username": "adm.nord", "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/portal/"


def test_agency_login_never_redirects_off_site(client):
    answer = client.post(
        "/login/",
        query_string={"next": "https://evil.example/"},
        data={"username": "agentur", "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 302
    assert "evil.example" not in answer.headers["Location"]


def test_redirects_are_not_built_from_the_host_header(client):
    answer = client.get("/portal/", headers={"Host": "evil.example"})
    assert answer.status_code == 302
    assert "evil.example" not in answer.headers["Location"]


def test_untrusted_host_is_refused_when_hosts_are_configured(app, database_url):
    app = _second_app(database_url, TRUSTED_HOSTS=["promoplan.example"])
    client = app.test_client()
    assert client.get("/portal/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/portal/login", headers={"Host": "promoplan.example"}).status_code == 200


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_unknown_user_and_wrong_password_look_and_cost_the_same(client, monkeypatch, path):
    calls = []
    original = wz_security.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return original(pwhash, password)

    monkeypatch.setattr("flask_appbuilder.security.manager.check_password_hash", counting)
    unknown = client.post(path, data={"username": "nobody-here", "password": "wrong"}, follow_redirects=True)
    unknown_calls = len(calls)
    wrong = client.post(path, data={"username": "adm.nord", "password": "wrong"}, follow_redirects=True)
    assert unknown_calls == 1 and len(calls) == 2, "both paths must check one password hash"
    assert unknown.status_code == wrong.status_code
    assert visible_text(unknown.get_data(as_text=True)) == visible_text(wrong.get_data(as_text=True))


def test_customer_cannot_log_into_the_portal_as_agency_user_and_vice_versa(client):
    refused = client.post("/portal/login", data={"username": "agentur", "password": DEMO_PASSWORD})
    assert refused.status_code == 200
    assert client.get("/portal/").status_code == 302
    login(client, "adm.nord")
    assert client.get("/companyview/list/").status_code in (302, 403)
