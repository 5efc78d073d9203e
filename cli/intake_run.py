"""Starting the cases of a checked intake file: the core that the CLI, the API and tests share.

One workflow per account, id `case-<account_no>`. A case that is already running is never
started twice (the id conflicts); it gets the file's fresh balances instead, through its
`refresh_account` update. A closed case may start again: a new overdue spell is a new case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from models.contracts import ActionResult, CaseInput, case_id
from workflows.case import CollectionCaseWorkflow

REFRESH_UPDATE = "refresh_account"
DEFAULT_CONCURRENCY = 50
DEFAULT_UPDATE_TIMEOUT = timedelta(seconds=30)


class Outcome(StrEnum):
    STARTED = "started"
    ALREADY_RUNNING = "already_running"
    FAILED = "failed"  # Temporal refused or could not be reached; the row may be retried


@dataclass(frozen=True)
class RowOutcome:
    row: int
    account_no: str
    workflow_id: str
    outcome: Outcome
    refreshed: bool = False  # already running, and the file's balances reached the case
    note: str = ""  # why a running case was not refreshed, or why a start failed


@dataclass(frozen=True)
class IntakeSummary:
    outcomes: tuple[RowOutcome, ...]  # in row order

    def _with(self, outcome: Outcome) -> tuple[RowOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome is outcome)

    @property
    def started(self) -> tuple[RowOutcome, ...]:
        return self._with(Outcome.STARTED)

    @property
    def already_running(self) -> tuple[RowOutcome, ...]:
        return self._with(Outcome.ALREADY_RUNNING)

    @property
    def failed(self) -> tuple[RowOutcome, ...]:
        return self._with(Outcome.FAILED)

    @property
    def warnings(self) -> tuple[RowOutcome, ...]:
        """Running cases whose balances could not be refreshed."""
        return tuple(o for o in self.already_running if o.note)


async def run_intake(
    client: Client,
    rows: Iterable[tuple[int, CaseInput]],
    *,
    task_queue: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[RowOutcome], None] | None = None,
    refresh: bool = True,
    update_timeout: timedelta = DEFAULT_UPDATE_TIMEOUT,
) -> IntakeSummary:
    """Starts a case per row, at most `concurrency` calls in flight; `rows` is read lazily.

    `on_progress` hears each row's outcome as it is known. With `refresh`, a case that is
    already running receives the row's `Account` through its `refresh_account` update.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    starter = _Starter(client, task_queue, refresh, update_timeout)
    pending = iter(rows)
    outcomes: list[RowOutcome] = []

    async def work() -> None:
        # The iterator is shared: the loop is single-threaded, so each row goes to one worker.
        for row, case in pending:
            outcome = await starter.start(row, case)
            outcomes.append(outcome)
            if on_progress is not None:
                on_progress(outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(work())
    return IntakeSummary(tuple(sorted(outcomes, key=lambda o: o.row)))


class _Starter:
    def __init__(self, client: Client, task_queue: str, refresh: bool, wait: timedelta) -> None:
        self._client = client
        self._task_queue = task_queue
        self._refresh = refresh
        self._wait = wait
        # Set when a refresh got no answer: no worker is serving the cases, so the next
        # thousand would each wait as long. Their starts still go ahead.
        self._unanswered = False

    async def start(self, row: int, case: CaseInput) -> RowOutcome:
        account_no = case.account.account_no
        workflow_id = case_id(account_no)

        def outcome(kind: Outcome, *, refreshed: bool = False, note: str = "") -> RowOutcome:
            return RowOutcome(row, account_no, workflow_id, kind, refreshed, note)

        try:
            await self._client.start_workflow(
                CollectionCaseWorkflow.run,
                case,
                id=workflow_id,
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            if not self._refresh:
                return outcome(Outcome.ALREADY_RUNNING)
            note = await self._refresh_balances(workflow_id, case)
            return outcome(Outcome.ALREADY_RUNNING, refreshed=not note, note=note)
        except RPCError as exc:
            return outcome(Outcome.FAILED, note=f"Temporal refused the start ({exc.status.name})")
        except Exception as exc:  # one odd row must not sink the others; the type says what broke
            return outcome(Outcome.FAILED, note=f"could not start ({type(exc).__name__})")
        return outcome(Outcome.STARTED)

    async def _refresh_balances(self, workflow_id: str, case: CaseInput) -> str:
        """Sends the row's balances to the running case; answers "" or why that did not work.

        The reasons come from Temporal or from the workflow's own checks; neither quotes data.
        """
        if self._unanswered:
            return "balances not refreshed: skipped, an earlier refresh got no answer"
        handle = self._client.get_workflow_handle(workflow_id)
        seconds = self._wait.total_seconds()
        try:
            async with asyncio.timeout(seconds):
                result = await handle.execute_update(
                    REFRESH_UPDATE, case.account, result_type=ActionResult
                )
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None  # the SDK turned our cancellation into this
            self._unanswered = True
            return f"balances not refreshed: no answer within {seconds:g}s (is a worker running?)"
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and "expected but not found" in cause.message:
                return f"balances not refreshed: the case has no {REFRESH_UPDATE} update"
            detail = cause.message if isinstance(cause, ApplicationError) else type(cause).__name__
            return f"balances not refreshed: {detail}"
        except RPCError as exc:
            return f"balances not refreshed ({exc.status.name})"
        except Exception as exc:
            return f"balances not refreshed ({type(exc).__name__})"
        if not result.accepted:
            return f"balances not refreshed: {result.message}"
        return ""
