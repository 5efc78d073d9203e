# ruff: noqa: F811  (fixtures are imported by name, below)
"""Named staff through the HTTP API and the console's sign-in, against the real case workflow:
each person's actions land under their own name, a second person approves what needs two,
a disabled person's session and token stop at once, repeated failures lock an account, and
every look at a customer's contact details or a dossier answers "who saw it, and why"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api import app as api_app
from cli import audit
from config.settings import Settings, TaskQueues
from operations import signin, staff
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.tables import AuditLogRow
from tests.cli.test_case_cli import cli_for
from tests.staffing import PASSWORD, Staffed, add_person, seed_staff
from tests.workflows.harness import (
    CaseHarness,
    departments,  # noqa: F401
    fake_twilio,  # noqa: F401
    harness,  # noqa: F401
    sqlite_db,  # noqa: F401
)

WRITE_OFF = {"reason": "written_off", "note": "uncollectable after legal review"}


class Center:
    """The app over the harness's workers and database, with its directory seeded."""

    def __init__(self, harness: CaseHarness, http: httpx.AsyncClient, people: Staffed) -> None:
        self.harness, self.http, self.people = harness, http, people
        self.tokens: dict[str, str] = {}

    def as_(self, who: Role | str) -> dict[str, str]:
        token = self.people.tokens[who] if isinstance(who, Role) else self.tokens[who]
        return {"X-API-Key": token}

    async def hire(self, person_id: str, roles: list[str]) -> None:
        self.tokens[person_id] = await add_person(self.harness.db, person_id, roles)

    async def case(self) -> str:
        handle = await self.harness.start(outstanding=300_000, overdue=100_000)
        account = handle.id.removeprefix("case-")
        for _ in range(200):  # assessed, and its rows written
            answer = await self.http.get(f"/cases/{account}", headers=self.as_(Role.SUPERVISOR))
            if answer.status_code == 200 and answer.json()["status"] and answer.json()["case"]:
                return account
            await asyncio.sleep(0.05)
        raise AssertionError("the case never came up")

    async def timeline(self, account: str) -> list[tuple[str, str, str]]:
        answer = await self.http.get(
            f"/cases/{account}/timeline", headers=self.as_(Role.SUPERVISOR)
        )
        assert answer.status_code == 200, answer.text
        return [(e["kind"], e["actor"], e["detail"]) for e in answer.json()]


async def _center(harness: CaseHarness) -> AsyncIterator[Center]:
    settings = Settings(task_queues=TaskQueues(collections=harness.queue))
    gateway = Gateway(harness.client, answer_within=10)
    app = api_app.create_app(settings, gateway=gateway, db=harness.db)
    people = await seed_staff(harness.db)
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield Center(harness, http, people)


@pytest.fixture
async def center(harness: CaseHarness) -> AsyncIterator[Center]:
    async for made in _center(harness):
        yield made


@pytest.fixture
async def center_with_departments(departments: CaseHarness) -> AsyncIterator[Center]:
    async for made in _center(departments):
        yield made


def session(cookie: str) -> dict[str, str]:
    """The session cookie as a browser sends it (the client keeps no cookies between calls)."""
    return {"Cookie": f"collections_session={cookie}"}


async def audit_actors(harness: CaseHarness, case_id: str) -> set[tuple[str, str]]:
    async with harness.db.session() as session:
        rows = await session.exec(
            select(AuditLogRow).where(AuditLogRow.case_id == case_id).order_by(col(AuditLogRow.seq))
        )
        return {(r.kind, r.actor) for r in rows}


async def test_two_collectors_actions_land_under_their_own_names(center: Center) -> None:
    await center.hire("ops.bob", ["collector"])
    account = await center.case()
    ann = await center.http.post(
        f"/cases/{account}/pause",
        json={"reason": "asked for a week"},
        headers=center.as_(Role.OPERATIONS),
    )
    assert ann.status_code == 200, ann.text
    bob = await center.http.post(
        f"/cases/{account}/resume", json={"reason": "called back"}, headers=center.as_("ops.bob")
    )
    assert bob.status_code == 200, bob.text
    paid = {"amount_minor": 10_000, "currency": "CNY", "payment_ref": "B-1"}
    assert (
        await center.http.post(
            f"/cases/{account}/record_payment", json=paid, headers=center.as_("ops.bob")
        )
    ).status_code == 200

    by = {(kind, actor) for kind, actor, _ in await center.timeline(account)}
    assert {
        ("paused", "ops.ann (api)"),
        ("resumed", "ops.bob (api)"),
        ("payment", "ops.bob (api)"),
    } <= by
    for _ in range(200):
        rows = await audit_actors(center.harness, f"case-{account}")
        if ("payment", "ops.bob (api)") in rows:
            break
        await asyncio.sleep(0.05)
    assert {("paused", "ops.ann (api)"), ("resumed", "ops.bob (api)")} <= rows
    assert ("payment", "ops.bob (api)") in rows


async def test_a_write_off_waits_for_a_second_supervisor(center: Center) -> None:
    await center.hire("sup.sue", ["supervisor"])
    account = await center.case()
    asked = await center.http.post(
        f"/cases/{account}/close", json=WRITE_OFF, headers=center.as_(Role.SUPERVISOR)
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["approval_id"]
    assert "writing off a case needs a second person" in asked.json()["message"]
    case = await center.http.get(f"/cases/{account}", headers=center.as_(Role.SUPERVISOR))
    assert case.json()["status"]["stage"] != "closed"

    listed = await center.http.get("/approvals", headers=center.as_("sup.sue"))
    assert [(a["approval_id"], a["requested_by"]) for a in listed.json()] == [
        (request_id, "sup.sam")
    ]
    own = await center.http.post(
        f"/approvals/{request_id}/approve", headers=center.as_(Role.SUPERVISOR)
    )
    assert own.status_code == 403
    assert "sup.sam cannot approve their own request" in own.json()["detail"]
    collector = await center.http.post(
        f"/approvals/{request_id}/approve", headers=center.as_(Role.OPERATIONS)
    )
    assert collector.status_code == 403

    approved = await center.http.post(
        f"/approvals/{request_id}/approve", headers=center.as_("sup.sue")
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["stage"] == "closed"
    closing = [e for e in await center.timeline(account) if "written_off" in e[2]]
    assert closing and closing[0][1] == "sup.sam (api), approved by sup.sue"
    again = await center.http.post(
        f"/approvals/{request_id}/approve", headers=center.as_("sup.sue")
    )
    assert again.status_code == 409
    assert (await center.http.get("/approvals", headers=center.as_("sup.sue"))).json() == []


async def test_a_rejected_request_changes_nothing_and_needs_a_reason(center: Center) -> None:
    await center.hire("sup.sue", ["supervisor"])
    account = await center.case()
    asked = await center.http.post(
        f"/cases/{account}/resolve_dispute",
        json={"upheld": True, "reason": "the bank's error"},
        headers=center.as_(Role.SUPERVISOR),
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["approval_id"]
    blank = await center.http.post(
        f"/approvals/{request_id}/reject", json={"reason": " "}, headers=center.as_("sup.sue")
    )
    assert blank.status_code == 400
    rejected = await center.http.post(
        f"/approvals/{request_id}/reject",
        json={"reason": "no evidence of an error"},
        headers=center.as_("sup.sue"),
    )
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decided_by"]) == ("rejected", "sup.sue")
    case = await center.http.get(f"/cases/{account}", headers=center.as_(Role.SUPERVISOR))
    assert case.json()["status"]["stage"] != "closed"
    unknown = await center.http.post("/approvals/9999/approve", headers=center.as_("sup.sue"))
    assert unknown.status_code == 404


async def test_a_role_the_person_lacks_is_403_and_nothing_is_done(center: Center) -> None:
    account = await center.case()
    refused = await center.http.post(
        f"/cases/{account}/close",
        json={"reason": "manual", "note": "not mine to close"},
        headers=center.as_(Role.OPERATIONS),
    )
    assert refused.status_code == 403
    admin = await center.http.get(f"/cases/{account}", headers=center.as_(Role.ADMIN))
    assert admin.status_code == 403  # an admin manages staff, not cases
    stages = [e for e in await center.timeline(account) if "-> closed" in e[2]]
    assert stages == []


async def test_naming_someone_else_in_an_answer_is_refused(center: Center) -> None:
    await center.hire("ops.bob", ["collector"])
    account = await center.case()
    async with center.harness.db.session() as session:
        from readmodel.tables import HumanTaskRow

        tasks = list(await session.exec(select(HumanTaskRow)))
    if not tasks:  # no task yet on a fresh case: a dispute opens one for supervisors
        await center.http.post(
            f"/cases/{account}/raise_dispute",
            json={"reason": "not my card"},
            headers=center.as_(Role.OPERATIONS),
        )
        for _ in range(200):
            async with center.harness.db.session() as session:
                tasks = list(await session.exec(select(HumanTaskRow)))
            if tasks:
                break
            await asyncio.sleep(0.05)
    [task] = tasks
    claimed_for_bob = await center.http.post(
        f"/tasks/{task.idempotency_key}/claim",
        json={"collector": "ops.bob"},
        headers=center.as_(Role.SUPERVISOR),
    )
    assert claimed_for_bob.status_code == 403
    assert "but sup.sam is the one acting" in claimed_for_bob.json()["detail"]
    mine = await center.http.post(
        f"/tasks/{task.idempotency_key}/claim", json={}, headers=center.as_(Role.SUPERVISOR)
    )
    assert mine.status_code == 200, mine.text
    assert "claimed by sup.sam" in mine.json()["message"]


async def test_disabling_a_person_stops_their_session_and_token_at_once(center: Center) -> None:
    http = center.http
    signed = await http.post("/console/signin", data={"staff": "ops.ann", "password": PASSWORD})
    assert signed.status_code == 303
    cookie = signed.cookies["collections_session"]
    http.cookies.clear()
    me = await http.get("/me", headers=session(cookie))
    assert me.json()["person_id"] == "ops.ann"
    assert (await http.get("/me", headers=center.as_(Role.OPERATIONS))).status_code == 200

    await staff.set_active(center.harness.db, "ops.ann", False)
    assert (await http.get("/me", headers=session(cookie))).status_code == 403
    assert (await http.get("/me", headers=center.as_(Role.OPERATIONS))).status_code == 403
    page = await http.get("/console/cases", headers=session(cookie))
    assert page.status_code == 303 and page.headers["location"].startswith("/console/signin")


async def test_a_forged_or_signed_out_session_changes_nothing(center: Center) -> None:
    http = center.http
    forged = await http.post(
        "/cases/6222000000000001/pause",
        json={"reason": "x"},
        headers=session("forged-session-id"),
    )
    assert forged.status_code == 403
    assert "sign in" in forged.json()["detail"]
    signed = await http.post("/console/signin", data={"staff": "sup.sam", "password": PASSWORD})
    cookie = signed.cookies["collections_session"]
    http.cookies.clear()
    await http.post("/console/signout", headers=session(cookie))
    assert (await http.get("/me", headers=session(cookie))).status_code == 403


async def test_repeated_failures_lock_the_account_with_one_message_for_all(
    center: Center,
) -> None:
    http = center.http

    async def attempt(person: str, password: str) -> httpx.Response:
        return await http.post("/console/signin", data={"staff": person, "password": password})

    unknown = await attempt("no.such.person", "whatever it is")
    wrong = await attempt("ops.ann", "not the password")
    assert unknown.status_code == wrong.status_code == 403
    assert (
        'data-error="signin_failed"' in unknown.text and 'data-error="signin_failed"' in wrong.text
    )
    for _ in range(signin.LOCKOUT_AFTER - 1):
        await attempt("ops.ann", "not the password")
    locked = await attempt("ops.ann", PASSWORD)
    assert locked.status_code == 403 and 'data-error="signin_failed"' in locked.text
    assert "collections_session" not in locked.cookies
    assert (await attempt("sup.sam", PASSWORD)).status_code == 303  # others are not locked


async def test_a_one_time_password_must_be_changed_before_anything_else(center: Center) -> None:
    http = center.http
    one_time = await staff.add(center.harness.db, "ops.new", name="New", roles=["collector"])
    signed = await http.post("/console/signin", data={"staff": "ops.new", "password": one_time})
    assert signed.status_code == 303 and signed.headers["location"].startswith("/console/password")
    cookie = session(signed.cookies["collections_session"])
    http.cookies.clear()
    elsewhere = await http.get("/console/cases", headers=cookie)
    assert elsewhere.headers["location"].startswith("/console/password")
    assert (await http.get("/me", headers=cookie)).status_code == 403
    changed = await http.post(
        "/console/password",
        data={"current": one_time, "new": "my own password 1", "confirm": "my own password 1"},
        headers=cookie,
    )
    assert changed.status_code == 303
    fresh = session(changed.cookies["collections_session"])
    http.cookies.clear()
    assert (await http.get("/me", headers=fresh)).json()["person_id"] == "ops.new"
    assert (await http.get("/me", headers=cookie)).status_code == 403  # the old session ended


async def test_who_saw_a_customers_phone_number_and_dossier_and_why(
    center_with_departments: Center,
) -> None:
    center = center_with_departments
    http = center.http
    account = await center.case()
    blank = await http.get(
        f"/cases/{account}/contact-details",
        params={"reason": ""},
        headers=center.as_(Role.OPERATIONS),
    )
    assert blank.status_code == 422
    shown = await http.get(
        f"/cases/{account}/contact-details",
        params={"reason": "calling the customer"},
        headers=center.as_(Role.OPERATIONS),
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["name"] == "张伟" and shown.json()["mobile"].startswith("+86138")
    engineer = await http.get(
        f"/cases/{account}/contact-details",
        params={"reason": "curious"},
        headers=center.as_(Role.ENGINEER),
    )
    assert engineer.status_code == 403

    hardship = await http.post(
        f"/cases/{account}/report_hardship",
        json={"reason": "lost job"},
        headers=center.as_(Role.OPERATIONS),
    )
    assert hardship.status_code == 200, hardship.text
    key = await _handoff_key(center, account)
    dossier = await http.get(f"/handoffs/{key}/dossier", headers=center.as_(Role.RISK))
    assert dossier.status_code == 200, dossier.text

    log = await http.get(f"/cases/{account}/access-log", headers=center.as_(Role.SUPERVISOR))
    assert log.status_code == 200
    seen = [(e["person_id"], e["via"], e["what"], e["reason"]) for e in log.json()]
    assert seen == [
        ("risk.rui", "api", "dossier", f"risk handoff work ({key})"),
        ("ops.ann", "api", "contact_details", "calling the customer"),
    ]
    assert (
        await http.get(f"/cases/{account}/access-log", headers=center.as_(Role.OPERATIONS))
    ).status_code == 403
    # The same answer on the command line: `collections audit who-saw <account_no>`.
    ran = await cli_for(center.harness)(
        lambda env: audit.show_who_saw(env, account), json_output=True
    )
    assert ran.code == 0
    assert [(r["person_id"], r["what"]) for r in ran.json()["reads"]] == [
        ("risk.rui", "dossier"),
        ("ops.ann", "contact_details"),
    ]


async def _handoff_key(center: Center, account: str) -> str:
    for _ in range(200):
        listed = await center.http.get(
            "/handoffs", params={"case_id": f"case-{account}"}, headers=center.as_(Role.RISK)
        )
        rows: list[dict[str, Any]] = listed.json()
        if rows:
            return str(rows[0]["handoff_key"])
        await asyncio.sleep(0.05)
    raise AssertionError("no risk handoff")


async def test_no_request_is_filed_for_an_unknown_or_closed_case(center: Center) -> None:
    unknown = await center.http.post(
        "/cases/0000000000/close", json=WRITE_OFF, headers=center.as_(Role.SUPERVISOR)
    )
    assert unknown.status_code == 404
    account = await center.case()
    closed = await center.http.post(
        f"/cases/{account}/close",
        json={"reason": "manual", "note": "moved to another system"},
        headers=center.as_(Role.SUPERVISOR),
    )
    assert closed.status_code == 200, closed.text
    late = await center.http.post(
        f"/cases/{account}/close", json=WRITE_OFF, headers=center.as_(Role.SUPERVISOR)
    )
    assert late.status_code == 409
    assert (await center.http.get("/approvals", headers=center.as_(Role.SUPERVISOR))).json() == []
