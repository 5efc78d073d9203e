"""What Temporal answers to an operator's action, as HTTP statuses.

- the case's validator refused the input (`InvalidAction`): 400 with the workflow's message;
- the case is closed (`CaseClosed`, or its workflow has completed): 409;
- no workflow for the id: 404;
- Temporal unreachable or too busy to take the call now: 503, with `Retry-After`;
- no answer in time (no worker running?): 504;
- anything else Temporal or the workflow refused: 502, naming the error's type.

Temporal answers NOT_FOUND both for an id it never saw and for an update sent to a completed
workflow, so a NOT_FOUND is settled by describing the workflow.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import HTTPException, status
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from models.contracts import ActionResult

log = logging.getLogger(__name__)

INVALID_ACTION = "InvalidAction"
CASE_CLOSED = "CaseClosed"
# An update that waits for a case's assessment answers within seconds when a worker runs.
ANSWER_TIMEOUT = 20.0

# For the OpenAPI document of routes that call `execute_action`.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the case refused the input; the message says why"},
    404: {"description": "no such case"},
    409: {"description": "the case is closed"},
}

# What a 503 asks a client to wait: Temporal's rate limits (RESOURCE_EXHAUSTED) and restarts
# pass within seconds.
RETRY_AFTER_SECONDS = 5


class CaseNotFound(Exception):
    """Temporal knows no workflow by that id."""


async def execute_action(client: Client, workflow_id: str, update: str, arg: Any) -> ActionResult:
    """Runs the update `update` on the workflow; its refusals become `HTTPException`s."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            result: ActionResult = await handle.execute_update(
                update, arg, result_type=ActionResult
            )
            return result
    except WorkflowUpdateFailedError as error:
        raise await _refused(client, workflow_id, error) from None
    except RPCError as error:
        raise await rpc_error(client, workflow_id, error) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        _reraise_cancellation()
        raise no_answer(workflow_id) from None


async def query_case(client: Client, workflow_id: str, query: str, result_type: type[Any]) -> Any:
    """The answer to `query`; `CaseNotFound` when Temporal has no such workflow."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            return await handle.query(query, result_type=result_type)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(workflow_id) from None
        raise await rpc_error(client, workflow_id, error) from None
    except WorkflowQueryFailedError as error:
        log.warning("query %s on %s failed: %s", query, workflow_id, error)
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"{workflow_id} could not answer ({query})"
        ) from None
    except TimeoutError:
        _reraise_cancellation()
        raise no_answer(workflow_id) from None


async def rpc_error(client: Client, workflow_id: str, error: RPCError) -> HTTPException:
    if (unanswered := not_now(error)) is not None:
        return unanswered
    if error.status == RPCStatusCode.NOT_FOUND:
        ended = await _not_running(client, workflow_id)
        if ended is not None:
            return ended
    log.warning("Temporal refused a call on %s: %s %s", workflow_id, error.status.name, error)
    return HTTPException(
        status.HTTP_502_BAD_GATEWAY, f"Temporal refused the call ({error.status.name})"
    )


def not_now(error: RPCError) -> HTTPException | None:
    """503 or 504 when Temporal could not answer now, None when its answer was a refusal."""
    if error.status == RPCStatusCode.UNAVAILABLE:
        return unavailable("Temporal is unreachable")
    if error.status == RPCStatusCode.RESOURCE_EXHAUSTED:
        return unavailable("Temporal is too busy to answer now (RESOURCE_EXHAUSTED)")
    if error.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, "Temporal did not answer in time")
    return None


def unavailable(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def no_answer(workflow_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_504_GATEWAY_TIMEOUT,
        f"{workflow_id} did not answer within {ANSWER_TIMEOUT:g} s (is a worker running?)",
    )


async def _refused(
    client: Client, workflow_id: str, error: WorkflowUpdateFailedError
) -> HTTPException:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        if cause.type == INVALID_ACTION:
            return HTTPException(status.HTTP_400_BAD_REQUEST, cause.message)
        if cause.type == CASE_CLOSED:
            return HTTPException(status.HTTP_409_CONFLICT, cause.message)
    ended = await _not_running(client, workflow_id)  # it completed while the update waited?
    if ended is not None:
        return ended
    kind = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause)
    log.warning("update on %s failed: %s", workflow_id, cause)
    return HTTPException(status.HTTP_502_BAD_GATEWAY, f"{workflow_id} failed the action ({kind})")


async def _not_running(client: Client, workflow_id: str) -> HTTPException | None:
    """404 when the workflow is unknown, 409 when it has completed, None while it runs."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return HTTPException(status.HTTP_404_NOT_FOUND, f"no case {workflow_id}")
        unanswered = not_now(error)
        return unanswered or HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"Temporal: {error.status.name}"
        )
    if description.status != WorkflowExecutionStatus.RUNNING:
        ended = description.status.name.lower() if description.status else "ended"
        return HTTPException(status.HTTP_409_CONFLICT, f"case {workflow_id} is closed ({ended})")
    return None


def _reraise_cancellation() -> None:
    """The SDK turns our own cancellation (a client gone) into its timeout error: undo that."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
