"""Intake refreshes a running case in one call (update-with-start) where the read model holds it
open, on the dev server (the time-skipping server has no update-with-start) with the real case
workflow and a worker: who loaded the file is on the refresh, and a case the read model wrongly
holds open (its workflow ended) starts again and is reported as started."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.converter import PayloadConverter
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import OutboxSender
from config.settings import PROJECT_ROOT
from models.contracts import CaseInput, Stage
from models.intake import parse_intake
from models.people import ACTOR_HEADER, Actor
from operations.gateway import Gateway
from operations.intake import Outcome, run_intake
from readmodel import queries
from readmodel.engine import Database
from tests.workflows.harness import test_settings as settings_for
from workers.main import Services, build_worker
from workflows.case import CollectionCaseWorkflow as Case

pytestmark = pytest.mark.integration


class Calls(Interceptor):
    """Counts the client's calls by kind."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        calls = self

        class Counting(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
                calls.add("start")
                return await super().start_workflow(input)

            async def start_workflow_update(
                self, input: StartWorkflowUpdateInput
            ) -> WorkflowUpdateHandle[Any]:
                calls.add("update")
                return await super().start_workflow_update(input)

            async def start_update_with_start_workflow(
                self, input: StartWorkflowUpdateWithStartInput
            ) -> WorkflowUpdateHandle[Any]:
                calls.add("update_with_start")
                return await super().start_update_with_start_workflow(input)

        return Counting(next)

    def add(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def take(self) -> dict[str, int]:
        counts, self.counts = self.counts, {}
        return counts


def rows(count: int) -> list[tuple[int, CaseInput]]:
    """The sample file's first rows, under account numbers of this test's own."""
    text = (PROJECT_ROOT / "examples" / "overdue-sample.csv").read_text(encoding="utf-8")
    token = uuid.uuid4().hex[:8].upper()
    return [
        (row, with_account(case, account_no=f"W{token}{case.account.account_no}"))
        for row, case in parse_intake(text, as_of=date.today()).valid[:count]
    ]


def with_account(case: CaseInput, **changes: Any) -> CaseInput:
    return dataclasses.replace(case, account=dataclasses.replace(case.account, **changes))


def paid_down(batch: list[tuple[int, CaseInput]], minor: int) -> list[tuple[int, CaseInput]]:
    """The next day's file: each account's overdue and outstanding balances `minor` lower."""
    return [
        (
            row,
            with_account(
                case,
                overdue_minor=case.account.overdue_minor - minor,
                outstanding_minor=case.account.outstanding_minor - minor,
            ),
        )
        for row, case in batch
    ]


async def eventually(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {within} s")


async def test_a_running_case_is_refreshed_in_one_call_and_a_stale_one_starts_again(
    dev_env: WorkflowEnvironment, sqlite_template: Path, tmp_path: Path
) -> None:
    queue = f"tq-{uuid.uuid4().hex[:10]}"
    path = tmp_path / "collections.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    calls = Calls()
    config = dev_env.client.config()
    client = Client(**{**config, "interceptors": [*config["interceptors"], calls]})
    gateway = Gateway(client, answer_within=20).acting(Actor("zhao.min", via="cli"))
    batch = rows(4)
    ids = [f"case-{case.account.account_no}" for _, case in batch]
    services = Services(db=db, sender=OutboxSender())
    try:
        async with build_worker(client, settings_for(queue), queue, services):
            first = await run_intake(gateway, batch, task_queue=queue, db=db)
            assert [o.outcome for o in first.outcomes] == [Outcome.STARTED] * 4
            assert calls.take() == {"start": 4}  # unknown to the read model: plain starts

            async def all_written() -> bool:
                return len(await queries.open_case_ids(db, case_ids=ids)) == 4

            await eventually(all_written, 30, "the four cases in the read model")
            # The read model holds the last case open, but its workflow has ended.
            await client.get_workflow_handle(ids[3]).terminate("test: the workflow ends")

            second = await run_intake(gateway, paid_down(batch, 100), task_queue=queue, db=db)
            assert [o.outcome for o in second.outcomes] == [Outcome.ALREADY_RUNNING] * 3 + [
                Outcome.STARTED
            ]
            assert all(o.refreshed and not o.note for o in second.already_running)
            assert calls.take() == {"update_with_start": 4}  # one call a row, no start, no update

            handle = client.get_workflow_handle_for(Case.run, ids[0])
            timeline = await handle.query(Case.timeline)
            refreshed = [e for e in timeline if e.kind == "balances_refreshed"]
            assert [e.actor for e in refreshed] == ["zhao.min (cli)"]
            status = await handle.query(Case.status)
            assert status.outstanding_minor == batch[0][1].account.outstanding_minor - 100
            restarted = client.get_workflow_handle_for(Case.run, ids[3])
            assert (await restarted.query(Case.status)).stage is not Stage.CLOSED
            # Who loaded the file is on the start, too (the workflow's first event's header).
            history = await restarted.fetch_history()
            start = history.events[0].workflow_execution_started_event_attributes
            header = start.header.fields[ACTOR_HEADER]
            assert PayloadConverter.default.from_payloads([header])[0]["id"] == "zhao.min"
    finally:
        await db.dispose()
