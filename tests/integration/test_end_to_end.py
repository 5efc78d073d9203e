"""Every layer at once: a case started on the dev server, run by a worker process, written to
the database, returned by the API process to the people in its staff directory; its payloads
encrypted on the way."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from config.settings import TaskQueues, load_settings
from models.contracts import Account, CaseInput, ContactPoints, case_id
from operations.roles import Role
from readmodel.engine import Database, migrate
from readmodel.tables import AccessLogRow, CaseRow
from temporal.client import connect
from temporal.codec import codec_from_settings, generate_key
from tests.integration.processes import (
    free_port,
    project_process,
    staff_database,
    wait_for_health,
)
from workflows.case import CollectionCaseWorkflow

pytestmark = pytest.mark.integration

MOBILE = "+8613912345678"
NAME = "李秀英"


async def test_a_case_runs_through_every_layer(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"e2e-{time.monotonic_ns()}"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'collections.db'}"
    await asyncio.to_thread(migrate, database_url)
    staffed, _ = await staff_database(database_url)
    collector, engineer = staffed.headers(Role.OPERATIONS), staffed.headers(Role.ENGINEER)
    api_port = free_port()
    env = {
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "DATABASE_URL": database_url,
        "QUEUE_COLLECTIONS": queue,
        "PAYLOAD_KEYS": f"k1:{generate_key()}",
        "API_PORT": str(api_port),
        "COLLECTIONS_POLICY": "default",
        "COLLECTIONS_VAR_DIR": str(tmp_path / "var"),
    }
    settings = load_settings(environ=env, env_file=Path("/nonexistent"))
    assert settings.task_queues == TaskQueues(collections=queue)
    client = await connect(settings, codec_from_settings(settings))
    account = Account(
        account_no="6222020000001234",
        product="card",
        currency="CNY",
        outstanding_minor=880_000,
        overdue_minor=150_000,
        oldest_due_date=date.today() - timedelta(days=12),
    )
    case = CaseInput(
        customer_ref="CUST-E2E",
        customer_name=NAME,
        contact=ContactPoints(mobile=MOBILE),
        account=account,
    )
    api_url = f"http://127.0.0.1:{api_port}"
    with (
        project_process(["worker", "--queue", queue], env, tmp_path / "worker.log"),
        project_process(["api"], env, tmp_path / "api.log") as api,
    ):
        handle = await client.start_workflow(
            CollectionCaseWorkflow.run, case, id=case_id(account.account_no), task_queue=queue
        )
        row = await _wait_for_row(database_url, handle.id)
        assert row.stage == "early" and row.outstanding_minor == 880_000
        assert row.days_past_due >= 12

        await wait_for_health(api_url, api)
        async with httpx.AsyncClient(base_url=api_url, timeout=10) as http:
            answer = await http.get(f"/cases/{account.account_no}", headers=collector)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["case"]["case_id"] == handle.id
            assert body["status"]["stage"] == "early"
            assert body["status"]["outstanding_minor"] == 880_000

            # Searching goes through Temporal's visibility, which catches up in a moment.
            async def listed() -> bool:
                found = await http.get(
                    "/cases/search",
                    params={"stage": "early", "min_dpd": 12},
                    headers=collector,
                )
                assert found.status_code == 200, found.text
                return handle.id in [c["case_id"] for c in found.json()]

            for _ in range(50):
                if await listed():
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the case never showed in the stage search")
            other_stage = await http.get(
                "/cases/search", params={"stage": "legal"}, headers=collector
            )
            assert handle.id not in [c["case_id"] for c in other_stage.json()]

            unknown = await http.get("/cases/0000000000", headers=collector)
            assert unknown.status_code == 404
            anonymous = await http.get(f"/cases/{account.account_no}")
            assert anonymous.status_code == 403

            # What Temporal stores is ciphertext: the history holds neither name nor number,
            # and only an engineer's token opens it through the codec endpoint, on record.
            history = await handle.fetch_history()
            raw = history.to_json()
            assert MOBILE not in raw and NAME not in raw
            start = history.events[0].workflow_execution_started_event_attributes
            body = {"payloads": [MessageToDict(p) for p in start.input.payloads]}
            refused = await http.post("/codec/decode", json=body, headers=collector)
            assert refused.status_code == 403
            decoded = await http.post("/codec/decode", json=body, headers=engineer)
            assert decoded.status_code == 200, decoded.text
            plain = base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
            assert MOBILE in plain and NAME in plain
    assert await _payload_readers(database_url) == ["eng.eve"]


async def _payload_readers(database_url: str) -> list[str]:
    """Who decoded payloads through the codec endpoint, by the access log."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            rows = await session.exec(select(AccessLogRow).where(AccessLogRow.what == "payloads"))
            return [row.person_id for row in rows]
    finally:
        await db.dispose()


async def _wait_for_row(database_url: str, workflow_id: str, within: float = 30.0) -> CaseRow:
    db = Database(database_url)
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with db.session() as session:
                row = (
                    await session.exec(select(CaseRow).where(CaseRow.case_id == workflow_id))
                ).first()
            if row is not None:
                return row
            await asyncio.sleep(0.2)
        raise TimeoutError(f"no row for {workflow_id} within {within} s")
    finally:
        await db.dispose()
