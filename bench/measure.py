"""Small measuring helpers: percentiles, waiting on a counter, and what a history costs."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter

from temporal.history import local_activity_type


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) by linear interpolation, as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


async def wait_for_count(
    count: Callable[[], Awaitable[int]], target: int, *, within: float, every: float = 0.25
) -> tuple[float, int]:
    """Polls `count` until it reaches `target`; answers (monotonic time then, last count).

    Gives up after `within` seconds and answers the time it gave up with what it saw.
    """
    deadline = time.monotonic() + within
    seen = await count()
    while seen < target and time.monotonic() < deadline:
        await asyncio.sleep(every)
        seen = await count()
    return time.monotonic(), seen


async def run_concurrently(
    items: Iterable[object], call: Callable[[object], Awaitable[None]], concurrency: int
) -> None:
    """`call` for each item, at most `concurrency` in flight (as `run_intake` does)."""
    pending = iter(items)

    async def work() -> None:
        for item in pending:
            await call(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(work())


@dataclass(frozen=True)
class HistoryCost:
    events: int
    workflow_tasks: int  # WorkflowTaskCompleted events
    kinds: dict[str, int]  # event type -> count; activities as `activity:<name>`


def _kind(event_type: int) -> str:
    return EventType.Name(EventType.ValueType(event_type)).removeprefix("EVENT_TYPE_").lower()


def cost(events: Sequence[HistoryEvent]) -> HistoryCost:
    kinds: Counter[str] = Counter()
    names: dict[int, str] = {}
    for event in events:
        kinds[_kind(event.event_type)] += 1
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            names[event.event_id] = name
            kinds[f"activity:{name}"] += 1
    tasks = kinds[_kind(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)]
    return HistoryCost(events=len(events), workflow_tasks=tasks, kinds=dict(kinds))


async def until_activity_done(
    events: Sequence[HistoryEvent], activity: str, converter: DataConverter
) -> list[HistoryEvent]:
    """The events from the start up to and including the first completion of `activity`, an
    activity or a local activity (its marker, whose name `converter` decodes)."""
    names: dict[int, str] = {}
    for index, event in enumerate(events):
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names[event.event_id] = (
                event.activity_task_scheduled_event_attributes.activity_type.name
            )
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
            if names.get(scheduled) == activity:
                return list(events[: index + 1])
        failed = event.marker_recorded_event_attributes.HasField("failure")
        if not failed and await local_activity_type(event, converter) == activity:
            return list(events[: index + 1])
    raise LookupError(f"no completed {activity} activity in this history")
