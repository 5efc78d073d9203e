"""The daily intake's schedule on the session's dev server (the time-skipping server has no
schedules): created as `up` creates it, a file dropped, the schedule triggered through the
`collections schedule` command's core, the file loaded once (its cases running on the dev
server, in an in-process worker); a second trigger loads nothing. And `collections schedule
ensure` makes both schedules."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleHandle,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import OutboxSender
from cli import schedule as schedule_cli
from models.allocation import ALLOCATION_SCHEDULE
from models.daily_intake import DAILY_INTAKE_SCHEDULE, DailyIntakeResult
from models.retention import RETENTION_SCHEDULE
from operations import schedules
from operations.gateway import Gateway
from readmodel.engine import Database
from readmodel.intake_files import list_intake_files
from tests.cli.test_staff_cli import Local
from tests.workflows import harness as workflow_harness
from tests.workflows.test_daily_intake import drop, intake_settings, overdue_file
from workers.main import Services, build_worker

pytestmark = pytest.mark.integration

sqlite_db = workflow_harness.sqlite_db


@pytest.fixture
async def schedule(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A schedule id of this test's own on the shared dev server, deleted afterwards."""
    schedule_id = f"collections-daily-intake-{uuid.uuid4().hex[:8]}"
    yield schedule_id
    await dev_env.client.get_schedule_handle(schedule_id).delete()


async def run_after(
    handle: ScheduleHandle, previous: str = "", within: float = 20.0
) -> ScheduleActionExecutionStartWorkflow:
    """The schedule's newest run, once it is not the run `previous`. (Two runs triggered within
    one second share a workflow id: the schedule's id and the time to the second.)"""
    for _ in range(int(within * 10)):
        recent = (await handle.describe()).info.recent_actions
        action = recent[-1].action if recent else None
        if isinstance(action, ScheduleActionExecutionStartWorkflow) and (
            action.first_execution_run_id != previous
        ):
            return action
        await asyncio.sleep(0.1)
    raise AssertionError(f"the schedule started no new run within {within} s")


async def result_of(client: Client, run: ScheduleActionExecutionStartWorkflow) -> DailyIntakeResult:
    handle = client.get_workflow_handle(
        run.workflow_id, run_id=run.first_execution_run_id, result_type=DailyIntakeResult
    )
    return await asyncio.wait_for(handle.result(), 30)


async def test_the_schedule_loads_a_dropped_file_once(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    sqlite_db: Database,
    schedule: str,
    tmp_path: Path,
) -> None:
    client = dev_env.client
    gateway = Gateway(client)
    settings = intake_settings(task_queue, tmp_path)

    assert await schedules.ensure_intake(gateway, settings, schedule_id=schedule) == "created"
    handle = client.get_schedule_handle(schedule)
    described = await handle.describe()
    [interval] = described.schedule.spec.intervals
    assert (interval.every, interval.offset) == (timedelta(hours=1), timedelta(minutes=5))
    assert described.info.next_action_times[0].minute == 5

    accounts, text = overdue_file()
    drop(settings.intake_drop_dir / "overdue.csv", text)

    cli = Local(sqlite_db, temporal=client)
    services = Services(db=sqlite_db, sender=OutboxSender())
    async with build_worker(client, settings, task_queue, services):
        ran = await cli(lambda env: schedule_cli.change(env, "trigger", schedule, ""))
        assert ran.code == 0, ran.err
        first = await run_after(handle)
        loaded = await result_of(client, first)

        ran = await cli(lambda env: schedule_cli.change(env, "trigger", schedule, ""))
        assert ran.code == 0, ran.err
        second = await run_after(handle, previous=first.first_execution_run_id)
        again = await result_of(client, second)

    [report] = loaded.loaded
    assert (report.name, report.started, report.rejected) == ("overdue.csv", 2, 1)
    for account_no in accounts:
        described_case = await client.get_workflow_handle(f"case-{account_no}").describe()
        assert described_case.status is WorkflowExecutionStatus.RUNNING
    assert not (settings.intake_drop_dir / "overdue.csv").exists()
    assert again.loaded == () and again.already_loaded == ()
    assert await list_intake_files(sqlite_db) == [report]


async def test_schedule_ensure_makes_both_schedules(
    dev_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database, tmp_path: Path
) -> None:
    client = dev_env.client
    settings = intake_settings(task_queue, tmp_path)

    try:
        ran = await Local(sqlite_db, temporal=client)(
            lambda env: schedule_cli.ensure_schedules(dataclasses.replace(env, settings=settings))
        )
        assert ran.code == 0, ran.err
        assert ran.out.splitlines()[0].startswith(f"created {RETENTION_SCHEDULE}: daily")
        assert ran.out.splitlines()[1].startswith(f"created {DAILY_INTAKE_SCHEDULE}: hourly")
        assert ran.out.splitlines()[2].startswith(f"created {ALLOCATION_SCHEDULE}: every 5 min")
        intake = await client.get_schedule_handle(DAILY_INTAKE_SCHEDULE).describe()
        action = intake.schedule.action
        assert getattr(action, "workflow", None) == "DailyIntake"
    finally:
        for schedule_id in (RETENTION_SCHEDULE, DAILY_INTAKE_SCHEDULE, ALLOCATION_SCHEDULE):
            with contextlib.suppress(RPCError):
                await client.get_schedule_handle(schedule_id).delete()
