"""Sends the acting person with every start, update and signal, in the header
`collections-actor`: the client interceptor reads the actor of the current call from a
context variable that `acting` sets (the application layer's `Gateway.acting` does). An
update-with-start carries them on both its start and its update."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.converter import PayloadConverter

from models.people import ACTOR_HEADER, Actor

_ACTING: ContextVar[Actor | None] = ContextVar("collections_acting", default=None)
# Plain JSON, outside the payload codec: a staff id is no customer's data, and the workflow
# reads it with the default converter.
_CONVERTER = PayloadConverter.default


@contextlib.contextmanager
def acting(actor: Actor | None) -> Iterator[None]:
    token = _ACTING.set(actor)
    try:
        yield
    finally:
        _ACTING.reset(token)


def _stamped(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    actor = _ACTING.get()
    if actor is None:
        return headers
    return {**headers, ACTOR_HEADER: _CONVERTER.to_payloads([dataclasses.asdict(actor)])[0]}


class ActorInterceptor(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next)


class _Outbound(OutboundInterceptor):
    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.headers = _stamped(input.headers)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.headers = _stamped(input.headers)
        await super().signal_workflow(input)

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        input.headers = _stamped(input.headers)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        input.start_workflow_input.headers = _stamped(input.start_workflow_input.headers)
        input.update_workflow_input.headers = _stamped(input.update_workflow_input.headers)
        return await super().start_update_with_start_workflow(input)
