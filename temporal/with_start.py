"""Whether an update-with-start call started its workflow or found it running.

Temporal's answer says so (`StartWorkflowExecutionResponse.started`); the SDK's handles do not
pass it on. This client interceptor hands it to the caller: inside `seeing_start()`, the
answer of the one update-with-start call made there lands in the `StartSeen` it yields. The
SDK's input carries the response to its own callback (`_on_start`), which is wrapped, not
replaced: `tests/operations/test_update_with_start.py` pins that against the dev server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from temporalio.api.workflowservice.v1 import StartWorkflowExecutionResponse
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateWithStartInput,
    WorkflowUpdateHandle,
)


@dataclass
class StartSeen:
    started: bool | None = None  # None: no answer to the start came back


_SEEN: ContextVar[StartSeen | None] = ContextVar("collections_start_seen", default=None)


@contextlib.contextmanager
def seeing_start() -> Iterator[StartSeen]:
    seen = StartSeen()
    token = _SEEN.set(seen)
    try:
        yield seen
    finally:
        _SEEN.reset(token)


class StartSeenInterceptor(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next)


class _Outbound(OutboundInterceptor):
    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        seen = _SEEN.get()
        if seen is not None:
            forward = input._on_start

            def on_start(response: StartWorkflowExecutionResponse) -> None:
                seen.started = response.started
                forward(response)

            input._on_start = on_start
        return await super().start_update_with_start_workflow(input)
