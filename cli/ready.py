"""Probes that tell when a part of the local stack is ready, each a plain `await`.

`until` repeats a probe while checking that every child is still running, so a server that
dies during start-up is reported at once instead of after a timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from cli.stack import Stack
from config.settings import Settings
from models.visibility import ALL_KEYS
from temporal.client import connect

T = TypeVar("T")

POLL_EVERY = 0.25


class NotReady(RuntimeError):
    pass


async def until(
    probe: Callable[[], Awaitable[T | None]], *, stack: Stack, what: str, within: float
) -> T:
    """The probe's first answer that is not None; `ChildExited` or `NotReady` otherwise."""
    deadline = time.monotonic() + within
    while True:
        stack.check()
        answer = await probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise NotReady(f"{what} was not ready after {within:.0f} s")
        await asyncio.sleep(POLL_EVERY)


async def temporal_client(settings: Settings) -> Client | None:
    try:
        return await connect(settings)
    except RuntimeError:
        return None


async def search_attributes_listed(client: Client, namespace: str) -> bool | None:
    """Registering races with server start-up, so a case may start only once they are listed."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return all(key.name in listed.custom_attributes for key in ALL_KEYS) or None


async def worker_polling(client: Client, namespace: str, queues: Iterable[str]) -> bool | None:
    """True once a worker polls one of `queues`: it has connected and started. Which queue
    hosts what is the worker's business, so one queue is enough."""
    for queue in queues:
        for kind in _KINDS:
            if await _has_pollers(client, namespace, queue, kind):
                return True
    return None


_KINDS = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)


async def _has_pollers(
    client: Client, namespace: str, queue: str, kind: TaskQueueType.ValueType
) -> bool:
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
        )
    )
    return bool(described.pollers)


async def api_healthy(base_url: str) -> bool | None:
    try:
        async with httpx.AsyncClient(timeout=2.0) as http:
            response = await http.get(f"{base_url}/health")
    except httpx.HTTPError:
        return None
    return response.status_code == httpx.codes.OK or None
