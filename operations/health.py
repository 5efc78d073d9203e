"""What `/ready` asks Temporal: is its frontend serving, and does a worker poll each queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from operations.gateway import Gateway


async def temporal_serving(gateway: Gateway, *, within: float) -> bool:
    """Whether Temporal's frontend says it is serving, asked for at most `within` seconds."""
    try:
        return await gateway.client.service_client.check_health(timeout=timedelta(seconds=within))
    except Exception:
        return False


async def pollers(gateway: Gateway, queue: str, *, within: float) -> int | None:
    """How many workers poll `queue` for workflow tasks (Temporal forgets a poller a minute or
    so after its last poll), asked for at most `within` seconds; None when Temporal could not
    say."""
    client = gateway.client
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        async with asyncio.timeout(within):
            described = await client.workflow_service.describe_task_queue(request)
    except Exception:  # unreachable, refused, or too slow: /ready says "unknown"
        return None
    return len(described.pollers)
