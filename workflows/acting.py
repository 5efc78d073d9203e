"""Reads who acted from the header `collections-actor` of an update or a signal, for the
handler it runs: `current_actor()` names them; outside a handler (the case acting on its own
clock) it is `workflow`.

It is also the workflows' second line behind the front ends: before any update's own
validator, a person's update is checked against `models.permissions` (the role, the person the
input names, a second person where two are needed), and refused with `Refusal.NOT_PERMITTED`.
Validators do not run on replay, so the check changes no recorded history."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from models.contracts import Refusal
from models.people import ACTOR_HEADER, SYSTEM, Actor
from models.permissions import refusal

_CURRENT: ContextVar[Actor | None] = ContextVar("collections_actor", default=None)


def current_actor() -> str:
    actor = _CURRENT.get()
    return actor.label if actor is not None else SYSTEM


def current_actor_id() -> str:
    """Who is acting, by their staff id (or the system's name) rather than their label."""
    actor = _CURRENT.get()
    return actor.id if actor is not None else SYSTEM


def current_approver() -> str:
    """The second person who approved the action being handled ("" when none did)."""
    actor = _CURRENT.get()
    return actor.approved_by if actor is not None else ""


def _actor(headers: Mapping[str, Payload]) -> Actor | None:
    payload = headers.get(ACTOR_HEADER)
    if payload is None:
        return None
    try:
        raw = PayloadConverter.default.from_payloads([payload])[0]
        return Actor(
            id=str(raw["id"]),
            via=str(raw.get("via", "")),
            roles=tuple(str(role) for role in raw.get("roles", ())),
            approved_by=str(raw.get("approved_by", "")),
        )
    except Exception:  # a header this code cannot read names nobody; it never fails a task
        workflow.logger.warning("an unreadable actor header was ignored")
        return None


@contextlib.contextmanager
def _from(headers: Mapping[str, Payload]) -> Iterator[None]:
    token = _CURRENT.set(_actor(headers))
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

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        why = refusal(_actor(input.headers), input.update, input.args[0] if input.args else None)
        if why:
            raise ApplicationError(why, type=Refusal.NOT_PERMITTED, non_retryable=True)
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        with _from(input.headers):
            return await super().handle_update_handler(input)
