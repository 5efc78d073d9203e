# ruff: noqa: F811  (fixtures are imported by name, below)
"""The collector's workspace through the API, against the real case workflow: a supervisor
puts a task in one collector's queue (an unknown person or one without the role refused, and
nothing changed), a field visit booked and checked in to, and click-to-call."""

from __future__ import annotations

from datetime import timedelta

import httpx

from operations.roles import Role
from tests.api.test_cases_api import (
    at_rest,
    http,  # noqa: F401
    offline,  # noqa: F401
    offline_db,  # noqa: F401
)
from tests.api.test_tasks_api import a_task, collector_case, post
from tests.people import (
    COLLEAGUES,
    PEOPLE,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.workflows.harness import (
    CaseHarness,
    fake_twilio,  # noqa: F401
    harness,  # noqa: F401
)

ANN, OLI = PEOPLE[Role.OPERATIONS], COLLEAGUES[Role.OPERATIONS]  # two collectors
SUP, RISK = Role.SUPERVISOR, Role.RISK


async def test_a_supervisor_assigns_a_task_to_an_active_collector_only(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await collector_case(harness)
    call = await a_task(http, account, "collector_call", status="open")

    assert (await post(http, call, "assign", {"assignee": OLI}, Role.OPERATIONS))[0] == 403
    assert await post(http, call, "assign", {"assignee": "no.such"}, SUP) == (
        400,
        {"detail": "no person 'no.such' in the staff directory"},
    )
    risk_person = PEOPLE[RISK]
    assert await post(http, call, "assign", {"assignee": risk_person}, SUP) == (
        400,
        {"detail": f"{risk_person} does not hold a role that works the operations queue"},
    )
    await at_rest(harness, account)
    unchanged = await a_task(http, account, "collector_call", status="open")
    assert unchanged["assignee"] is None  # nothing changed

    status, done = await post(http, call, "assign", {"assignee": OLI, "reason": "zh"}, SUP)
    assert (status, done["message"]) == (200, f"task assigned to {OLI}")
    await at_rest(harness, account)
    mine = await a_task(http, account, "collector_call", assignee=OLI)
    assert (mine["status"], mine["assigned_by"]) == ("claimed", PEOPLE[SUP])
    assert await post(http, call, "claim", {}, Role.OPERATIONS) == (
        400,
        {"detail": f"task is locked to {OLI}"},
    )


async def test_a_visit_is_booked_and_checked_in_to_and_a_call_is_placed(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await collector_case(harness)
    call = await a_task(http, account, "collector_call", status="open")
    await harness.sleep_until_local(10)

    status, rung = await post(
        http, call, "call", {"agent_phone": "+8613800000001"}, Role.OPERATIONS
    )
    assert (status, rung["accepted"]) == (200, True), rung
    assert "your phone rings" in rung["message"]
    assert await post(http, call, "call", {"agent_phone": "0800 1234"}, Role.OPERATIONS) == (
        400,
        {"detail": "agent_phone is not a valid E.164 number"},
    )

    status, _ = await post(http, call, "complete", {"outcome": "not_found"}, Role.OPERATIONS)
    assert status == 200
    await at_rest(harness, account)
    visit = await a_task(http, account, "field_visit", status="open")
    day = (await harness.today() + timedelta(days=1)).isoformat()
    slot = {"day": day, "start": "22:00", "end": "23:00", "collectors": [ANN, OLI]}
    status, late = await post(http, visit, "book-visit", slot, Role.OPERATIONS)
    assert status == 400 and "within the contact hours" in late["detail"]
    # Hours with an offset, or a number (read as seconds past midnight UTC), are refused, not 502.
    for end in ("12:00+08:00", 1.5):
        status, offset = await post(
            http, visit, "book-visit", {**slot, "end": end}, Role.OPERATIONS
        )
        assert (status, offset["detail"]) == (
            400,
            "the slot's hours are the customer's own clock time: give them without an offset",
        )
    slot = {**slot, "start": "10:00", "end": "12:00"}
    status, booked = await post(http, visit, "book-visit", slot, Role.OPERATIONS)
    assert status == 200, booked
    await at_rest(harness, account)
    listed = await a_task(http, account, "field_visit", status="open")
    assert listed["visit_collectors"] == [ANN, OLI] and listed["visit_end"] is not None

    status, early = await post(http, visit, "check-in", {}, Role.OPERATIONS)
    assert status == 400 and "the visit's slot starts at" in early["detail"]
    await harness.sleep_until_local(10)
    status, arrived = await post(http, visit, "check-in", {}, Role.OPERATIONS)
    assert (status, arrived["message"]) == (
        200,
        "checked in; the visit's report is due within a day",
    )
    await at_rest(harness, account)
    listed = await a_task(http, account, "field_visit", status="open")
    assert listed["checked_in_at"] is not None
