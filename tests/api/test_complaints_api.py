# ruff: noqa: F811  (fixtures are imported by name, below)
"""The complaint register through the API and the command line: a collector records the
customer's complaint on the case, a supervisor finds it in the register with its deadline,
answers it, and counts; a collector may not read the register or answer a complaint."""

from __future__ import annotations

import httpx

from cli import complaints as complaints_cli
from operations.roles import Role
from tests.api.test_cases_api import at_rest, http, started_case  # noqa: F401
from tests.cli.test_case_cli import cli_for
from tests.people import as_role, people, sqlite_db  # noqa: F401
from tests.workflows.harness import CaseHarness, fake_twilio, harness  # noqa: F401

COMPLAINT = {"category": "conduct", "channel": "phone", "asks": "call me on +8613900001111 only"}


async def test_a_complaint_is_recorded_listed_answered_and_counted(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    account = await started_case(harness)
    collector, supervisor = as_role(Role.OPERATIONS), as_role(Role.SUPERVISOR)
    raised = await http.post(f"/cases/{account}/raise_complaint", json=COMPLAINT, headers=collector)
    assert raised.status_code == 200, raised.text
    assert "collection paused" in raised.json()["message"]
    await at_rest(harness, account)  # the case has written the register's row
    blank = await http.post(
        f"/cases/{account}/raise_complaint", json={**COMPLAINT, "asks": " "}, headers=collector
    )
    assert blank.status_code == 400 and "what the customer asks" in blank.json()["detail"]
    unknown = await http.post(
        f"/cases/{account}/raise_complaint", json={**COMPLAINT, "category": "x"}, headers=collector
    )
    assert unknown.status_code == 422  # not one of the categories: the schema says so

    assert (await http.get("/complaints", headers=collector)).status_code == 403
    listed = await http.get("/complaints", params={"show": "open"}, headers=supervisor)
    assert listed.status_code == 200, listed.text
    [complaint] = listed.json()
    assert complaint["account_no"] == account and complaint["category"] == "conduct"
    assert complaint["asks"] == COMPLAINT["asks"] and not complaint["overdue"]
    overdue = await http.get("/complaints", params={"show": "overdue"}, headers=supervisor)
    assert overdue.json() == []

    answer = {"key": complaint["key"], "outcome": "upheld", "response": "collector coached"}
    refused = await http.post(f"/cases/{account}/resolve_complaint", json=answer, headers=collector)
    assert refused.status_code == 403
    answered = await http.post(
        f"/cases/{account}/resolve_complaint", json=answer, headers=supervisor
    )
    assert answered.status_code == 200, answered.text
    await at_rest(harness, account)
    [row] = (await http.get("/complaints", params={"show": "answered"}, headers=supervisor)).json()
    assert (row["outcome"], row["response"], row["resolved_by"]) == (
        "upheld",
        "collector coached",
        "sup.sam",
    )
    counts = (await http.get("/complaints/counts", headers=supervisor)).json()
    assert counts == {"received": 1, "answered": 1, "upheld": 1, "open": 0, "overdue": 0}

    cli = cli_for(harness)
    ran = await cli(
        lambda env: complaints_cli.list_complaints(env, complaints_cli.Show.ALL, account, 10),
        json_output=True,
    )
    [shown] = ran.json()["complaints"]
    assert shown["key"] == complaint["key"] and shown["outcome"] == "upheld"
    assert "+8613900001111" not in ran.out  # the customer's number is masked on screen

    # Each read of the register that showed this customer's complaint is on record: the
    # supervisor's two lists that held it (the overdue list was empty), and the command line.
    looks = (await http.get(f"/cases/{account}/access-log", headers=supervisor)).json()
    assert sorted((look["what"], look["via"]) for look in looks) == [
        ("complaints", "api"),
        ("complaints", "api"),
        ("complaints", "cli"),  # as the host's user (COLLECTIONS_ACTOR or the login name)
    ]
    assert {look["person_id"] for look in looks if look["via"] == "api"} == {"sup.sam"}
    assert {look["reason"] for look in looks} == {"the complaint register"}
