"""Reads who acted from the header `collections-actor` of an update or a signal, for the
handler it runs: `current_actor()` names them; outside a handler (the case acting on its own
clock) it is `workflow`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from models.people import ACTOR_HEADER, SYSTEM, Actor

_CURRENT: ContextVar[Actor | None] = ContextVar("collections_actor", default=None)


def current_actor() -> str:
    actor = _CURRENT.get()
    return actor.label if actor is not None else SYSTEM


@contextlib.contextmanager
def _from(headers: Mapping[str, Payload]) -> Iterator[None]:
    payload = headers.get(ACTOR_HEADER)
    actor = None
    if payload is not None:
        try:
            raw = PayloadConverter.default.from_payloads([payload])[0]
            actor = Actor(id=str(raw["id"]), via=str(raw.get("via", "")))
        except Exception:  # a header this code cannot read names nobody; it never fails a task
            workflow.logger.warning("an unreadable actor header was ignored")
    token = _CURRENT.set(actor)
    try:
        yield
    finally:
        _CURRENT.reset(token)


class ActorInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _Inbound


class _Inbound(WorkflowInboundInterceptor):
    async def handle_signal(self, input: HandleSignalInput) -> None:
        with _from(input.headers):
            await super().handle_signal(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        with _from(input.headers):
            return await super().handle_update_handler(input)
