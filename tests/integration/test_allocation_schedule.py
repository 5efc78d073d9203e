"""The allocator's schedule on the session's dev server (the time-skipping server has no
schedules): created every `ALLOCATE_EVERY_MINUTES` as `up` creates it, brought up to date when
the setting changes, a tick's run done by the production worker, and removed at 0."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import OutboxSender
from models.allocation import ALLOCATION_WORKFLOW, AllocationRun
from operations import schedules
from operations.gateway import Gateway
from readmodel.engine import Database
from tests.integration.test_daily_intake_schedule import run_after
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import test_settings as settings_for
from workers.main import Services, build_worker

pytestmark = pytest.mark.integration

sqlite_db = workflow_harness.sqlite_db


@pytest.fixture
async def schedule(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A schedule id of this test's own on the shared dev server, deleted afterwards."""
    schedule_id = f"collections-allocation-{uuid.uuid4().hex[:8]}"
    yield schedule_id
    with contextlib.suppress(RPCError):
        await dev_env.client.get_schedule_handle(schedule_id).delete()


async def test_the_allocator_runs_on_its_schedule_and_zero_minutes_removes_it(
    dev_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database, schedule: str
) -> None:
    client = dev_env.client
    gateway = Gateway(client)
    settings = settings_for(task_queue)
    assert settings.allocate_every_minutes == 5

    assert await schedules.ensure_allocation(gateway, settings, schedule_id=schedule) == "created"
    handle = client.get_schedule_handle(schedule)
    described = await handle.describe()
    [interval] = described.schedule.spec.intervals
    assert interval.every == timedelta(minutes=5)
    assert getattr(described.schedule.action, "workflow", None) == ALLOCATION_WORKFLOW

    slower = dataclasses.replace(settings, allocate_every_minutes=15)
    assert await schedules.ensure_allocation(gateway, slower, schedule_id=schedule) == "updated"
    [interval] = (await handle.describe()).schedule.spec.intervals
    assert interval.every == timedelta(minutes=15)

    services = Services(db=sqlite_db, sender=OutboxSender())
    async with build_worker(client, settings, task_queue, services):
        await schedules.trigger(gateway, schedule)
        run = await run_after(handle)
        ran = client.get_workflow_handle(
            run.workflow_id, run_id=run.first_execution_run_id, result_type=AllocationRun
        )
        result = await asyncio.wait_for(ran.result(), 30)
    assert result == AllocationRun(placed=0, unplaced=0, refused=0)  # nobody, no tasks

    off = dataclasses.replace(settings, allocate_every_minutes=0)
    assert await schedules.ensure_allocation(gateway, off, schedule_id=schedule) == "removed"
    assert await schedules.ensure_allocation(gateway, off, schedule_id=schedule) == "off"
