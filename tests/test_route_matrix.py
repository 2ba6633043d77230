"""Route × role × record: no route of the app shows a record the user may not see.

Every URL rule of the app (taken from ``app.url_map``, not from a list kept here)
is requested with every method it accepts, by the customers adm.nord, adm.sued and
pos.marketing, by promoter01 and anonymously, with the URL arguments filled with the
ids of records the user must not see:

- adm.nord: a store of the south (in the Supertoy project, territory ADM Süd) with its
  job, appointment, booking, application and promoter, and a second customer's rows;
- adm.sued: the same in the north;
- pos.marketing (who sees all of Supertoy): a second customer with its own project,
  territory, store, ... that pos.marketing is not linked to;
- promoter01 and anonymous: any of these.

Each set also has campaign reporting: a tagged questionnaire and, on past appointments
of the set's job booked to the set's promoter, a draft, a submitted and an approved day
report with tagged answers and photos (``<report_id>`` and ``<file_id>`` are tried
with each of them) — a customer may see approved reports of their own stores only, a
promoter their own reports only.

The records are made by the module with unique tagged names; a response "leaks" if
the tag of a record the user may not see occurs in its body. Routes with a record
argument must answer 400/401/403/404/405 or redirect to a login page; routes without
one may answer 200 only where the role legitimately works (the customer system and
the customer read API for customers, the start page). 401 is accepted from the REST
API only (its answer to a request without credentials). A server error is reported
separately (test_no_route_crashes_on_a_forged_request).

Actions are requested with the view's own action names, or "muldelete" where a view
has none (a name a forger would try).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import inspect, update

from tests.visibility_helpers import (
    CUSTOMERS,
    DENIED,
    REDIRECTS,
    JwtClient,
    Rows,
    add_foreign_customer,
    add_report_set,
    add_store_set,
    demo_ids,
    local_today,
    new_tag,
    session_client,
    table_rows,
    table_snapshot,
)

ROLES = ("adm.nord", "adm.sued", "pos.marketing", "promoter01", None)
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
LOGIN_PATHS = ("/login/", "/portal/login", "/promoter/login")
CUSTOMER_APIS = ("ProjectApi", "LocationApi", "JobApi", "AppointmentApi", "ReportApi")
#: APIs whose list a promoter reads (their own rows).
PROMOTER_APIS = ("ReportApi",)

#: Record sets each role is tested with, and the sets whose tags it must never see.
ROLE_SETS = {
    "adm.nord": ("south", "other"),
    "adm.sued": ("north", "other"),
    "pos.marketing": ("other",),
    "promoter01": ("north", "other"),
    None: ("south", "other"),
}
ROLE_FORBIDDEN_TAGS = {
    "adm.nord": ("south", "other"),
    "adm.sued": ("north", "other"),
    "pos.marketing": ("other",),
    "promoter01": ("north", "south", "other"),
    None: ("north", "south", "other"),
}

#: Values of URL arguments that are not record ids.
PLAIN_ARGUMENTS = {
    "filename": "leakcheck.csv",
    "group_by": "username",
    "kind": "promoter",
    "token": "0123456789abcdef0123456789abcdef",
    # campaign reporting: a weekly report's Monday, a questionnaire's version number
    "week_start": "2025-01-06",
    "number": "1",
    "week": "2026-11-30",
}
#: URL arguments ``<x_id>`` name the record set's key ``x`` (a proposal for appointment_id:
#: the routes with that argument are about customer proposals).
ID_ARGUMENTS = {
    "project_id": "project",
    "appointment_id": "proposal",
    "job_id": "job",
    "location_id": "location",
    "task_id": "task",
    "booking_id": "booking",
    "application_id": "application",
    "unavailability_id": "unavailability",
    "change_id": "change_request",
    # campaign reporting: every report and file of the set
    "report_id": ("report_draft", "report_submitted", "report_approved", "report"),
    "file_id": ("file_draft", "file_approved", "report_file"),
    "questionnaire_id": "questionnaire",
    "version_id": "questionnaire_version",
    "page_id": "questionnaire_page",
    "question_id": "question",
}


def skip_reason(rule) -> str | None:
    """Why a rule is not part of the matrix (None: it is)."""
    path = rule.rule
    if rule.endpoint in ("static", "appbuilder.static") or path.startswith("/static/"):
        return "static files"
    if path.startswith(("/lang/", "/portal/lang/", "/promoter/lang/")):
        return "only stores the chosen language in the session and redirects"
    if path in (
        "/login/",
        "/logout/",
        "/portal/login",
        "/portal/logout",
        "/promoter/login",
        "/promoter/logout",
    ):
        return "login and logout pages (no records; the portal and promoter logins have their own tests)"
    if path.endswith(("/password/forgot", "/password/set/<token>")):
        return "forgot password and one-time links (no records; see test_accounts)"
    if path.startswith("/api/v1/security/"):
        return "JWT login/refresh (no records)"
    if path.endswith("/_openapi") or path.startswith("/swagger"):
        return "API description and Swagger UI (schema only, no rows)"
    if path.startswith("/appbuilder/"):
        return "Flask-AppBuilder assets"
    return None


# ---------------------------------------------------------------- the records


@pytest.fixture(scope="module")
def records(app):
    """The tagged records of the matrix; removed at the end of the module."""
    rows = Rows(app)
    day = local_today(app)
    demo = demo_ids(app)
    tags = {"north": new_tag("lkn"), "south": new_tag("lks"), "other": new_tag("lko")}
    other = add_foreign_customer(rows, tags["other"], day)
    sets = {"other": other}
    for name, territory, town, state in (
        ("north", "north", "Husum", "SH"),
        ("south", "south", "Passau", "BY"),
    ):
        store = add_store_set(
            rows,
            tags[name],
            project_id=demo["project"],
            territory_id=demo[territory],
            chain_id=demo["chain"],
            town=town,
            state=state,
            day=day,
            proposed_by_id=demo[f"contact:{'adm.nord' if name == 'north' else 'adm.sued'}"],
        )
        # Records without a territory of their own come from the second customer.
        base = {key: other[key] for key in ("company", "contact", "project", "note", "task")}
        sets[name] = {**base, **store, "territory": demo[territory]}
    for name, record_set in sets.items():
        _for_the_promoter_system(rows, record_set, day)
        record_set.update(add_report_set(rows, tags[name], record_set, day))
    _with_report_files(rows, sets, tags)
    snapshot_models = _snapshot_models()
    yield {"tags": tags, "sets": sets, "models": snapshot_models}
    rows.cleanup()


def _for_the_promoter_system(rows, record_set: dict[str, int], day) -> None:
    """A period of unavailability of the set's promoter (for ``<unavailability_id>``); and
    the set's job staffed: open jobs are meant for every promoter (the promoter system
    lists them), so an open job would be no record promoter01 must not see."""
    from app.extensions import db
    from app.models.planning import Job
    from app.models.promoter import Unavailability

    record_set["unavailability"] = rows.add(
        Unavailability, promoter_id=record_set["promoter"], start_date=day, end_date=day, note="Leakcheck"
    )
    with rows.app.app_context(), db.engine.begin() as conn:
        conn.execute(update(Job.__table__).where(Job.id == record_set["job"]).values(status="staffed"))


def _with_report_files(rows, sets: dict[str, dict[str, int]], tags: dict[str, str]) -> None:
    """An approved day report of each set's promoter with a stored file (a PDF whose bytes
    and name carry the set's tag) for ``<file_id>``."""
    from app.models.reporting import Questionnaire, QuestionnaireVersion, Report, ReportFile
    from app.reporting.storage import new_key, storage_for

    questionnaire = rows.add(Questionnaire, name=f"Leakcheck {tags['other']}", kind="day")
    version = rows.add(QuestionnaireVersion, questionnaire_id=questionnaire, number=1)
    storage = storage_for(rows.app)
    for name, record_set in sets.items():
        report = rows.add(
            Report,
            kind="day",
            appointment_id=record_set["appointment"],
            job_id=record_set["job"],
            questionnaire_version_id=version,
            promoter_id=record_set["promoter"],
            status="approved",
        )
        key = new_key("pdf")
        data = f"%PDF-1.4 Leakcheck {tags[name]}".encode()
        storage.put(key, data, "application/pdf")
        record_set["report"] = report
        record_set["report_file"] = rows.add(
            ReportFile,
            report_id=report,
            question_key="documents",
            storage_key=key,
            content_type="application/pdf",
            byte_size=len(data),
            original_name=f"Leakcheck {tags[name]}.pdf",
        )


def _snapshot_models():
    from app.models.crm import Company, Contact, Location, Note, Task, Territory
    from app.models.planning import Application, Appointment, Booking, Job, Project
    from app.models.promoter import Promoter, Unavailability
    from app.models.reporting import (
        Question,
        Questionnaire,
        QuestionnairePage,
        QuestionnaireVersion,
        Report,
        ReportAnswer,
        ReportFile,
        ReportReminder,
    )

    return (
        Questionnaire,
        QuestionnaireVersion,
        QuestionnairePage,
        Question,
        Report,
        ReportAnswer,
        ReportFile,
        ReportReminder,
        Company,
        Contact,
        Location,
        Note,
        Task,
        Territory,
        Project,
        Job,
        Appointment,
        Application,
        Booking,
        Promoter,
        Unavailability,
        Report,
        ReportAnswer,
    )


#: Record-set keys of models with several records per set (each is tried).
SET_KEYS = {
    "Report": ("report_draft", "report_submitted", "report_approved"),
    "ReportFile": ("file_draft", "file_approved"),
}


def _set_keys(model) -> tuple[str, ...]:
    """Every record-set key of ``model`` (empty for models outside the record sets)."""
    if model.__name__ in SET_KEYS:
        return SET_KEYS[model.__name__]
    key = _set_key(model)
    return (key,) if key else ()


def _set_key(model) -> str | None:
    if model.__name__ in SET_KEYS:
        return SET_KEYS[model.__name__][-1]
    return {
        "Questionnaire": "questionnaire",
        "QuestionnaireVersion": "questionnaire_version",
        "QuestionnairePage": "questionnaire_page",
        "Question": "question",
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
        "Unavailability": "unavailability",
        "Report": "report",
    }.get(model.__name__)


# ---------------------------------------------------------------- the matrix


@dataclass
class Result:
    role: str | None
    auth: str
    method: str
    url: str
    endpoint: str
    status: int | str
    location: str = ""
    leaked: list[str] = field(default_factory=list)
    problem: str = ""


@dataclass
class Matrix:
    results: list[Result] = field(default_factory=list)
    query_results: list[Result] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    rules: int = 0
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    @property
    def leaks(self) -> list[Result]:
        return [r for r in self.results if r.leaked]

    @property
    def violations(self) -> list[Result]:
        """Answers other than a refusal (server errors apart)."""
        return [r for r in self.results if r.problem and not r.problem.startswith("server error")]

    @property
    def server_errors(self) -> list[Result]:
        return [r for r in self.results if r.problem.startswith("server error")]


def _views_by_endpoint(app) -> dict[str, object]:
    views = {}
    for view in app.appbuilder.baseviews:
        blueprint = getattr(view, "blueprint", None)
        if blueprint is not None:
            views[blueprint.name] = view
    return views


def _model_of(app, rule, views):
    view = views.get(rule.endpoint.split(".", 1)[0])
    datamodel = getattr(view, "datamodel", None)
    return getattr(datamodel, "obj", None)


def _action_names(rule, views) -> list[str]:
    view = views.get(rule.endpoint.split(".", 1)[0])
    names = list(getattr(view, "actions", {}) or {})
    # A view without actions is asked for the one every FAB list could offer.
    return names or ["muldelete"]


def _fill(app, rule, views, record_set: dict[str, int]) -> list[str]:
    """The URLs of a rule with its arguments filled from ``record_set``."""
    model = _model_of(app, rule, views)
    keys = _set_keys(model) if model is not None else ()
    # Models outside the record sets (FAB's users, roles, permissions): their first row.
    pks = [str(record_set[key]) for key in keys] or ["1"]
    urls = [{}]
    for argument in sorted(rule.arguments):
        if argument == "pk":
            values = pks
        elif argument in ID_ARGUMENTS:
            names = ID_ARGUMENTS[argument]
            values = [str(record_set[name]) for name in ((names,) if isinstance(names, str) else names)]
        elif argument == "name":
            values = _action_names(rule, views)
        elif argument in PLAIN_ARGUMENTS:
            values = [PLAIN_ARGUMENTS[argument]]
        else:
            raise AssertionError(f"no value for <{argument}> of {rule.rule}: add it to the matrix")
        urls = [{**u, argument: v} for u in urls for v in values]
    return [_build(rule, values) for values in urls]


def _variants(app, rule, views, record_set: dict[str, int]) -> list[tuple[str, str | None]]:
    """(URL, action name for action_post) pairs of a rule."""
    urls = _fill(app, rule, views, record_set)
    if rule.endpoint.endswith(".action_post"):
        return [(url, name) for url in urls for name in _action_names(rule, views)]
    return [(url, None) for url in urls]


def _build(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name, value in values.items():
        for pattern in (f"<{name}>", f"<int:{name}>", f"<string:{name}>", f"<path:{name}>"):
            path = path.replace(pattern, value)
    assert "<" not in path, path
    return path


def _payload(rule, method: str, record_set: dict[str, int], action: str | None) -> dict:
    """A write as a forger would send it: the foreign ids, no tag (an echo is no leak)."""
    if rule.rule.startswith("/api/"):
        if method in ("POST", "PUT", "PATCH"):
            return {"json": {"job": record_set["job"], "note": "forged", "name": "forged"}}
        return {}
    if method != "POST":
        return {}
    if rule.endpoint.endswith(".action_post"):
        return {"data": {"action": action, "rowid": [str(record_set["appointment"])]}}
    fields = {key: str(value) for key, value in record_set.items()}
    return {"data": {**fields, "status": "cancelled", "note": "forged", "name": "forged", "title": "forged"}}


def _is_login(location: str) -> bool:
    return urlsplit(location).path.startswith(LOGIN_PATHS)


def _legit(role, rule) -> bool:
    """Routes without a record argument that the role may use (and answer 200 or redirect)."""
    endpoint = rule.endpoint
    if endpoint in ("DashboardIndexView.index", "UtilView.back"):
        return True
    if role == "promoter01" and endpoint.startswith("promoter."):
        return True
    if role == "promoter01" and endpoint in {f"{api}.get_list" for api in PROMOTER_APIS}:
        return True
    if role in CUSTOMERS:
        if endpoint.startswith("portal."):
            return True
        view, _, method = endpoint.partition(".")
        if view in CUSTOMER_APIS and method == "get_list":
            return True
    return False


def _judge(result: Result, rule, role, has_record: bool, body: str, forbidden: dict[str, str]) -> None:
    result.leaked = [name for name, tag in forbidden.items() if tag in body]
    status = result.status
    if not isinstance(status, int) or status >= 500:
        result.problem = f"server error {status}"
        return
    if status in DENIED:
        if status == 401 and not rule.rule.startswith("/api/"):
            result.problem = "401 outside the API"
        return
    if status in REDIRECTS:
        if _is_login(result.location):
            return
        if not has_record and _legit(role, rule):
            return
        result.problem = f"redirect to {result.location}"
        return
    if not has_record and _legit(role, rule):
        return
    result.problem = f"answered {status}"


def _request(client, method: str, url: str, **kwargs):
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001 - an exception is a (reported) 500
        return f"exception {type(exc).__name__}: {exc}", "", ""
    return response.status_code, response.headers.get("Location", ""), _body_text(response)


def _body_text(response) -> str:
    """The response's text; of an Excel download (a zip) the text of its XML parts; of a PDF
    its bytes and the text pypdf extracts (a PDF's text is compressed)."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if data[:5] == b"%PDF-":
        return data.decode("utf-8", "replace") + " " + _pdf_text(data)
    return data.decode("utf-8", "replace")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, ValueError, KeyError):  # e.g. the leak check's stored "%PDF-1.4 …" file
        return ""


@pytest.fixture(scope="module")
def clients(app):
    made = {}
    for role in ROLES:
        made[role, "session"] = session_client(app, role)
        if role:
            made[role, "jwt"] = JwtClient(app, role)
    return made


@pytest.fixture(scope="module")
def matrix(app, records, clients) -> Matrix:
    before = table_snapshot(app, *records["models"])
    views = _views_by_endpoint(app)
    result = Matrix()
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    for rule in rules:
        reason = skip_reason(rule)
        if reason:
            result.skipped[f"{rule.rule} ({rule.endpoint})"] = reason
            continue
        result.rules += 1
        has_record = bool(set(rule.arguments) & {"pk", *ID_ARGUMENTS})
        methods = [m for m in METHODS if m in rule.methods]
        for role in ROLES:
            forbidden = {name: records["tags"][name] for name in ROLE_FORBIDDEN_TAGS[role]}
            auths = ["session"] + (["jwt"] if role and rule.rule.startswith("/api/") else [])
            set_names = ROLE_SETS[role] if rule.arguments else ROLE_SETS[role][:1]
            for auth in auths:
                client = clients[role, auth]
                for set_name in set_names:
                    record_set = records["sets"][set_name]
                    for url, action in _variants(app, rule, views, record_set):
                        for method in methods:
                            status, location, body = _request(
                                client, method, url, **_payload(rule, method, record_set, action)
                            )
                            entry = Result(role, auth, method, url, rule.endpoint, status, location)
                            _judge(entry, rule, role, has_record, body, forbidden)
                            result.results.append(entry)
    result.query_results = _query_parameter_requests(app, records, clients)
    result.after = table_snapshot(app, *records["models"])
    result.before = before
    return result


def _query_parameter_requests(app, records, clients) -> list[Result]:
    """Routes whose record comes in the query string: portal filters, API filters,
    FAB list filters (related-view tabs), the visibility check, the password reset."""
    from flask_appbuilder import ModelView

    views = [v for v in app.appbuilder.baseviews if isinstance(v, ModelView)]
    results = []
    for role in ROLES:
        forbidden = {name: records["tags"][name] for name in ROLE_FORBIDDEN_TAGS[role]}
        for set_name in ROLE_SETS[role]:
            s = records["sets"][set_name]
            day = local_today(app).isoformat()
            week_ago = (local_today(app) - dt.timedelta(days=7)).isoformat()
            urls = [
                f"/portal/appointments?store={s['location']}",
                f"/portal/appointments?job={s['job']}",
                f"/portal/appointments?store={s['location']}&range=all",
                f"/portal/appointments?job={s['job']}&range=all",
                f"/portal/appointments?store={s['location']}&job={s['job']}&range=custom"
                f"&date_from={day}&date_to={day}",
                f"/portal/appointments?range=today&sort=store&store={s['location']}",
                f"/api/v1/appointment/?q=(filters:!((col:job,opr:rel_o_m,value:{s['job']})))",
                f"/api/v1/job/?q=(filters:!((col:location,opr:rel_o_m,value:{s['location']})))",
                f"/api/v1/job/?q=(filters:!((col:project,opr:rel_o_m,value:{s['project']})))",
                f"/api/v1/appointment/?q=(filters:!((col:date,opr:eq,value:'{day}')),page_size:500)",
                f"/api/v1/report/?appointment_id={s['report_appointment_approved']}",
                f"/api/v1/report/?appointment_id={s['report_appointment_draft']}",
                f"/api/v1/report/?job_id={s['job']}&page_size=500",
                f"/api/v1/report/?from={week_ago}&to={day}&status=draft,submitted,approved",
                f"/visibility/?contact={s['contact']}",
                "/resetpassword/form?pk=1",
            ]
            for view in views:
                for rel in inspect(view.datamodel.obj).relationships:
                    key = _set_key(rel.mapper.class_)
                    if rel.direction.name == "MANYTOONE" and key in s:
                        urls.append(f"{view.route_base}/list/?_flt_0_{rel.key}={s[key]}")
            auths = ["session"] + (["jwt"] if role else [])
            for auth in auths:
                client = clients[role, auth]
                for url in urls:
                    if auth == "jwt" and not url.startswith("/api/"):
                        continue
                    status, location, body = _request(client, "GET", url)
                    entry = Result(role, auth, "GET", url, "query", status, location)
                    entry.leaked = [name for name, tag in forbidden.items() if tag in body]
                    entry.problem = _judge_query(role, url, status, location, body)
                    results.append(entry)
    return results


def _judge_query(role, url: str, status, location: str, body: str) -> str:
    if not isinstance(status, int) or status >= 500:
        return f"server error {status}"
    if status in DENIED:
        return ""
    if status in REDIRECTS:
        return "" if _is_login(location) else f"redirect to {location}"
    if status != 200:
        return f"answered {status}"
    if role in CUSTOMERS and url.startswith("/portal/appointments"):
        if table_rows(body, "appointments"):
            return "foreign appointments listed"
        return ""
    if (role in CUSTOMERS or role == "promoter01" and url.startswith("/api/v1/report/")) and url.startswith(
        "/api/v1/"
    ):
        import json

        data = json.loads(body)
        if "date,opr:eq" in url or "from=" in url:
            return ""  # the tags decide: the days' list may hold own rows only
        return "" if data.get("count") == 0 else f"count {data.get('count')}"
    return "answered 200"


# ---------------------------------------------------------------- the tests


def _describe(results: list[Result], limit: int = 40) -> str:
    lines = []
    for r in results[:limit]:
        where = f" {r.location}" if r.location else ""
        leak = f" LEAK {','.join(r.leaked)}" if r.leaked else ""
        problem = "" if str(r.status) in r.problem else f" {r.problem}"
        who = r.role or "anonymous"
        lines.append(f"{who} [{r.auth}] {r.method} {r.url} -> {r.status}{where}{problem}{leak}")
    if len(results) > limit:
        lines.append(f"... and {len(results) - limit} more")
    return "\n".join(lines)


def test_summary(matrix, capsys):
    everything = matrix.results + matrix.query_results
    statuses = Counter(str(r.status) for r in everything)
    leaks = [r for r in everything if r.leaked]
    with capsys.disabled():
        print(
            f"\nroute matrix: {matrix.rules} rules, {len(matrix.results)} route requests"
            f" + {len(matrix.query_results)} query-parameter requests = {len(everything)} requests checked;"
            f" {len(leaks)} leaks; statuses {dict(sorted(statuses.items()))}"
        )
        print("skipped: " + "; ".join(f"{rule}: {why}" for rule, why in matrix.skipped.items()))
    assert matrix.rules > 100
    assert len(matrix.results) > 1000


def test_no_route_shows_a_foreign_record(matrix):
    assert not matrix.leaks, f"{len(matrix.leaks)} leaks:\n{_describe(matrix.leaks)}"


def test_no_route_answers_a_foreign_record_with_anything_but_a_refusal(matrix):
    assert not matrix.violations, f"{len(matrix.violations)} violations:\n{_describe(matrix.violations)}"


def test_no_route_crashes_on_a_forged_request(matrix):
    """A forged request is refused, never answered with a server error (500)."""
    errors = matrix.server_errors
    assert not errors, f"{len(errors)} server errors:\n{_describe(errors)}"


def test_query_parameters_show_no_foreign_rows(matrix):
    leaks = [r for r in matrix.query_results if r.leaked]
    problems = [r for r in matrix.query_results if r.problem]
    assert not leaks, f"{len(leaks)} leaks:\n{_describe(leaks)}"
    assert not problems, f"{len(problems)} problems:\n{_describe(problems)}"


def test_every_rule_is_requested_or_skipped_with_a_reason(app, matrix):
    requested = {r.endpoint for r in matrix.results}
    for rule in app.url_map.iter_rules():
        if skip_reason(rule) is None:
            assert rule.endpoint in requested, rule.rule
    for reason in matrix.skipped.values():
        assert reason


def test_the_matrix_changed_no_row(matrix):
    """Nothing changed — except what a customer may change about themselves: the weekly
    mail switch on /portal/settings, which the matrix posts to as well."""
    from app.models.crm import Contact

    own_choice = list(Contact.__table__.columns.keys()).index("digest_opt_out")

    def without_own_choice(snapshot):
        return {
            table: [row[:own_choice] + row[own_choice + 1 :] for row in rows] if table == "contact" else rows
            for table, rows in snapshot.items()
        }

    assert without_own_choice(matrix.after) == without_own_choice(matrix.before)


def test_the_records_are_there(app, records, clients):
    """The matrix's records are real: the agency sees them all, their owners see theirs."""
    agency = session_client(app, "agentur")
    for name, tag in records["tags"].items():
        s = records["sets"][name]
        assert tag in agency.get(f"/appointmentview/show/{s['appointment']}").get_data(as_text=True), name
    # adm.sued sees the southern store of the matrix, adm.nord the northern one.
    assert records["tags"]["south"] in clients["adm.sued", "session"].get("/portal/stores").get_data(
        as_text=True
    )
    assert records["tags"]["north"] in clients["adm.nord", "session"].get("/portal/stores").get_data(
        as_text=True
    )


def test_the_report_api_shows_a_customer_the_approved_reports_of_their_stores_only(app, records, clients):
    """The matrix's reports through the API: adm.nord finds the northern set's approved report
    (not its draft or submitted one, nothing of the south or the other customer), adm.sued
    the southern one, pos.marketing both; promoter01 none of them; the agency all."""
    sets = records["sets"]
    statuses = ("draft", "submitted", "approved")
    every = {sets[name][f"report_{status}"]: (name, status) for name in sets for status in statuses}
    seen_by = {
        "adm.nord": {("north", "approved")},
        "adm.sued": {("south", "approved")},
        "pos.marketing": {("north", "approved"), ("south", "approved")},
        "promoter01": set(),
        "agentur": set(every.values()),
    }
    for username, expected in seen_by.items():
        client = clients.get((username, "jwt")) or JwtClient(app, username)
        ids = set()
        for name in sets:
            body = client.get(f"/api/v1/report/?job_id={sets[name]['job']}&page_size=500").get_json()
            ids |= set(body["ids"])
        assert {every[i] for i in ids if i in every} == expected, username
        for report_id, what in every.items():
            answer = client.get(f"/api/v1/report/{report_id}")
            assert answer.status_code == (200 if what in expected else 404), (username, what)
            if what in expected:
                row = answer.get_json()["result"]
                assert row["answers"]["remarks"] == f"Leakcheck Bemerkung {records['tags'][what[0]]}"
                assert row["answers"]["products"] == [
                    {"product": f"Leakcheck Ware {records['tags'][what[0]]}"}
                ]
