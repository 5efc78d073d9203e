"""Asking a Temporal frontend whether what a local stack needs is there yet: the search
attributes registered, a worker polling. Each probe answers True, or None for "not yet"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from config.settings import Settings
from temporal.client import connect

_KINDS = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)


class Frontend:
    """A frontend that answered; its probes."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @classmethod
    async def reach(cls, settings: Settings) -> Frontend | None:
        """The frontend, or None while it does not answer."""
        try:
            return cls(await connect(settings, None, sends_payloads=False))
        except RuntimeError:
            return None

    async def search_attributes_listed(
        self, keys: Iterable[SearchAttributeKey[Any]]
    ) -> bool | None:
        """Registering races with server start-up: a case may start only once they are listed."""
        listed = await self._client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=self._client.namespace)
        )
        return all(key.name in listed.custom_attributes for key in keys) or None

    async def worker_polling(self, queues: Iterable[str]) -> bool | None:
        """True once a worker polls one of `queues`: it has connected and started. Which queue
        hosts what is the worker's business, so one queue is enough."""
        for queue in queues:
            for kind in _KINDS:
                described = await self._client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=self._client.namespace,
                        task_queue=TaskQueue(name=queue),
                        task_queue_type=kind,
                    )
                )
                if described.pollers:
                    return True
        return None
