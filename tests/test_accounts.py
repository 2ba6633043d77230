"""Accounts people run themselves: forgot password, invitations, password change,
sessions that end on the server, the wrong system, and who the agency may manage."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import delete, select

from app import create_app
from app.audit.models import AuditEntry
from app.models.crm import Contact, Territory
from app.models.planning import Project
from app.models.promoter import Promoter
from app.outbox.models import OutboxMessage
from tests.conftest import DEMO_PASSWORD, login, visible_text
from tests.helpers import db_session

NEW_PASSWORD = "ein-neues-Passwort-42"
LINK = re.compile(r"https?://\S+/password/set/[A-Za-z0-9_-]+")


# ---------------------------------------------------------------- helpers


def _user(session, username: str):
    from flask_appbuilder.security.sqla.models import User

    return session.scalar(select(User).where(User.username == username))


def _restore_password(app, username: str) -> None:
    with db_session(app) as session:
        app.appbuilder.sm.reset_password(_user(session, username).id, DEMO_PASSWORD)


def _last_mail(app, recipient: str, kind: str) -> OutboxMessage | None:
    with db_session(app) as session:
        message = session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        if message is not None:
            session.expunge(message)
        return message


def _mail_count(app, recipient: str) -> int:
    with db_session(app) as session:
        return len(
            session.scalars(select(OutboxMessage.id).where(OutboxMessage.recipient == recipient)).all()
        )


def _link_path(message: OutboxMessage, base: str = "http://127.0.0.1:5000") -> str:
    link = LINK.search(message.body_text).group(0)
    assert link.startswith(base), link
    assert link in message.body_html
    return link[len(base) :]


def _log_in(client, path: str, username: str, password: str = DEMO_PASSWORD):
    return client.post(path, data={"username": username, "password": password})


def _logged_in(answer) -> bool:
    return answer.status_code == 302 and "login" not in answer.headers["Location"]


def _audit_since(app, since: int) -> list[AuditEntry]:
    with db_session(app) as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.id > since, AuditEntry.entity == "ab_user")
            .order_by(AuditEntry.id)
        ).all()
        for row in rows:
            session.expunge(row)
        return rows


def _last_audit_id(app) -> int:
    with db_session(app) as session:
        return session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0


def _second_app(database_url, **config):
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


# ---------------------------------------------------------------- forgot password


def test_a_customer_resets_a_forgotten_password_from_the_mail_link(app, client):
    with db_session(app) as session:
        address = _user(session, "adm.nord").email
    try:
        answer = client.post(
            "/portal/password/forgot", data={"address": address.upper()}, follow_redirects=True
        )
        assert "Falls ein Konto mit dieser Adresse existiert" in visible_text(answer.get_data(as_text=True))
        mail = _last_mail(app, address, "password_reset")
        assert mail is not None and mail.status == "pending"
        path = _link_path(mail)
        assert path.startswith("/portal/password/set/")
        token = path.rsplit("/", 1)[1]
        with db_session(app) as session:  # only a hash of the token is stored
            from app.security.models import AccountToken

            assert session.scalar(select(AccountToken.id).where(AccountToken.token_hash == token)) is None

        page = client.get(path)
        assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
        short = client.post(path, data={"password": "kurz", "confirm": "kurz"})
        assert "mindestens 10 Zeichen" in visible_text(short.get_data(as_text=True))
        done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert done.status_code == 302 and done.headers["Location"].endswith("/portal/login")

        assert not _logged_in(_log_in(app.test_client(), "/portal/login", "adm.nord"))
        assert _logged_in(_log_in(app.test_client(), "/portal/login", "adm.nord", NEW_PASSWORD))
        # Single use.
        again = client.get(path)
        assert again.status_code == 404
        assert "nicht mehr gültig" in visible_text(again.get_data(as_text=True))
    finally:
        _restore_password(app, "adm.nord")


def test_forgot_password_answers_the_same_for_unknown_addresses(app):
    known, unknown = app.test_client(), app.test_client()
    with db_session(app) as session:
        address = _user(session, "promoter03").email
    stranger = f"niemand-{uuid.uuid4().hex[:6]}@example.com"
    answers = [
        known.post("/promoter/password/forgot", data={"address": address}, follow_redirects=True),
        unknown.post("/promoter/password/forgot", data={"address": stranger}, follow_redirects=True),
    ]
    assert answers[0].status_code == answers[1].status_code == 200
    assert visible_text(answers[0].get_data(as_text=True)) == visible_text(answers[1].get_data(as_text=True))
    assert _mail_count(app, stranger) == 0
    mail = _last_mail(app, address, "password_reset")
    assert _link_path(mail).startswith("/promoter/password/set/")


def test_the_agency_login_has_forgot_password_too(app, client):
    assert 'href="/account/password/forgot"' in client.get("/login/").get_data(as_text=True)
    with db_session(app) as session:
        address = _user(session, "agentur").email
    client.post("/account/password/forgot", data={"address": address})
    assert _link_path(_last_mail(app, address, "password_reset")).startswith("/account/password/set/")
    assert client.get("/account/password/set/not-a-token").status_code == 404


def test_reset_links_lead_to_the_own_host_of_the_system(app, database_url):
    hosted = _second_app(database_url, CUSTOMER_HOST="kunden.example.com", URL_SCHEME="https")
    with db_session(app) as session:
        address = _user(session, "adm.sued").email
    hosted.test_client().post(
        "/password/forgot", headers={"Host": "kunden.example.com"}, data={"address": address}
    )
    path = _link_path(_last_mail(app, address, "password_reset"), base="https://kunden.example.com")
    assert path.startswith("/portal/password/set/")


# ---------------------------------------------------------------- invitations


@pytest.fixture()
def new_field_rep(app):
    """A new contact of Supertoy in the territory ADM Nord, on the Supertoy project; removed afterwards."""
    from flask_appbuilder.security.sqla.models import User

    address = f"neu.nord.{uuid.uuid4().hex[:6]}@supertoy.example"
    with db_session(app) as session:
        nord = session.scalar(select(Contact).join(Contact.user).where(User.username == "adm.nord"))
        contact = Contact(
            first_name="Nora",
            last_name="Neu",
            email=address,
            company=nord.company,
            language="de",
            territories=[session.scalar(select(Territory).where(Territory.name == nord.territories[0].name))],
        )
        session.add(contact)
        for project in session.scalars(select(Project).where(Project.contacts.contains(nord))):
            project.contacts.append(contact)
        session.commit()
        pk = contact.id
    yield {"pk": pk, "address": address}
    with db_session(app) as session:
        contact = session.get(Contact, pk)
        user_id = contact.user_id if contact else None
        if contact is not None:
            for project in session.scalars(select(Project).where(Project.contacts.contains(contact))):
                project.contacts.remove(contact)
            session.delete(contact)
        session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == address))
        if user_id:
            session.delete(session.get(User, user_id))
        session.commit()


def test_the_agency_invites_a_new_field_rep_who_sees_exactly_their_territory(
    app, agency_client, new_field_rep
):
    pk, address = new_field_rep["pk"], new_field_rep["address"]
    show = visible_text(agency_client.get(f"/contactview/show/{pk}").get_data(as_text=True))
    assert all(
        label in show for label in ("Per E-Mail einladen", "Zugang deaktivieren", "Zugang wieder aktivieren")
    )
    answer = agency_client.post(f"/contactview/action/invite_login/{pk}", follow_redirects=True)
    assert answer.status_code == 200
    assert f"Die Einladung wurde an {address} geschickt." in visible_text(answer.get_data(as_text=True))
    mail = _last_mail(app, address, "account_invite")
    assert "Kundensystem" in mail.subject
    path = _link_path(mail)

    rep = app.test_client()
    assert not _logged_in(_log_in(rep, "/portal/login", address, NEW_PASSWORD))  # no usable password yet
    assert rep.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert _logged_in(_log_in(rep, "/portal/login", address, NEW_PASSWORD))

    nord = app.test_client()
    login(nord, "adm.nord")
    stores = re.compile(r"Media Markt [^<,]+")
    mine = sorted(set(stores.findall(rep.get("/portal/stores").get_data(as_text=True))))
    assert len(mine) == 12
    assert mine == sorted(set(stores.findall(nord.get("/portal/stores").get_data(as_text=True))))

    # Deactivated: the open session and API token end at once and the login is refused;
    # reactivated: it works again.
    api_token = _jwt(app, address, NEW_PASSWORD)["access_token"]
    assert _api(app, api_token).status_code == 200
    agency_client.post(f"/contactview/action/deactivate_login/{pk}")
    assert rep.get("/portal/").status_code == 302
    assert _api(app, api_token).status_code == 401
    assert not _logged_in(_log_in(app.test_client(), "/portal/login", address, NEW_PASSWORD))
    agency_client.post(f"/contactview/action/reactivate_login/{pk}")
    assert _logged_in(_log_in(app.test_client(), "/portal/login", address, NEW_PASSWORD))


def test_an_invitation_needs_an_address_and_a_promoter_invitation_leads_to_the_promoter_system(
    app, agency_client
):
    from flask_appbuilder.security.sqla.models import User

    with db_session(app) as session:
        promoter = Promoter(first_name="Paul", last_name=f"Probe{uuid.uuid4().hex[:4]}", active=True)
        session.add(promoter)
        session.commit()
        pk = promoter.id
    try:
        answer = agency_client.post(f"/promoterview/action/invite_login/{pk}", follow_redirects=True)
        assert "Eine Einladung braucht eine E-Mail-Adresse." in visible_text(answer.get_data(as_text=True))
        address = f"paul.{uuid.uuid4().hex[:6]}@example.com"
        with db_session(app) as session:
            session.get(Promoter, pk).email = address
            session.commit()
        agency_client.post(f"/promoterview/action/invite_login/{pk}")
        assert _link_path(_last_mail(app, address, "account_invite")).startswith("/promoter/password/set/")
        with db_session(app) as session:
            user = session.get(Promoter, pk).user
            assert [r.name for r in user.roles] == ["Promoter"]
    finally:
        with db_session(app) as session:
            promoter = session.get(Promoter, pk)
            user = promoter.user
            session.delete(promoter)
            session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.like("paul.%@example.com")))
            if user is not None:
                session.delete(session.get(User, user.id))
            session.commit()


# ---------------------------------------------------------------- the agency and other logins


def _user_options(html: str) -> set[str]:
    select_html = re.search(r'<select[^>]*name="user".*?</select>', html, re.S).group(0)
    return {
        text.strip()
        for value, text in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select_html)
        if value != "__None" and text.strip()
    }


@pytest.mark.parametrize(("view", "role"), [("contactview", "Customer"), ("promoterview", "Promoter")])
def test_the_login_list_offers_only_customer_or_promoter_logins(app, agency_client, view, role):
    from flask_appbuilder.security.sqla.models import User

    offered = _user_options(agency_client.get(f"/{view}/add").get_data(as_text=True))
    with db_session(app) as session:
        users = session.scalars(select(User)).all()
        fitting = {str(u) for u in users if {r.name for r in u.roles} == {role}}
        others = {str(u) for u in users if {r.name for r in u.roles} != {role}}
    assert offered and offered <= fitting
    assert not offered & others


@pytest.fixture(params=["contactview", "promoterview"])
def person_without_login(request, app):
    """A contact of Supertoy or a promoter without login; removed afterwards."""
    view = request.param
    model = Contact if view == "contactview" else Promoter
    with db_session(app) as session:
        fields = {"first_name": "Ohne", "last_name": f"Zugang {uuid.uuid4().hex[:6]}"}
        if model is Contact:
            company = session.scalar(select(Contact).where(Contact.company_id.is_not(None)).limit(1)).company
            person = Contact(**fields, company=company, language="de")
        else:
            person = Promoter(**fields, active=True)
        session.add(person)
        session.commit()
        pk = person.id
    yield view, model, pk
    with db_session(app) as session:
        session.delete(session.get(model, pk))
        session.commit()


def test_a_forged_post_cannot_link_an_admin_login(app, agency_client, person_without_login):
    view, model, pk = person_without_login
    with db_session(app) as session:
        admin_id = _user(session, "admin").id
        person = session.get(model, pk)
        form = {"first_name": person.first_name, "last_name": person.last_name, "user": str(admin_id)}
        if view == "contactview":
            form.update({"language": person.language, "company": str(person.company_id or "")})
    answer = agency_client.post(f"/{view}/edit/{pk}", data=form)
    assert answer.status_code == 200  # the form again, with an error
    assert "Keine gültige Auswahl" in visible_text(answer.get_data(as_text=True))
    with db_session(app) as session:
        assert session.get(model, pk).user_id is None


def test_the_agency_cannot_deactivate_an_admin_linked_from_before(app, agency_client, person_without_login):
    """Even where an admin login is linked from before, the agency's actions leave it alone."""
    view, model, pk = person_without_login
    with db_session(app) as session:
        admin = _user(session, "admin")
        admin_email = admin.email
        session.get(model, pk).user_id = admin.id
        session.commit()
    try:
        answer = agency_client.post(f"/{view}/action/deactivate_login/{pk}", follow_redirects=True)
        assert "nur ein Administrator" in visible_text(answer.get_data(as_text=True))
        invites_before = _mail_count(app, admin_email)
        agency_client.post(f"/{view}/action/invite_login/{pk}")
        assert _mail_count(app, admin_email) == invites_before
        with db_session(app) as session:
            assert _user(session, "admin").active is True
        assert _logged_in(_log_in(app.test_client(), "/login/", "admin"))
    finally:
        with db_session(app) as session:
            session.get(model, pk).user_id = None
            session.commit()


# ---------------------------------------------------------------- the wrong system


@pytest.mark.parametrize(
    ("username", "path", "where", "link"),
    [
        ("promoter01", "/portal/login", "zum Promotersystem", "/promoter/login"),
        ("agentur", "/portal/login", "zum Agentursystem", "/login/"),
        ("adm.nord", "/promoter/login", "zum Kundensystem", "/portal/login"),
        ("adm.nord", "/login/", "zum Kundensystem", "/portal/login"),
    ],
)
def test_logging_in_at_the_wrong_system_says_where_the_account_belongs(app, username, path, where, link):
    since = _last_audit_id(app)
    client = app.test_client()
    answer = _log_in(client, path, username)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert f"Dieses Konto gehört {where}." in visible_text(page)
    assert f'href="{link}"' in page
    entries = _audit_since(app, since)
    assert [e.action for e in entries] == ["login_failed"]
    assert entries[0].summary.startswith("Refused login at the ")
    assert entries[0].username == username
    protected = {
        "/portal/login": "/portal/",
        "/promoter/login": "/promoter/",
        "/login/": "/projectview/list/",
    }
    assert client.get(protected[path]).status_code == 302


# ---------------------------------------------------------------- sessions


@pytest.mark.parametrize(
    ("username", "page", "logout"),
    [
        ("agentur", "/projectview/list/", "/logout/"),
        ("adm.nord", "/portal/", "/portal/logout"),
        ("promoter01", "/promoter/", "/promoter/logout"),
    ],
)
def test_a_copied_cookie_stops_working_after_logout(app, username, page, logout):
    original = app.test_client()
    login(original, username)
    copy = app.test_client()
    copy.set_cookie("session", original.get_cookie("session").value)
    assert copy.get(page).status_code == 200
    assert original.get(logout).status_code == 405  # logout is POST only
    assert copy.get(page).status_code == 200
    assert original.post(logout).status_code == 302
    assert copy.get(page).status_code == 302
    assert original.get(page).status_code == 302


def test_logout_needs_the_csrf_token(app, database_url):
    strict = _second_app(database_url, WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    form = client.get("/portal/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    client.post(
        "/portal/login", data={"username": "adm.nord", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert client.post("/portal/logout").status_code == 400
    assert client.get("/portal/").status_code == 200
    assert client.post("/logout/").status_code == 400


def _jwt(app, username: str, password: str = DEMO_PASSWORD) -> dict:
    answer = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": True},
    )
    assert answer.status_code == 200
    return answer.get_json()


def _api(app, token: str, path: str = "/api/v1/appointment/", method: str = "GET"):
    return app.test_client(use_cookies=False).open(
        path, method=method, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(("username", "system"), [("adm.sued", "portal"), ("promoter02", "promoter")])
def test_a_password_change_ends_every_other_session_and_api_token(app, username, system):
    mine, other = app.test_client(), app.test_client()
    login(mine, username)
    login(other, username)
    tokens = _jwt(app, username)
    if system == "portal":
        assert _api(app, tokens["access_token"]).status_code == 200
    try:
        assert mine.get(f"/{system}/password").status_code == 200
        wrong = mine.post(
            f"/{system}/password",
            data={"current": "falsch", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert wrong.status_code == 400
        assert "Das aktuelle Passwort stimmt nicht." in visible_text(wrong.get_data(as_text=True))
        assert other.get(f"/{system}/").status_code == 200

        done = mine.post(
            f"/{system}/password",
            data={"current": DEMO_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert done.status_code == 302
        assert mine.get(f"/{system}/").status_code == 200  # this session stays
        assert other.get(f"/{system}/").status_code == 302  # every other one ends
        assert _api(app, tokens["access_token"]).status_code == 401
        assert _api(app, tokens["refresh_token"], "/api/v1/security/refresh", "POST").status_code == 401
        fresh = _jwt(app, username, NEW_PASSWORD)
        if system == "portal":
            assert _api(app, fresh["access_token"]).status_code == 200
        refreshed = _api(app, fresh["refresh_token"], "/api/v1/security/refresh", "POST")
        assert refreshed.status_code == 200
    finally:
        _restore_password(app, username)


# ---------------------------------------------------------------- proxies and brute force


def _limited_app(database_url, **config):
    return _second_app(
        database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        AUTH_RATE_LIMITED=True,
        **config,
    )


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_a_trusted_proxy_the_limit_counts_per_client(app, database_url, proxies):
    limited = _limited_app(
        database_url,
        TRUSTED_PROXIES=proxies,
        AUTH_RATE_LIMIT="3 per minute",
        AUTH_ACCOUNT_RATE_LIMIT="100 per minute",
    )
    since = _last_audit_id(app)

    def attempt(client_address: str) -> int:
        return (
            limited.test_client()
            .post(
                "/portal/login",
                data={"username": f"x-{uuid.uuid4().hex[:6]}", "password": "wrong"},
                headers={"X-Forwarded-For": client_address},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},  # the proxy
            )
            .status_code
        )

    answers = [attempt("203.0.113.7") for _ in range(4)]
    assert 429 not in answers[:3] and answers[3] == 429
    other_client = attempt("198.51.100.23")
    if proxies:
        assert other_client == 200
        summaries = [e.summary for e in _audit_since(app, since)]
        assert summaries and all(s.endswith(" from 203.0.113.7") for s in summaries[:3])
        assert summaries[3:] and summaries[-1].endswith(" from 198.51.100.23")
    else:  # without the setting every client is the proxy: one shared limit
        assert other_client == 429


@pytest.mark.parametrize(
    ("path", "json"),
    [
        ("/portal/login", False),
        ("/promoter/login", False),
        ("/login/", False),
        ("/api/v1/security/login", True),
    ],
)
def test_each_account_is_throttled_the_same_whether_it_exists_or_not(app, database_url, path, json):
    limited = _limited_app(
        database_url,
        TRUSTED_PROXIES=1,
        AUTH_RATE_LIMIT="100 per minute",
        AUTH_ACCOUNT_RATE_LIMIT="3 per minute",
    )
    outcomes = {}
    for username in ("adm.nord", f"nobody-{uuid.uuid4().hex[:6]}"):
        answers = []
        for number in range(4):
            body = {"username": username, "password": "wrong"}
            kwargs = {"json": {**body, "provider": "db"}} if json else {"data": body}
            answers.append(
                limited.test_client().post(
                    path, headers={"X-Forwarded-For": f"192.0.2.{number + 1}"}, **kwargs
                )
            )
        outcomes[username] = [a.status_code for a in answers]
        assert 429 not in outcomes[username][:3] and outcomes[username][3] == 429
        last = answers[3]
        outcomes[username].append(last.get_json() if json else visible_text(last.get_data(as_text=True)))
    first, second = outcomes.values()
    assert first == second
    # Another account from the same addresses is not affected.
    assert (
        limited.test_client()
        .post(
            "/portal/login",
            data={"username": "adm.sued", "password": DEMO_PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.1"},
        )
        .status_code
        == 302
    )


def test_forgot_password_is_rate_limited_per_address(app, database_url):
    limited = _limited_app(
        database_url, AUTH_RATE_LIMIT="100 per minute", PASSWORD_RESET_RATE_LIMIT="2 per minute"
    )
    address = f"niemand-{uuid.uuid4().hex[:6]}@example.com"
    answers = [
        limited.test_client().post("/portal/password/forgot", data={"address": address}).status_code
        for _ in range(3)
    ]
    assert answers == [302, 302, 429]


# ---------------------------------------------------------------- HSTS


def test_hsts_only_when_the_cookie_is_https_only(app, database_url, client):
    assert "Strict-Transport-Security" not in client.get("/portal/login").headers
    secure = _second_app(database_url, SESSION_COOKIE_SECURE=True)
    header = secure.test_client().get("/portal/login").headers["Strict-Transport-Security"]
    assert header == "max-age=31536000"


def test_agency_logout_is_a_form_in_the_menu_and_a_password_change_there_ends_other_sessions(app):
    mine, other = app.test_client(), app.test_client()
    login(mine, "agentur")
    login(other, "agentur")
    page = mine.get("/projectview/list/").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/logout/" id="logout-form"', page)
    assert 'href="/logout/"' not in page
    try:
        answer = mine.post(
            "/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD}
        )
        assert answer.status_code == 302
        assert mine.get("/projectview/list/").status_code == 200
        assert other.get("/projectview/list/").status_code == 302
    finally:
        _restore_password(app, "agentur")
