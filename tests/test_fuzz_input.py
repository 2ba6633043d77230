"""Bad input on every route and every form field: never a server error, never SQL.

Two passes over the whole app, on whichever database the run uses:

1. **Routes.** Every URL rule of ``app.url_map`` (as in test_route_matrix.py) is
   requested as each role — anonymous, agency, admin, customer, promoter — with its
   URL arguments replaced by bad values (NUL, an id beyond 64 bits, a negative id, a
   300-character token, emoji) and with every query parameter the app reads set to
   bad values (NUL; huge and negative numbers, impossible dates, unparseable rison,
   100,000 characters, RTL text). The role that works with a route gets every variant;
   the other roles, who are turned away anyway, get one variant each, taken in turn.
2. **Forms.** Every POST form the roles can open (the agency's screens as agency or
   admin, the customer wizard and settings, the promoter's forms, the three logins) is
   found in the pages' HTML and posted once per field and bad value, the other fields
   keeping what the page filled in. Forms about a record are opened on records the
   module made itself.

Every answer must be below 500 and free of SQL and stack traces. The module restores
every table at its end (rows added, changed or removed by the posts).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from flask_appbuilder import ModelView
from sqlalchemy import delete, insert, select, update

from tests.conftest import login, set_language
from tests.visibility_helpers import Rows, add_foreign_customer, local_today, new_tag

NUL = "ab\x00cd"
LONG = "x" * 100_000
HUGE = "99999999999999999999999"
NEGATIVE = "-1"
BROKEN_DATES = ("30.02.2026", "abc", "2026-13-45")
UNICODE = "Prüfung 🎉👩‍👩‍👧 \u202eשלום مرحبا\u202c"
UNPARSEABLE_RISON = "(filters:!((col:name,opr:ct,value:'x'"

#: What a response must never contain: SQL, driver names, a stack trace.
LEAK_MARKERS = (
    "SELECT ",
    "INSERT INTO",
    "DELETE FROM",
    "UPDATE ",
    "psycopg",
    "sqlite3",
    "Traceback",
    "sqlalchemy",
    "[SQL:",
)

ROLES = {
    "anonymous": None,
    "agency": "agentur",
    "admin": "admin",
    "customer": "adm.nord",
    "promoter": "promoter01",
}

#: Query parameters the app reads (portal filters, planning pages, FAB lists, the API).
NUMBER_PARAMETERS = ("page", "store", "job", "project", "contact", "pk", "ids", "weeks", "location")
DATE_PARAMETERS = ("date_from", "date_to", "month", "week", "start", "date")
TEXT_PARAMETERS = ("next", "token", "status", "range", "sort", "kind", "format", "what", "period")

ID_ARGUMENT = re.compile(r"pk|.*_id")


def _path_values(argument: str) -> tuple[str, ...]:
    if ID_ARGUMENT.fullmatch(argument):
        return (HUGE, NEGATIVE, NUL)
    return (NUL, "t" * 300, UNICODE)


def _query_variants(view_name: str | None, columns: list[str]) -> list[dict[str, str]]:
    """Three query strings: all NUL; huge numbers, impossible dates, unparseable rison and
    RTL text; negative numbers, unreadable dates and 100,000-character text."""
    variants = []
    for number, date, rison, text, long_text in (
        (NUL, NUL, NUL, NUL, NUL),
        (HUGE, BROKEN_DATES[2], UNPARSEABLE_RISON, UNICODE, UNICODE),
        (NEGATIVE, BROKEN_DATES[0], "(page:-1,page_size:-5,order_column:nope)", "x" * 300, LONG),
    ):
        # 100,000 characters in two parameters (a redirect target and a text filter) is
        # enough to find who chokes on them; in every parameter it only slows the run.
        query = {name: number for name in NUMBER_PARAMETERS}
        query |= {name: date for name in DATE_PARAMETERS}
        query |= {name: text for name in TEXT_PARAMETERS}
        query["next"] = long_text
        query["q"] = rison
        if view_name:
            paging = "abc" if number == NEGATIVE else number
            query |= {f"page_{view_name}": paging, f"psize_{view_name}": number}
            query |= {f"_oc_{view_name}": text[:50], f"_od_{view_name}": text[:50]}
            for i, column in enumerate(columns):
                query[f"_flt_{i % 3}_{column}"] = (long_text if i == 1 else text) if i % 2 else number
        variants.append(query)
    return variants


# ---------------------------------------------------------------- records and restore


def _all_tables():
    from flask_appbuilder.models.sqla import Model

    return Model.metadata.sorted_tables


def _snapshot(app) -> dict:
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        snapshot = {}
        for table in _all_tables():
            keys = list(table.primary_key.columns)
            rows = conn.execute(select(table)).mappings().all()
            snapshot[table.name] = {tuple(row[c.name] for c in keys): dict(row) for row in rows}
        return snapshot


def _restore(app, before: dict) -> None:
    """Put every table back as it was: new rows removed, changed rows reset, removed rows back."""
    from app.extensions import db

    after = _snapshot(app)
    tables = _all_tables()
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(tables):
            keys = list(table.primary_key.columns)
            for key in after[table.name].keys() - before[table.name].keys():
                conn.execute(delete(table).where(*[c == v for c, v in zip(keys, key, strict=True)]))
        for table in tables:
            keys = list(table.primary_key.columns)
            for key, row in before[table.name].items():
                now = after[table.name].get(key)
                if now is None:
                    conn.execute(insert(table).values(**row))
                elif now != row:
                    where = [c == v for c, v in zip(keys, key, strict=True)]
                    conn.execute(update(table).where(*where).values(**row))


@pytest.fixture(scope="module")
def fuzz(app):
    """Records of the module's own (the forms about a record are opened on these)."""
    from flask_appbuilder.security.sqla.models import Role, User

    from app.models.promoter import Unavailability

    before = _snapshot(app)
    rows = Rows(app)
    day = local_today(app)
    tag = new_tag("fz")
    ids = add_foreign_customer(rows, tag, day)
    ids["unavailability"] = rows.add(
        Unavailability, promoter_id=ids["promoter"], start_date=day, end_date=day, note="Fuzz"
    )
    ids["user"] = rows.add(
        User,
        first_name="Fuzz",
        last_name=tag,
        username=f"fuzz-{tag}",
        email=f"{tag}@example.org",
        active=True,
    )
    ids["role"] = rows.add(Role, name=f"Fuzz {tag}")
    yield {"ids": ids, "clients": _clients(app)}
    _restore(app, before)


def _clients(app, roles=ROLES):
    clients = {}
    for role in roles:
        clients[role] = app.test_client()
        if ROLES[role]:
            login(clients[role], ROLES[role])
    return clients


# ---------------------------------------------------------------- judging


@dataclass
class Findings:
    requests: int = 0
    problems: list[str] = field(default_factory=list)

    def request(self, client, role: str, method: str, url: str, what: str = "", **kwargs) -> None:
        """Send one request and judge its answer (an exception counts as a server error)."""
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the testing app re-raises what would be a 500
            self.requests += 1
            shown = url if len(url) < 160 else url[:160] + "…"
            self.problems.append(
                f"{role} {method} {shown!r} {what} -> exception {type(exc).__name__}: {exc!s:.200}"
            )
            return None
        self.check(role, method, url, response, what)
        return response

    def check(self, role: str, method: str, url: str, response, what: str = "") -> None:
        self.requests += 1
        body = (
            response.get_data(as_text=True)
            if response.mimetype.startswith(("text/", "application/json"))
            else ""
        )
        found = [marker for marker in LEAK_MARKERS if marker in body]
        if response.status_code >= 500 or found:
            shown = url if len(url) < 160 else url[:160] + "…"
            self.problems.append(
                f"{role} {method} {shown!r} {what} -> {response.status_code} {' '.join(found)}".rstrip()
            )


def _view_of(app, endpoint: str):
    for view in app.appbuilder.baseviews:
        blueprint = getattr(view, "blueprint", None)
        if blueprint is not None and blueprint.name == endpoint.split(".", 1)[0]:
            return view
    return None


def _legit_roles(rule) -> tuple[str, ...]:
    """The roles that work with a route (they get every variant)."""
    endpoint, path = rule.endpoint, rule.rule
    if endpoint.startswith("portal."):
        return ("customer",)
    if endpoint.startswith("promoter."):
        return ("promoter",)
    if path in ("/login/", "/api/v1/security/login", "/api/v1/security/refresh") or endpoint == "static":
        return ("anonymous",)
    if path.startswith("/api/"):
        return ("agency", "customer")
    view = _view_of_name(endpoint)
    if view in FAB_ADMIN_VIEWS:
        return ("admin",)
    return ("agency",)


FAB_ADMIN_VIEWS = {
    "UserDBModelView",
    "RoleModelView",
    "PermissionModelView",
    "PermissionViewModelView",
    "ViewMenuModelView",
    "UserGroupModelView",
    "UserStatsChartView",
    "ResetPasswordView",
}


def _view_of_name(endpoint: str) -> str:
    return endpoint.split(".", 1)[0]


# ---------------------------------------------------------------- pass 1: routes


def _urls(app, rule) -> list[str]:
    """The rule with its URL arguments set to bad values, one argument at a time."""
    if not rule.arguments:
        return [rule.rule]
    urls = []
    for argument in sorted(rule.arguments):
        for value in _path_values(argument):
            values = {a: ("1" if ID_ARGUMENT.fullmatch(a) else "x") for a in rule.arguments}
            values[argument] = value
            path = rule.rule
            for name, v in values.items():
                path = re.sub(rf"<(?:\w+:)?{name}>", v.replace("\x00", "%00").replace("\\", "\\\\"), path)
            urls.append(path)
    return urls


def _route_requests(app, rule) -> list[tuple[str, str, dict]]:
    """(method, url, request kwargs) of every variant of a rule."""
    view = _view_of(app, rule.endpoint)
    columns = list(getattr(view, "search_columns", None) or []) if isinstance(view, ModelView) else []
    view_name = type(view).__name__ if isinstance(view, ModelView) else None
    queries = _query_variants(view_name, columns)
    methods = [m for m in ("GET", "POST", "PUT", "DELETE") if m in rule.methods]
    if "GET" in methods and "POST" in methods:
        methods.remove("POST")  # the forms pass posts these with every field
    requests = []
    for method in methods:
        if rule.arguments:
            for url in _urls(app, rule):
                requests.append((method, url, _body(rule, method, queries[1])))
        else:
            for query in queries:
                if method == "GET":
                    requests.append((method, f"{rule.rule}?{urlencode(query)}", {}))
                else:
                    requests.append((method, f"{rule.rule}?{urlencode(query)}", _body(rule, method, query)))
    return requests


def _body(rule, method: str, query: dict[str, str]) -> dict:
    if method == "GET":
        return {}
    if rule.rule.startswith("/api/"):
        return {"json": {**query, "job": HUGE, "location": -1, "note": NUL, "date": BROKEN_DATES[0]}}
    return {
        "data": {**query, "rowid": [HUGE, NEGATIVE, NUL], "action": NUL, "reason": NUL, "decision": "reject"}
    }


def test_every_route_refuses_bad_arguments_and_queries_without_a_server_error(app, fuzz, capsys):
    findings = Findings()
    turn = itertools.count()
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    for rule in rules:
        requests = _route_requests(app, rule)
        legit = _legit_roles(rule)
        for role in ROLES:
            chosen = requests if role in legit else [requests[next(turn) % len(requests)]]
            for method, url, kwargs in chosen:
                # A logout ends the session: a throw-away one, so the other requests keep theirs.
                client = _clients(app, [role])[role] if "logout" in rule.endpoint else fuzz["clients"][role]
                findings.request(client, role, method, url, **kwargs)
    with capsys.disabled():
        print(
            f"\nfuzz routes: {len(rules)} rules, {findings.requests} requests,"
            f" {len(findings.problems)} problems"
        )
    assert findings.requests > 1500
    assert not findings.problems, f"{len(findings.problems)} of {findings.requests}:\n" + "\n".join(
        findings.problems[:60]
    )


# ---------------------------------------------------------------- pass 2: forms


@dataclass
class Form:
    action: str
    fields: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # name -> (kind, values)


class _Forms(HTMLParser):
    """Every POST form of a page: its action and its fields with what a browser would send."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._first_option: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(action=a.get("action") or self.page_url)
            return
        form, name = self._form, a.get("name")
        if form is None:
            return
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "file":
                return
            if kind in ("checkbox", "radio", "submit") and "checked" not in a and kind != "submit":
                form.fields.setdefault(name, (kind, []))
                return
            if name not in form.fields or not form.fields[name][1]:
                form.fields[name] = (kind, [a.get("value", "")])
        elif tag == "button" and name and name not in form.fields:
            form.fields[name] = ("button", [a.get("value", "")])
        elif tag == "select" and name:
            self._select = name
            form.fields[name] = ("select", [])
        elif tag == "option" and self._select:
            if a.get("value"):
                self._first_option.setdefault(self._select, a["value"])
            if "selected" in a:
                form.fields[self._select][1].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ("textarea", [""])

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select" and self._select:
            values = self._form.fields[self._select][1] if self._form else None
            if values is not None and not any(values) and self._first_option.get(self._select):
                values[:] = [self._first_option[self._select]]  # a valid choice, not "choose one"
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            kind, values = self._form.fields[self._textarea]
            values[0] += data


def _field_values(name: str, kind: str) -> tuple[str, ...]:
    lowered = name.lower()
    if kind == "date" or "date" in lowered or lowered in ("start", "end", "from", "to", "month"):
        return (*BROKEN_DATES, NUL)
    if kind == "time" or "time" in lowered:
        return ("25:99", "abc", NUL)
    if kind in ("select", "hidden", "number", "checkbox", "radio", "button") or lowered.endswith(
        ("id", "_pk")
    ):
        return (HUGE, NEGATIVE, NUL)
    return (NUL, LONG, UNICODE)


def _record_ids(fuzz) -> dict[str, int]:
    ids = fuzz["ids"]
    return {
        "task_id": ids["task"],
        "appointment_id": ids["proposal"],
        "booking_id": ids["booking"],
        "application_id": ids["application"],
        "job_id": ids["job"],
        "unavailability_id": ids["unavailability"],
        "project_id": ids["project"],
    }


def _pk_of_view(app, endpoint: str, fuzz) -> int | None:
    view = _view_of(app, endpoint)
    model = getattr(getattr(view, "datamodel", None), "obj", None)
    if model is None:
        return None
    key = {
        "User": "user",
        "Role": "role",
        "Company": "company",
        "Contact": "contact",
        "Location": "location",
        "Note": "note",
        "Task": "task",
        "Territory": "territory",
        "Project": "project",
        "Job": "job",
        "Appointment": "appointment",
        "Application": "application",
        "Booking": "booking",
        "Promoter": "promoter",
    }.get(model.__name__)
    return fuzz["ids"].get(key) if key else None


def _own_record_url(app, rule, fuzz) -> str | None:
    """The rule's URL about one of the module's records (None: no such record)."""
    path = rule.rule
    for argument in rule.arguments:
        if argument == "pk":
            value = _pk_of_view(app, rule.endpoint, fuzz)
        elif argument in _record_ids(fuzz):
            value = _record_ids(fuzz)[argument]
        else:
            return None
        if value is None:
            return None
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(value), path)
    return path


def _is_own_target(app, action: str, fuzz) -> bool:
    """Posts go only to the module's own records (a list page may hold others' forms)."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(urlsplit(action).path, method="POST")
    except Exception:  # noqa: BLE001 - not a route of the app: not posted
        return False
    if endpoint.endswith("logout"):
        return False
    for name, value in args.items():
        if name == "pk" and str(value) != str(_pk_of_view(app, endpoint, fuzz)):
            return False
        if name in _record_ids(fuzz) and str(value) != str(_record_ids(fuzz)[name]):
            return False
    return True


def _wizard_slot_page(app, fuzz) -> str | None:
    """Step 2 of the customer wizard (date, time, note) for a store of adm.nord."""
    client = fuzz["clients"]["customer"]
    response = client.get("/portal/proposals/new")
    forms = _Forms("/portal/proposals/new")
    forms.feed(response.get_data(as_text=True))
    step = next(f for f in forms.forms if "location" in f.fields)
    data = {name: values[0] if values else "" for name, (_kind, values) in step.fields.items()}
    token = data.get("token") or re.search(r"token=([0-9a-f]+)", step.action).group(1)
    response = client.post(f"/portal/proposals/new?token={token}", data=data)
    location = response.headers.get("Location", "")
    return urlsplit(location).path if "/when" in location else None


def _form_pages(app, fuzz) -> list[tuple[str, str]]:
    """(role, URL) of every page with a form, opened as the role that works with it."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in ("static", "appbuilder.static"):
            continue
        if "logout" in rule.endpoint:
            continue  # would end the session the other pages are opened with
        if rule.rule.startswith(("/api/", "/swagger", "/lang/", "/portal/lang/", "/promoter/lang/")):
            continue
        url = _own_record_url(app, rule, fuzz)
        if url is None:
            continue
        pages.append((_legit_roles(rule)[0], url))
    pages += [("anonymous", "/portal/login"), ("anonymous", "/promoter/login")]
    slot = _wizard_slot_page(app, fuzz)
    assert slot, "the wizard's second step could not be reached"
    pages.append(("customer", slot))
    return pages


def test_every_form_field_refuses_bad_values_without_a_server_error(app, fuzz, capsys):
    fuzz["clients"] = _clients(app)  # the route pass changed languages and histories
    findings = Findings()
    forms: dict[tuple, tuple[str, Form]] = {}
    for role, url in _form_pages(app, fuzz):
        response = fuzz["clients"][role].get(url)
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        parser = _Forms(url)
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            if not form.fields or not _is_own_target(app, form.action, fuzz):
                continue
            key = (urlsplit(form.action).path, tuple(sorted(form.fields)))
            forms.setdefault(key, (role, form))
    actions = {path for path, _fields in forms}
    for expected in (
        "/login/",
        "/portal/login",
        "/promoter/login",
        "/promoter/unavailability",
        "/companyview/add",
    ):
        assert expected in actions, f"no form found for {expected}"
    assert any(path.endswith("/when") for path in actions), "the wizard's date step was not fuzzed"
    for role, form in forms.values():
        baseline = {name: values for name, (_kind, values) in form.fields.items()}
        for name, (kind, _values) in form.fields.items():
            for value in _field_values(name, kind):
                findings.request(
                    fuzz["clients"][role],
                    role,
                    "POST",
                    form.action,
                    f"{name}={value[:20]!r}",
                    data={**baseline, name: value},
                )
    with capsys.disabled():
        print(
            f"\nfuzz forms: {len(forms)} forms, {findings.requests} posts,"
            f" {len(findings.problems)} problems: " + ", ".join(sorted(path for path, _fields in forms))
        )
    assert len(forms) > 40
    assert not findings.problems, f"{len(findings.problems)} of {findings.requests}:\n" + "\n".join(
        findings.problems[:60]
    )


# ---------------------------------------------------------------- what a user reads


def _text(response) -> str:
    from tests.conftest import visible_text

    return visible_text(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("locale", "message"),
    [("de", "Zeichen, die nicht gespeichert werden können"), ("en", "characters that cannot be stored")],
)
def test_a_nul_byte_in_a_query_is_refused_in_the_users_language(app, locale, message):
    client = app.test_client()
    login(client, "agentur")
    set_language(client, locale)
    response = client.get("/appointmentview/list/?_flt_0_note=a%00b")
    assert response.status_code == 400
    assert message in _text(response)


@pytest.mark.parametrize("path", ["/login/", "/portal/login", "/promoter/login"])
def test_a_nul_byte_in_a_login_name_is_a_field_error(app, path):
    client = app.test_client()
    set_language(client, "en")
    response = client.post(path, data={"username": "agen\x00tur", "password": "x"})
    assert response.status_code == 200
    assert "This field contains characters that cannot be stored" in _text(response)


@pytest.mark.parametrize(
    "url",
    [
        f"/portal/proposals/{HUGE}",
        "/portal/projects/18446744073709551616",
        f"/promoter/requests/{HUGE}/confirm",
        f"/api/v1/appointment/{HUGE}",
        f"/appointmentview/show/{HUGE}",
        "/appointmentview/show/-1",
        "/appointmentview/edit/abc",
    ],
)
def test_an_id_no_row_can_have_is_not_found(app, url):
    roles = {"/portal": "adm.nord", "/promoter": "promoter01"}
    client = app.test_client()
    login(client, next((user for prefix, user in roles.items() if url.startswith(prefix)), "agentur"))
    method = "POST" if url.endswith("/confirm") else "GET"
    assert client.open(url, method=method).status_code == 404


def test_an_over_long_wizard_token_is_refused(app):
    client = app.test_client()
    login(client, "adm.nord")
    token = "a" * 300
    for url in (f"/portal/proposals/new?token={token}", f"/portal/proposals/new/{token}/when"):
        assert client.get(url).status_code == 400, url
        assert client.post(url, data={"project": "1", "location": "1"}).status_code == 400, url


@pytest.mark.parametrize(
    "q",
    [
        UNPARSEABLE_RISON,
        "(filters:!((col:job,opr:rel_o_m,value:'abc')))",
        "(filters:!((col:date,opr:eq,value:'30.02.2026')))",
        f"(filters:!((col:job,opr:rel_o_m,value:{HUGE})))",
        f"(page_size:{HUGE},page:{HUGE})",
        "(page:-1,page_size:-1)",
    ],
)
def test_a_broken_api_query_is_refused_with_a_message(app, q):
    client = app.test_client()
    login(client, "agentur")
    response = client.get(f"/api/v1/appointment/?{urlencode({'q': q})}")
    assert response.status_code < 500
    assert not [marker for marker in LEAK_MARKERS if marker in response.get_data(as_text=True)]
    if response.status_code == 400:
        assert response.get_json()["message"]


def test_an_unparseable_api_query_is_a_400_with_a_message(app):
    client = app.test_client()
    login(client, "agentur")
    response = client.get(f"/api/v1/appointment/?q={UNPARSEABLE_RISON}")
    assert response.status_code == 400
    assert response.get_json()["message"]


@pytest.mark.parametrize(
    ("locale", "expected"), [("de", "Kein gültiges Datum"), ("en", "Not a valid date value")]
)
@pytest.mark.parametrize("value", ["30.02.2026", "abc", "2026-02-30"])
def test_an_impossible_date_says_so(app, fuzz, locale, expected, value):
    """In an agency form, the customer wizard and the promoter's days off."""
    from tests.helpers import field_errors

    agency = app.test_client()
    login(agency, "agentur")
    set_language(agency, locale)
    page = agency.post("/projectview/add", data={"name": "x", "start_date": value, "end_date": ""})
    assert expected in field_errors(page.get_data(as_text=True)).get("start_date", "")

    promoter = app.test_client()
    login(promoter, "promoter01")
    set_language(promoter, locale)
    page = promoter.post("/promoter/unavailability", data={"start_date": value, "end_date": value})
    assert expected in _text(page)
    assert "required" not in _text(page) and "benötigt" not in _text(page)

    customer = _clients(app, ["customer"])["customer"]
    set_language(customer, locale)
    fuzz["clients"]["customer"] = customer
    slot = _wizard_slot_page(app, fuzz)
    page = customer.post(slot, data={"date": value, "start_time": "10:00", "end_time": "12:00"})
    assert expected in _text(page)
    assert "required" not in _text(page) and "benötigt" not in _text(page)


def test_a_refused_write_shows_a_short_message_and_no_sql(app):
    """FAB flashes the database's exception text on a failed add or delete (on PostgreSQL
    the SQL statement with its parameters); the agency screens flash a sentence."""
    from sqlalchemy import select

    from app.common.views import NotSaved
    from app.extensions import db
    from app.models.crm import Company, Contact

    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "CompanyView")
    messages = []
    with app.test_request_context():  # German, the default language
        with pytest.raises(NotSaved) as refused:
            view.datamodel.add(Company(name=None, kind="customer"))
        messages.append(str(refused.value))
        with_contacts = db.session.scalar(
            select(Company).join(Contact, Contact.company_id == Company.id).limit(1)
        )
        with pytest.raises(NotSaved) as refused:
            view.datamodel.delete(with_contacts)  # contacts still point to it
        messages.append(str(refused.value))
        db.session.rollback()
        assert db.session.get(Company, with_contacts.id) is not None
        messages.append(str(view.database_error_message))  # what FAB flashes on a failed edit
    for message in messages:
        assert (
            message
            == "Die Änderung konnte nicht gespeichert werden, weil sie vorhandenen Daten widerspricht."
        )
        assert not [marker for marker in LEAK_MARKERS if marker in message]
