"""`tests.time_skip.skip`: the tests' clock moves land clear of the watched workflows' timers,
and wait for what the move woke (the guard behind the stranded-run fix, sdk-java#3088)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.time_skip import TIMER_GUARD, skip
from workers.runners import CHECKED


@workflow.defn(sandboxed=False)
class Waiter:
    """Waits `seconds`, or until poked; then waits for good (so its timer can be cancelled)."""

    def __init__(self) -> None:
        self.poked = False

    @workflow.run
    async def run(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self.poked, timeout=seconds)
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def poke(self) -> None:
        self.poked = True


async def fired(handle: WorkflowHandle[Waiter, None]) -> bool:
    history = await handle.fetch_history()
    return any(e.event_type == EventType.EVENT_TYPE_TIMER_FIRED for e in history.events)


async def started(
    env: WorkflowEnvironment, queue: str, seconds: float
) -> WorkflowHandle[Waiter, None]:
    handle = await env.client.start_workflow(
        Waiter.run, seconds, id=f"waiter-{seconds}", task_queue=queue
    )
    await skip(env, timedelta(0), [handle.id])  # its first task has run: the timer is set
    return handle


async def test_a_skip_goes_past_a_timer_due_just_after_it_and_not_past_a_later_one(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    day = 86_400.0
    async with Worker(
        ts_env.client, task_queue=task_queue, workflows=[Waiter], workflow_runner=CHECKED
    ):
        close = await started(ts_env, task_queue, day + TIMER_GUARD.total_seconds() / 4)
        later = await started(ts_env, task_queue, day + 10 * TIMER_GUARD.total_seconds())
        before = await ts_env.get_current_time()

        await skip(ts_env, timedelta(days=1), [close.id, later.id])

        moved = await ts_env.get_current_time() - before
        assert timedelta(days=1) < moved < timedelta(days=1) + 2 * TIMER_GUARD
        assert await fired(close)  # landed past it: nothing the test sends next can race it
        assert not await fired(later)
        # A poke now cancels the later timer with no race, and the workflow takes it.
        await later.signal(Waiter.poke)
        await skip(ts_env, timedelta(0), [later.id])
        history = await later.fetch_history()
        kinds = [e.event_type for e in history.events]
        assert EventType.EVENT_TYPE_TIMER_CANCELED in kinds
