# ruff: noqa: F811  (fixtures are imported by name, below)
"""Allocation through the API and the console, against real cases: `POST /tasks/allocate` and
`POST /tasks/reassign` (supervisors; reached, not taken for a task's key), `GET /tasks?sort=
priority`; the console's team queues (load against capacity, a whole queue moved), a
collector's own tasks by priority, and what a person works set on the staff page."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import httpx
from fastapi import FastAPI

from api.console.pages import FLASH_COOKIE
from operations import staff
from operations.roles import Role
from tests.api.test_cases_api import (
    http,  # noqa: F401
    make_app,
    offline,  # noqa: F401
    offline_db,  # noqa: F401
    settings_for,
)
from tests.api.test_tasks_api import a_task, collector_case
from tests.people import (
    COLLEAGUES,
    PASSWORD,
    PEOPLE,
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
SAM, LEE = PEOPLE[Role.SUPERVISOR], PEOPLE[Role.LEGAL]
ADMIN = PEOPLE[Role.ADMIN]


async def post(http: httpx.AsyncClient, path: str, role: Role, **body: Any) -> httpx.Response:
    return await http.post(path, json=body, headers=as_role(role))


async def test_allocate_and_reassign_through_the_api(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    await staff.set_work(harness.db, ANN, languages=["zh-CN"], capacity=1)
    await staff.set_work(harness.db, OLI, languages=["zh"], products=["personal_loan"])
    account = await collector_case(harness)
    call = await a_task(http, account, "collector_call", status="open")

    forbidden = await post(http, "/tasks/allocate", Role.OPERATIONS)
    assert forbidden.status_code == 403
    allocated = await post(http, "/tasks/allocate", Role.SUPERVISOR)
    assert allocated.status_code == 200, allocated.text
    report = allocated.json()
    # The harness's cases are cards: oli works only loans; ann takes it.
    assert report["placed"] == [{"task_key": call["task_key"], "person_id": ANN}]
    assert report["message"] == "allocation: 1 placed, 0 unplaced, 0 refused"
    mine = await a_task(http, account, "collector_call", assignee=ANN, status="claimed")
    assert mine["assigned_by"] == "svc-allocator"

    refused = await post(
        http, "/tasks/reassign", Role.SUPERVISOR, from_person=ANN, to_person=LEE, reason="away"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": f"{LEE} does not hold a role that works the operations queue"
    }
    moved = await post(
        http, "/tasks/reassign", Role.SUPERVISOR, from_person=ANN, to_person=OLI, reason="away"
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["placed"] == [{"task_key": call["task_key"], "person_id": OLI}]
    theirs = await a_task(http, account, "collector_call", assignee=OLI, status="claimed")
    assert theirs["assigned_by"] == SAM

    by_priority = await http.get(
        "/tasks", params={"sort": "priority", "assignee": OLI}, headers=as_role(Role.OPERATIONS)
    )
    assert by_priority.status_code == 200
    assert [t["task_key"] for t in by_priority.json()] == [call["task_key"]]


async def test_the_allocation_routes_refuse_bad_bodies_before_any_call(
    offline: httpx.AsyncClient,
) -> None:
    no_reason = await post(offline, "/tasks/reassign", Role.SUPERVISOR, from_person=ANN)
    assert no_reason.status_code == 422
    blank = await post(
        offline, "/tasks/reassign", Role.SUPERVISOR, from_person=ANN, to_person=OLI, reason=" "
    )
    assert (blank.status_code, blank.json()) == (400, {"detail": "a reason is required"})
    legal = await post(offline, "/tasks/reassign", Role.LEGAL, from_person=ANN, reason="x")
    assert legal.status_code == 403


@contextlib.asynccontextmanager
async def console_as(app: FastAPI, person: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        signed = await client.post(
            "/console/signin",
            data={"staff": person, "password": PASSWORD, "next": "/console/tasks"},
        )
        assert signed.status_code == 303, signed.text
        yield client


def flash(response: httpx.Response) -> str:
    return unquote(response.cookies.get(FLASH_COOKIE) or "")


async def test_the_console_shows_the_teams_queues_and_moves_one(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    app = make_app(settings_for(harness.queue), harness.client, harness.db)
    await staff.set_work(harness.db, ANN, team="east", languages=["zh-CN"], capacity=3)
    await staff.set_work(harness.db, OLI, team="east", languages=["zh-CN"], capacity=3)
    account = await collector_case(harness)
    call = await a_task(http, account, "collector_call", status="open")

    async with console_as(app, ANN) as ann:
        mine = await ann.get("/console/tasks")
        assert mine.status_code == 200
        assert 'data-sort="priority" aria-sort="ascending"' in mine.text
        assert (await ann.get("/console/tasks?view=queues")).status_code == 403
        assert (await ann.post("/console/tasks/queues/allocate")).status_code == 403

    async with console_as(app, SAM) as sam:
        allocated = await sam.post("/console/tasks/queues/allocate")
        assert allocated.status_code == 303
        assert flash(allocated).startswith("allocation: 1 placed")
        held = await a_task(http, account, "collector_call", status="claimed")
        first = held["assignee"]
        other = OLI if first == ANN else ANN

        page = await sam.get("/console/tasks?view=queues")
        assert page.status_code == 200
        assert f'data-person="{first}" data-load="1" data-capacity="3"' in page.text
        assert f'data-move="{first}"' in page.text and f'data-move="{other}"' not in page.text

        refused = await sam.post(
            "/console/tasks/queues/move",
            data={"from_person": first, "to_person": LEE, "reason": "on leave"},
        )
        assert "does not hold a role that works the operations queue" in flash(refused)
        shared = await sam.post(
            "/console/tasks/queues/move",
            data={"from_person": first, "to_person": "", "reason": "on leave"},
        )
        assert flash(shared) == f"{first}'s queue to the team: 1 placed, 0 unplaced, 0 refused"
    moved = await a_task(http, account, "collector_call", assignee=other, status="claimed")
    assert moved["task_key"] == call["task_key"]


async def test_an_admin_sets_what_a_person_works_on_the_staff_page(
    harness: CaseHarness,
) -> None:
    app = make_app(settings_for(harness.queue), harness.client, harness.db)
    async with console_as(app, ADMIN) as admin:
        work = {"team": "east", "languages": "zh-CN, en", "products": "card,personal_loan"}
        done = await admin.post(f"/console/staff/{OLI}/work", data={**work, "capacity": "25"})
        assert done.status_code == 303 and flash(done) == f"{OLI}: 工作范围已更新"
        row = await staff.find(harness.db, OLI)
        assert row is not None
        assert (row.team, row.languages, row.products, row.capacity) == (
            "east",
            "zh-CN,en",
            "card,personal_loan",
            25,
        )
        too_many = await admin.post(f"/console/staff/{OLI}/work", data={**work, "capacity": "501"})
        assert too_many.status_code == 400
        assert "a capacity is 0 to 500 open tasks, not 501" in too_many.text
        bad_product = await admin.post(
            f"/console/staff/{OLI}/work", data={**work, "products": "car d", "capacity": "5"}
        )
        assert bad_product.status_code == 400 and "is not a product code" in bad_product.text
        page = await admin.get("/console/staff")
        assert 'data-products="card,personal_loan"' in page.text
    assert (await staff.find(harness.db, OLI)) == row  # the refused forms changed nothing
