# ruff: noqa: F811  (fixtures are imported by name, below)
"""`GET /metrics` and `GET /ready` through the real app.

Metrics: after a case is started and acted on through the API, a scrape without signing in
shows the cases by stage, each update's and query's latency by name and outcome, the intake's
rows, and nothing that names a case or a person; the backlog's tasks and approvals are counted
from the read model, and kept for a few seconds. Readiness needs the Temporal dev server: the
time-skipping server does not describe task queues.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import OutboxSender
from api.app import create_app
from config.settings import Settings, TaskQueues
from models.tasks import TaskStatus
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import ApprovalRow, HumanTaskRow
from tests.api.test_cases_api import PAYMENT, at_rest, intake_row, make_app, settings_for
from tests.people import as_role, people, sqlite_db  # noqa: F401
from tests.workflows.harness import (
    CaseHarness,
    department_workers,
    fake_twilio,  # noqa: F401
    harness,  # noqa: F401
)

ACCOUNT = "6222000077770001"
NAME, MOBILE = "张伟", "+8613800138000"  # `intake_row`'s customer
Labels = frozenset[tuple[str, str]]


def samples(text: str) -> dict[tuple[str, Labels], float]:
    """Every sample of a scrape, read as Prometheus reads it."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: dict[tuple[str, Labels], float], name: str, **labels: str) -> float:
    """A sample's value; 0 for one not exported (yet)."""
    return scrape.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient) -> tuple[str, dict[tuple[str, Labels], float]]:
    response = await http.get("/metrics")  # no credentials: a Prometheus server has none
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text, samples(response.text)


@pytest.fixture
async def http(harness: CaseHarness) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(settings_for(harness.queue), harness.client, harness.db)
    async with client_of(app) as client:
        yield client


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_a_scrape_shows_cases_by_stage_and_each_updates_latency_and_no_one(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    # The process's counts so far (other tests' too); a scrape now would fix the backlog's
    # count for the next few seconds.
    before = samples(generate_latest(REGISTRY).decode())
    ops = as_role(Role.OPERATIONS)
    started = await http.post("/cases", json=intake_row(ACCOUNT), headers=ops)
    assert started.status_code == 201, started.text
    await at_rest(harness, ACCOUNT)
    paid = await http.post(f"/cases/{ACCOUNT}/record_payment", json=PAYMENT, headers=ops)
    assert paid.status_code == 200, paid.text
    too_much = {**PAYMENT, "payment_ref": "P-2", "amount_minor": 10_000_000}
    refused = await http.post(f"/cases/{ACCOUNT}/record_payment", json=too_much, headers=ops)
    assert refused.status_code == 400, refused.text
    looked = await http.get(f"/cases/{ACCOUNT}", headers=ops)
    assert looked.status_code == 200, looked.text

    text, after = await scrape(http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert {
        stage: value(after, "collections_cases_open", stage=stage)
        for stage in ("assessment", "early", "collector", "risk_review", "legal")
    } == {"assessment": 0, "early": 1, "collector": 0, "risk_review": 0, "legal": 0}
    assert ("collections_cases_open", frozenset({("stage", "closed")})) not in after
    update = "collections_workflow_update_seconds"
    for outcome in ("accepted", "refused"):
        assert grew(f"{update}_count", update="record_payment", outcome=outcome) == 1
        assert grew(f"{update}_bucket", update="record_payment", outcome=outcome, le="+Inf") == 1
    assert grew(f"{update}_bucket", update="record_payment", outcome="accepted", le="30.0") == 1
    query = "collections_workflow_query_seconds_count"
    assert grew(query, query="status", outcome="accepted") >= 1
    assert grew("collections_intake_rows_total", outcome="started") == 1
    for family in ("collections_tasks_open", "collections_tasks_overdue"):
        assert f"# TYPE {family} gauge" in text
    for personal in (ACCOUNT, NAME, MOBILE, MOBILE.removeprefix("+86"), "case-"):
        assert personal not in text


async def test_the_backlog_counts_open_and_overdue_tasks_and_pending_approvals(
    sqlite_db: Database,
) -> None:
    now = datetime.now(UTC)
    await add(
        sqlite_db,
        task("t1", "collectors", TaskStatus.OPEN, now - timedelta(hours=1)),
        task("t2", "collectors", TaskStatus.CLAIMED, now + timedelta(days=1)),
        task("t3", "supervisors", TaskStatus.ESCALATED, now - timedelta(days=2)),
        task("t4", "collectors", TaskStatus.DONE, now - timedelta(days=3)),
        approval("close", "pending"),
        approval("close", "approved"),
        approval("resolve_dispute", "pending"),
    )
    async with client_of(create_app(Settings(), db=sqlite_db)) as http:
        _, counted = await scrape(http)
        await add(sqlite_db, task("t5", "collectors", TaskStatus.OPEN, now - timedelta(hours=1)))
        _, again = await scrape(http)

    assert {
        (name, queue): value(counted, f"collections_tasks_{name}", queue=queue)
        for name in ("open", "overdue")
        for queue in ("collectors", "supervisors")
    } == {
        ("open", "collectors"): 2,
        ("open", "supervisors"): 1,
        ("overdue", "collectors"): 1,
        ("overdue", "supervisors"): 1,
    }
    assert value(counted, "collections_approvals_pending", action="close") == 1
    assert value(counted, "collections_approvals_pending", action="resolve_dispute") == 1
    # Counted at most every `operations.metrics.FRESH_FOR` seconds: the next scrape, at once,
    # is answered from the same count.
    assert value(again, "collections_tasks_overdue", queue="collectors") == 1


def task(key: str, queue: str, status: TaskStatus, deadline: datetime) -> HumanTaskRow:
    return HumanTaskRow(
        idempotency_key=key,
        case_id="case-6222000077770009",
        kind="call_customer",
        queue=queue,
        status=status.value,
        deadline=deadline,
        created_at=deadline - timedelta(days=2),
    )


def approval(action: str, status: str) -> ApprovalRow:
    return ApprovalRow(
        case_id="case-6222000077770009",
        action=action,
        input={},
        needs="a second supervisor",
        status=status,
        requested_by="sup.sam",
        requested_via="api",
        requested_roles="supervisor",
        requested_at=datetime.now(UTC),
    )


async def add(db: Database, *rows: Any) -> None:
    async with db.session() as session:
        session.add_all(rows)


# --- readiness --------------------------------------------------------------------------------


async def ready(app: FastAPI, *, until: int) -> httpx.Response:
    """`/ready`'s answer, asked again while it is not `until` (a worker's first poll takes a
    moment to show); the last answer after ten seconds."""
    async with client_of(app) as http:
        for _ in range(100):
            response = await http.get("/ready")
            if response.status_code == until:
                break
            await asyncio.sleep(0.1)
    return response


async def test_ready_once_a_worker_polls_each_queue_and_503_naming_one_that_has_none(
    dev_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database
) -> None:
    async with department_workers(dev_env, task_queue, sqlite_db, OutboxSender()) as settings:
        gateway = Gateway(dev_env.client)
        answer = await ready(create_app(settings, gateway=gateway, db=sqlite_db), until=200)
        assert answer.status_code == 200, answer.text
        polled = answer.json()
        assert polled.pop("queues").keys() == set(settings.task_queues.all())
        assert polled == {"status": "ready", "temporal": "ok", "database": "ok", "missing": []}
        assert all(n >= 1 for n in answer.json()["queues"].values())

        unpolled = f"{task_queue}-nobody"
        queues = dataclasses.replace(settings.task_queues, legal=unpolled)
        elsewhere = dataclasses.replace(settings, task_queues=queues)
        answer = await ready(create_app(elsewhere, gateway=gateway, db=sqlite_db), until=503)

    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["temporal"], body["database"]) == ("not_ready", "ok", "ok")
    assert body["queues"][unpolled] == 0
    assert body["missing"] == [f"a worker polling {unpolled}"]


async def test_not_ready_while_temporal_has_not_answered(sqlite_db: Database) -> None:
    settings = Settings(task_queues=TaskQueues("c", "r", "l"))
    answer = await ready(create_app(settings, db=sqlite_db), until=503)  # no gateway yet
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "not_ready",
        "temporal": "unreachable",
        "database": "ok",
        "queues": {"c": None, "r": None, "l": None},
        "missing": ["temporal", "a worker polling c", "a worker polling r", "a worker polling l"],
    }
