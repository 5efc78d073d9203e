"""Bad requests, at scale, against the API in front of the real case, risk and legal workflows
on the time-skipping server: hypothesis sends JSON bodies of the wrong shape (keys missing,
extra or of the wrong type, nested junk, huge strings, lone surrogates, numbers past int64),
bodies that are not JSON at all, and paths with odd account numbers, task keys and handoff
keys, under every role and none. Every task action of the catalogue (`TASK_ACTIONS`) is sent,
at a collector call and at a field visit whose slot can be booked and checked in to at once.

Whatever it sends, the answer is never a 5xx: Temporal is up and a worker answers, so 503 and
504 cannot be right either, and 500 or 502 would be a crash or a refusal nobody mapped. Every
4xx answer is JSON with a `detail`. And nothing in the workflows the requests reached fails
for good (see `test_update_fuzz.troubles`).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.routes.tasks import BODIES
from config.settings import Settings, TaskQueues
from models.case_status import CaseStatus
from models.contracts import Stage
from models.departments import handoff_id
from models.intake import COLUMNS, MAX_MINOR
from operations.catalogue import TASK_ACTIONS
from operations.gateway import Gateway
from operations.roles import Role
from tests.fakes.temporal_service import unreached_client
from tests.fuzz.test_update_fuzz import (
    BLOB_LIMIT,
    rarely,
    troubles,
    values_in,
)
from tests.people import (
    COLLEAGUES,
    PEOPLE,
    People,
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401  (the fixtures' harness's, with the test people in it)
)
from tests.workflows.harness import CaseHarness
from tests.workflows.test_legal_referral import LegalDesk
from workflows.legal_referral import LegalReferralWorkflow

ANN, SAM = PEOPLE[Role.OPERATIONS], PEOPLE[Role.SUPERVISOR]  # both may work a task
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- values --------------------------------------------------------------------------------

INT = rarely(
    st.sampled_from([2**63, 10**30]),  # past int64
    st.one_of(
        st.integers(-5, 200_000),
        st.sampled_from([2**31, 2**63 - 1, -(2**63) - 1]),
        st.integers(max_value=2**63 - 1),
    ),
)
TEXT = rarely(
    st.just("x" * (BLOB_LIMIT + 1_000)),  # past what a real server takes in one payload
    st.one_of(
        st.sampled_from(["", " ", "\x00", "CNY", "sms", "customer asked", "2030-01-01"]),
        st.text(max_size=30),  # lone surrogates too: JSON escapes them (\ud800)
        st.builds(str.__mul__, st.sampled_from(["x", "长"]), st.integers(1_000, 200_000)),
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), INT, st.floats(), TEXT)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=6,
)


@dataclass(frozen=True)
class Raw:
    """A body sent as these bytes, whatever they are."""

    content: bytes
    content_type: str = "application/json"


RAW_BODIES = st.builds(
    Raw,
    st.one_of(
        st.sampled_from([b"", b"{", b"\xff\xfe", b"null", b'{"a": 1}{', b"[]", b"1e999"]),
        st.just(b"9" * 5_000),  # past what json.loads converts to an int
        st.binary(max_size=50),
    ),
    st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
)


def today_plus(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Target:
    """A real account, task or handoff key, or the field visit's bookable slot (a body's
    `day`, `start` and `end`), filled in when the request is made."""

    name: str  # account | task | visit | risk | legal | day | start | end


# Bodies that pass the API's checks, so that their mutations reach the workflows.
TEMPLATES: dict[str, dict[str, Any]] = {
    "record_payment": {"amount_minor": 100, "currency": "CNY", "payment_ref": "P-1"},
    "promise_to_pay": {"amount_minor": 1_000, "currency": "CNY", "promised_date": today_plus(5)},
    "raise_dispute": {"reason": "customer asked"},
    "resolve_dispute": {"upheld": False, "reason": "statement checked"},
    "report_hardship": {"reason": "lost job"},
    "opt_out": {"channel": "sms"},
    "opt_in": {"channel": "voice"},
    "pause": {"reason": "customer asked"},
    "resume": {"reason": "customer asked"},
    "close": {"reason": "settled", "note": "settled with the branch"},  # waits for a second
    # Who answers a handoff names themselves: the role's person who sends it.
    "decide": {
        "kind": "forbearance",
        "decided_by": PEOPLE[Role.RISK],
        "reason": "medical leave",
        "forbearance_until": today_plus(30),
    },
    # A plan's instalments reach the case, which reads each due date as an instant.
    "decide_plan": {
        "kind": "payment_plan",
        "decided_by": PEOPLE[Role.RISK],
        "reason": "reduced income",
        "instalments": [{"due_date": today_plus(30), "amount_minor": 1_000}],
    },
    "accept": {"by": PEOPLE[Role.LEGAL], "note": "taken"},
    "return": {"by": PEOPLE[Role.LEGAL], "reason": "missing evidence"},
    "proceedings": {"kind": "filed", "on": today_plus(0), "by": PEOPLE[Role.LEGAL]},
    "contact-permission": {
        "allowed": True,
        "by": PEOPLE[Role.LEGAL],
        "reason": "settlement talks",
    },
}
# One per row of the catalogue, naming every field of the row's body (`BODIES`), so that each
# is mutated; a blank `collector` is the caller.
TASK_TEMPLATES: dict[str, dict[str, Any]] = {
    "claim": {"collector": ""},
    "complete": {
        "collector": "",
        "outcome": "promise_made",
        "note": "",
        "promised_amount_minor": 1_000,
        "promised_date": today_plus(3),
        "visit": {"collectors": [ANN, SAM], "consent_to_enter": True},  # read at a field visit
        "right_party": True,
        "call_seconds": 120,
    },
    "assign": {"assignee": ANN, "reason": "speaks the customer's language"},
    "book-visit": {
        "day": Target("day"),
        "start": Target("start"),
        "end": Target("end"),
        "collectors": [ANN, SAM],
    },
    "check-in": {"collector": ""},
    "check-out": {"collector": ""},
    "call": {"collector": "", "agent_phone": "+8613800000001"},
}
INTAKE_ROW = {
    "account_no": "6222000011112222",
    "customer_ref": "CUST0001",
    "customer_name": "张伟",
    "mobile": "+8613800138000",
    "language": "zh-CN",
    "time_zone": "Asia/Shanghai",
    "product": "card",
    "currency": "CNY",
    "outstanding_minor": 500_000,
    "overdue_minor": 120_000,
    "oldest_due_date": today_plus(-10),
    "strategy": "",
}
ODD_VALUES = {
    "amount_minor": st.sampled_from([0, -1, 2**63, 10**30, 1.5, "100", True]),
    "currency": st.sampled_from(["USD", "cny", "", None]),
    "promised_date": st.sampled_from(["0001-01-01", "9999-12-31", "2030-02-30", "soon", 20300101]),
    "forbearance_until": st.sampled_from(["0001-01-01", "9999-12-31", today_plus(181)]),
    "channel": st.sampled_from(["pigeon", "SMS", "", None]),
    "reason": st.sampled_from(["", " ", "paid", "bored", None]),
    "outcome": st.sampled_from(["reached", "dispute_upheld", "approved", "nope"]),
    "kind": st.sampled_from(["payment_plan", "restructure", "proceed", "judgment", "x"]),
    "outstanding_minor": st.sampled_from(["9" * 5_000, "1e3", -1, 2**63, " 7 "]),
    "overdue_minor": st.sampled_from(["9" * 5_000, 0, 10**30, "0x10"]),
    "oldest_due_date": st.sampled_from([today_plus(1), "2024-02-30", "01/02/2024"]),
    "mobile": st.sampled_from(["+86 138 0013 8000", "8613800138000", "+"]),
    "account_no": st.sampled_from(["ACC1", "6222-0000", "A" * 35, "../../etc"]),
    # the task actions' bodies
    "collector": st.sampled_from([ANN, COLLEAGUES[Role.OPERATIONS], " ", "no.such", "x" * 300]),
    "assignee": st.sampled_from(["", " ", "no.such", PEOPLE[Role.RISK], SAM, f" {ANN} "]),
    "note": st.sampled_from([None, 7, "\x00", "长" * 10_000]),
    "promised_amount_minor": st.sampled_from([0, -1, 10**9, 2**63, 1.5, "100", None]),
    "right_party": st.sampled_from(["yes", 2, None, []]),
    "call_seconds": st.sampled_from([-1, 0, 4 * 3600 + 1, 2**63, 1.5, "60", None]),  # > 4 h
    "visit": st.sampled_from(
        [
            None,
            [],
            {"collectors": "c-1"},
            {"collectors": [ANN], "consent_to_enter": True},
            {"collectors": [ANN, ANN], "consent_to_enter": True},
            {"collectors": [ANN, SAM], "consent_to_enter": "no"},
        ]
    ),
    "day": st.sampled_from(["0001-01-01", "9999-12-31", "2030-02-30", today_plus(15), 20300101]),
    "start": st.sampled_from(["24:00", "07:59", "21:00", "10:00:00+08:00", "noon", 36_000, None]),
    "end": st.sampled_from(["00:00", "21:01", "23:59:59.999999", "25:00", "", 1.5]),
    "collectors": st.sampled_from(
        [[], [ANN], [ANN, ANN], [ANN, " "], f"{ANN},{SAM}", [ANN, 7], [ANN, "x" * 300]]
    ),
    "agent_phone": st.sampled_from(["", "+", "0800 1234", "+86 138 0013 8000", "+999999999999999"]),
    "instalments": st.lists(
        st.fixed_dictionaries(
            {
                "due_date": st.sampled_from(
                    ["9999-12-31", "0001-01-01", today_plus(-1), today_plus(1_099), today_plus(7)]
                ),
                "amount_minor": st.sampled_from([1, 0, -1, 2**63, 10**9, "5"]),
            }
        ),
        max_size=3,
    ),
}


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any]) -> Any:
    """The template with a few keys dropped, replaced (by odd or any JSON) or added."""
    body = dict(template)
    for key in draw(st.sets(st.sampled_from(sorted(template)), min_size=1, max_size=2)):
        how = draw(st.sampled_from(["drop", "odd", "junk"]))
        if how == "drop":
            del body[key]
        elif how == "odd" and key in ODD_VALUES:
            body[key] = draw(ODD_VALUES[key])
        else:
            body[key] = draw(JUNK)
    body.update(draw(st.dictionaries(st.sampled_from(["extra", "note", "instalments"]), JUNK)))
    return body


def bodies(template: dict[str, Any]) -> st.SearchStrategy[Any]:
    # Most reach the workflow. (The same strategy twice in `one_of` counts once.)
    near = [st.just(template) for _ in range(2)] + [mutated(template) for _ in range(3)]
    return st.one_of(*near, JUNK, RAW_BODIES)


# --- requests ------------------------------------------------------------------------------


SEGMENTS = st.one_of(
    st.sampled_from(["", ".", "..", "%", "?", "#", " ", "0000000000", "6222000011112222"]),
    st.sampled_from(["%2F", "%00", "%ff%fe", "%2e%2e", "a/b", "a%2Fb"]),  # sent as written
    st.text(st.characters(codec="utf-8"), max_size=20).map(lambda s: quote(s, safe="")),
    st.integers(1_000, 5_000).map("a".__mul__),
)


def segment(target: str) -> st.SearchStrategy[Target | str]:
    return st.one_of(*(st.just(Target(target)) for _ in range(4)), SEGMENTS)


ROLES = st.one_of(st.sampled_from(list(Role)), st.sampled_from([None, "wrong"]))
PARAMS = st.one_of(st.none(), st.booleans(), INT, st.floats(), st.text(max_size=50))


def roles(*allowed: Role) -> st.SearchStrategy[Role | str | None]:
    """Mostly a role the endpoint admits, so that the body is looked at."""
    return st.sampled_from([*allowed] * (20 // len(allowed)) + [*Role, None, "wrong"])


CASE_ACTIONS = [
    "record_payment",
    "promise_to_pay",
    "raise_dispute",
    "resolve_dispute",
    "report_hardship",
    "opt_out",
    "opt_in",
    "pause",
    "resume",
    "close",
]
LEGAL_ANSWERS = ["accept", "return", "proceedings", "contact-permission"]


@dataclass(frozen=True)
class Request:
    method: str
    path: tuple[Target | str, ...]  # segments, joined with "/"
    role: Role | str | None
    body: Any = None  # JSON, or `Raw`; None: no body
    params: dict[str, Any] = field(default_factory=dict)


def post(
    path: tuple[st.SearchStrategy[Target | str], ...],
    body: st.SearchStrategy[Any],
    *allowed: Role,
) -> st.SearchStrategy[Request]:
    admitted = roles(*allowed) if allowed else roles(Role.SUPERVISOR)
    return st.builds(Request, st.just("POST"), st.tuples(*path), admitted, body)


def case_action(action: str) -> st.SearchStrategy[Request]:
    return post((st.just("cases"), segment("account"), st.just(action)), bodies(TEMPLATES[action]))


def task_action(word: str) -> st.SearchStrategy[Request]:
    """At the collector call or the field visit (each refuses the other's work), by the
    catalogue's roles."""
    task = st.one_of(segment("task"), segment("visit"))
    body = bodies(TASK_TEMPLATES[word])
    return post((st.just("tasks"), task, st.just(word)), body, *sorted(TASK_ACTIONS[word].roles))


case_requests = st.one_of(
    *[case_action(action) for action in CASE_ACTIONS],
    post((st.just("cases"), segment("account"), SEGMENTS), bodies(TEMPLATES["pause"])),
    st.builds(
        Request,
        st.sampled_from(["GET", "DELETE"]),
        st.tuples(st.just("cases"), segment("account"), st.sampled_from(["", "timeline"])),
        ROLES,
    ),
    st.builds(
        Request,
        st.just("GET"),
        st.just(("cases",)),
        ROLES,
        st.none(),
        st.fixed_dictionaries(
            {},
            optional={"stage": PARAMS, "segment": PARAMS, "min_dpd": PARAMS, "limit": PARAMS},
        ),
    ),
)
task_requests = st.one_of(
    *[task_action(word) for word in TASK_TEMPLATES],
    st.builds(
        Request,
        st.just("GET"),
        st.just(("tasks",)),
        ROLES,
        st.none(),
        st.fixed_dictionaries({}, optional={"queue": PARAMS, "status": PARAMS, "limit": PARAMS}),
    ),
)
handoff_requests = st.one_of(
    post(
        (st.just("handoffs"), segment("risk"), st.just("decide")),
        bodies(TEMPLATES["decide"]) | bodies(TEMPLATES["decide_plan"]),
        Role.RISK,
    ),
    *[
        post(
            (st.just("handoffs"), segment("legal"), st.just(verb)),
            bodies(TEMPLATES[verb]),
            Role.LEGAL,
        )
        for verb in LEGAL_ANSWERS
    ],
    post(
        (st.just("handoffs"), segment("legal"), st.sampled_from(["decide", *LEGAL_ANSWERS])),
        bodies(TEMPLATES["decide"]),
        Role.RISK,
    ),
    st.builds(
        Request,
        st.just("GET"),
        st.tuples(
            st.just("handoffs"),
            st.one_of(segment("risk"), segment("legal")),
            st.sampled_from(["", "dossier", "dossier.txt"]),
        ),
        ROLES,
    ),
)


@st.composite
def intake_rows(draw: st.DrawFn) -> Any:
    """Rows near the template, half of them for an account of their own, so that some start
    a case rather than meet the one already running."""
    body = draw(bodies(INTAKE_ROW))
    same = isinstance(body, dict) and body.get("account_no") == INTAKE_ROW["account_no"]
    if same and draw(st.booleans()):
        body = {**body, "account_no": draw(st.text(ALNUM, min_size=6, max_size=34))}
    return body


# --- the API and what it answers -----------------------------------------------------------


def filled(body: Any, targets: dict[str, str]) -> Any:
    """The body with its `Target`s filled in."""
    if not isinstance(body, dict):
        return body
    return {k: targets[v.name] if isinstance(v, Target) else v for k, v in body.items()}


@dataclass
class Api:
    """The app in front of the harness's workers, and a real case (with a collector call),
    another with a field visit, a risk review and a legal referral for requests to reach."""

    harness: CaseHarness
    http: httpx.AsyncClient
    targets: dict[str, str] = field(default_factory=dict)
    workflows: set[str] = field(default_factory=set)  # every workflow a request may reach

    async def send(self, request: Request) -> httpx.Response:
        path = "/" + "/".join(
            quote(self.targets[part.name], safe="/") if isinstance(part, Target) else part
            for part in request.path
        )
        role = request.role
        headers = (as_role(role) if isinstance(role, Role) else {"X-API-Key": role}) if role else {}
        if isinstance(request.body, Raw):
            content = request.body.content
            headers["Content-Type"] = request.body.content_type
        elif request.body is not None:
            body = filled(request.body, self.targets)
            content = json.dumps(body).encode()  # ASCII: a lone surrogate escaped
            headers["Content-Type"] = "application/json"
        else:
            content = None
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in request.params.items()}
        response = await self.http.request(
            request.method, path, content=content, headers=headers, params=params
        )
        if response.status_code == 201 and response.request.url.path == "/cases":
            self.workflows.add(response.json()["case_id"])
        return response

    def check(self, request: Request, response: httpx.Response) -> None:
        where = f"{request.method} {response.request.url} ({request.role}): {response.text:.300}"
        assert response.status_code < 500, where
        word = request.path[-1] if request.path[0] == "tasks" else None
        what = f"tasks/{word}" if word in TASK_ACTIONS else request.path[0]
        event(f"{request.method} {what}: {response.status_code}")
        if response.status_code >= 400:
            answer = response.json()
            assert isinstance(answer, dict) and "detail" in answer, where
        elif response.status_code < 300 and not response.request.url.path.endswith(".txt"):
            response.json()

    async def healthy(self, workflow_ids: Iterable[str] | None = None) -> None:
        """No workflow a request reached has a failed task or an activity failing for good."""
        for workflow_id in sorted(self.workflows if workflow_ids is None else workflow_ids):
            handle = self.harness.client.get_workflow_handle(workflow_id)
            failed = await troubles(handle)
            assert not failed, f"{workflow_id}: {failed}"

    async def collector_case(self) -> None:
        """A case in the collector stage, so with a collector call open: the target of the
        case and task requests, until they close it or finish its task."""
        handle = await self.harness.start(dpd=40)
        self.targets["task"] = await self.open_task(handle.id, "collector_call")
        self.targets["account"] = handle.id.removeprefix("case-")
        self.workflows.add(handle.id)

    async def visit_case(self) -> None:
        """A case whose number is wrong, so with a field visit planned: the target of the task
        requests, until they finish it or close its case. The customer lives where it is about
        noon, so that a slot beginning in ten minutes may be booked, and checked in to at once;
        it is booked already, so that checking in and out are reached too."""
        now = await self.harness.env.get_current_time()
        ahead = 12 - now.hour  # hours of the customer's clock ahead of UTC
        zone = f"Etc/GMT{-ahead:+d}" if ahead else "Etc/GMT"  # Etc/GMT-8 is UTC+8
        handle = await self.harness.start(dpd=40, time_zone=zone)
        wrong = await self.http.post(
            f"/cases/{handle.id.removeprefix('case-')}/mark_number_wrong",
            json={"reason": "a stranger answered"},
            headers=as_role(Role.SUPERVISOR),
        )
        assert wrong.status_code == 200, wrong.text
        self.targets["visit"] = await self.open_task(handle.id, "field_visit")
        start = (now.astimezone(ZoneInfo(zone)) + timedelta(minutes=10)).replace(second=0)
        end = start + timedelta(hours=2)
        self.targets |= {
            "day": f"{start:%Y-%m-%d}",
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
        }
        self.workflows.add(handle.id)
        slot = filled(TASK_TEMPLATES["book-visit"], self.targets)
        booked = await self.http.post(
            f"/tasks/{self.targets['visit']}/book-visit",
            json=slot,
            headers=as_role(Role.OPERATIONS),
        )
        assert booked.status_code == 200, booked.text

    async def open_task(self, case_id: str, kind: str) -> str:
        supervisor = as_role(Role.SUPERVISOR)

        async def task() -> str | None:
            tasks = await self.http.get("/tasks", params={"case_id": case_id}, headers=supervisor)
            return next(
                (t["task_key"] for t in tasks.json() if (t["kind"], t["status"]) == (kind, "open")),
                None,
            )

        return await eventually(task, f"a {kind} task")

    def case_of(self, task: str) -> str:
        return self.targets[task].partition("/")[0]  # `case-<account_no>/<opened>/t<n>`

    async def still_open(self, task: str) -> bool:
        """Whether the target `task` is open still, on a case still open."""
        status = await self.harness.client.get_workflow_handle(self.case_of(task)).query(
            "status", result_type=CaseStatus
        )
        return status.stage is not Stage.CLOSED and any(
            open_task.key == self.targets[task] for open_task in status.open_tasks
        )


def settings_for(harness: CaseHarness) -> Settings:
    return Settings(task_queues=TaskQueues(collections=harness.queue))


async def eventually(check: Callable[[], Awaitable[str | None]], what: str) -> str:
    for _ in range(200):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.025)
    raise AssertionError(f"never saw {what}")


@pytest.fixture
async def api(departments: CaseHarness) -> AsyncIterator[Api]:
    settings = settings_for(departments)
    gateway = Gateway(departments.client, answer_within=settings.answer_timeout_seconds)
    app = create_app(settings, gateway=gateway, db=departments.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield Api(departments, http)


@pytest.fixture(scope="module")
async def offline(
    people: People,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a Temporal client it never reaches: for bodies refused before any call,
    which need no server. Its database only knows who calls."""
    db = people.copy(tmp_path_factory.mktemp("offline") / "collections.db")
    app = create_app(Settings(), gateway=Gateway(unreached_client()), db=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as http:
        yield http
    await db.dispose()


@pytest.fixture
async def api_with_targets(api: Api) -> AsyncIterator[Api]:
    """A case with a collector call open, another with a field visit, another in a risk review,
    and a legal referral with its dossier; every workflow they reach is checked at the end."""
    harness = api.harness
    supervisor = as_role(Role.SUPERVISOR)
    await api.collector_case()
    await api.visit_case()
    reviewed = await harness.start(dpd=5)
    hardship = await api.http.post(
        f"/cases/{reviewed.id.removeprefix('case-')}/report_hardship",
        json={"reason": "lost job"},
        headers=as_role(Role.OPERATIONS),
    )
    assert hardship.status_code == 200, hardship.text
    referral = await LegalDesk(harness.env, "legal", harness.db).referral_input()
    legal_key = handoff_id("legal", referral.summary.account_no, 1)
    await harness.client.start_workflow(
        LegalReferralWorkflow.run, referral, id=legal_key, task_queue="legal"
    )

    async def handoff(department: str) -> str | None:
        rows = await api.http.get(
            "/handoffs", params={"department": department}, headers=supervisor
        )
        return next((r["handoff_key"] for r in rows.json()), None)

    api.targets["risk"] = await eventually(lambda: handoff("risk"), "a risk review")
    api.targets["legal"] = await eventually(lambda: handoff("legal"), "a legal referral")
    api.workflows |= {reviewed.id, api.targets["risk"], legal_key}
    yield api
    await api.healthy()


# --- the tests -------------------------------------------------------------------------------


@FUZZ
@example(body=INTAKE_ROW, role=Role.OPERATIONS)
@example(body={**INTAKE_ROW, "customer_name": "\ud800"}, role=Role.OPERATIONS)
@example(body={**INTAKE_ROW, "outstanding_minor": "9" * 5_000}, role=Role.SUPERVISOR)
@given(body=intake_rows(), role=roles(Role.OPERATIONS))
async def test_any_intake_row_is_started_or_refused_never_a_5xx(
    api: Api, body: Any, role: Role | str | None
) -> None:
    request = Request("POST", ("cases",), role, body)
    response = await api.send(request)
    api.check(request, response)
    if response.status_code == 201:
        await api.healthy([response.json()["case_id"]])


@FUZZ
@given(requests=st.lists(st.one_of(case_requests, task_requests, handoff_requests), max_size=4))
async def test_any_action_task_or_department_answer_is_taken_or_refused_never_a_5xx(
    api_with_targets: Api, requests: list[Request]
) -> None:
    api = api_with_targets
    if not await api.still_open("task"):
        await api.collector_case()
    if not await api.still_open("visit"):
        await api.visit_case()
    for request in requests:
        api.check(request, await api.send(request))
    reached = [api.case_of("task"), api.case_of("visit"), api.targets["risk"], api.targets["legal"]]
    await api.healthy(reached)


# --- found by the tests above -----------------------------------------------------------------


def is_utf8(content: bytes) -> bool:
    try:
        content.decode()
    except UnicodeDecodeError:
        return False
    return True


def non_finite(body: Any) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v) for v in values_in(body))


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/cases", Role.OPERATIONS),
        ("/cases/6222000000000001/record_payment", Role.OPERATIONS),
        ("/tasks/case-6222000000000001/20260101000000/t1/complete", Role.SUPERVISOR),
        ("/handoffs/risk-6222000000000001-1/decide", Role.RISK),
    ],
)
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"\x80", "text/plain"),  # not UTF-8, and not JSON
        (b"Infinity", "application/json"),  # Python's JSON reads it; JSON cannot write it
        (b'{"amount_minor": NaN, "reason": NaN, "kind": NaN}', "application/json"),
    ],
    ids=["bytes", "infinity", "nan-fields"],
)
async def test_a_body_the_422_cannot_echo_is_a_422_not_a_500(
    offline: httpx.AsyncClient, path: str, role: Role, content: bytes, content_type: str
) -> None:
    response = await offline.post(
        path, content=content, headers={**as_role(role), "Content-Type": content_type}
    )
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


async def test_a_payment_past_int64_is_a_400_not_a_case_stuck_on_its_write(api: Api) -> None:
    handle = await api.harness.start()
    body = {"amount_minor": MAX_MINOR + 1, "currency": "CNY", "payment_ref": "P-9"}
    response = await api.http.post(
        f"/cases/{handle.id.removeprefix('case-')}/record_payment",
        json=body,
        headers=as_role(Role.OPERATIONS),
    )
    assert response.status_code == 400, response.text


def test_the_intake_template_is_a_whole_row() -> None:
    assert list(INTAKE_ROW) == [column.name for column in COLUMNS]


def test_every_task_action_is_fuzzed_with_a_body_it_takes() -> None:
    """A new row of the catalogue joins TASK_TEMPLATES, or this fails; a template names every
    field of its body (each with odd values above), and the body takes it."""
    assert set(TASK_TEMPLATES) == set(TASK_ACTIONS)
    slot = {"day": today_plus(1), "start": "10:00", "end": "12:00"}
    for word, template in TASK_TEMPLATES.items():
        fields = set(BODIES[word].model_fields)
        assert set(template) == fields, word
        assert fields <= set(ODD_VALUES), word
        BODIES[word].model_validate(filled(template, slot))
