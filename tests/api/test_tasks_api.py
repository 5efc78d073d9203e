# ruff: noqa: F811  (fixtures are imported by name, below)
"""Work queues through the API, against the real case workflow: list, claim, complete."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from api.routes.tasks import BODIES, router
from operations.catalogue import TASK_ACTIONS
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import HumanTaskRow
from tests.api.test_cases_api import (
    approve,
    at_rest,
    detail,
    fields,
    http,  # noqa: F401
    night_zone,
    offline,  # noqa: F401
    offline_db,  # noqa: F401
    started_case,
)
from tests.people import (
    COLLEAGUES,
    PEOPLE,
    as_colleague,
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.workflows.harness import (
    CaseHarness,
    fake_twilio,  # noqa: F401
    harness,  # noqa: F401
)

ANN, OLI = PEOPLE[Role.OPERATIONS], COLLEAGUES[Role.OPERATIONS]  # two collectors

T = TypeVar("T")
Task = dict[str, Any]


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    for _ in range(100):
        found = await check()
        if found is not None and found != []:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {what}")


async def tasks_of(http: httpx.AsyncClient, account: str, **query: str) -> list[Task]:
    response = await http.get(
        "/tasks", params={"case_id": f"case-{account}", **query}, headers=as_role(Role.OPERATIONS)
    )
    assert response.status_code == 200, response.text
    tasks: list[Task] = response.json()
    return tasks


async def a_task(http: httpx.AsyncClient, account: str, kind: str, **query: str) -> Task:
    async def found() -> Task | None:
        return next((t for t in await tasks_of(http, account, **query) if t["kind"] == kind), None)

    return await eventually(found, f"a {kind} task {query}")


async def collector_case(harness: CaseHarness, time_zone: str = "Asia/Shanghai") -> str:
    account = await started_case(harness, dpd=40, time_zone=time_zone)
    await harness.sleep_days(0.1)  # into the collector stage: a call is opened
    await at_rest(harness, account)
    return account


async def post(
    http: httpx.AsyncClient,
    task: Task,
    verb: str,
    body: dict[str, Any],
    role: Role,
    *,
    colleague: bool = False,
) -> tuple[int, Any]:
    """As `role`'s person, or as their colleague (`tests.people.COLLEAGUES`)."""
    headers = as_colleague(role) if colleague else as_role(role)
    response = await http.post(f"/tasks/{task['task_key']}/{verb}", json=body, headers=headers)
    return response.status_code, response.json()


async def test_a_collector_claims_a_call_and_reports_its_outcome(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await collector_case(harness)
    call = await a_task(http, account, "collector_call", queue="operations", status="open")
    assert call["task_key"].startswith(f"case-{account}/")
    assert (call["queue"], call["assignee"], call["outcome"]) == ("operations", None, None)
    ops = Role.OPERATIONS

    assert await post(http, call, "claim", {"collector": " "}, ops) == (
        400,
        {"detail": "collector is required"},
    )
    # A collector claims for themselves: naming someone else is refused.
    assert await post(http, call, "claim", {"collector": OLI}, ops) == (
        403,
        {"detail": f"collector is {OLI!r}, but {ANN} is the one acting"},
    )
    status, claimed = await post(http, call, "claim", {}, ops)  # blank: the caller
    assert (status, claimed["message"]) == (200, f"task claimed by {ANN}")
    await at_rest(harness, account)
    mine = await a_task(http, account, "collector_call", assignee=ANN, status="claimed")
    assert mine["task_key"] == call["task_key"]

    reached = {"outcome": "reached"}
    assert await post(http, call, "complete", reached, ops, colleague=True) == (
        400,
        {"detail": f"task is locked to {ANN}"},
    )
    assert await post(http, call, "claim", {"collector": OLI}, ops, colleague=True) == (
        400,
        {"detail": f"task is locked to {ANN}"},
    )
    status, wrong = await post(
        http, call, "complete", {"collector": ANN, "outcome": "approved"}, ops
    )
    assert status == 400  # refused at once, not filed for a second supervisor
    assert wrong["detail"].startswith("approved is not an outcome of a collector_call; one of: ")
    status, half = await post(
        http, call, "complete", {"collector": ANN, "outcome": "promise_made"}, ops
    )
    assert (status, half) == (400, {"detail": "a promise needs its amount and date"})

    promised = (await harness.today() + timedelta(days=3)).isoformat()
    status, done = await post(
        http,
        call,
        "complete",
        {
            "collector": ANN,
            "outcome": "promise_made",
            "promised_amount_minor": 50_000,
            "promised_date": promised,
            "note": "pays on Friday",
        },
        ops,
    )
    assert (status, done["message"]) == (200, "promise recorded; contact paused until it is due")
    finished = await a_task(http, account, "collector_call", status="done")
    assert (finished["outcome"], finished["assignee"]) == ("promise_made", ANN)
    assert await tasks_of(http, account, status="open") == []

    assert await post(http, call, "claim", {"collector": ANN}, ops) == (
        400,
        {"detail": f"no open task {call['task_key']} on this case"},
    )


async def test_a_field_visit_is_reported_by_two_collectors(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await collector_case(harness)
    call = await a_task(http, account, "collector_call", status="open")
    ops = Role.OPERATIONS
    status, _ = await post(http, call, "complete", {"outcome": "not_found"}, ops)
    assert status == 200
    await at_rest(harness, account)
    visit = await a_task(http, account, "field_visit", status="open")

    alone = {"collectors": [ANN], "consent_to_enter": False}
    body = {"collector": ANN, "outcome": "reached", "visit": alone}
    assert await post(http, visit, "complete", body, ops) == (
        400,
        {"detail": "a field visit is made by two collectors: name both"},
    )
    pair = {"collectors": [ANN, OLI], "consent_to_enter": True}
    status, done = await post(http, visit, "complete", {**body, "visit": pair}, ops)
    assert (status, done["message"]) == (200, "task done: reached")


async def test_supervisor_tasks_are_worked_by_supervisors_only(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await started_case(harness)
    raised = await http.post(
        f"/cases/{account}/raise_dispute",
        json={"reason": "never had this card"},
        headers=as_role(Role.OPERATIONS),
    )
    assert raised.status_code == 200
    investigation = await a_task(
        http, account, "dispute_investigation", queue="supervisor", status="open"
    )

    body = {"outcome": "dispute_rejected"}
    assert await post(http, investigation, "claim", {}, Role.OPERATIONS) == (
        403,
        {"detail": "only a supervisor works this task"},
    )
    assert (await post(http, investigation, "complete", body, Role.OPERATIONS))[0] == 403
    status, done = await post(http, investigation, "complete", body, Role.SUPERVISOR)
    assert (status, done["message"]) == (200, "dispute rejected; collection resumes")
    finished = await a_task(http, account, "dispute_investigation", status="done")
    assert finished["assignee"] == PEOPLE[Role.SUPERVISOR]


async def test_upholding_a_dispute_from_its_task_waits_for_a_second_supervisor(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await started_case(harness)
    raised = await http.post(
        f"/cases/{account}/raise_dispute",
        json={"reason": "never had this card"},
        headers=as_role(Role.OPERATIONS),
    )
    assert raised.status_code == 200
    investigation = await a_task(http, account, "dispute_investigation", status="open")
    upheld = {"outcome": "dispute_upheld", "note": "the card was stolen"}
    asked = await http.post(
        f"/tasks/{investigation['task_key']}/complete",
        json=upheld,
        headers=as_role(Role.SUPERVISOR),
    )
    assert asked.status_code == 202, asked.text
    await at_rest(harness, account)
    assert await a_task(http, account, "dispute_investigation", status="open")  # still open
    done = await approve(http, asked)
    assert done.status_code == 200, done.text
    assert done.json()["stage"] == "closed"
    finished = await a_task(http, account, "dispute_investigation", status="done")
    assert finished["outcome"] == "dispute_upheld"


async def test_tasks_of_a_closed_case_are_409(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await collector_case(harness, await night_zone(harness))
    call = await a_task(http, account, "collector_call", status="open")
    asked = await http.post(
        f"/cases/{account}/close",
        json={"reason": "settled", "note": "settled with the branch"},
        headers=as_role(Role.SUPERVISOR),
    )
    closed = await approve(http, asked)  # by a second supervisor
    assert closed.status_code == 200, closed.text

    claim = {"collector": ANN}
    assert await post(http, call, "claim", claim, Role.OPERATIONS) == (
        409,
        {"detail": "case is closed (settled)"},
    )
    await harness.sleep_days(1)  # morning: the closing message goes out, the workflow ends
    await harness.client.get_workflow_handle(f"case-{account}").result()
    status, ended = await post(
        http, call, "complete", {**claim, "outcome": "reached"}, Role.OPERATIONS
    )
    assert (status, ended) == (409, {"detail": f"case case-{account} is closed (completed)"})
    await a_task(http, account, "collector_call", status="cancelled")


# A body each route takes, so that what refuses it is what the test is about.
BODY: dict[str, dict[str, Any]] = {
    "claim": {},
    "complete": {"outcome": "reached"},
    "assign": {"assignee": PEOPLE[Role.OPERATIONS]},
    "book-visit": {"day": "2026-01-05", "start": "10:00", "end": "12:00", "collectors": ["a", "b"]},
    "check-in": {},
    "check-out": {},
    "call": {"agent_phone": "+8613800000001"},
}


def test_every_task_action_has_a_body_here() -> None:
    assert set(BODY) == set(TASK_ACTIONS)


@pytest.mark.parametrize("verb", list(TASK_ACTIONS))
async def test_an_unknown_task_is_404(offline: httpx.AsyncClient, verb: str) -> None:
    key = "case-6222000000000001/20240101000000/t9"
    response = await offline.post(
        f"/tasks/{key}/{verb}", json=BODY[verb], headers=as_role(Role.SUPERVISOR)
    )
    assert response.status_code == 404
    assert detail(response) == f"no task {key}"


SUPERVISOR_TASK = "case-6222000000000002/20240101000000/t1"


@pytest.fixture(scope="module")
async def supervisor_task(offline_db: Database) -> str:
    """An open task of the supervisor queue, in the read model only (no case is asked)."""
    now = datetime.now(UTC)
    async with offline_db.session() as session:
        session.add(
            HumanTaskRow(
                idempotency_key=SUPERVISOR_TASK,
                case_id="case-6222000000000002",
                kind="dispute_investigation",
                queue="supervisor",
                status="open",
                deadline=now + timedelta(days=2),
                created_at=now,
            )
        )
    return SUPERVISOR_TASK


@pytest.mark.parametrize("verb", [verb for verb in TASK_ACTIONS if verb != "assign"])
async def test_a_collector_works_no_task_of_the_supervisor_queue(
    offline: httpx.AsyncClient, supervisor_task: str, verb: str
) -> None:
    response = await offline.post(
        f"/tasks/{supervisor_task}/{verb}", json=BODY[verb], headers=as_role(Role.OPERATIONS)
    )
    assert response.status_code == 403
    assert detail(response) == "only a supervisor works this task"


async def test_a_task_whose_case_temporal_no_longer_holds_is_404(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    now = await harness.env.get_current_time()
    key = "case-6222000055550001/20240101000000/t1"
    async with harness.db.session() as session:
        session.add(
            HumanTaskRow(
                idempotency_key=key,
                case_id="case-6222000055550001",
                kind="collector_call",
                queue="operations",
                status="open",
                deadline=now + timedelta(days=2),
                created_at=now,
            )
        )
    response = await http.post(f"/tasks/{key}/claim", json={}, headers=as_role(Role.OPERATIONS))
    assert response.status_code == 404
    assert detail(response) == "no case case-6222000055550001"


# --- refused before the case is asked ----------------------------------------------------------

KEY = "case-6222000000000001/20240101000000/t1"
ENDPOINTS = [
    ("GET", "/tasks", None),
    *[("POST", f"/tasks/{KEY}/{verb}", BODY[verb]) for verb in TASK_ACTIONS if verb != "assign"],
]


@pytest.mark.parametrize("role", [Role.RISK, Role.LEGAL, Role.ENGINEER, Role.ADMIN])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_other_departments_may_not_work_the_queues(
    offline: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, role: Role
) -> None:
    response = await offline.request(method, path, json=body, headers=as_role(role))
    assert response.status_code == 403
    assert detail(response) == "only these roles may call this: supervisor, operations"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_the_queues_need_a_token(
    offline: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await offline.request(method, path, json=body)
    assert response.status_code == 403
    assert "API token" in detail(response)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"/tasks/{KEY}/claim", {"collector": 7}, "collector"),
        (f"/tasks/{KEY}/complete", {"outcome": "maybe"}, "outcome"),
        (
            f"/tasks/{KEY}/complete",
            {"outcome": "promise_made", "promised_date": "soon"},
            "promised_date",
        ),
        (
            f"/tasks/{KEY}/complete",
            {"outcome": "reached", "visit": {"collectors": "c-1"}},
            "collectors",
        ),
    ],
)
async def test_a_body_of_the_wrong_shape_is_422_naming_the_field(
    offline: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = await offline.post(path, json=body, headers=as_role(Role.OPERATIONS))
    assert field in fields(response), response.text


async def test_an_unknown_queue_is_422(offline: httpx.AsyncClient) -> None:
    response = await offline.get("/tasks?queue=legal", headers=as_role(Role.SUPERVISOR))
    assert "queue" in fields(response)


@pytest.mark.parametrize("role", [Role.OPERATIONS, Role.RISK, Role.LEGAL, Role.ENGINEER])
async def test_only_a_supervisor_assigns(offline: httpx.AsyncClient, role: Role) -> None:
    response = await offline.post(
        f"/tasks/{KEY}/assign", json=BODY["assign"], headers=as_role(role)
    )
    assert response.status_code == 403
    assert detail(response) == "only these roles may call this: supervisor"


@pytest.mark.parametrize("verb", list(TASK_ACTIONS))
def test_a_body_is_the_workflows_input_without_the_key(verb: str) -> None:
    action = TASK_ACTIONS[verb]
    expected = {f.name for f in dataclasses.fields(action.input_type)} - {"task_key"}
    assert set(BODIES[verb].model_fields) == expected - set(action.internal)
    if action.collector_is_caller:  # blank: the caller
        assert BODIES[verb].model_fields["collector"].default == ""


def test_every_task_action_is_in_the_openapi_document_and_only_completing_may_wait() -> None:
    app = FastAPI()
    app.include_router(router)
    paths = app.openapi()["paths"]
    for verb, action in TASK_ACTIONS.items():
        answers = paths[f"/tasks/{{task_key}}/{verb}"]["post"]["responses"]
        assert set(answers) >= {"200", "400", "404", "409", "422"}
        assert ("202" in answers) is (verb == "complete") is action.approval
