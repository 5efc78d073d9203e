"""Moving the time-skipping server's clock without stranding a workflow.

The time-skipping test server (temporalio/sdk-java#3088) refuses a workflow task that cancels a
timer which fired while the task was with the worker ("invalid history builder state for
action"), and never sends that task again: the workflow is stuck for good. A real cluster
answers the same race by handing the worker a fresh task.

Between skips the test server's clock runs at real pace, and a workflow's timers start a few
milliseconds after the instant a skip lands on, so a timer is often due just after a skip ends.
An update sent then wakes the workflow, which cancels that timer; if it fired meanwhile on a
loaded machine, the case is stranded. So `skip` lets the watched workflows (and their children)
finish the work the skip woke them for, and goes on past any timer of theirs due within
`TIMER_GUARD`: what the test does next has that long before a timer can race it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

TIMER_GUARD = timedelta(seconds=20)
SETTLE_FOR = 5.0  # seconds of real time to wait for a workflow task before going on regardless
_TASK_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}
_RUN_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


@dataclass
class _Run:
    """What one workflow's latest run has outstanding, read from its history."""

    task_open: bool = False
    closed: bool = False
    timers: dict[int, datetime] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


async def _read(client: Client, workflow_id: str) -> _Run:
    run = _Run()
    try:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                run.task_open = True
            elif kind in _TASK_CLOSED:
                run.task_open = False
            elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
                fire = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
                run.timers[event.event_id] = event.event_time.ToDatetime(UTC) + fire
            elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
                run.timers.pop(event.timer_fired_event_attributes.started_event_id, None)
            elif kind == EventType.EVENT_TYPE_TIMER_CANCELED:
                run.timers.pop(event.timer_canceled_event_attributes.started_event_id, None)
            elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
                child = event.child_workflow_execution_started_event_attributes
                run.children.append(child.workflow_execution.workflow_id)
            elif kind in _RUN_CLOSED:
                run.closed = True
    except RPCError:
        run.closed = True  # not started yet, or gone: nothing of it can race
    return run


async def _settled_runs(client: Client, roots: Iterable[str]) -> list[_Run]:
    """The watched workflows and their children, once none has a workflow task outstanding
    (or `SETTLE_FOR` has passed: a stuck one is the test's to report, not this helper's)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_FOR
    while True:
        runs: list[_Run] = []
        todo, seen = list(roots), set[str]()
        while todo:
            workflow_id = todo.pop()
            if workflow_id in seen:
                continue
            seen.add(workflow_id)
            run = await _read(client, workflow_id)
            runs.append(run)
            todo.extend(run.children)
        if not any(r.task_open and not r.closed for r in runs) or loop.time() > deadline:
            return runs
        await asyncio.sleep(0.05)


async def skip(env: WorkflowEnvironment, by: timedelta, watch: Iterable[str]) -> None:
    """Moves the clock forward by `by` (a little more if a timer of the watched workflows is
    due just after), and returns once they have done what the move woke them for."""
    roots = list(watch)
    await env.sleep(by)
    for _ in range(20):
        runs = await _settled_runs(env.client, roots)
        now = await env.get_current_time()
        soon = [t for r in runs if not r.closed for t in r.timers.values() if t - now < TIMER_GUARD]
        if not soon:
            return
        await env.sleep(max(max(soon) - now, timedelta(0)) + timedelta(milliseconds=50))
