# ruff: noqa: F811  (fixtures are imported by name, below)
"""The risk and legal inbox through the API, against real risk reviews and legal referrals on
the time-skipping server, hosted as the departments host them (`build_worker` for the `risk`
and `legal` queues): who may read and answer what, the workflows' refusals, finished
handoffs, and the dossier as JSON and as a printable document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import OutboxSender
from api import app as api_app
from config.settings import Settings
from models.departments import handoff_id
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import HandoffRow
from tests.fakes.temporal_service import unreached_client
from tests.people import (
    COLLEAGUES,
    PEOPLE,
    People,
    as_colleague,
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.workflows.harness import department_settings
from tests.workflows.test_legal_referral import LegalDesk
from tests.workflows.test_risk_review import new_review
from workers.main import Services, build_worker
from workflows.legal_referral import LegalReferralWorkflow
from workflows.risk_review import RiskReviewWorkflow

Json = dict[str, Any]
RISK_OFFICER, LEGAL_OFFICER = PEOPLE[Role.RISK], PEOPLE[Role.LEGAL]  # who answers, by id


def make_app(client: Client, db: Database) -> FastAPI:
    settings = Settings()
    gateway = Gateway(client, answer_within=settings.answer_timeout_seconds)
    app = api_app.create_app(settings, gateway=gateway, db=db)
    return app


def detail(response: httpx.Response) -> Any:
    return response.json()["detail"]


@dataclass
class Inbox:
    """The departments' workers on a time-skipping server, and the API in front of them."""

    env: WorkflowEnvironment
    db: Database
    http: httpx.AsyncClient
    risk_queue: str
    legal_queue: str

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def call(
        self, method: str, path: str, role: Role, body: Json | None = None, **params: str
    ) -> httpx.Response:
        return await self.http.request(
            method, path, json=body, params=params, headers=as_role(role)
        )

    async def open_review(self, **review: Any) -> WorkflowHandle[Any, Any]:
        """A risk review, started as a case starts it, once the inbox lists it."""
        key, start = new_review(**review)
        handle = await self.env.client.start_workflow(
            RiskReviewWorkflow.run, start, id=key, task_queue=self.risk_queue
        )
        await self.row_once(key, "open")
        return handle

    async def refer(self) -> WorkflowHandle[Any, Any]:
        """A legal referral of a case in the read model, once its dossier is built."""
        start = await LegalDesk(self.env, self.legal_queue, self.db).referral_input()
        key = handoff_id("legal", start.summary.account_no, 1)
        handle = await self.env.client.start_workflow(
            LegalReferralWorkflow.run, start, id=key, task_queue=self.legal_queue
        )
        await self.row_once(key, "referred", dossier=True)
        return handle

    async def row_once(self, key: str, status: str, *, dossier: bool = False) -> HandoffRow:
        row = None
        for _ in range(300):
            async with self.db.session() as session:
                found = await session.exec(
                    select(HandoffRow).where(HandoffRow.idempotency_key == key)
                )
                row = found.first()
            if row is not None and row.status == status and (row.dossier or not dossier):
                return row
            await asyncio.sleep(0.02)
        raise AssertionError(f"handoff {key} never reached {status}: {row}")


@pytest.fixture
async def inbox(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database
) -> AsyncIterator[Inbox]:
    settings = department_settings(task_queue)
    queues = settings.task_queues
    services = Services(db=sqlite_db, sender=OutboxSender())
    app = make_app(ts_env.client, sqlite_db)
    transport = httpx.ASGITransport(app=app)
    async with (
        build_worker(ts_env.client, settings, queues.risk, services),
        build_worker(ts_env.client, settings, queues.legal, services),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):
        yield Inbox(ts_env, sqlite_db, http, queues.risk, queues.legal)


@pytest.fixture(scope="module")
async def offline(
    people: People,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a Temporal client it never reaches: for requests refused before it is
    needed (a role, a body). Its database only knows who calls."""
    db = people.copy(tmp_path_factory.mktemp("offline") / "collections.db")
    transport = httpx.ASGITransport(app=make_app(unreached_client(), db))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client
    await db.dispose()


# --- refused before anything is read --------------------------------------------------------

RISK_KEY, LEGAL_KEY = "risk-6222000000000001-1", "legal-6222000000000001-1"
PROCEED = {"kind": "proceed", "decided_by": RISK_OFFICER, "reason": "no hardship evidence"}
ACCEPT = {"by": LEGAL_OFFICER}
PROCEEDING = {"kind": "filed", "on": "2030-01-02", "by": LEGAL_OFFICER}
PERMISSION = {"allowed": True, "by": LEGAL_OFFICER, "reason": "settlement talks"}
RETURN = {"by": LEGAL_OFFICER, "reason": "below the litigation floor"}
ANSWERS: list[tuple[str, Json, Role]] = [
    (f"{RISK_KEY}/decide", PROCEED, Role.RISK),
    (f"{LEGAL_KEY}/accept", ACCEPT, Role.LEGAL),
    (f"{LEGAL_KEY}/return", RETURN, Role.LEGAL),
    (f"{LEGAL_KEY}/proceedings", PROCEEDING, Role.LEGAL),
    (f"{LEGAL_KEY}/contact-permission", PERMISSION, Role.LEGAL),
]


@pytest.mark.parametrize(("path", "body", "allowed"), ANSWERS)
async def test_only_the_department_answers_its_handoffs(
    offline: httpx.AsyncClient, path: str, body: Json, allowed: Role
) -> None:
    for role in set(Role) - {allowed}:
        answer = await offline.post(f"/handoffs/{path}", json=body, headers=as_role(role))
        assert answer.status_code == 403, (role, answer.text)
        assert detail(answer) == f"only these roles may call this: {allowed}"
    anonymous = await offline.post(f"/handoffs/{path}", json=body)
    assert anonymous.status_code == 403


@pytest.mark.parametrize(
    ("query", "role"),
    [
        ({"department": "legal"}, Role.OPERATIONS),
        ({"department": "legal"}, Role.RISK),
        ({"department": "risk"}, Role.LEGAL),
        ({}, Role.ENGINEER),
        ({}, Role.ADMIN),
    ],
)
async def test_a_department_inbox_is_closed_to_other_roles(
    offline: httpx.AsyncClient, query: dict[str, str], role: Role
) -> None:
    answer = await offline.get("/handoffs", params=query, headers=as_role(role))
    assert answer.status_code == 403, answer.text


@pytest.mark.parametrize(
    ("path", "body", "role", "field"),
    [
        (f"{RISK_KEY}/decide", {**PROCEED, "kind": "maybe"}, Role.RISK, "kind"),
        (f"{RISK_KEY}/decide", {"kind": "proceed", "reason": "x"}, Role.RISK, "decided_by"),
        (
            f"{RISK_KEY}/decide",
            {**PROCEED, "kind": "payment_plan", "instalments": [{"due_date": "soon"}]},
            Role.RISK,
            "due_date",
        ),
        (f"{LEGAL_KEY}/accept", {}, Role.LEGAL, "by"),
        (f"{LEGAL_KEY}/proceedings", {**PROCEEDING, "on": "2030-13-01"}, Role.LEGAL, "on"),
        (f"{LEGAL_KEY}/proceedings", {**PROCEEDING, "kind": "appeal"}, Role.LEGAL, "kind"),
        (
            f"{LEGAL_KEY}/contact-permission",
            {**PERMISSION, "allowed": "perhaps"},
            Role.LEGAL,
            "allowed",
        ),
        (f"{LEGAL_KEY}/return", {"by": LEGAL_OFFICER}, Role.LEGAL, "reason"),
    ],
)
async def test_a_malformed_answer_is_422_naming_the_field(
    offline: httpx.AsyncClient, path: str, body: Json, role: Role, field: str
) -> None:
    answer = await offline.post(f"/handoffs/{path}", json=body, headers=as_role(role))
    assert answer.status_code == 422, answer.text
    assert field in {str(part) for error in detail(answer) for part in error["loc"]}


async def test_an_unknown_department_or_limit_is_422(offline: httpx.AsyncClient) -> None:
    for query in ({"department": "collections"}, {"limit": "0"}):
        answer = await offline.get("/handoffs", params=query, headers=as_role(Role.SUPERVISOR))
        assert answer.status_code == 422, answer.text


# --- the risk inbox ---------------------------------------------------------------------------


async def test_the_risk_team_lists_reads_and_decides_a_review(inbox: Inbox) -> None:
    older = await inbox.open_review(reason="hardship: job loss")
    review = await inbox.open_review(outstanding=300_000, overdue=100_000)

    listed = await inbox.call("GET", "/handoffs", Role.RISK, department="risk")
    assert listed.status_code == 200, listed.text
    assert [h["handoff_key"] for h in listed.json()] == [review.id, older.id]  # newest first
    assert all("dossier" not in h and h["status"] == "open" for h in listed.json())
    for role in (Role.SUPERVISOR, Role.OPERATIONS):  # collectors follow their hardship cases
        assert (await inbox.call("GET", "/handoffs", role)).json() == listed.json()

    shown = await inbox.call("GET", f"/handoffs/{review.id}", Role.OPERATIONS)
    assert shown.status_code == 200, shown.text
    assert shown.json()["handoff"]["department"] == "risk" and shown.json()["referral"] is None
    live = shown.json()["review"]
    assert (live["status"], live["decision"]) == ("open", None)
    assert live["summary"]["overdue_minor"] == 100_000

    today = await inbox.today()

    def plan(*amounts: int) -> Json:
        dues = [today + timedelta(days=30 * n) for n in range(1, len(amounts) + 1)]
        return {
            "kind": "payment_plan",
            "decided_by": RISK_OFFICER,
            "reason": f"{len(amounts)} instalments",
            "instalments": [
                {"due_date": str(due), "amount_minor": amount}
                for due, amount in zip(dues, amounts, strict=True)
            ],
        }

    decide = f"/handoffs/{review.id}/decide"
    refused = await inbox.call("POST", decide, Role.RISK, plan(30_000, 30_000))
    assert refused.status_code == 400
    assert detail(refused) == "the instalments total 60000 CNY, less than the overdue 100000 CNY"
    nobody = {**PROCEED, "decided_by": " "}
    refused = await inbox.call("POST", decide, Role.RISK, nobody)
    assert (refused.status_code, detail(refused)) == (400, "decided_by is required")
    # A risk officer decides as themselves: another person's name is refused.
    someone_else = {**PROCEED, "decided_by": "risk.wang"}
    refused = await inbox.call("POST", decide, Role.RISK, someone_else)
    assert (refused.status_code, detail(refused)) == (
        403,
        f"decided_by is 'risk.wang', but {RISK_OFFICER} is the one acting",
    )

    decided = await inbox.call("POST", decide, Role.RISK, plan(30_000, 30_000, 40_000))
    assert decided.status_code == 200, decided.text
    assert decided.json()["kind"] == "payment_plan"
    assert decided.json()["decided_by"] == RISK_OFFICER

    shown = (await inbox.call("GET", f"/handoffs/{review.id}", Role.RISK)).json()
    assert shown["handoff"]["status"] == "decided"
    assert shown["handoff"]["reason"] == f"payment_plan by {RISK_OFFICER}: 3 instalments"
    assert shown["review"]["status"] == "decided"
    assert len(shown["review"]["decision"]["instalments"]) == 3
    just_decided = await inbox.call("GET", "/handoffs", Role.RISK, status="decided")
    assert [h["handoff_key"] for h in just_decided.json()] == [review.id]

    await review.result()
    again = await inbox.call("POST", decide, Role.RISK, PROCEED)
    assert again.status_code == 409, again.text


async def test_a_review_cancelled_by_its_closing_case_takes_no_late_decision(
    inbox: Inbox,
) -> None:
    """A case paid in full cancels its open review with the reason (as the case's closure
    does): the inbox says so, and a risk officer's late decision is a 409, not a 200."""
    review = await inbox.open_review(reason="hardship: job loss")
    await review.cancel(reason="case closed (paid)")
    row = await inbox.row_once(review.id, "cancelled")
    assert row.reason == "cancelled: case closed (paid)"
    late = await inbox.call("POST", f"/handoffs/{review.id}/decide", Role.RISK, PROCEED)
    assert late.status_code == 409, late.text
    listed = await inbox.call("GET", "/handoffs", Role.RISK, department="risk", status="open")
    assert review.id not in [h["handoff_key"] for h in listed.json()]


async def test_a_review_s_summary_is_for_the_risk_team_and_is_not_printed(inbox: Inbox) -> None:
    review = await inbox.open_review()
    dossier = f"/handoffs/{review.id}/dossier"

    summary = await inbox.call("GET", dossier, Role.RISK)
    assert summary.status_code == 200, summary.text
    assert summary.json()["summary"]["case_id"] == f"case-{review.id.split('-')[1]}"
    for role in (Role.OPERATIONS, Role.LEGAL):
        assert (await inbox.call("GET", dossier, role)).status_code == 403, role
    assert (await inbox.call("GET", f"{dossier}.txt", Role.RISK)).status_code == 404
    # A legal answer to a risk review finds no referral.
    accepted = await inbox.call("POST", f"/handoffs/{review.id}/accept", Role.LEGAL, ACCEPT)
    assert accepted.status_code == 404


async def test_an_unknown_handoff_is_404_everywhere(inbox: Inbox) -> None:
    unknown = "legal-6222999999999999-1"
    for method, path, role, body in [
        ("GET", "", Role.SUPERVISOR, None),
        ("GET", "/dossier", Role.LEGAL, None),
        ("GET", "/dossier.txt", Role.LEGAL, None),
        ("POST", "/accept", Role.LEGAL, ACCEPT),
        ("POST", "/proceedings", Role.LEGAL, PROCEEDING),
        ("POST", "/decide", Role.RISK, PROCEED),
    ]:
        answer = await inbox.call(method, f"/handoffs/{unknown}{path}", role, body)
        assert answer.status_code == 404, (path, answer.text)


# --- the legal inbox --------------------------------------------------------------------------


async def test_legal_reads_the_dossier_accepts_and_records_proceedings_to_closure(
    inbox: Inbox,
) -> None:
    referral = await inbox.refer()
    key = referral.id
    base = f"/handoffs/{key}"

    listed = await inbox.call("GET", "/handoffs", Role.LEGAL, department="legal")
    assert [(h["handoff_key"], h["status"]) for h in listed.json()] == [(key, "referred")]
    assert (await inbox.call("GET", "/handoffs", Role.OPERATIONS)).json() == []
    for role in (Role.OPERATIONS, Role.RISK):
        for path in ("", "/dossier", "/dossier.txt"):
            assert (await inbox.call("GET", base + path, role)).status_code == 403, (role, path)

    shown = (await inbox.call("GET", base, Role.LEGAL)).json()
    assert shown["handoff"]["status"] == "referred" and shown["review"] is None
    assert shown["referral"]["approved_by"] == "wang.fang"
    assert [p["met"] for p in shown["referral"]["preconditions"]] == [True, True, True]

    dossier = await inbox.call("GET", f"{base}/dossier", Role.LEGAL)
    assert dossier.status_code == 200, dossier.text
    assert dossier.json()["handoff_key"] == key and dossier.json()["approved_by"] == "wang.fang"
    assert dossier.json()["account"]["outstanding_minor"] == 900_000
    assert "+8613900139000" not in dossier.text and "李娜" not in dossier.text
    printed = await inbox.call("GET", f"{base}/dossier.txt", Role.SUPERVISOR)
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "text/plain; charset=utf-8"
    assert printed.text.startswith("LEGAL REFERRAL DOSSIER\n")
    assert f"Referral:     {key}" in printed.text and "9,000.00 CNY" in printed.text

    today = str(await inbox.today())
    filed = {**PROCEEDING, "on": today}
    early = await inbox.call("POST", f"{base}/proceedings", Role.LEGAL, filed)
    assert (early.status_code, detail(early)) == (
        400,
        "the referral is not accepted yet: accept it first",
    )
    accepted = await inbox.call("POST", f"{base}/accept", Role.LEGAL, ACCEPT)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["accepted_by"]) == (
        "accepted",
        LEGAL_OFFICER,
    )
    twice = await inbox.http.post(
        f"{base}/accept", json={"by": COLLEAGUES[Role.LEGAL]}, headers=as_colleague(Role.LEGAL)
    )
    assert (twice.status_code, detail(twice)) == (
        400,
        f"the referral was already accepted by {LEGAL_OFFICER}",
    )

    judgment = {**filed, "kind": "judgment"}
    out_of_order = await inbox.call("POST", f"{base}/proceedings", Role.LEGAL, judgment)
    assert out_of_order.status_code == 400
    assert "a judgment comes after the filing: record 'filed' first" in detail(out_of_order)
    recorded = await inbox.call("POST", f"{base}/proceedings", Role.LEGAL, filed)
    assert recorded.status_code == 200, recorded.text
    assert [p["kind"] for p in recorded.json()["proceedings"]] == ["filed"]
    allowed = await inbox.call("POST", f"{base}/contact-permission", Role.LEGAL, PERMISSION)
    assert allowed.status_code == 200 and allowed.json()["contact_allowed"] is True
    await inbox.row_once(key, "filed")
    # The risk team's verb finds no review under a legal key.
    decided = await inbox.call("POST", f"{base}/decide", Role.RISK, PROCEED)
    assert decided.status_code == 404

    close = {**filed, "kind": "closed", "note": "written off after filing"}
    closed = await inbox.call("POST", f"{base}/proceedings", Role.LEGAL, close)
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome"] == {
        "kind": "closed",
        "reason": "written off after filing",
        "amount_minor": None,
    }
    await referral.result()
    late = await inbox.call("POST", f"{base}/proceedings", Role.LEGAL, {**filed, "kind": "hearing"})
    assert late.status_code == 409, late.text
    shown = (await inbox.call("GET", base, Role.SUPERVISOR)).json()
    assert (shown["handoff"]["status"], shown["referral"]["status"]) == ("closed", "closed")


async def test_a_returned_referral_takes_no_further_answer(inbox: Inbox) -> None:
    referral = await inbox.refer()
    base = f"/handoffs/{referral.id}"

    no_reason = await inbox.call("POST", f"{base}/return", Role.LEGAL, {**RETURN, "reason": ""})
    assert (no_reason.status_code, detail(no_reason)) == (400, "a reason is required")
    returned = await inbox.call("POST", f"{base}/return", Role.LEGAL, RETURN)
    assert returned.status_code == 200, returned.text
    assert returned.json()["outcome"]["kind"] == "returned"
    await referral.result()

    for path, body in (("/accept", ACCEPT), ("/contact-permission", PERMISSION)):
        answer = await inbox.call("POST", base + path, Role.LEGAL, body)
        assert answer.status_code == 409, (path, answer.text)
    listed = await inbox.call("GET", "/handoffs", Role.LEGAL, status="returned")
    assert [h["handoff_key"] for h in listed.json()] == [referral.id]
