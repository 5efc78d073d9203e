"""The retention schedule on the session's dev server (the time-skipping server has no
schedules): created as `up` creates it, paused and unpaused and triggered through the
`collections schedule` commands' cores, its run erasing a case closed more than five years ago
from the read model of an in-process worker; and the namespace's retention of closed workflows
set as `up` sets it."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleHandle
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import OutboxSender
from cli import schedule as schedule_cli
from models.retention import RetentionResult
from operations import schedules
from operations.gateway import Gateway
from readmodel.engine import Database
from readmodel.retention import is_erased
from tests.cli.test_staff_cli import Local
from tests.readmodel.test_retention import seed_case
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import test_settings as settings_for
from workers.main import Services, build_worker

pytestmark = pytest.mark.integration

sqlite_db = workflow_harness.sqlite_db

LONG_AGO = datetime(2019, 3, 1, tzinfo=UTC)  # more than five years before any run of this test


@pytest.fixture
async def schedule(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A schedule id of this test's own on the shared dev server, deleted afterwards."""
    schedule_id = f"collections-retention-{uuid.uuid4().hex[:8]}"
    yield schedule_id
    await dev_env.client.get_schedule_handle(schedule_id).delete()


async def last_run(handle: ScheduleHandle, within: float = 20.0) -> str:
    for _ in range(int(within * 10)):
        recent = (await handle.describe()).info.recent_actions
        if recent and isinstance(recent[-1].action, ScheduleActionExecutionStartWorkflow):
            return recent[-1].action.workflow_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"the schedule started no run within {within} s")


async def test_the_retention_schedule_runs_the_retention_workflow(
    dev_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database, schedule: str
) -> None:
    client = dev_env.client
    gateway = Gateway(client)
    settings = settings_for(task_queue)
    old = await seed_case(
        sqlite_db, 1, customer_ref="C-1", opened_at=LONG_AGO, closed_at=LONG_AGO + timedelta(30)
    )
    recent = await seed_case(
        sqlite_db,
        2,
        customer_ref="C-2",
        opened_at=datetime.now(UTC) - timedelta(days=60),
        closed_at=datetime.now(UTC) - timedelta(days=1),
    )

    assert await schedules.ensure_retention(gateway, settings, schedule_id=schedule) == "created"
    handle = client.get_schedule_handle(schedule)
    described = await handle.describe()
    spec = described.schedule.spec
    assert [(c.hour[0].start, c.minute[0].start) for c in spec.calendars] == [(2, 0)]
    assert spec.time_zone_name == "UTC"
    next_run = described.info.next_action_times[0]
    assert (next_run.hour, next_run.minute) == (2, 0)

    cli = Local(sqlite_db, temporal=client)
    ran = await cli(lambda env: schedule_cli.change(env, "pause", schedule, "audit"))
    assert ran.code == 0, ran.err
    # The list comes from the server's visibility store, which catches up within moments.
    for _ in range(50):
        ran = await cli(lambda env: schedule_cli.list_schedules(env), json_output=True)
        listed = [s for s in ran.json()["schedules"] if s["id"] == schedule and s["paused"]]
        if listed:
            break
        await asyncio.sleep(0.1)
    assert [(s["workflow"], s["note"]) for s in listed] == [("Retention", "audit")]
    # Brought up to date again (as every `up` does), a paused schedule stays paused.
    assert await schedules.ensure_retention(gateway, settings, schedule_id=schedule) == "updated"
    assert (await handle.describe()).schedule.state.paused
    ran = await cli(lambda env: schedule_cli.change(env, "unpause", schedule, ""))
    assert ran.code == 0, ran.err
    assert not (await handle.describe()).schedule.state.paused

    services = Services(db=sqlite_db, sender=OutboxSender())
    async with build_worker(client, settings, task_queue, services):
        ran = await cli(lambda env: schedule_cli.change(env, "trigger", schedule, ""))
        assert ran.code == 0, ran.err
        run = client.get_workflow_handle(await last_run(handle), result_type=RetentionResult)
        result = await asyncio.wait_for(run.result(), 20)

    assert result.erased.cases == 1 and result.erased.customers == 1
    assert await is_erased(sqlite_db, old.case_id)
    assert not await is_erased(sqlite_db, recent.case_id)
    ran = await cli(lambda env: schedule_cli.change(env, "trigger", "no-such", ""))
    assert ran.code == 3 and "no schedule no-such" in ran.err


async def test_the_namespace_keeps_closed_workflows_as_long_as_the_settings_say(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    gateway = Gateway(client)
    before = await schedules.closed_workflow_retention(gateway)
    settings = dataclasses.replace(settings_for(task_queue), closed_workflow_retention_days=30)
    try:
        kept = await schedules.set_closed_workflow_retention(
            gateway, settings.closed_workflow_retention_days
        )
        assert kept == timedelta(days=30)
    finally:
        await schedules.set_closed_workflow_retention(gateway, before.days or 1)
