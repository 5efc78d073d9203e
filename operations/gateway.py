"""The one way a front end reaches a workflow: start, update, signal and query by typed method
reference (`CollectionCaseWorkflow.record_payment`, never `"record_payment"`), each answered
by an `Answer` the front end translates (a status, a form message, an exit code) and nothing
more. What Temporal says is classified here, once:

- the workflow's validator or handler refused (`Refusal.INVALID_ACTION`): REFUSED, its message;
- an input too large for Temporal to record (`MAX_INPUT_BYTES`): REFUSED before any call;
- the person may not take the action (`Refusal.NOT_PERMITTED`): FORBIDDEN, its message;
- the case is closed (`Refusal.CASE_CLOSED`), or the workflow has finished: CLOSED;
- Temporal knows no such workflow: NOT_FOUND;
- a start for an id that is already running: ALREADY_RUNNING;
- Temporal cannot take the call now (unreachable, rate-limited): UNREACHABLE, retry soon;
- nothing answered within the configured time (no worker on the queue?): NO_ANSWER;
- anything else: FAILED, naming the error's type (never its text: it may quote input).

Temporal answers NOT_FOUND both for an id it never saw and for an update sent to a finished
workflow, so a NOT_FOUND is settled by describing the workflow.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from models.contracts import NOT_READY_MESSAGE, Refusal
from models.people import Actor
from operations import metrics
from operations.answers import Answer, Outcome
from operations.catalogue import update_name
from temporal.acting import ActorInterceptor, acting
from temporal.with_start import StartSeenInterceptor, seeing_start

log = logging.getLogger(__name__)

R = TypeVar("R")
A = TypeVar("A")
S = TypeVar("S")

# Temporal's rate limits and restarts pass within seconds.
RETRY_AFTER_SECONDS = 5
_NOT_NOW = {
    RPCStatusCode.UNAVAILABLE: "Temporal is unreachable",
    RPCStatusCode.RESOURCE_EXHAUSTED: "Temporal is too busy to answer now (RESOURCE_EXHAUSTED)",
}


# The largest input a front end may send a workflow, once encoded. Temporal refuses a payload
# past its blob limit (2 MiB by default) by failing the workflow task that would record it,
# again and again; far below that, an input is refused here, with its size, before any call.
MAX_INPUT_BYTES = 512 * 1024


class Gateway:
    """Holds the Temporal client; `answer_within` seconds is how long any call waits.
    `acting(actor)` is the same gateway for one person: every start, update and signal it
    makes carries them to the workflow (`temporal.acting`), which records them."""

    def __init__(
        self, client: Client, *, answer_within: float = 20.0, actor: Actor | None = None
    ) -> None:
        config = client.config()
        mine = (ActorInterceptor, StartSeenInterceptor)
        missing = [
            kind() for kind in mine if not any(isinstance(i, kind) for i in config["interceptors"])
        ]
        if missing:
            config["interceptors"] = [*config["interceptors"], *missing]
            client = Client(**config)
        self._client = client
        self.answer_within = answer_within
        self.actor = actor
        # Set once the server answers that it has no update-with-start (an older server, or
        # the time-skipping test server): from then on, a start and then the update.
        self._two_calls = False

    def acting(self, actor: Actor) -> Gateway:
        """The same client for one person: made per request, so no client is made again."""
        acting = copy.copy(self)
        acting.actor = actor
        return acting

    @property
    def namespace(self) -> str:
        return self._client.namespace

    @property
    def client(self) -> Client:
        """The client itself, for the application layer's own modules that need what the
        gateway's calls do not cover (`operations.schedules`); front ends use the calls."""
        return self._client

    async def start(
        self,
        run: Callable[[Any, A], Awaitable[Any]],
        arg: A,
        *,
        id: str,
        task_queue: str,
        reuse_closed: bool = True,
    ) -> Answer[str]:
        """Starts a workflow; ACCEPTED with its run id, ALREADY_RUNNING when it runs."""
        if too_big := self._too_big(arg):
            return too_big
        policy = (
            WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if reuse_closed
            else WorkflowIDReusePolicy.REJECT_DUPLICATE
        )
        try:
            async with asyncio.timeout(self.answer_within):
                with acting(self.actor):
                    handle = await self._client.start_workflow(
                        cast(Any, run),
                        arg,
                        id=id,
                        task_queue=task_queue,
                        id_reuse_policy=policy,
                        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    )
            return Answer(Outcome.ACCEPTED, handle.result_run_id or "")
        except WorkflowAlreadyStartedError:
            return Answer(Outcome.ALREADY_RUNNING, message=f"{id} is already running")
        except RPCError as error:
            return await self._rpc_error(id, error)
        except TimeoutError:
            _reraise_cancellation()
            return self._no_answer(id)

    async def update(
        self, workflow_id: str, update: UpdateMethodMultiParam[[Any, A], R], arg: A
    ) -> Answer[R]:
        """Runs the update; ACCEPTED with the workflow's answer, or why not. Timed by name
        and outcome (`operations.metrics`)."""
        began = time.perf_counter()
        answer = await self._update(workflow_id, update, arg)
        metrics.update_answered(update_name(update), answer.outcome, time.perf_counter() - began)
        return answer

    async def _update(
        self, workflow_id: str, update: UpdateMethodMultiParam[[Any, A], R], arg: A
    ) -> Answer[R]:
        if too_big := self._too_big(arg):
            return too_big
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            async with asyncio.timeout(self.answer_within):
                with acting(self.actor):
                    value = await handle.execute_update(cast(Any, update), arg)
            return Answer(Outcome.ACCEPTED, cast(R, value))
        except WorkflowUpdateFailedError as error:
            return await self._refused(workflow_id, error)
        except RPCError as error:
            return await self._rpc_error(workflow_id, error)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            _reraise_cancellation()
            return self._no_answer(workflow_id)

    async def update_with_start(
        self,
        update: UpdateMethodMultiParam[[Any, A], R],
        arg: A,
        *,
        start: Callable[[Any, S], Awaitable[Any]],
        start_arg: S,
        id: str,
        task_queue: str,
    ) -> Answer[R]:
        """Runs `update` on the workflow `id`, first starting it with `start_arg` if it does not
        run (a finished one starts again), in one call: Temporal's update-with-start. The
        answer is the update's, and says in `started` whether this call started the workflow
        (None when Temporal's answer to the start never came back). A server without
        update-with-start gets a start, then the update."""
        if too_big := self._too_big(start_arg) or self._too_big(arg):
            return too_big
        began = time.perf_counter()
        answer = await self._update_with_start(update, arg, start, start_arg, id, task_queue)
        metrics.update_answered(update_name(update), answer.outcome, time.perf_counter() - began)
        return answer

    async def _update_with_start(
        self,
        update: UpdateMethodMultiParam[[Any, A], R],
        arg: A,
        start: Callable[[Any, S], Awaitable[Any]],
        start_arg: S,
        id: str,
        task_queue: str,
    ) -> Answer[R]:
        if not self._two_calls:
            operation = WithStartWorkflowOperation(
                cast(Any, start),
                start_arg,
                id=id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
            with seeing_start() as seen:
                try:
                    async with asyncio.timeout(self.answer_within):
                        with acting(self.actor):
                            value = await self._client.execute_update_with_start_workflow(
                                cast(Any, update), arg, start_workflow_operation=operation
                            )
                    answer: Answer[R] = Answer(Outcome.ACCEPTED, cast(R, value))
                except WorkflowUpdateFailedError as error:
                    answer = await self._refused(id, error)
                except RPCError as error:
                    # UNIMPLEMENTED: a server without update-with-start (an older one, or the
                    # time-skipping test server): the two calls below, now and from now on.
                    self._two_calls = error.status == RPCStatusCode.UNIMPLEMENTED
                    if not self._two_calls:
                        answer = await self._rpc_error(id, error)
                except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
                    _reraise_cancellation()
                    answer = self._no_answer(id)
            if not self._two_calls:
                return dataclasses.replace(answer, started=seen.started)
        started = await self.start(start, start_arg, id=id, task_queue=task_queue)
        if started.outcome not in (Outcome.ACCEPTED, Outcome.ALREADY_RUNNING):
            return Answer(started.outcome, message=started.message, retry_after=started.retry_after)
        answer = await self._update(id, update, arg)
        return dataclasses.replace(answer, started=started.outcome is Outcome.ACCEPTED)

    async def signal(
        self, workflow_id: str, signal: Callable[[Any, A], Awaitable[None] | None], arg: A
    ) -> Answer[None]:
        if too_big := self._too_big(arg):
            return too_big
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            async with asyncio.timeout(self.answer_within):
                with acting(self.actor):
                    await handle.signal(cast(Any, signal), arg)
            return Answer(Outcome.ACCEPTED, None)
        except RPCError as error:
            return await self._rpc_error(workflow_id, error)
        except TimeoutError:
            _reraise_cancellation()
            return self._no_answer(workflow_id)

    async def query(self, workflow_id: str, query: Callable[[Any], R]) -> Answer[R]:
        """The query's answer. A case still being assessed is asked again until it answers
        or the time is up. Timed by name and outcome (`operations.metrics`)."""
        began = time.perf_counter()
        answer = await self._query(workflow_id, query)
        metrics.query_answered(_query_name(query), answer.outcome, time.perf_counter() - began)
        return answer

    async def _query(self, workflow_id: str, query: Callable[[Any], R]) -> Answer[R]:
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            async with asyncio.timeout(self.answer_within):
                while True:
                    try:
                        value = await handle.query(cast(Any, query))
                        return Answer(Outcome.ACCEPTED, cast(R, value))
                    except WorkflowQueryFailedError as error:
                        if NOT_READY_MESSAGE not in str(error):
                            log.warning("a query on %s failed: %s", workflow_id, error)
                            return Answer(Outcome.FAILED, message=f"{workflow_id} could not answer")
                    await asyncio.sleep(0.2)
        except RPCError as error:
            return await self._rpc_error(workflow_id, error)
        except TimeoutError:
            _reraise_cancellation()
            return self._no_answer(workflow_id)

    async def running(self, workflow_id: str) -> Answer[WorkflowExecutionStatus]:
        """ACCEPTED while the workflow runs; CLOSED (with how it ended) or NOT_FOUND."""
        try:
            async with asyncio.timeout(self.answer_within):
                description = await self._client.get_workflow_handle(workflow_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return Answer(Outcome.NOT_FOUND, message=f"no workflow {workflow_id}")
            return _not_now(error) or _failed(workflow_id, error)
        except TimeoutError:
            _reraise_cancellation()
            return self._no_answer(workflow_id)
        status = description.status
        if status != WorkflowExecutionStatus.RUNNING:
            ended = status.name.lower() if status else "ended"
            return Answer(
                Outcome.CLOSED, status, f"{workflow_id} has finished ({ended})", ended=ended
            )
        return Answer(Outcome.ACCEPTED, status)

    async def search(self, query: str, *, limit: int) -> Answer[list[WorkflowExecution]]:
        """Workflows matching a visibility query (search attributes only: no personal data)."""
        found: list[WorkflowExecution] = []
        try:
            async with asyncio.timeout(self.answer_within):
                async for execution in self._client.list_workflows(query, limit=limit):
                    found.append(execution)
        except RPCError as error:
            return _not_now(error) or Answer(
                Outcome.FAILED, message=f"Temporal refused the search ({error.status.name})"
            )
        except TimeoutError:
            _reraise_cancellation()
            return Answer(Outcome.NO_ANSWER, message="Temporal did not answer in time")
        return Answer(Outcome.ACCEPTED, found)

    def _too_big(self, arg: object) -> Answer[Any] | None:
        """REFUSED, with the input's size (never its content), past `MAX_INPUT_BYTES`."""
        payloads = self._client.data_converter.payload_converter.to_payloads([arg])
        size = sum(payload.ByteSize() for payload in payloads)
        if size <= MAX_INPUT_BYTES:
            return None
        return Answer(
            Outcome.REFUSED,
            message=f"the input is {size:,} bytes once encoded; a workflow takes at most "
            f"{MAX_INPUT_BYTES:,}",
        )

    # --- classifying Temporal's answers ----------------------------------------------------

    async def _refused(self, workflow_id: str, error: WorkflowUpdateFailedError) -> Answer[Any]:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            if cause.type == Refusal.INVALID_ACTION:
                return Answer(Outcome.REFUSED, message=cause.message)
            if cause.type == Refusal.CASE_CLOSED:
                return Answer(Outcome.CLOSED, message=cause.message)
            if cause.type == Refusal.NOT_PERMITTED:
                return Answer(Outcome.FORBIDDEN, message=cause.message)
        ended = await self.running(workflow_id)  # it finished while the update waited?
        if ended.outcome is not Outcome.ACCEPTED:
            return ended
        kind = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause)
        log.warning("an update on %s failed: %s", workflow_id, kind)
        return Answer(Outcome.FAILED, message=f"{workflow_id} failed the action ({kind})")

    async def _rpc_error(self, workflow_id: str, error: RPCError) -> Answer[Any]:
        if (not_now := _not_now(error)) is not None:
            return not_now
        if error.status == RPCStatusCode.NOT_FOUND:
            ended = await self.running(workflow_id)
            if ended.outcome is not Outcome.ACCEPTED:
                return ended
        return _failed(workflow_id, error)

    def _no_answer(self, workflow_id: str) -> Answer[Any]:
        return Answer(
            Outcome.NO_ANSWER,
            message=f"{workflow_id} did not answer within {self.answer_within:g} s "
            "(is a worker running?)",
        )


def _not_now(error: RPCError) -> Answer[Any] | None:
    if error.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return Answer(Outcome.NO_ANSWER, message="Temporal did not answer in time")
    message = _NOT_NOW.get(error.status)
    if message is None:
        return None
    return Answer(Outcome.UNREACHABLE, message=message, retry_after=RETRY_AFTER_SECONDS)


def _failed(workflow_id: str, error: RPCError) -> Answer[Any]:
    log.warning("Temporal refused a call on %s: %s", workflow_id, error.status.name)
    return Answer(Outcome.FAILED, message=f"Temporal refused the call ({error.status.name})")


def _query_name(query: Callable[..., Any]) -> str:
    """A query's name: its method's (no query here is renamed in its decorator)."""
    return getattr(query, "__name__", "unnamed")


def _reraise_cancellation() -> None:
    """The SDK turns our own cancellation (a client gone, Ctrl-C) into its timeout: undo that."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
