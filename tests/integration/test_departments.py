"""The three departments as three processes: a case reaches legal, and legal's acceptance is
seen by the case. A policy whose days are seconds makes 30 days between two contacts half a
minute."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.testing import WorkflowEnvironment

from config.settings import load_settings
from models.case_status import CaseStatus
from models.contracts import Account, CaseInput, ContactPoints, Stage, case_id
from models.departments import AcceptReferralInput
from models.tasks import CompleteTaskInput, TaskKind, TaskOutcome
from readmodel.engine import migrate
from temporal.client import connect
from temporal.codec import codec_from_settings, generate_key
from tests.integration.processes import project_process
from workflows.case import CollectionCaseWorkflow as Case
from workflows.case_handoffs import EVIDENCE_GAP_DAYS
from workflows.legal_referral import LegalReferralWorkflow

pytestmark = pytest.mark.integration

POLICY = Path(__file__).parent / "policies" / "fast_legal.toml"
GAP = timedelta(seconds=EVIDENCE_GAP_DAYS)  # the policy's days are seconds
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], within: float, what: str) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: not within {within} s")


async def complete_open(
    handle: WorkflowHandle[Case, CaseStatus], kind: TaskKind, outcome: TaskOutcome, who: str
) -> None:
    async def open_task() -> str | None:
        try:
            tasks = (await handle.query(Case.status)).open_tasks
        except WorkflowQueryFailedError:  # still being assessed
            return None
        return next((t.key for t in tasks if t.kind is kind), None)

    key = await eventually(open_task, 30, f"an open {kind}")
    await handle.execute_update(
        Case.complete_task, CompleteTaskInput(task_key=key, collector=who, outcome=outcome)
    )


async def test_a_case_reaches_legal_across_three_department_workers(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    suffix = f"{time.monotonic_ns()}"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'collections.db'}"
    await asyncio.to_thread(migrate, database_url)
    env = {
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "DATABASE_URL": database_url,
        "QUEUE_COLLECTIONS": f"collections-{suffix}",
        "QUEUE_RISK": f"risk-{suffix}",
        "QUEUE_LEGAL": f"legal-{suffix}",
        "COLLECTIONS_POLICY": str(POLICY),
        "COLLECTIONS_VAR_DIR": str(tmp_path / "var"),
        "PAYLOAD_KEYS": f"k1:{generate_key()}",
    }
    settings = load_settings(environ=env, env_file=Path("/nonexistent"))
    client: Client = await connect(settings, codec_from_settings(settings))
    account = Account(
        account_no=f"62220300{suffix[-8:]}",
        product="card",
        currency="CNY",
        outstanding_minor=1_200_000,
        overdue_minor=600_000,
        oldest_due_date=date.today() - timedelta(days=95),
    )
    case = CaseInput(
        customer_ref="CUST-LEGAL", contact=ContactPoints(mobile="+8613700001111"), account=account
    )
    queues = settings.task_queues
    with (
        project_process(
            ["worker", "--queue", queues.collections], env, tmp_path / "collections.log"
        ),
        project_process(["worker", "--queue", queues.risk], env, tmp_path / "risk.log"),
        project_process(["worker", "--queue", queues.legal], env, tmp_path / "legal.log"),
    ):
        handle = await client.start_workflow(
            Case.run, case, id=case_id(account.account_no), task_queue=queues.collections
        )
        # Two effective contacts by the collectors, 30 (one-second) days apart.
        await complete_open(handle, TaskKind.COLLECTOR_CALL, TaskOutcome.REFUSED, "c-1")
        contacted = time.monotonic()

        # The rule under test is time itself: no event marks the 30 days, so this waits them
        # out (and a second more), checking all along that the case holds the referral back;
        # the contacts' own times are checked below.
        async def gap_passed() -> bool | None:
            tasks = (await handle.query(Case.status)).open_tasks
            early = [t for t in tasks if t.kind is TaskKind.SUPERVISOR_APPROVAL]
            assert not early, "a referral asked for after one effective contact"
            return time.monotonic() > contacted + GAP.total_seconds() + 1 or None

        await eventually(gap_passed, 90, f"{EVIDENCE_GAP_DAYS} days with one contact")
        await complete_open(handle, TaskKind.COLLECTOR_CALL, TaskOutcome.REFUSED, "c-1")
        contacts = await _tasks_done(handle)
        assert len(contacts) == 2 and contacts[1] - contacts[0] >= GAP, contacts
        await complete_open(handle, TaskKind.SUPERVISOR_APPROVAL, TaskOutcome.APPROVED, "sup-1")

        async def referral() -> str | None:
            status = await handle.query(Case.status)
            return status.legal_referral if status.stage is Stage.LEGAL else None

        referral_id = await eventually(referral, 30, "the case in legal")
        legal = client.get_workflow_handle_for(LegalReferralWorkflow.run, referral_id)
        described = await eventually(
            lambda: _describe(legal), 30, "the referral on the legal queue"
        )
        assert described == queues.legal
        await legal.execute_update(
            LegalReferralWorkflow.accept, AcceptReferralInput(by="counsel-9")
        )

        async def accepted() -> str | None:
            return (await handle.query(Case.status)).legal_accepted_by or None

        assert await eventually(accepted, 30, "the case hearing of the acceptance") == "counsel-9"


async def _tasks_done(handle: WorkflowHandle[Case, CaseStatus]) -> list[datetime]:
    """When the case's tasks were completed, by its own clock (its timeline)."""
    return [e.at for e in await handle.query(Case.timeline) if e.kind == "task_done"]


async def _describe(handle: WorkflowHandle[LegalReferralWorkflow, object]) -> str | None:
    try:
        return (await handle.describe()).task_queue
    except Exception:
        return None
